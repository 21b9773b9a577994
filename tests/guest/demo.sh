# The demo: what a Linux guest sees of an ocssd device.
. /lib.sh

echo
echo "=== NVMe controller (nvme id-ctrl) ==="
nvme id-ctrl $CTRL | grep -E '^(vid|ssvid|sn|mn|fr|ver|mdts|nn|oncs) '
echo
echo "=== namespace (nvme id-ns) ==="
nvme id-ns $NS -b > /tmp/idn
echo "size: $(u64 /tmp/idn 0) logical blocks; LBA format: $((1 << $(u8 /tmp/idn 130))) bytes + $(u16 /tmp/idn 128) bytes metadata"
echo "vendor byte 384: $(u8 /tmp/idn 384) (1 = Open-Channel 2.0)"
echo
echo "=== Open-Channel geometry (admin opcode E2h) ==="
geometry
echo "version:                $(u8 /tmp/geo 0).$(u8 /tmp/geo 1)"
echo "groups:                 $(u16 /tmp/geo 64)"
echo "parallel units / group: $(u16 /tmp/geo 66)"
echo "chunks / PU:            $(u32 /tmp/geo 68)"
echo "sectors / chunk:        $(u32 /tmp/geo 72)"
echo "LBA bits grp/pu/chk/sec: $GRP_LEN/$PU_LEN/$CHK_LEN/$LBK_LEN"
echo "ws_min / ws_opt:        $(u32 /tmp/geo 128) / $(u32 /tmp/geo 132) sectors"
echo "mw_cunits:              $(u32 /tmp/geo 136) sectors"
echo "maxoc / maxocpu:        $(u32 /tmp/geo 140) / $(u32 /tmp/geo 144) (0 = no limit)"
echo "mccap:                  0x$(printf %x $(u32 /tmp/geo 16)) (bit 0 vector copy, bit 1 multiple resets)"
echo "read/write/reset time:  $(u32 /tmp/geo 192) / $(u32 /tmp/geo 200) / $(u32 /tmp/geo 208) ns (typical)"

chunk_map() {
    chunk_log
    echo "chunk states ('.' free, 'o' open, 'C' closed, 'X' offline):"
    g=0
    while [ $g -lt $NUM_GRP ]; do
        p=0
        while [ $p -lt $NUM_PU ]; do
            line=
            c=0
            while [ $c -lt $NUM_CHK ]; do
                case $(chunk_state $(((g * NUM_PU + p) * NUM_CHK + c))) in
                1) line="$line." ;; 2) line="${line}C" ;;
                4) line="${line}o" ;; 8) line="${line}X" ;; *) line="$line?" ;;
                esac
                c=$((c + 1))
            done
            echo "  grp $g pu $p  $line"
            p=$((p + 1))
        done
        g=$((g + 1))
    done
}
echo
echo "=== chunk information log (CAh) ==="
chunk_map
echo
c=$(lba 0 0 0 0)
echo "=== writing $WS_OPT sectors at the write pointer of chunk 0 (LBA $c) ==="
pattern /tmp/w $WS_OPT demo
write_lba $c $WS_OPT /tmp/w > /dev/null && echo "write: done"
chunk_log
echo "chunk 0: state $(chunk_state 0) (4 = open), write pointer $(chunk_wp 0)"
echo "writing the same LBA again (not at the write pointer):"
echo "  status $(status write_lba $c $WS_MIN /tmp/w) (0x2f2 = Out of Order Write)"
chunk_map
