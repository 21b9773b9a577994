# Helpers for the lightnvm/pblk guest tests (Linux 5.10, nvme-cli 1.12,
# e2fsprogs; sourced after lib.sh).  /test.env adds LUNS (all parallel
# units), OP (an over-provisioning pblk must refuse, or empty) and
# SYNCED and DSYNCED (how many files of sets B and D a killed boot had
# synced).

TGT=pblk0
DEV=/dev/$TGT
MNT=/mnt

# create_target [nvme lnvm create options...]: a pblk target over every
# parallel unit of nvme0n1; pblk recovers an existing one from the chunk
# states and the out-of-band metadata.
create_target() {
    nvme lnvm create -d nvme0n1 -n $TGT -t pblk -b 0 -e $((LUNS - 1)) "$@" \
        > /tmp/create.out 2>&1 && [ -b $DEV ]
}
remove_target() { nvme lnvm remove -n $TGT > /tmp/remove.out 2>&1; }

# kmsg PATTERN: the kernel logged PATTERN
kmsg() { dmesg | grep -q "$1"; }

# make_file DIR NAME SIZE-IN-KB: a file whose content follows from its name
make_file() {
    yes "$2 ocssd lightnvm pblk" | head -c $(($3 * 1024)) > "$1/$2"
}
# same_file DIR NAME SIZE-IN-KB: the file holds that content
same_file() {
    yes "$2 ocssd lightnvm pblk" | head -c $(($3 * 1024)) | cmp -s - "$1/$2"
}
# size_of N: the set's sizes vary, from 1 KB to a few hundred
size_of() { echo $(( (($1 * 37) % 11) * 24 + 1 )); }

# write_set SET N: files SET-1..SET-N under /mnt
write_set() {
    _i=1
    while [ $_i -le $2 ]; do
        make_file $MNT "$1-$_i" $(size_of $_i) || return 1
        _i=$((_i + 1))
    done
}
# verify_set SET FIRST LAST: files SET-FIRST..SET-LAST are intact
verify_set() {
    _i=$2
    while [ $_i -le $3 ]; do
        same_file $MNT "$1-$_i" $(size_of $_i) || { echo "# $1-$_i differs"; return 1; }
        _i=$((_i + 1))
    done
}

mount_fs() { mount -t ext4 $DEV $MNT; }
# fsck_clean: a forced check finds nothing to fix (the file system must
# not be mounted)
fsck_clean() { e2fsck -fn $DEV > /tmp/fsck.out 2>&1 || { sed 's/^/# /' /tmp/fsck.out; return 1; }; }

# mounted_verify SET FIRST LAST: mount, verify, umount
mounted_verify() { mount_fs && verify_set "$@" && umount $MNT; }
# refused COMMAND...: the command fails
refused() { ! "$@"; }
# lnvm_listed: nvme lnvm list shows nvme0n1
lnvm_listed() { nvme lnvm list 2>&1 | grep -q nvme0n1; }
# show_failure: why create_target failed, on the console
show_failure() { sed 's/^/# /' /tmp/create.out; dmesg | tail -n 20 | sed 's/^/# /'; }
# make_fs: ext4 on the target, inode tables written now (no lazy
# initialisation writing behind the test's back)
make_fs() { mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 $DEV; }
# write_sync_verify SET N: write files SET-1..N, sync, read back, umount
write_sync_verify() { write_set $1 $2 && sync && verify_set $1 1 $2 && umount $MNT; }
