# Helpers for the guest-side tests (sourced by each test script in the
# guest; busybox sh + nvme-cli 2.3).  /test.env, written by the host, holds
# the device's geometry: NUM_GRP NUM_PU NUM_CHK CLBA WS_MIN ...
# Each check prints "ok - NAME" or "not ok - NAME"; `finish` exits with
# the number of failures.

[ -f /test.env ] && . /test.env
CTRL=/dev/nvme0
NS=/dev/nvme0n1
FAILS=0

pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

# check NAME COMMAND...: the command succeeds (busy-box sh has no local
# variables: helpers the command may call must not use _check_name)
check() {
    _check_name=$1
    shift
    if "$@"; then pass "$_check_name"; else fail "$_check_name"; fi
}

# expect NAME WANT ACTUAL
expect() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1 (expected $2, got $3)"
    fi
}

# status COMMAND...: the NVMe status (SCT << 8 | SC, DNR stripped) of an
# nvme-cli command, as 0x%03x; 0x000 when it succeeded.
status() {
    _out=$("$@" 2>&1)
    _rc=$?
    _s=$(echo "$_out" | sed -n 's/.*NVMe status: .*(0x\([0-9a-fA-F]*\)).*/\1/p' |
         tail -n 1)
    if [ -n "$_s" ]; then
        printf '0x%03x\n' $((0x$_s & 0x7ff))
    elif [ $_rc -eq 0 ]; then
        echo 0x000
    else
        echo "error($_rc): $_out" | head -n 1
    fi
}

# Read little-endian unsigned integers from a binary file.
u8() { od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' '; }
u16() { od -A n -t u2 -j "$2" -N 2 "$1" | tr -d ' '; }
u32() { od -A n -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
u64() {
    _lo=$(od -A n -t u4 -j "$2" -N 4 "$1" | tr -d ' ')
    _hi=$(od -A n -t u4 -j $(($2 + 4)) -N 4 "$1" | tr -d ' ')
    echo $(( (_hi << 32) | _lo ))
}

# The geometry (admin E2h) into /tmp/geo, and the LBA field lengths.
geometry() {
    nvme admin-passthru $CTRL --opcode=0xe2 --namespace-id=1 \
        --data-len=4096 -r -b > /tmp/geo 2>/dev/null || return 1
    GRP_LEN=$(u8 /tmp/geo 8)
    PU_LEN=$(u8 /tmp/geo 9)
    CHK_LEN=$(u8 /tmp/geo 10)
    LBK_LEN=$(u8 /tmp/geo 11)
}

# lba GRP PU CHK SEC
lba() {
    echo $(( ($1 << (PU_LEN + CHK_LEN + LBK_LEN)) | ($2 << (CHK_LEN + LBK_LEN)) |
             ($3 << LBK_LEN) | $4 ))
}

# chunk_log: the chunk information log (CAh) into /tmp/chunks
chunk_log() {
    nvme get-log $CTRL --log-id=0xca --namespace-id=1 \
        --log-len=$((NUM_GRP * NUM_PU * NUM_CHK * 32)) -b > /tmp/chunks 2>/dev/null
}

# chunk_state/chunk_wp INDEX (after chunk_log)
chunk_state() { u8 /tmp/chunks $(($1 * 32)); }
chunk_wli() { u8 /tmp/chunks $(($1 * 32 + 2)); }
chunk_slba() { u64 /tmp/chunks $(($1 * 32 + 8)); }
chunk_wp() { u64 /tmp/chunks $(($1 * 32 + 24)); }

# pattern FILE SECTORS SEED: deterministic data
pattern() {
    : > "$1"
    _i=0
    while [ $_i -lt "$2" ]; do
        printf "ocssd-%s-%08d-" "$3" $_i | dd bs=4096 conv=sync 2>/dev/null >> "$1"
        _i=$((_i + 1))
    done
}

# write_lba SLBA SECTORS FILE / read_lba SLBA SECTORS FILE: standard I/O
# in commands of at most 32 sectors (well below MDTS and the kernel's
# passthrough limits)
write_lba() {
    _done=0
    while [ $_done -lt $2 ]; do
        _n=$(($2 - _done))
        [ $_n -gt 32 ] && _n=32
        dd if="$3" of=/tmp/.piece bs=$SEC_SIZE skip=$_done count=$_n 2>/dev/null
        nvme write $NS --start-block=$(($1 + _done)) --block-count=$((_n - 1)) \
            --data-size=$((_n * SEC_SIZE)) --data=/tmp/.piece || return 1
        _done=$((_done + _n))
    done
}
read_lba() {
    : > "$3"
    _done=0
    while [ $_done -lt $2 ]; do
        _n=$(($2 - _done))
        [ $_n -gt 32 ] && _n=32
        rm -f /tmp/.piece
        nvme read $NS --start-block=$(($1 + _done)) --block-count=$((_n - 1)) \
            --data-size=$((_n * SEC_SIZE)) --data=/tmp/.piece || return 1
        cat /tmp/.piece >> "$3"
        _done=$((_done + _n))
    done
}

# vector OPCODE LBA [nvme io-passthru options...]: a one-entry vector
# command (NLB 0: the LBA inline in CDW10-11)
vector() {
    _op=$1 _l=$2
    shift 2
    nvme io-passthru $CTRL --opcode=$_op --namespace-id=1 \
        --cdw10=$((_l & 0xffffffff)) --cdw11=$((_l >> 32)) --cdw12=0 "$@"
}

finish() {
    echo "guest: $FAILS failed"
    exit $FAILS
}
