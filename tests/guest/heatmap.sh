# The heat-map workload (run in the guest by scripts/heatmap): fio writes
# each of PUs 0-3 of group 0 once through, at once, one job per PU, while PUs
# 4-7 stay idle; the host samples pu-stats meanwhile.  Numbers only.
. /lib.sh

geometry || fail "geometry (E2h)"
pu_bytes=$((NUM_CHK * CLBA * SEC_SIZE))
set --
i=0
while [ $i -lt 4 ]; do
    set -- "$@" --name=pu$i --offset=$((i * pu_bytes)) --size=$pu_bytes
    i=$((i + 1))
done
sleep 1      # an idle second at the start of the picture
if fio --filename=$NS --direct=1 --ioengine=libaio --rw=write \
        --bs=$((WS_OPT * SEC_SIZE)) --iodepth=2 \
        --group_reporting --output=/tmp/fio.out "$@" > /dev/null 2>&1; then
    grep -E '^ *write: IOPS=' /tmp/fio.out | sed 's/^ */BENCH heatmap-write: /'
else
    cat /tmp/fio.out
    fail "fio on PUs 0-3 ran"
fi
sleep 1
finish
