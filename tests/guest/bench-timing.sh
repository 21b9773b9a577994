# The NAND timing model seen from Linux (run in the guest by
# scripts/bench-timing, once per boot; PHASE in /test.env says which):
#   prep  write the regions the reads use (timing off; first boot only)
#   lat   QD1 random 4 KiB reads on one PU: fio's mean completion latency
#   tput  random 4 KiB reads, one job per PU on PUs 0..k-1 of group 0
#   reset vector resets (90h) through nvme-cli, one command each
# PHASE is a comma-separated list; LABEL (off, on, ...) tags the lines.
# Lines: "BENCH-T <what> <label> [k] <number>"; the host makes the table.
# It prints numbers, never a verdict; any failure to run is an error.
. /lib.sh

LAT_RUNTIME=${LAT_RUNTIME:-10}
TPUT_RUNTIME=${TPUT_RUNTIME:-10}
RESETS=${RESETS:-40}
REGION_CHK=${REGION_CHK:-2}     # chunks written (and read) on each PU

# tfio ARGS...: run fio (terse v3, one group line); prints that line.
tfio() {
    if ! fio --filename=$NS --direct=1 --ioengine=libaio --group_reporting \
            --output-format=terse --terse-version=3 --output=/tmp/fio.out \
            "$@" > /dev/null 2>&1 ||
       [ "$(cut -d';' -f5 /tmp/fio.out | tail -n 1)" != 0 ]; then
        cat /tmp/fio.out
        fail "fio $*"
        return 1
    fi
    tail -n 1 /tmp/fio.out
}

geometry || fail "geometry (E2h)"
pu_off() { echo $(( $(lba 0 "$1" 0 0) * SEC_SIZE )); }
region=$((REGION_CHK * CLBA * SEC_SIZE))
npu=$((NUM_PU > 8 ? 8 : NUM_PU))

for phase in $(echo "$PHASE" | tr ',' ' '); do
    case $phase in
    prep)
        # Sequential writes of REGION_CHK chunks on each PU of group 0.
        set --
        i=0
        while [ $i -lt $npu ]; do
            set -- "$@" --name=w$i --offset=$(pu_off $i) --size=$region
            i=$((i + 1))
        done
        tfio --rw=write --bs=$((WS_OPT * SEC_SIZE)) --iodepth=4 "$@" \
            > /dev/null || finish
        ;;
    lat)
        # terse v3: field 16 is the read clat mean in usec.
        l=$(tfio --name=lat --rw=randread --bs=4096 --iodepth=1 \
            --offset=$(pu_off 0) --size=$region --runtime=$LAT_RUNTIME \
            --time_based) || finish
        echo "BENCH-T lat $LABEL $(echo "$l" | cut -d';' -f16)"
        ;;
    tput)
        # terse v3: field 8 is the read IOPS.
        for k in 1 2 4 8; do
            [ $k -le $npu ] || break
            set --
            i=0
            while [ $i -lt $k ]; do
                set -- "$@" --name=pu$i --offset=$(pu_off $i) --size=$region
                i=$((i + 1))
            done
            l=$(tfio --rw=randread --bs=4096 --iodepth=4 \
                --runtime=$TPUT_RUNTIME --time_based "$@") || finish
            echo "BENCH-T tput $LABEL $k $(echo "$l" | cut -d';' -f8)"
        done
        ;;
    reset)
        # RESETS free chunks of group 1, PU 0 (the image has
        # multiple_resets=on); the mean per nvme-cli command, in usec.
        # /proc/uptime counts in 10 ms: RESETS commands make it fine enough.
        now_ms() { awk '{ print int($1 * 1000) }' /proc/uptime; }
        g=$((NUM_GRP > 1 ? 1 : 0))
        t0=$(now_ms)
        c=0
        while [ $c -lt $RESETS ]; do
            l=$(lba $g 0 $((c % NUM_CHK)) 0)
            nvme io-passthru $NS --opcode=0x90 --namespace-id=1 \
                --cdw10=$((l & 0xffffffff)) --cdw11=$((l >> 32)) \
                > /dev/null 2>&1 || { fail "vector reset of LBA $l"; finish; }
            c=$((c + 1))
        done
        t1=$(now_ms)
        echo "BENCH-T reset $LABEL $(( (t1 - t0) * 1000 / RESETS ))"
        ;;
    *)
        fail "unknown phase $phase"
        ;;
    esac
done
finish
