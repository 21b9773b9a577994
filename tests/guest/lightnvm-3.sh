# lightnvm guest test, after QEMU was killed during writes: pblk recovers
# the target from the chunk states and the out-of-band metadata, ext4
# replays its journal, fsck is clean and every synced file is intact.
. /lib.sh
. /lightnvm-lib.sh

check "re-create the target after QEMU was killed" create_target ||
    { show_failure; finish; }
check "mount: ext4 replays its journal" mounted_verify A 1 1
check "fsck clean after the kill" fsck_clean
check "mount" mount_fs
check "the files of the first boot are intact" verify_set A 1 12
check "the $SYNCED synced files of the killed boot are intact" verify_set B 1 "$SYNCED"
check "the $DSYNCED files synced while QEMU was killed are intact" \
    verify_set D 1 "$DSYNCED"
check "new files can be written" write_sync_verify E 4
check "fsck clean" fsck_clean
check "remove the target" remove_target
finish
