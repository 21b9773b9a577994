# lightnvm guest test on one geometry of the matrix: lightnvm registers
# it, pblk accepts it, ext4 on the target keeps files across the target's
# removal and re-creation.
. /lib.sh
. /lightnvm-lib.sh

g="[$NUM_GRP grp x $NUM_PU pu x $NUM_CHK chk x $CLBA, ws $WS_MIN/$WS_OPT, mw $MW_CUNITS, md $MD_SIZE]"
geo=/sys/block/nvme0n1/lightnvm
expect "$g lightnvm: groups" "$NUM_GRP" "$(cat $geo/groups 2>/dev/null)"
expect "$g lightnvm: parallel units" "$NUM_PU" "$(cat $geo/punits 2>/dev/null)"
expect "$g lightnvm: ws_opt" "$WS_OPT" "$(cat $geo/ws_opt 2>/dev/null)"
check "$g pblk accepts the geometry" create_target ||
    { show_failure; finish; }
check "$g mkfs.ext4 on the target" make_fs
check "$g mount" mount_fs
check "$g write, sync, read back" write_sync_verify M 6
check "$g remove the target" remove_target
check "$g re-create it: pblk recovers its mapping" create_target
check "$g fsck clean after recovery" fsck_clean
check "$g files intact after recovery" mounted_verify M 1 6
check "$g remove the target at the end" remove_target
finish
