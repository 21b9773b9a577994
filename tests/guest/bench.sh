# Benchmark workloads (run in the guest by scripts/bench): fio on the
# namespace's block device, and chunk resets through nvme-cli.  It
# prints numbers, never a verdict; any failure to run is an error.
. /lib.sh

# bench LABEL ARGS...: run fio (ARGS: global options, then jobs; without
# a --name, one job) and print "LABEL: <fio's summary line>".
bench() {
    _job=$1
    shift
    case " $* " in *" --name="*) ;; *) set -- "$@" --name="$_job" ;; esac
    if ! fio --filename=$NS --direct=1 --ioengine=libaio \
            --group_reporting --output=/tmp/fio.out "$@" > /dev/null 2>&1 ||
       ! grep -q "err= 0" /tmp/fio.out; then
        cat /tmp/fio.out
        fail "fio job $_job ran"
        return
    fi
    grep -E '^ *(read|write): IOPS=' /tmp/fio.out | sed "s/^ */BENCH $_job: /"
}

geometry || fail "geometry (E2h)"
# Sequential jobs run through a PU's chunks, which are contiguous in LBA
# space only when CLBA and NUM_CHK are powers of two.
if [ $((1 << LBK_LEN)) -ne $CLBA ] || [ $((1 << CHK_LEN)) -ne $NUM_CHK ]; then
    fail "bench needs power-of-two clba and num_chk"
    finish
fi
chunk_bytes=$((CLBA * SEC_SIZE))
pu_bytes=$((NUM_CHK * chunk_bytes))
opt=$((WS_OPT * SEC_SIZE))
# The first PU: sequential writes through its chunks, then reads.
bench seq-write-qd1 --rw=write --bs=$opt --iodepth=1 --size=$((pu_bytes / 2))
bench seq-write-qd8 --rw=write --bs=$opt --iodepth=8 \
    --offset=$((pu_bytes / 2)) --size=$((pu_bytes / 2))
bench seq-read-qd8 --rw=read --bs=$opt --iodepth=8 --size=$pu_bytes
bench rand-read-4k-qd1 --rw=randread --bs=4096 --iodepth=1 --size=$pu_bytes \
    --runtime=10 --time_based
bench rand-read-4k-qd16 --rw=randread --bs=4096 --iodepth=16 \
    --size=$pu_bytes --runtime=10 --time_based
# Eight PUs written at once: one fio job per PU.
set --
i=1
while [ $i -le $((NUM_PU > 8 ? 8 : NUM_PU - 1)) ]; do
    set -- "$@" --name=pu$i --offset=$((i * pu_bytes)) --size=$((pu_bytes / 4))
    i=$((i + 1))
done
bench parallel-pu-write --rw=write --bs=$opt --iodepth=4 "$@"

# Chunk resets: vector reset (90h) of the chunks the first job closed.
now_ms() { awk '{ print int($1 * 1000) }' /proc/uptime; }
t0=$(now_ms)
n=0
c=0
while [ $c -lt $((NUM_CHK / 2)) ]; do
    nvme io-passthru $NS --opcode=0x90 --namespace-id=1 \
        --cdw10=$(( (c * CLBA) & 0xffffffff )) \
        --cdw11=$(( (c * CLBA) >> 32 )) > /dev/null 2>&1 && n=$((n + 1))
    c=$((c + 1))
done
t1=$(now_ms)
echo "BENCH vector-reset: $n chunks reset in $((t1 - t0)) ms (nvme-cli, one command each)"
finish
