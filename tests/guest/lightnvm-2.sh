# lightnvm guest test, second boot after a clean stop: pblk recovers the
# target, fsck is clean, the files are there.  Then set B: each file
# written and synced ("LNVM-SYNCED=<n>" on the console); with KILL set,
# writes go on until the host kills QEMU ("LNVM-KILL-ME").
. /lib.sh
. /lightnvm-lib.sh

# pblk never sends Flush: its synced data are durable on ocssd only with
# the volatile write cache off (with it on they survive QEMU's exit, not
# a kill).  The host boots the killed run with write-cache=off.
if [ -n "${KILL:-}" ]; then
    vwc=$(nvme get-feature $CTRL --feature-id=6 2>&1 |
          sed -n 's/.*[Vv]alue: *\(0x[0-9a-fA-F]*\|[0-9a-fA-F]*\).*/\1/p')
    expect "write-cache=off: the volatile write cache is off" 0 \
        $((${vwc:-1}))
fi
check "re-create the target after a clean restart" create_target ||
    { show_failure; finish; }
check "fsck clean after a clean restart" fsck_clean
check "mount" mount_fs
check "the files of the first boot are intact" verify_set A 1 12
i=1
while [ $i -le 4 ]; do
    make_file $MNT B-$i $(size_of $i) && sync && echo "LNVM-SYNCED=$i"
    i=$((i + 1))
done
if [ -n "${KILL:-}" ]; then
    # Writes in flight when the host kills QEMU: C never synced, D synced
    # one by one ("LNVM-DSYNCED=<n>" once D-n is on the device).
    ( i=1; while :; do make_file $MNT C-$i 64; i=$((i + 1)); done ) &
    i=1
    while :; do
        make_file $MNT D-$i $(size_of $i) && sync && echo "LNVM-DSYNCED=$i"
        [ $i -eq 3 ] && echo "LNVM-KILL-ME"
        i=$((i + 1))
    done
fi
umount $MNT
remove_target
finish
