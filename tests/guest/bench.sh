# The benchmark's fixed job set, run in the guest by scripts/bench once
# per boot, on ocssd and on QEMU's nvme alike (the same LBA format).  It
# prints numbers, never a verdict; a job that cannot run is reported
# ("not ok") and the others go on.
#
# /test.env (written by scripts/bench):
#   KIND        ocssd or nvme (vector jobs run on ocssd only)
#   RUNTIME     seconds of each time-based fio job
#   WRITE_MB    MiB of each sequential write (a multiple of 4 MiB)
#   VEC_CMDS    commands of each vbench job, VEC_NLB LBAs each
#   SEC_SIZE, MD_SIZE  the LBA format
#   MARK        the host's marker serial port (/dev/ttyS1)
#
# Layout (LBAs of SEC_SIZE bytes from 0; on ocssd whole chunks, written
# once, in order): W1 = [0, WRITE_MB) sequential write through the block
# device, W2 = [WRITE_MB, 2 WRITE_MB) the same through /dev/ng0n1, the
# random reads over W1; then VEC_CMDS x VEC_NLB LBAs for standard 64-LBA
# writes, and as many for vector writes, read back the same way.
#
# Console lines for the host (scripts/bench parses them):
#   BENCH-FIO-BEGIN NAME / fio's JSON output / BENCH-FIO-END NAME
#   BENCH-V NAME ...   (vbench)
# and on MARK, "BENCH-MARK begin|end NAME" around each job's I/O (fio's
# exec_prerun/exec_postrun), when the host reads QEMU's CPU time.
. /lib.sh

RUNTIME=${RUNTIME:-5}
WRITE_MB=${WRITE_MB:-512}
VEC_CMDS=${VEC_CMDS:-4096}
VEC_NLB=${VEC_NLB:-64}
MARK=${MARK:-/dev/ttyS1}
BLK=/dev/nvme0n1
CHR=/dev/ng0n1

stty -F $MARK raw -echo 2> /dev/null
echo "BENCH-MARK hello $KIND" > $MARK

# job NAME FIO-ARGS...: one fio job with the markers; its JSON to the
# console between BENCH-FIO-BEGIN/END lines.
job() {
    _name=$1
    shift
    if fio --name=$_name --group_reporting --lat_percentiles=1 \
            --exec_prerun="sh -c 'echo BENCH-MARK begin $_name > $MARK'" \
            --exec_postrun="sh -c 'echo BENCH-MARK end $_name > $MARK'" \
            --output-format=json --output=/tmp/$_name.json "$@" \
            > /tmp/$_name.err 2>&1; then
        echo "BENCH-FIO-BEGIN $_name"
        cat /tmp/$_name.json
        echo "BENCH-FIO-END $_name"
        pass "fio $_name"
    else
        cat /tmp/$_name.err /tmp/$_name.json 2> /dev/null | tail -n 20
        fail "fio $_name"
    fi
}
blk() { job "$@" --filename=$BLK --direct=1 --ioengine=libaio; }
chr() { job "$@" --filename=$CHR --ioengine=io_uring_cmd --cmd_type=nvme; }

w=$((WRITE_MB * 1048576))
blk seq-write --rw=write --bs=64k --iodepth=8 --offset=0 --size=$w
chr pt-seq-write --rw=write --bs=64k --iodepth=8 --offset=$w --size=$w
blk randread-qd1 --rw=randread --bs=4k --iodepth=1 --size=$w \
    --runtime=$RUNTIME --time_based
blk randread-qd32 --rw=randread --bs=4k --iodepth=32 --size=$w \
    --runtime=$RUNTIME --time_based
chr pt-randread-qd1 --rw=randread --bs=4k --iodepth=1 --size=$w \
    --runtime=$RUNTIME --time_based
chr pt-randread-qd32 --rw=randread --bs=4k --iodepth=32 --size=$w \
    --runtime=$RUNTIME --time_based

# 64-LBA commands through NVME_IOCTL_IO64_CMD, one at a time: standard
# Write/Read of 64 contiguous LBAs, and (ocssd) Vector Write/Read whose
# list holds the same 64 addresses, on a region of their own.
vb() {
    if out=$(/vbench io $CHR "$2" "$3" "$4" $VEC_CMDS $VEC_NLB $SEC_SIZE \
            $MD_SIZE "$1" $MARK 2>&1); then
        echo "$out"
        pass "vbench $1"
    else
        echo "$out"
        fail "vbench $1"
    fi
}
if [ -x /vbench ]; then
    span=$((VEC_CMDS * VEC_NLB))
    std=$((2 * w / SEC_SIZE))
    vec=$((std + span))
    vb std64-write write standard $std
    [ "$KIND" = ocssd ] && vb vec64-write write vector $vec
    vb std64-read read standard $std
    [ "$KIND" = ocssd ] && vb vec64-read read vector $vec
fi
echo "BENCH-MARK done $KIND" > $MARK
finish
