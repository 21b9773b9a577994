#!/bin/sh
# Tests of scripts/ocssd-stats (TAP), without QEMU: synthetic pu-stats
# samples replayed from a file (2 groups x 4 PUs, 20 samples 50 ms of
# virtual time apart, g0/pu1 busy 50%, g1/pu2 busy 100%, the others idle,
# one counter reset in the middle), and a fake QMP server for the live
# path (handshake, events, device discovery, QEMU exiting).  Needs python3.
#
#   sh tests/tools/ocssd-stats-test.sh [QEMU_BUILD_DIR]   (the argument
#                                                        is not used)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
stats="python3 $top/scripts/ocssd-stats"
. "$(dirname "$0")/tap.sh"

if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 not found"
    exit 0
fi

# gen FILE [paused] [timing-off]: write synthetic samples.
gen() {
    python3 - "$@" <<'EOF'
import json, sys
out, opts = sys.argv[1], sys.argv[2:]
G, P, STEP = 2, 4, 50_000_000            # 50 ms of virtual time per sample
share = {(0, 1): 0.5, (1, 2): 1.0}       # busy fraction per PU
if "timing-off" in opts:
    share[(0, 0)] = 2.5                  # demand beyond 100%
t0, since = 1_000_000_000, 0
busy = {(g, p): 0 for g in range(G) for p in range(P)}
with open(out, "w") as f:
    for i in range(20):
        t = t0 + i * STEP
        if i == 10:                      # reset 20 ms before sample 10
            since = t - 20_000_000
            for k in busy:
                busy[k] = int(share.get(k, 0) * 20_000_000)
        elif i > 0:
            for k in busy:
                busy[k] += int(share.get(k, 0) * STEP)
        pus = [{"grp": g, "pu": p,
                "reads": busy[(g, p)] // 100_000, "programs": busy[(g, p)] // 1_000_000,
                "resets": 0, "sectors-read": busy[(g, p)] // 25_000,
                "sectors-written": busy[(g, p)] // 250_000,
                "busy-ns": busy[(g, p)], "max-queue": 3 if (g, p) in share else 0}
               for g in range(G) for p in range(P)]
        groups = [{"grp": g, "bus-busy-ns": sum(busy[(g, p)] for p in range(P)) // 4,
                   "bus-sectors": sum(busy[(g, p)] for p in range(P)) // 25_000}
                  for g in range(G)]
        s = {"time-ns": t, "since-ns": since, "timing": "timing-off" not in opts,
             "num-grp": G, "num-pu": P, "groups": groups, "pus": pus}
        f.write(json.dumps(s) + "\n")
        if "paused" in opts and i in (5, 15):
            f.write(json.dumps(s) + "\n")   # VM paused: same virtual time
EOF
}

# check NAME PYTHON-CODE FILE...: the code (reading sys.argv[1:]) prints
# "ok" when the files are right, or what is wrong.
check() {
    name=$1 code=$2
    shift 2
    python3 -c "$code" "$@" > "$tmp/out" 2>&1
    if [ "$(cat "$tmp/out")" = ok ]; then
        ok "$name"
    else
        not_ok "$name"
    fi
}

gen "$tmp/s.jsonl"
gen "$tmp/paused.jsonl" paused
gen "$tmp/off.jsonl" timing-off

expect "replay writes a summary, SVG and PNG" 0 "" \
    $stats --replay "$tmp/s.jsonl" --device oc0 --json \
    --summary "$tmp/s.json" --svg "$tmp/s.svg" --png "$tmp/s.png"

check "mean utilizations: g0/pu1 50%, g1/pu2 100%, the others 0%" '
import json, sys
sm = json.load(open(sys.argv[1]))
want = {"g0/pu1": 0.5, "g1/pu2": 1.0}
bad = ["%s %.4f" % (r["name"], r["utilization"]) for r in sm["pus"]
       if abs(r["utilization"] - want.get(r["name"], 0.0)) > 0.001]
print(" ".join(bad) if bad or len(sm["pus"]) != 8 else "ok")' "$tmp/s.json"

check "18 intervals used, the reset dropped one, 0.9 s of virtual time" '
import json, sys
sm = json.load(open(sys.argv[1]))
got = (sm["samples"], sm["intervals"], sm["counter-resets"],
       sm["paused-intervals-skipped"], sm["virtual-ns"], sm["timing"])
print("ok" if got == (20, 18, 1, 0, 900000000, True) else got)' "$tmp/s.json"

check "busy time and operations are counted across the reset" '
import json, sys
sm = json.load(open(sys.argv[1]))
r = {x["name"]: x for x in sm["pus"]}
got = (r["g1/pu2"]["busy-ns"], r["g0/pu1"]["busy-ns"], r["g1/pu2"]["reads"],
       r["g1/pu2"]["max-queue"], r["g0/pu0"]["max-queue"],
       sm["totals"]["busy-ns"], round(sm["totals"]["utilization"], 4))
print("ok" if got == (900000000, 450000000, 9000, 3, 0, 1350000000, 0.1875)
      else got)' "$tmp/s.json"

check "group bus utilization" '
import json, sys
sm = json.load(open(sys.argv[1]))
got = [round(g["bus-utilization"], 4) for g in sm["groups"]]
print("ok" if got == [0.125, 0.25] else got)' "$tmp/s.json"

check "verdict: busiest g1/pu2 at 100%, idlest g0/pu0 at 0%, 2 of 8 used" '
import json, sys
v = json.load(open(sys.argv[1]))["verdict"]
want = "busiest PU g1/pu2 at 100%, idlest g0/pu0 at 0%; 2 of 8 PUs used >5%"
print("ok" if (v["busiest"], v["idlest"], v["used"], v["of"], v["text"]) ==
      ("g1/pu2", "g0/pu0", 2, 8, want) else v)' "$tmp/s.json"

expect "the text summary has the verdict line" 0 \
    "^busiest PU g1/pu2 at 100%, idlest g0/pu0 at 0%; 2 of 8 PUs used >5%$" \
    $stats --replay "$tmp/s.jsonl"
expect "the text summary has a row per PU" 0 \
    "^g0/pu1  *4500  *450  *0  *18000  *1800  *450.000  *50.0%  *50.0%  *3$" \
    $stats --replay "$tmp/s.jsonl"

check "the PNG has the signature, an IHDR and IDAT of width*height*3+height bytes" '
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "signature"
pos, chunks = 8, {}
while pos < len(d):
    n, = struct.unpack(">I", d[pos:pos + 4])
    kind, body = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", d[pos + 8 + n:pos + 12 + n])
    assert crc == zlib.crc32(kind + body) & 0xffffffff, "CRC of %r" % kind
    chunks[kind] = chunks.get(kind, b"") + body
    pos += 12 + n
w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
raw = zlib.decompress(chunks[b"IDAT"])
assert (depth, ctype) == (8, 2), "not 8-bit RGB"
assert w >= 19 * 8 and h >= 8 * 12, "too small: %dx%d" % (w, h)
assert w <= 4000 and h <= 2000, "too large: %dx%d" % (w, h)
assert len(raw) == w * h * 3 + h, "IDAT %d bytes for %dx%d" % (len(raw), w, h)
assert b"IEND" in chunks
rows = [raw[y * (3 * w + 1) + 1:(y + 1) * (3 * w + 1)] for y in range(h)]
assert all(raw[y * (3 * w + 1)] == 0 for y in range(h)), "filter bytes"
full, idle = bytes((253, 231, 37)) * 8, bytes((68, 1, 84)) * 8
# 12 px rows per PU: 12 rows of g1/pu2 fully busy, 12 x 6 idle PUs
nfull = sum(1 for r in rows if r.count(full) >= 18)
nidle = sum(1 for r in rows if r.count(idle) >= 18)
assert nfull == 12 and nidle == 72, "full rows %d, idle rows %d" % (nfull, nidle)
print("ok")' "$tmp/s.png"

check "the SVG is XML with one label per PU and a cell per PU and interval" '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
labels = [t.text for t in root.iter(ns + "text") if t.get("class") == "pu-label"]
want = ["g%d/pu%d" % (g, p) for g in range(2) for p in range(4)]
cells = [r for r in root.iter(ns + "rect") if r.find(ns + "title") is not None]
texts = " ".join(t.text or "" for t in root.iter(ns + "text"))
assert labels == want, labels
assert len(cells) == 8 * 19, len(cells)          # 18 intervals + the reset
assert "oc0" in texts and "timing on" in texts, texts
assert "virtual time (s)" in texts, texts
print("ok")' "$tmp/s.svg"

expect "a paused interval (no virtual time) does not crash" 0 "" \
    $stats --replay "$tmp/paused.jsonl" --json --summary "$tmp/p.json" \
    --svg "$tmp/p.svg" --png "$tmp/p.png"
check "paused intervals are skipped, utilizations unchanged" '
import json, sys
sm = json.load(open(sys.argv[1]))
u = {r["name"]: round(r["utilization"], 4) for r in sm["pus"]}
got = (sm["paused-intervals-skipped"], sm["intervals"], u["g0/pu1"], u["g1/pu2"])
print("ok" if got == (2, 18, 0.5, 1.0) else got)' "$tmp/p.json"

expect "timing off: the raw demand above 100% is reported" 0 \
    "^g0/pu0 .* 250.0%  *250.0%" \
    $stats --replay "$tmp/off.jsonl" --svg "$tmp/o.svg" --png "$tmp/o.png"
expect "timing off: the summary says so" 0 "timing off: utilization measures demand" \
    $stats --replay "$tmp/off.jsonl"
expect "timing off: the legend says colours clamp at 100%" 0 \
    "values above 100% are drawn as 100%" cat "$tmp/o.svg"

expect "--max-columns merges intervals" 0 "" \
    $stats --replay "$tmp/s.jsonl" --max-columns 5 --svg "$tmp/m.svg"
check "5 columns of 4 intervals each" '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
cells = [r for r in root.iter(ns + "rect") if r.find(ns + "title") is not None]
print("ok" if len(cells) == 8 * 5 else len(cells))' "$tmp/m.svg"

expect "--record of a replay writes the samples again" 0 "" \
    $stats --replay "$tmp/s.jsonl" --record "$tmp/r.jsonl" --summary "$tmp/r.txt"
expect "the recorded file replays to the same verdict" 0 \
    "busiest PU g1/pu2 at 100%" $stats --replay "$tmp/r.jsonl"

# errors
expect "a bad --qmp path fails with a clear message" 1 \
    "cannot connect to QMP at $tmp/nonexistent.sock" \
    $stats --qmp "$tmp/nonexistent.sock" --samples 2
expect "a refused tcp --qmp fails with a clear message" 1 \
    "cannot connect to QMP at 127.0.0.1:1 (tcp socket)" \
    $stats --qmp 127.0.0.1:1 --samples 2
echo '{"time-ns": 1}' > "$tmp/bad.jsonl"
expect "a malformed replay file names the line" 1 "bad.jsonl:1: missing" \
    $stats --replay "$tmp/bad.jsonl"
head -n 1 "$tmp/s.jsonl" > "$tmp/one.jsonl"
expect "one sample is not enough" 1 "at least 2 are needed" \
    $stats --replay "$tmp/one.jsonl"
expect "no source is a usage error" 2 "required" $stats --svg "$tmp/x.svg"

# the live path against a fake QMP server: greeting, capabilities, an
# event before each reply, discovery of the one ocssd device among
# others, the reset, then QEMU "exits" after the 6th sample
cat > "$tmp/fakeqmp.py" <<'EOF'
import json, os, socket, subprocess, sys
sock_path, script, out = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [json.loads(l) for l in open(sys.argv[4])]
srv = socket.socket(socket.AF_UNIX)
srv.bind(sock_path)
srv.listen(1)
proc = subprocess.Popen([sys.executable, script, "--qmp", sock_path,
                         "--interval", "0.001", "--reset", "--json",
                         "--summary", out, "--record", out + ".jsonl"])
conn, _ = srv.accept()
f = conn.makefile("rwb")
def send(o):
    f.write(json.dumps(o).encode() + b"\r\n"); f.flush()
send({"QMP": {"version": {}, "capabilities": []}})
log, gets = [], 0
for line in f:
    cmd = json.loads(line)
    log.append(cmd["execute"])
    send({"event": "RTC_CHANGE", "data": {}, "timestamp": {}})
    a = cmd.get("arguments", {})
    if cmd["execute"] == "qom-list":
        r = {"/machine/peripheral": [{"name": "nic0", "type": "child<e1000>"},
                                     {"name": "oc1", "type": "child<ocssd>"},
                                     {"name": "type", "type": "string"}],
             "/machine/peripheral-anon": [{"name": "device[0]",
                                           "type": "child<virtio-rng>"}]}[a["path"]]
    elif cmd["execute"] == "qom-set":
        assert (a["path"], a["property"], a["value"]) == \
            ("/machine/peripheral/oc1", "pu-stats-reset", True), a
        r = {}
    elif cmd["execute"] == "qom-get":
        assert (a["path"], a["property"]) == ("/machine/peripheral/oc1", "pu-stats"), a
        r = lines[gets]
        gets += 1
    else:
        r = {}
    send({"return": r, "id": cmd.get("id")})
    if gets == 6:
        break
f.close()
conn.close()
rc = proc.wait(timeout=60)
print("exit %d: %s" % (rc, " ".join(log)))
EOF
expect "live: the script stops when QEMU exits and writes its outputs" 0 \
    "exit 0: qmp_capabilities qom-list qom-list qom-set qom-get qom-get qom-get qom-get qom-get qom-get$" \
    python3 "$tmp/fakeqmp.py" "$tmp/q.sock" "$top/scripts/ocssd-stats" \
    "$tmp/live.json" "$tmp/s.jsonl"
check "live: 6 samples summarized for the discovered device oc1" '
import json, sys
sm = json.load(open(sys.argv[1]))
u = {r["name"]: round(r["utilization"], 4) for r in sm["pus"]}
n = sum(1 for _ in open(sys.argv[1] + ".jsonl"))
got = (sm["device"], sm["samples"], n, u["g0/pu1"], u["g1/pu2"])
print("ok" if got == ("oc1", 6, 6, 0.5, 1.0) else got)' "$tmp/live.json"

# The real device, when run-tests gives a build: a QEMU with no guest to
# boot (its firmware idles, its virtual clock runs) answers the script's
# discovery and pu-stats reads in the format the device has.
qemu=${1:-}/qemu-system-x86_64
if [ -n "${1:-}" ] && [ -x "$qemu" ]; then
    : > "$tmp/real.img"
    "$qemu" -M q35 -display none -nodefaults \
        -qmp "unix:$tmp/real.sock,server=on,wait=off" \
        -drive "if=none,id=d0,file=$tmp/real.img,format=raw" \
        -device ocssd,id=oc7,drive=d0,num_grp=2,num_pu=3,num_chk=4,clba=64 \
        2> "$tmp/real.err" &
    qpid=$!
    i=0
    while [ ! -S "$tmp/real.sock" ] && [ $i -lt 600 ]; do
        sleep 0.05     # QEMU creating its socket: start-up, not a result
        i=$((i + 1))
    done
    expect "real device: discovered, 3 samples of 6 idle PUs, timing off" 0 \
        "oc7 3 6 False 0.0" python3 -c '
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "--qmp", sys.argv[2], "--samples", "3",
                      "--interval", "0.05", "--json", "--reset"],
                     capture_output=True, text=True, check=True).stdout
sm = json.loads(out)
print(sm["device"], sm["samples"], len(sm["pus"]), sm["timing"],
      max(p["utilization"] for p in sm["pus"]))' \
        "$top/scripts/ocssd-stats" "$tmp/real.sock"
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null || true
fi

echo "1..$n"
[ "$fails" -eq 0 ]
