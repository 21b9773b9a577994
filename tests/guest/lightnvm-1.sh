# lightnvm guest test, first boot on a fresh image (Linux 5.10): lightnvm
# registers the device with its geometry; a pblk target over every
# parallel unit (after one pblk must refuse: too little over-provisioning
# for its chunks); ext4 on it; the data survives the target's removal and
# re-creation (pblk recovers its mapping from the chunk states and the
# out-of-band metadata); the target is removed cleanly at the end.
. /lib.sh
. /lightnvm-lib.sh

geo=/sys/block/nvme0n1/lightnvm
check "lightnvm registers nvme0n1" test -d $geo
expect "lightnvm: Open-Channel 2.0" 2.0 "$(cat $geo/version 2>/dev/null)"
expect "lightnvm: groups" "$NUM_GRP" "$(cat $geo/groups 2>/dev/null)"
expect "lightnvm: parallel units per group" "$NUM_PU" "$(cat $geo/punits 2>/dev/null)"
expect "lightnvm: chunks per parallel unit" "$NUM_CHK" "$(cat $geo/chunks 2>/dev/null)"
expect "lightnvm: sectors per chunk" "$CLBA" "$(cat $geo/clba 2>/dev/null)"
expect "lightnvm: ws_min" "$WS_MIN" "$(cat $geo/ws_min 2>/dev/null)"
expect "lightnvm: ws_opt" "$WS_OPT" "$(cat $geo/ws_opt 2>/dev/null)"
expect "lightnvm: mw_cunits" "$MW_CUNITS" "$(cat $geo/mw_cunits 2>/dev/null)"
check "nvme lnvm list shows nvme0n1" lnvm_listed

if [ -n "$OP" ]; then
    check "pblk refuses over-provisioning $OP% of $NUM_CHK chunks a unit" \
        refused create_target -o $OP
    check "... saying why" kmsg "OP too small to create a sane instance"
fi
check "nvme lnvm create: a pblk target over all $LUNS parallel units" create_target ||
    { show_failure; finish; }
check "mkfs.ext4 on the pblk target" make_fs
check "mount" mount_fs
check "write 12 files" write_set A 12
check "sync" sync
check "files read back" verify_set A 1 12
check "umount" umount $MNT
check "fsck clean" fsck_clean
check "mount again: files intact" mounted_verify A 1 12
check "remove the target" remove_target
check "re-create it: pblk recovers its mapping" create_target
check "fsck clean after recovery" fsck_clean
check "mount: the files after recovery" mounted_verify A 1 12
check "remove the target (clean stop)" remove_target
kmsg "pblk.*corrupt\|pblk.*error\|pblk.*fail" && fail "pblk logged no error" ||
    pass "pblk logged no error"
finish
