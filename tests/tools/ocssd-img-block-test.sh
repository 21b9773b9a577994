#!/bin/sh
# Tests of ocssd-img through QEMU's block layer (TAP): raw, qcow2 and NBD
# images, --image-opts, JSON output read by a JSON parser, map pictures,
# age, read-only and locked images, and refusals that leave an image as
# it was.
#
#   sh tests/tools/ocssd-img-block-test.sh QEMU_BUILD_DIR
#
# QEMU_BUILD_DIR holds ocssd/ocssd-img, qemu-img, qemu-nbd and
# qemu-system-x86_64.
set -u

obj=$1
img_tool=$obj/ocssd/ocssd-img
qemu=$obj/qemu-system-x86_64
. "$(dirname "$0")/tap.sh"

geo=num_grp=2,num_pu=3,num_chk=8,clba=64
aging=erase_mean=40,erase_spread=8,pu_skew=0.5,offline=0.1,closed=0.4,open=0.2

# json FILE EXPR: print EXPR of the JSON document d in FILE (python3).
json() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(eval(sys.argv[2]))' "$@"
}

# check_json NAME FILE EXPR: a test that EXPR holds for the document.
check_json() {
    if [ "$(json "$2" "bool($3)" 2>> "$tmp/out")" = True ]; then
        ok "$1"
    else
        echo "# $3 is false in:" >> "$tmp/out"
        head -c 2000 "$2" >> "$tmp/out"
        not_ok "$1"
    fi
}

# same NAME FILE SUM: FILE still has checksum SUM.
same() {
    if [ "$(cksum < "$2")" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1"
    fi
}

# --- -o help: the device's names and texts --------------------------------
"$img_tool" create -o help > "$tmp/tool-help" 2>&1
"$qemu" -device ocssd,help > "$tmp/dev-help" 2>&1
if python3 - "$tmp/tool-help" "$tmp/dev-help" > "$tmp/out" 2>&1 <<'EOF'
import re, sys
def texts(path):
    d = {}
    for line in open(path):
        m = re.match(r'\s+(\w+)=<[^>]*>\s+- (.*)', line)
        if m:
            d[m.group(1)] = re.sub(r' \(default: .*\)$', '', m.group(2))
    return d
tool, dev = texts(sys.argv[1]), texts(sys.argv[2])
assert len(tool) == 21, tool
for k, v in tool.items():
    assert dev.get(k) == v, (k, v, dev.get(k))
    assert re.search(r'\d|ns|multiple|divides|on\)|off\)', v), (k, v)
EOF
then ok "-o help lists the 21 media properties with the device's texts"
else not_ok "-o help lists the 21 media properties with the device's texts"
fi
expect "-a help lists the aging settings" 0 "erase_spread=<str>" \
    "$img_tool" age -a help x.img

# --- raw ------------------------------------------------------------------
expect "create raw" 0 "(raw)" "$img_tool" create -o $geo "$tmp/r.img"
"$img_tool" info --output=json "$tmp/r.img" > "$tmp/r.json"
check_json "info --output=json: geometry and driver" "$tmp/r.json" \
    "d['geometry']['num_pu'] == 3 and d['driver'] == 'raw' and d['chunks']['free'] == 48"
"$img_tool" info --json --chunks "$tmp/r.img" > "$tmp/r.json"
check_json "--json is --output=json; --chunks lists every chunk" "$tmp/r.json" \
    "len(d['chunk-table']) == 48 and d['chunk-table'][47]['pu'] == 2 and d['chunk-table'][47]['state'] == 'free'"
"$img_tool" check --output=json "$tmp/r.img" > "$tmp/c.json"
check_json "check --output=json: clean" "$tmp/c.json" \
    "d['result'] == 'clean' and d['problems'] == [] and d['chunks-checked'] == 48"

# --- qcow2: made by the tool, and formatted by the device -----------------
expect "create -f qcow2 makes a qcow2 file" 0 "(qcow2)" \
    "$img_tool" create -f qcow2 -o $geo "$tmp/q.qcow2"
expect "qemu-img sees a qcow2 file" 0 "file format: qcow2" \
    "$obj/qemu-img" info "$tmp/q.qcow2"
"$img_tool" info --output=json "$tmp/q.qcow2" > "$tmp/q.json"
check_json "info on qcow2 (probed)" "$tmp/q.json" \
    "d['driver'] == 'qcow2' and d['chunks']['total'] == 48"
expect "check on qcow2" 0 "no errors" "$img_tool" check -f qcow2 "$tmp/q.qcow2"
expect "info --image-opts" 0 "in qcow2" "$img_tool" info --image-opts \
    "driver=qcow2,file.driver=file,file.filename=$tmp/q.qcow2"
expect "--image-opts with -f refused" 1 "mutually exclusive" \
    "$img_tool" info --image-opts -f qcow2 "driver=qcow2,file.filename=$tmp/q.qcow2"
if [ -x "$qemu" ]; then
    "$obj/qemu-img" create -q -f qcow2 "$tmp/dev.qcow2" 0
    echo quit | timeout --kill-after=10 300 "$qemu" -M q35 -display none \
        -nodefaults -monitor stdio -drive if=none,id=oc0,file="$tmp/dev.qcow2",format=qcow2 \
        -device ocssd,drive=oc0,$geo > "$tmp/out" 2>&1
    "$img_tool" info --output=json "$tmp/dev.qcow2" > "$tmp/d.json"
    check_json "a qcow2 the device formatted" "$tmp/d.json" \
        "d['driver'] == 'qcow2' and d['power-cycles'] == 1 and d['clean'] and d['geometry']['num_chk'] == 8"
    expect "check on a qcow2 the device formatted" 0 "no errors" \
        "$img_tool" check "$tmp/dev.qcow2"
fi

# --- JSON for any file name ------------------------------------------------
weird="$tmp/a\"b\\c 'é\\u00e9.img"
"$img_tool" create -o $geo "$weird" > "$tmp/out" 2>&1
"$img_tool" info --output=json "$weird" > "$tmp/w.json"
if [ "$(json "$tmp/w.json" "d['filename']")" = "$weird" ]; then
    ok "info JSON holds a name with quotes, backslashes and non-ASCII"
else
    not_ok "info JSON holds a name with quotes, backslashes and non-ASCII"
fi
"$img_tool" check --output=json "$weird" > "$tmp/w.json"
if [ "$(json "$tmp/w.json" "d['filename']")" = "$weird" ]; then
    ok "check JSON holds the same name"
else
    not_ok "check JSON holds the same name"
fi

# --- check lists each problem ---------------------------------------------
cp "$tmp/r.img" "$tmp/bad.img"
for e in 7 20; do
    printf '\011' | dd of="$tmp/bad.img" conv=notrunc bs=1 \
        seek=$((4096 + e * 32 + 16)) 2>/dev/null
done
"$img_tool" check --output=json "$tmp/bad.img" > "$tmp/c.json"
echo $? > "$tmp/rc"
check_json "check --output=json lists each damaged entry" "$tmp/c.json" \
    "d['result'] == 'corrupt' and [(p['index'], p['group'], p['pu'], p['chunk']) for p in d['problems']] == [(7, 0, 0, 7), (20, 0, 2, 4)] and 'checksum' in d['problems'][0]['message']"
[ "$(cat "$tmp/rc")" = 2 ] && ok "check --output=json exits 2 on corruption" ||
    not_ok "check --output=json exits 2 on corruption"
cp "$tmp/r.img" "$tmp/hdr.img"
printf '\377' | dd of="$tmp/hdr.img" conv=notrunc bs=1 seek=100 2>/dev/null
"$img_tool" check --output=json "$tmp/hdr.img" > "$tmp/c.json" 2> /dev/null
check_json "check --output=json: a damaged header" "$tmp/c.json" \
    "d['result'] == 'corrupt' and not d['header-valid'] and d['problems'][0]['what'] == 'header'"

# --- age --------------------------------------------------------------------
: > "$tmp/a.img"
expect "age formats an empty image and ages it" 0 "" sh -c \
    "'$img_tool' age -o $geo -a $aging,seed=3 --output=json '$tmp/a.img' > '$tmp/a.json'"
check_json "age: the fractions" "$tmp/a.json" \
    "d['chunks']['offline'] == 5 and d['chunks']['closed'] + d['chunks']['open'] == 29 and d['chunks']['open'] > 0 and d['aging']['seed'] == 3"
check_json "age: the wear's mean" "$tmp/a.json" \
    "30 < d['wear']['erase-count-mean'] < 50"
check_json "age: wear skewed across the PUs" "$tmp/a.json" \
    "sum(c['erase-count'] for c in d['chunk-table'][:8] if c['state'] != 'offline') < sum(c['erase-count'] for c in d['chunk-table'][40:] if c['state'] != 'offline')"
check_json "age: write pointers match the states" "$tmp/a.json" \
    "all((c['wp'] == 64) if c['state'] == 'closed' else (0 < c['wp'] < 64 and c['wp'] % 4 == 0) if c['state'] == 'open' else c['wp'] == 0 for c in d['chunk-table'] if c['state'] != 'offline')"
expect "an aged image checks clean" 0 "no errors" "$img_tool" check "$tmp/a.img"
: > "$tmp/b.img"
"$img_tool" age -o $geo -a $aging,seed=3 --output=json "$tmp/b.img" > "$tmp/b.json"
if [ "$(json "$tmp/a.json" "d['chunk-table']")" = "$(json "$tmp/b.json" "d['chunk-table']")" ] &&
   cmp -s "$tmp/a.img" "$tmp/b.img" 2>/dev/null ||
   [ "$(dd if="$tmp/a.img" bs=4096 skip=2 2>/dev/null | cksum)" = "$(dd if="$tmp/b.img" bs=4096 skip=2 2>/dev/null | cksum)" ]; then
    ok "age: the same seed, the same image"
else
    not_ok "age: the same seed, the same image"
fi
: > "$tmp/b.img"
"$img_tool" age -o $geo -a $aging,seed=4 --output=json "$tmp/b.img" > "$tmp/b.json"
if [ "$(json "$tmp/a.json" "d['chunk-table']")" != "$(json "$tmp/b.json" "d['chunk-table']")" ]; then
    ok "age: another seed, another image"
else
    not_ok "age: another seed, another image"
fi
"$img_tool" age -a erase_mean=10,offline=0.2,seed=5 --output=json "$tmp/a.img" > "$tmp/a2.json"
check_json "age an existing image: wear adds up, offline stays" "$tmp/a2.json" \
    "d['chunks']['offline'] == 10 and d['wear']['erase-count-mean'] > 40"
sum=$(cksum < "$tmp/a.img")
expect "age: fractions over 1 refused" 1 "must add up to 1 at most" \
    "$img_tool" age -a closed=0.7,open=0.5 "$tmp/a.img"
expect "age: a fraction out of range refused" 1 "offline=2 is invalid" \
    "$img_tool" age -a offline=2 "$tmp/a.img"
expect "age: an unknown setting refused" 1 "Invalid parameter 'colour'" \
    "$img_tool" age -a colour=blue "$tmp/a.img"
expect "age: -o on an existing image refused" 1 "geometry of a new" \
    "$img_tool" age -o num_pu=2 -a closed=0.1 "$tmp/a.img"
expect "age without -a says how" 1 "say how old with -a" \
    "$img_tool" age "$tmp/a.img"
same "refused age runs leave the image as it was" "$tmp/a.img" "$sum"
sum=$(cksum < "$tmp/bad.img")
expect "age refuses a damaged table" 1 "check --repair' first" \
    "$img_tool" age -a closed=0.5 "$tmp/bad.img"
same "a refused age leaves a damaged image as it was" "$tmp/bad.img" "$sum"
printf 'junk' > "$tmp/j.img"
truncate -s 1M "$tmp/j.img"
sum=$(cksum < "$tmp/j.img")
expect "age refuses a file that holds data" 1 "not an ocssd image" \
    "$img_tool" age -a closed=0.5 "$tmp/j.img"
same "... and leaves it as it was" "$tmp/j.img" "$sum"
sum=$(cksum < "$tmp/r.img")
expect "create over an image refused without --force" 1 "not overwriting it; --force" \
    "$img_tool" create -o $geo "$tmp/r.img"
expect "create with a bad geometry over an image refused" 1 "num_grp=0 is invalid" \
    "$img_tool" create --force -o num_grp=0 "$tmp/r.img"
same "refused creates leave the image as it was" "$tmp/r.img" "$sum"
expect "age on qcow2" 0 "aged (seed 9)" \
    "$img_tool" age -f qcow2 -a $aging,seed=9 "$tmp/q.qcow2"
expect "the aged qcow2 checks clean" 0 "no errors" "$img_tool" check "$tmp/q.qcow2"

# --- map ---------------------------------------------------------------------
expect "map --output=svg" 0 "SVG map written" \
    "$img_tool" map --output=svg -O "$tmp/a.svg" "$tmp/a.img"
expect "map --output=png" 0 "PNG map written" \
    "$img_tool" map --output=png "$tmp/a.img"
if python3 - "$tmp/a.svg" "$tmp/a.img.png" > "$tmp/out" 2>&1 <<'EOF'
import struct, sys, zlib
import xml.etree.ElementTree as ET
svg = ET.parse(sys.argv[1]).getroot()
ns = '{http://www.w3.org/2000/svg}'
text = ' '.join(t.text for t in svg.iter(ns + 'text'))
for word in ('chunk state', 'wear', 'free', 'open', 'closed', 'offline', 'erase count'):
    assert word in text, word
assert len(list(svg.iter(ns + 'rect'))) > 2 * 48
png = open(sys.argv[2], 'rb').read()
assert png[:8] == b'\x89PNG\r\n\x1a\n'
w, h = struct.unpack('>II', png[16:24])
pos, idat = 8, b''
while pos < len(png):
    n, = struct.unpack('>I', png[pos:pos + 4])
    kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
    assert zlib.crc32(kind + data) == struct.unpack('>I', png[pos + 8 + n:pos + 12 + n])[0]
    idat += data if kind == b'IDAT' else b''
    pos += 12 + n
assert len(zlib.decompress(idat)) == h * (3 * w + 1)
EOF
then ok "the SVG parses, with its legend; the PNG decodes"
else not_ok "the SVG parses, with its legend; the PNG decodes"
fi
"$img_tool" map --output=svg -O "$tmp/w.svg" "$weird" > /dev/null 2>&1
if python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$tmp/w.svg" 2> "$tmp/out"; then
    ok "a map of a file with quotes in its name is valid XML"
else
    not_ok "a map of a file with quotes in its name is valid XML"
fi
expect "map needs --output" 1 "--output=svg or --output=png" \
    "$img_tool" map "$tmp/a.img"

# --- an image a running VM holds ------------------------------------------
# start_vm IMAGE FORMAT: a VM with the device on IMAGE, until stop_vm
start_vm() {
    rm -f "$tmp/qmp.sock"
    "$qemu" -M q35 -display none -nodefaults \
        -qmp unix:"$tmp/qmp.sock",server=on,wait=off \
        -drive if=none,id=oc0,file="$1",format=$2 \
        -device ocssd,drive=oc0 > "$tmp/vm.log" 2>&1 &
    vm=$!
    # the device marks the image in use once the VM runs (bounded: 60 s)
    i=0
    while [ $i -lt 600 ] &&
          ! "$img_tool" info -U "$1" 2>/dev/null | grep -q "state: in use"; do
        sleep 0.1
        i=$((i + 1))
    done
}
stop_vm() {
    python3 - "$tmp/qmp.sock" <<'EOF_PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rw')
f.readline()
for cmd in ('qmp_capabilities', 'quit'):
    f.write('{"execute": "%s"}\n' % cmd)
    f.flush()
    f.readline()
EOF_PY
    wait $vm
}
if [ -x "$qemu" ]; then
    # qcow2: its metadata must stay consistent for a reader, so QEMU's lock
    # refuses a second opener unless it says -U
    "$img_tool" create -f qcow2 -o $geo "$tmp/v.qcow2" > /dev/null
    start_vm "$tmp/v.qcow2" qcow2
    expect "info on a qcow2 image a running VM holds: refused by the lock" 1 \
        "lock" "$img_tool" info "$tmp/v.qcow2"
    expect "... with the hint to use -U" 1 "force-share" \
        "$img_tool" info "$tmp/v.qcow2"
    "$img_tool" info -U --output=json "$tmp/v.qcow2" > "$tmp/v.json"
    check_json "info -U reads it (in use)" "$tmp/v.json" \
        "d['chunks']['total'] == 48 and not d['clean'] and d['driver'] == 'qcow2'"
    expect "check -U reads it" 0 "no errors" "$img_tool" check -U "$tmp/v.qcow2"
    expect "map -U draws it" 0 "SVG map" \
        "$img_tool" map -U --output=svg -O "$tmp/v.svg" "$tmp/v.qcow2"
    sum=$(cksum < "$tmp/v.qcow2")
    expect "age on it is refused by the lock" 1 "lock" \
        "$img_tool" age -a closed=0.5 "$tmp/v.qcow2"
    expect "check --repair on it is refused by the lock" 1 "lock" \
        "$img_tool" check --repair "$tmp/v.qcow2"
    same "... and the image is as the VM has it" "$tmp/v.qcow2" "$sum"
    stop_vm
    expect "closed by the VM: clean" 0 "state: clean" \
        "$img_tool" info "$tmp/v.qcow2"

    # raw: a reader needs no lock (no metadata), a writer is refused
    "$img_tool" create -o $geo "$tmp/v.img" > /dev/null
    start_vm "$tmp/v.img" raw
    expect "info on a raw image a running VM holds reads it" 0 \
        "state: in use" "$img_tool" info "$tmp/v.img"
    sum=$(cksum < "$tmp/v.img")
    expect "create --force on it is refused by the lock" 1 "lock" \
        "$img_tool" create --force -o $geo "$tmp/v.img"
    same "... and the image is as the VM has it" "$tmp/v.img" "$sum"
    stop_vm
fi

# --- NBD: an export served by qemu-nbd --------------------------------------
# start_nbd NAME FILE [qemu-nbd options]: serve FILE on $tmp/NAME.sock
start_nbd() {
    name=$1 file=$2
    shift 2
    "$obj/qemu-nbd" --persistent --socket="$tmp/$name.sock" -f raw "$@" \
        "$file" > "$tmp/$name.log" 2>&1 &
    echo $! > "$tmp/$name.pid"
    i=0
    while [ ! -S "$tmp/$name.sock" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}
stop_nbd() {
    kill "$(cat "$tmp/$1.pid")"
    wait "$(cat "$tmp/$1.pid")" 2>/dev/null
}
if [ -x "$obj/qemu-nbd" ]; then
    truncate -s 64M "$tmp/n.img"
    start_nbd n "$tmp/n.img"
    url="nbd+unix:///?socket=$tmp/n.sock"
    expect "create on an NBD export (zeroes: empty)" 0 "(raw)" \
        "$img_tool" create -f raw -o $geo "$url"
    "$img_tool" info --output=json -f raw "$url" > "$tmp/n.json"
    check_json "info over NBD" "$tmp/n.json" \
        "d['filename'].startswith('nbd+unix://') and d['chunks']['total'] == 48 and d['virtual-size'] == 64 << 20"
    expect "age over NBD" 0 "aged (seed 11)" \
        "$img_tool" age -f raw -a $aging,seed=11 "$url"
    expect "check over NBD" 0 "no errors" "$img_tool" check -f raw "$url"
    expect "map over NBD needs -O" 1 "give one with -O" \
        "$img_tool" map --output=svg -f raw "$url"
    expect "map over NBD" 0 "SVG map written" \
        "$img_tool" map --output=svg -O "$tmp/n.svg" -f raw "$url"
    expect "-U refused for writing" 1 "for reading only" \
        "$img_tool" create -U --force -o $geo "$tmp/n.img"
    stop_nbd n
    "$img_tool" info --output=json "$tmp/n.img" > "$tmp/n2.json"
    check_json "the file behind the export holds the aged image" "$tmp/n2.json" \
        "d['chunks']['offline'] == 5 and d['driver'] == 'raw'"

    # a read-only export: nothing can be written, nothing changes
    sum=$(cksum < "$tmp/n.img")
    start_nbd ro "$tmp/n.img" --read-only
    url="nbd+unix:///?socket=$tmp/ro.sock"
    expect "info over a read-only export" 0 "chunks: 48 total" \
        "$img_tool" info -f raw "$url"
    expect "age on a read-only export refused" 1 "read-only\|read only\|Permission" \
        "$img_tool" age -f raw -a closed=0.5 "$url"
    expect "create on a read-only export refused" 1 "read-only\|read only\|Permission" \
        "$img_tool" create --force -f raw -o $geo "$url"
    stop_nbd ro
    same "a read-only export leaves the image as it was" "$tmp/n.img" "$sum"

    # an export too small for the geometry
    truncate -s 100K "$tmp/s.img"
    start_nbd s "$tmp/s.img"
    expect "an export too small is refused, with the size it needs" 1 \
        "cannot hold the geometry's" \
        "$img_tool" create -f raw -o $geo "nbd+unix:///?socket=$tmp/s.sock"
    stop_nbd s
    [ "$(cksum < "$tmp/s.img")" = "$(head -c 102400 /dev/zero | cksum)" ] &&
        ok "... and left as it was" || not_ok "... and left as it was"
else
    echo "# qemu-nbd not built: NBD cases skipped"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
