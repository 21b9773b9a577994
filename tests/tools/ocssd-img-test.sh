#!/bin/sh
# Tests of the ocssd-img tool (TAP).
#
#   sh tests/tools/ocssd-img-test.sh QEMU_BUILD_DIR
#
# QEMU_BUILD_DIR holds ocssd/ocssd-img and qemu-system-x86_64.
set -u

obj=$1
img_tool=$obj/ocssd/ocssd-img
qemu=$obj/qemu-system-x86_64
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    fails=$((fails + 1))
    echo "not ok $n - $1"
    [ -f "$tmp/out" ] && sed 's/^/#   /' "$tmp/out"
}

# expect NAME STATUS PATTERN COMMAND...: exit status and an output line.
expect() {
    name=$1 want=$2 pattern=$3
    shift 3
    "$@" > "$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "# expected exit $want, got $got: $*" >> "$tmp/out"
        not_ok "$name"
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/out"; then
        echo "# output lacks: $pattern" >> "$tmp/out"
        not_ok "$name"
    else
        ok "$name"
    fi
}

small=num_grp=2,num_pu=3,num_chk=5,clba=64

# create / info / check round trip
expect "create with options" 0 "2 groups x 3 PUs x 5 chunks x 64 sectors" \
    "$img_tool" create -o $small "$tmp/a.img"
expect "info shows the geometry" 0 \
    "geometry: 2 groups x 3 parallel units x 5 chunks x 64 sectors" \
    "$img_tool" info "$tmp/a.img"
expect "info shows every chunk free" 0 "30 total, 30 free, 0 open" \
    "$img_tool" info "$tmp/a.img"
expect "info draws a map per parallel unit" 0 "grp   1 pu   2 \.\.\.\.\." \
    "$img_tool" info "$tmp/a.img"
expect "info --json" 0 '"num_pu": 3' "$img_tool" info --json "$tmp/a.img"
expect "info --json counts" 0 '"free": 30' "$img_tool" info --json "$tmp/a.img"
expect "check: a new image is clean" 0 "0 damaged: no errors" \
    "$img_tool" check "$tmp/a.img"
expect "create defaults" 0 "2 groups x 4 PUs x 60 chunks x 4096 sectors" \
    "$img_tool" create "$tmp/d.img"
expect "media options" 0 '"early_reset": true' sh -c \
    "'$img_tool' create -o $small,sec_size=512,md_size=0,ws_min=8,ws_opt=16,mw_cunits=0,maxoc=3,early_reset=on '$tmp/m.img' &&
     '$img_tool' info --json '$tmp/m.img'"

# bad options name the property, the value and what is allowed
expect "num_grp=0 refused" 1 "num_grp=0 is invalid" \
    "$img_tool" create -o num_grp=0 "$tmp/b.img"
expect "clba not a multiple of ws_min" 1 "ws_min=3 is invalid" \
    "$img_tool" create -o clba=64,ws_min=3 "$tmp/b.img"
expect "ws_opt not a multiple of ws_min" 1 "ws_opt=6 is invalid" \
    "$img_tool" create -o ws_min=4,ws_opt=6 "$tmp/b.img"
expect "mw_cunits >= clba" 1 "mw_cunits=64 is invalid" \
    "$img_tool" create -o clba=64,mw_cunits=64 "$tmp/b.img"
expect "sec_size" 1 "sec_size=1024 is invalid" \
    "$img_tool" create -o sec_size=1024 "$tmp/b.img"
expect "unknown option" 1 "unknown option 'colour'" \
    "$img_tool" create -o colour=blue "$tmp/b.img"
expect "not a number" 1 "num_chk=ten is invalid" \
    "$img_tool" create -o num_chk=ten "$tmp/b.img"
expect "bad boolean" 1 "early_reset=maybe is invalid" \
    "$img_tool" create -o early_reset=maybe "$tmp/b.img"
expect "too many address bits" 1 "LBA address bits" \
    "$img_tool" create -o num_grp=65535,num_pu=65535,num_chk=4294967295,clba=4096 "$tmp/b.img"
[ ! -e "$tmp/b.img" ] && ok "refused options create nothing" ||
    not_ok "refused options create nothing"
expect "missing file" 1 "expected exactly one FILE" "$img_tool" create
expect "unknown command" 1 "unknown command 'frobnicate'" \
    "$img_tool" frobnicate "$tmp/a.img"

# an existing image is not overwritten by accident
expect "create refuses a non-empty file" 1 "not overwriting" \
    "$img_tool" create "$tmp/a.img"
expect "create -f overwrites" 0 "" "$img_tool" create -f -o $small "$tmp/a.img"

# sparse: a 4 TiB image uses almost no disk
expect "create 4 TiB" 0 "" "$img_tool" create \
    -o num_grp=8,num_pu=8,num_chk=1024,clba=16384 "$tmp/big.img"
kib=$(du -k "$tmp/big.img" | cut -f1)
if [ "$kib" -lt 65536 ]; then
    ok "a 4 TiB image is sparse (${kib} KiB on disk)"
else
    not_ok "a 4 TiB image is sparse (${kib} KiB on disk)"
fi
rm -f "$tmp/big.img"

# corruption is detected, reported and (table only) repaired
cp "$tmp/a.img" "$tmp/c.img"
printf 'XCSSDIMG' | dd of="$tmp/c.img" conv=notrunc bs=1 seek=0 2>/dev/null
expect "check: bad magic is corrupt" 2 "bad magic" "$img_tool" check "$tmp/c.img"
expect "check --repair cannot fix a header" 2 "not repairable" \
    "$img_tool" check --repair "$tmp/c.img"
expect "info refuses a bad header" 1 "not an ocssd image" \
    "$img_tool" info "$tmp/c.img"
cp "$tmp/a.img" "$tmp/c.img"
printf '\377' | dd of="$tmp/c.img" conv=notrunc bs=1 seek=100 2>/dev/null
expect "check: header checksum" 2 "checksum mismatch" \
    "$img_tool" check "$tmp/c.img"
cp "$tmp/a.img" "$tmp/c.img"
# chunk table entry 7 (grp 0 pu 1 chk 2): flip its write pointer byte
printf '\011' | dd of="$tmp/c.img" conv=notrunc bs=1 seek=$((4096 + 7 * 32 + 16)) 2>/dev/null
expect "check: damaged table entry" 2 "entry 7 (grp 0 pu 1 chk 2): checksum mismatch" \
    "$img_tool" check "$tmp/c.img"
expect "info marks the damaged chunk" 0 "grp   0 pu   1 \.\.?\.\." \
    "$img_tool" info "$tmp/c.img"
expect "check --repair" 0 "marked offline" "$img_tool" check --repair "$tmp/c.img"
expect "clean after repair" 0 "0 damaged: no errors" "$img_tool" check "$tmp/c.img"
expect "the repaired chunk is offline" 0 "grp   0 pu   1 \.\.X\.\." \
    "$img_tool" info "$tmp/c.img"
cp "$tmp/a.img" "$tmp/c.img"
truncate -s 100000 "$tmp/c.img"
expect "check: truncated image" 2 "truncated" "$img_tool" check "$tmp/c.img"
: > "$tmp/e.img"
expect "check: empty file" 2 "too small" "$img_tool" check "$tmp/e.img"
truncate -s 1M "$tmp/z.img"
expect "check: a file of zeroes is no image (with a hint)" 2 \
    "starts with zeroes" "$img_tool" check "$tmp/z.img"
expect "check: missing file" 1 "No such file" "$img_tool" check "$tmp/none.img"

# the device uses what the tool makes, and the tool sees what it did
if [ -x "$qemu" ]; then
    expect "the device opens a tool-made image" 0 "" sh -c \
        "echo quit | timeout --kill-after=10 300 '$qemu' -M q35 -display none -nodefaults -monitor stdio \
         -drive if=none,id=oc0,file='$tmp/a.img',format=raw -device ocssd,drive=oc0"
    expect "info counts the device's power cycle" 0 "power cycles: 1" \
        "$img_tool" info "$tmp/a.img"
    expect "closed cleanly by the device" 0 "state: clean" \
        "$img_tool" info "$tmp/a.img"
fi

# the image behind NBD (docs/user-guide.rst): qemu-nbd serves it, the
# device opens it over nbd+unix://, the tool sees the device's power cycle
if [ -x "$qemu" ] && [ -x "$obj/qemu-nbd" ]; then
    "$img_tool" create -o $small "$tmp/n.img" > /dev/null
    # Not --fork: its parent's wait for the daemon fails now and then
    # with EINTR (seen under ASan), leaving a daemon behind.  Wait for the
    # socket instead (bounded: 30 s).
    "$obj/qemu-nbd" --persistent --socket="$tmp/nbd.sock" -f raw \
        "$tmp/n.img" > "$tmp/nbd.log" 2>&1 &
    echo $! > "$tmp/nbd.pid"
    i=0
    while [ ! -S "$tmp/nbd.sock" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    expect "the device opens its image over NBD" 0 "" sh -c \
        "echo quit | timeout --kill-after=10 300 '$qemu' -M q35 -display none -nodefaults -monitor stdio \
         -drive if=none,id=oc0,file='nbd+unix:///?socket=$tmp/nbd.sock',format=raw \
         -device ocssd,drive=oc0"
    kill "$(cat "$tmp/nbd.pid")"
    wait "$(cat "$tmp/nbd.pid")" 2>/dev/null
    expect "the NBD-served image was used and closed cleanly" 0 \
        "power cycles: 1" "$img_tool" info "$tmp/n.img"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
