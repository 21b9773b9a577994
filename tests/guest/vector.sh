# Guest test: vector commands through nvme io-passthru, one inline LBA each
# (the device runs with ws_min=1 here, so one sector is a valid write).
. /lib.sh

geometry
a=$(lba 0 1 2 0)
b=$(lba 1 0 5 0)
pattern /tmp/v 3 vec
i=0 ok=0
while [ $i -lt 3 ]; do
    dd if=/tmp/v of=/tmp/v1 bs=$SEC_SIZE skip=$i count=1 2>/dev/null
    [ "$(status vector 0x91 $((a + i)) --data-len=$SEC_SIZE -w -i /tmp/v1)" = 0x000 ] &&
        ok=$((ok + 1))
    i=$((i + 1))
done
expect "vector write (91h) of three sectors at the write pointer" 3 $ok
chunk_log
ai=$(( (0 * NUM_PU + 1) * NUM_CHK + 2 ))
expect "the chunk is open with WP 3" "4 3" "$(chunk_state $ai) $(chunk_wp $ai)"
expect "vector write not at the write pointer: Out of Order Write" 0x2f2 \
    "$(status vector 0x91 $((a + 7)) --data-len=$SEC_SIZE -w -i /tmp/v1)"
vector 0x92 $((a + 1)) --data-len=$SEC_SIZE -r -b > /tmp/r 2>/dev/null
dd if=/tmp/v of=/tmp/v1 bs=$SEC_SIZE skip=1 count=1 2>/dev/null
check "vector read (92h) returns what vector write wrote" cmp -s /tmp/v1 /tmp/r
expect "vector copy (93h) of a sector to another chunk" 0x000 \
    "$(status nvme io-passthru $CTRL --opcode=0x93 --namespace-id=1 \
        --cdw10=$((a + 1)) --cdw11=0 --cdw12=0 --cdw14=$b --cdw15=0)"
read_lba $b 1 /tmp/r
check "the copy holds the source's data" cmp -s /tmp/v1 /tmp/r
expect "vector copy to a written sector: Out of Order Write" 0x2f2 \
    "$(status nvme io-passthru $CTRL --opcode=0x93 --namespace-id=1 \
        --cdw10=$a --cdw11=0 --cdw12=0 --cdw14=$b --cdw15=0)"
expect "vector reset of the open chunk (no early reset): Invalid Reset" 0x2c1 \
    "$(status vector 0x90 $a)"
expect "an LBA beyond the namespace: LBA Out of Range" 0x080 \
    "$(status vector 0x92 $((1 << (GRP_LEN + PU_LEN + CHK_LEN + LBK_LEN))) \
        --data-len=$SEC_SIZE -r)"
finish
