#!/bin/sh
# The checksums of real images match docs/image-format.rst (TAP): an
# independent CRC-32C reader written from the documentation
# (tests/tools/image-crc.py, python3 standard library, bitwise CRC)
# verifies the header and every chunk table entry of images made by
# ocssd-img and by the device, and rejects copies with one byte changed.
#
#   sh tests/tools/image-crc-test.sh QEMU_BUILD_DIR
#
# QEMU_BUILD_DIR holds ocssd/ocssd-img and qemu-system-x86_64.
set -u

obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
img_tool=$obj/ocssd/ocssd-img
qemu=$obj/qemu-system-x86_64
reader="python3 $top/tests/tools/image-crc.py"
. "$(dirname "$0")/tap.sh"

# flip FILE OFFSET: invert every bit of one byte in place.
flip() {
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    new=$(printf '%03o' $((old ^ 255)))
    printf "\\$new" | dd of="$1" conv=notrunc bs=1 seek="$2" 2>/dev/null
}

# u64 FILE OFFSET: a little-endian 64-bit field of the header.
u64() {
    od -An -tu8 -j "$2" -N8 "$1" 2>/dev/null | tr -d ' '
}

if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 not found"
    exit 0
fi

expect "the reader's CRC-32C gives the documented check values" 0 \
    "check values match" $reader --selftest

# images the tool makes, several geometries and media formats
i=0
for geo in num_grp=2,num_pu=3,num_chk=5,clba=64 \
           num_grp=1,num_pu=1,num_chk=1,clba=16,ws_min=4,ws_opt=8,mw_cunits=0 \
           num_grp=4,num_pu=2,num_chk=17,clba=32,sec_size=512,md_size=0,ws_min=8,ws_opt=16,mw_cunits=8 \
           num_grp=3,num_pu=5,num_chk=7,clba=96,md_size=64,ws_min=4,ws_opt=12,mw_cunits=12,early_reset=on \
           ""; do
    i=$((i + 1))
    if [ -n "$geo" ]; then
        "$img_tool" create -o "$geo" "$tmp/t$i.img" > "$tmp/out" 2>&1
    else
        geo="the defaults"
        "$img_tool" create "$tmp/t$i.img" > "$tmp/out" 2>&1
    fi
    if [ $? -ne 0 ]; then
        not_ok "ocssd-img create -o $geo"
        continue
    fi
    expect "checksums of an ocssd-img image ($geo)" 0 " 0 bad;" \
        $reader "$tmp/t$i.img"
done

# one byte changed anywhere a checksum covers, or in a checksum, is caught
img=$tmp/t1.img
table=$(u64 "$img" 120)
for spot in "0:magic" "100:a geometry field" "2000:reserved header bytes" \
            "4091:the last byte the header CRC covers" \
            "4092:the header CRC itself"; do
    cp "$img" "$tmp/c.img"
    flip "$tmp/c.img" "${spot%%:*}"
    want="header checksum mismatch"
    [ "${spot%%:*}" -eq 0 ] && want="bad magic"
    expect "a changed byte at ${spot%%:*} (${spot#*:}) is rejected" 1 \
        "$want" $reader "$tmp/c.img"
done
for spot in "0:state of entry 0" "16:wp of entry 0" \
            "$((7 * 32 + 27)):the last byte entry 7's CRC covers" \
            "$((29 * 32 + 28)):entry 29's CRC itself"; do
    cp "$img" "$tmp/c.img"
    flip "$tmp/c.img" $((table + ${spot%%:*}))
    entry=$((${spot%%:*} / 32))
    expect "a changed byte in the table (${spot#*:}) is rejected" 1 \
        "entry $entry (.*checksum mismatch" $reader "$tmp/c.img"
    expect "ocssd-img check agrees (${spot#*:})" 2 "checksum mismatch" \
        "$img_tool" check "$tmp/c.img"
done
# the padding after the last entry carries no checksum
cp "$img" "$tmp/c.img"
flip "$tmp/c.img" $((table + 30 * 32))
expect "the table padding is not checksummed" 0 " 0 bad;" \
    $reader "$tmp/c.img"

# images the device wrote: one it formatted itself, with preset chunks
# (closed, open, offline, worn), and a tool-made one whose header the
# device rewrote (power cycle counted, DIRTY set and cleared)
if [ -x "$qemu" ]; then
    cat > "$tmp/chunkinfo" <<EOF
0 0 0 closed
0 0 1 closed 32
0 1 3 open 16 7
1 * * free 0 20
0 2 4 offline
EOF
    : > "$tmp/dev.img"
    expect "the device formats an image with preset chunks" 0 "" sh -c \
        "echo quit | timeout --kill-after=10 300 '$qemu' -M q35 -display none -nodefaults -monitor stdio \
         -drive if=none,id=oc0,file='$tmp/dev.img',format=raw \
         -device ocssd,drive=oc0,num_grp=2,num_pu=3,num_chk=5,clba=64,chunkinfo='$tmp/chunkinfo'"
    expect "checksums of the device-formatted image" 0 \
        " 0 bad; closed=2 free=26 offline=1 open=1" $reader "$tmp/dev.img"
    cp "$tmp/dev.img" "$tmp/c.img"
    flip "$tmp/c.img" $(($(u64 "$tmp/dev.img" 120) + 3 * 32 + 2))
    expect "a changed wear index in the device's table is rejected" 1 \
        "entry 3 (.*checksum mismatch" $reader "$tmp/c.img"

    cp "$tmp/t4.img" "$tmp/used.img"
    expect "the device opens a tool-made image" 0 "" sh -c \
        "echo quit | timeout --kill-after=10 300 '$qemu' -M q35 -display none -nodefaults -monitor stdio \
         -drive if=none,id=oc0,file='$tmp/used.img',format=raw -device ocssd,drive=oc0"
    if [ "$(u64 "$tmp/used.img" 176)" = 1 ]; then
        ok "the device counted its power cycle in the header"
    else
        echo "# power_cycles: $(u64 "$tmp/used.img" 176)" > "$tmp/out"
        not_ok "the device counted its power cycle in the header"
    fi
    expect "checksums of a header the device rewrote" 0 " 0 bad;" \
        $reader "$tmp/used.img"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
