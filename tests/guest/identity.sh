# Guest test: what Linux sees of the ocssd controller and namespace.
. /lib.sh

check "the nvme driver bound and the namespace exists" test -b $NS

nvme id-ctrl $CTRL -b > /tmp/idc 2>/dev/null
expect "controller VID is 0x1d1d" 7453 "$(u16 /tmp/idc 0)"
expect "controller SSVID is 0x1d1d" 7453 "$(u16 /tmp/idc 2)"
expect "controller version 1.3" 66304 "$(u32 /tmp/idc 80)"
expect "one namespace" 1 "$(u32 /tmp/idc 516)"
expect "DSM supported (ONCS bit 2)" 4 "$(( $(u16 /tmp/idc 520) & 4 ))"
expect "volatile write cache present" 1 "$(( $(u8 /tmp/idc 525) & 1 ))"
check "serial number property" sh -c "nvme id-ctrl $CTRL | grep -q '^sn *: $SERIAL *\$'"

nvme id-ns $NS -b > /tmp/idn 2>/dev/null
expect "namespace vendor byte 384 = 0x01 (Open-Channel 2.0)" 1 "$(u8 /tmp/idn 384)"
expect "LBA format 0: metadata size" "$MD_SIZE" "$(u16 /tmp/idn 128)"
expect "LBA format 0: data size" "$SEC_SIZE" "$((1 << $(u8 /tmp/idn 130)))"
check "a unique namespace identifier (ns-descs)" sh -c \
    "nvme ns-descs $NS | grep -qi 'nguid\|uuid'"

check "geometry command (E2h)" geometry
expect "geometry major version 2" 2 "$(u8 /tmp/geo 0)"
expect "geometry minor version 0" 0 "$(u8 /tmp/geo 1)"
expect "NUM_GRP" "$NUM_GRP" "$(u16 /tmp/geo 64)"
expect "NUM_PU" "$NUM_PU" "$(u16 /tmp/geo 66)"
expect "NUM_CHK" "$NUM_CHK" "$(u32 /tmp/geo 68)"
expect "CLBA" "$CLBA" "$(u32 /tmp/geo 72)"
expect "WS_MIN" "$WS_MIN" "$(u32 /tmp/geo 128)"
expect "WS_OPT" "$WS_OPT" "$(u32 /tmp/geo 132)"
expect "MW_CUNITS" "$MW_CUNITS" "$(u32 /tmp/geo 136)"
expect "MCCAP: vector copy" 1 "$(( $(u32 /tmp/geo 16) & 1 ))"
expect "namespace size covers every address" \
    $((1 << (GRP_LEN + PU_LEN + CHK_LEN + LBK_LEN))) "$(u64 /tmp/idn 0)"

check "chunk information log (CAh)" chunk_log
n=$((NUM_GRP * NUM_PU * NUM_CHK))
free=0 seq=0 i=0
while [ $i -lt $n ]; do
    [ "$(chunk_state $i)" = 1 ] && free=$((free + 1))
    [ "$(chunk_slba $i)" = "$(lba $((i / NUM_CHK / NUM_PU)) \
        $(((i / NUM_CHK) % NUM_PU)) $((i % NUM_CHK)) 0)" ] && seq=$((seq + 1))
    i=$((i + 1))
done
expect "every chunk of a new image is free" $n $free
expect "chunk descriptors in grp/pu/chk order with their SLBA" $n $seq
finish
