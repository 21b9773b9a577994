#!/bin/sh
# Tests of the benchmark harness's parsing and report code (TAP), on
# recorded inputs, without QEMU: tests/tools/bench-data/raw is the raw/
# directory of a real scripts/bench run (3 rounds of nvme, nvme-aa and
# ocssd with 1-second jobs, the scale curve to 16 k chunks; consoles cut
# down to the lines and fio JSON fields the analysis reads, see
# tests/tools/bench-data/README) plus a bench-timing result.  Every number
# checked is recomputed here from the raw files, not copied from a run:
# the checks are about the arithmetic and the formats, never about
# whether a device is fast.
#
#   sh tests/tools/bench-test.sh [QEMU_BUILD_DIR]   (the argument is not used)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
data=$top/tests/tools/bench-data
bench="python3 $top/scripts/bench"
. "$(dirname "$0")/tap.sh"

if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 not found"
    exit 0
fi

# check NAME PYTHON-CODE ARGS...: the code (sys.argv[1:] = ARGS) prints
# "ok" when right, or what is wrong.  H (helpers) is defined for it.
helpers='
import json, os, statistics, sys
def console(path):
    """fio JSON blocks and vbench lines of a recorded console."""
    lines = open(path).read().replace("\r", "").split("\n")
    out, i = {}, 0
    while i < len(lines):
        if lines[i].startswith("BENCH-FIO-BEGIN "):
            name, body = lines[i].split()[1], []
            i += 1
            while lines[i] != "BENCH-FIO-END " + name:
                body.append(lines[i])
                i += 1
            j = json.loads("\n".join(body))["jobs"][0]
            d = j["write"] if j["write"]["total_ios"] else j["read"]
            out[name] = (d["iops"], d["total_ios"])
        elif lines[i].startswith("BENCH-V "):
            f = lines[i].split()
            kv = dict(x.split("=") for x in f[2:])
            out[f[1]] = (int(kv["cmds"]) / (int(kv["ns"]) / 1e9), int(kv["cmds"]))
        i += 1
    return out
def marks(path):
    m = {}
    for line in open(path):
        r = json.loads(line)
        w, _, l = r["mark"].partition(" ")
        m.setdefault(l, {})[w] = r
    return m
def raw_values(raw, job, cfg, key):
    """Per round: IOPS (key "iops") or main-loop CPU us per I/O ("main")."""
    out = []
    for r in (1, 2, 3):
        p = os.path.join(raw, "round%d-%s" % (r, cfg))
        c = console(p + ".console")
        if job not in c:
            out.append(None)
            continue
        if key == "iops":
            out.append(c[job][0])
        else:
            mk = marks(p + ".marks.jsonl").get(job, {})
            if "begin" in mk and "end" in mk:
                out.append((mk["end"]["main_ns"] - mk["begin"]["main_ns"]) / c[job][1] / 1e3)
            else:
                out.append(None)
    return out
def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None
def close(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1, abs(b))
'
check() {
    name=$1 code=$2
    shift 2
    python3 -c "$helpers
$code" "$@" > "$tmp/out" 2>&1
    if [ "$(cat "$tmp/out")" = ok ]; then
        ok "$name"
    else
        not_ok "$name"
    fi
}

mkdir -p "$tmp/run"
cp -r "$data/raw" "$tmp/run/raw"
run=$tmp/run

expect "--analyze of the recorded run exits 0 and prints the IOPS table" 0 \
    "^IOPS (median of the rounds)" $bench --analyze "$run"
expect "the report has a row per fio and 64-LBA job" 0 "^  pt-randread-qd32 " \
    cat "$run/report.txt"
for f in results.json results.csv report.txt bench.gp plot-ratio.dat \
         plot-cpu_main_us.dat plot-scale.dat; do
    if [ -s "$run/$f" ]; then ok "$f written"; else not_ok "$f written"; fi
done

check "results.json: version 1, 9 boots, the 10 jobs, vector jobs only on ocssd" '
r = json.load(open(sys.argv[1]))
jobs = ["seq-write", "pt-seq-write", "randread-qd1", "randread-qd32",
        "pt-randread-qd1", "pt-randread-qd32", "std64-write", "vec64-write",
        "std64-read", "vec64-read"]
bad = []
if r["version"] != 1: bad.append("version")
if len(r["boots"]) != 9: bad.append("boots %d" % len(r["boots"]))
if sorted(r["compare"]) != sorted(jobs): bad.append(sorted(r["compare"]))
m = r["compare"]["vec64-read"]["iops"]["median"]
if m["nvme"] is not None or m["nvme-aa"] is not None or m["ocssd"] is None:
    bad.append(m)
if r["failures"]: bad.append(r["failures"])
print(" ".join(map(str, bad)) or "ok")' "$run/results.json"

check "IOPS medians of every job and device equal the recorded fio/vbench numbers" '
r = json.load(open(sys.argv[1]))
bad = []
for job, c in r["compare"].items():
    for cfg in ("nvme", "nvme-aa", "ocssd"):
        want = med(raw_values(sys.argv[2], job, cfg, "iops"))
        got = c["iops"]["median"][cfg]
        if not (want is None and got is None) and not close(got, want):
            bad.append("%s/%s %s != %s" % (job, cfg, got, want))
print(" ".join(bad) or "ok")' "$run/results.json" "$run/raw"

check "ratio = median ocssd / median nvme; A/A band = max |nvme-aa/nvme - 1| of a round" '
r = json.load(open(sys.argv[1]))
bad = []
for job in ("seq-write", "randread-qd1", "pt-randread-qd32", "std64-read"):
    n = raw_values(sys.argv[2], job, "nvme", "iops")
    a = raw_values(sys.argv[2], job, "nvme-aa", "iops")
    o = raw_values(sys.argv[2], job, "ocssd", "iops")
    c = r["compare"][job]["iops"]
    band = max(abs(x / y - 1) for x, y in zip(a, n))
    if not close(c["ratio"], med(o) / med(n)): bad.append(job + " ratio")
    if not close(c["aa_ratio"], med(a) / med(n)): bad.append(job + " aa")
    if not close(c["aa_band"], band): bad.append(job + " band")
    want = ("within A/A noise" if abs(c["ratio"] - 1) <= band else
            "better" if c["ratio"] > 1 else "worse")
    if c["reading"] != want: bad.append("%s %s" % (job, c["reading"]))
print(" ".join(bad) or "ok")' "$run/results.json" "$run/raw"

check "main-loop CPU per I/O = delta main-thread schedstat between the markers / I/Os" '
r = json.load(open(sys.argv[1]))
bad = []
for job in ("randread-qd1", "pt-seq-write", "vec64-write"):
    for cfg in ("nvme", "ocssd"):
        want = med(raw_values(sys.argv[2], job, cfg, "main"))
        got = r["compare"][job]["cpu_main_us"]["median"][cfg]
        if not (want is None and got is None) and not close(got, want):
            bad.append("%s/%s %s != %s" % (job, cfg, got, want))
c = r["compare"]["randread-qd1"]["cpu_main_us"]
if c["reading"] not in ("within A/A noise", "better", "worse"): bad.append(c["reading"])
print(" ".join(bad) or "ok")' "$run/results.json" "$run/raw"

check "process CPU = main + vCPU + other, all per I/O" '
r = json.load(open(sys.argv[1]))
bad = []
for b in r["boots"]:
    for job, m in b["jobs"].items():
        s = m["cpu_main_us"] + m["cpu_vcpu_us"] + m["cpu_other_us"]
        if m["cpu_other_us"] > 0 and abs(s - m["cpu_proc_us"]) > 1e-6 * m["cpu_proc_us"]:
            bad.append("%s/%d/%s" % (b["config"], b["round"], job))
print(" ".join(bad) or "ok")' "$run/results.json"

check "vector summary: vec/std ratio per round, medians of ocssd and nvme" '
r = json.load(open(sys.argv[1]))
v = r["vector"]["read"]["iops"]
std = raw_values(sys.argv[2], "std64-read", "ocssd", "iops")
vec = raw_values(sys.argv[2], "vec64-read", "ocssd", "iops")
rr = [x / y for x, y in zip(vec, std)]
ok = (close(v["std"], med(std)) and close(v["vec"], med(vec)) and
      all(close(a, b) for a, b in zip(v["ratio_rounds"], rr)) and close(v["ratio"], med(rr))
      and close(v["nvme_std"], med(raw_values(sys.argv[2], "std64-read", "nvme", "iops"))))
print("ok" if ok else v)' "$run/results.json" "$run/raw"

check "scale: realize and RSS above the empty QEMU (medians), the chunk-log read" '
r = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
e = s["empty_qemu"]
bad = []
for p, q in zip(s["points"], r["scale"]["points"]):
    for kind in ("format", "reopen"):
        t = statistics.median(p[kind + "_start_s"]) - statistics.median(e["start_s"])
        m = (statistics.median(x["vmrss_kb"] for x in p[kind + "_mem"]) -
             statistics.median(e["rss_kb"])) / 1024
        if not close(q[kind + "_realize_s"], t): bad.append("%d %s time" % (p["chunks"], kind))
        if not close(q[kind + "_rss_mb"], m): bad.append("%d %s rss" % (p["chunks"], kind))
    for k in ("create_s", "info_s", "check_s"):
        if q[k] != p[k]: bad.append(k)
cl = r["scale"]["points"][-1]["chunklog"]
if (cl["chunks"], cl["bytes"], cl["free"], cl["errors"]) != (16384, 524288, 16384, 0):
    bad.append(cl)
print(" ".join(map(str, bad)) or "ok")' "$run/results.json" "$run/raw/scale.json"

check "CSV: one value a row; medians and ratios as in results.json" '
import csv
r = json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2])))
bad = []
if rows[0] != ["section", "job", "config", "round", "metric", "value"]: bad.append(rows[0])
idx = {(x[0], x[1], x[2], x[3], x[4]): x[5] for x in rows[1:]}
c = r["compare"]["randread-qd32"]["iops"]
for key, want in ((("compare", "randread-qd32", "ocssd", "median", "iops"), c["median"]["ocssd"]),
                  (("compare", "randread-qd32", "ocssd/nvme", "median", "iops"), c["ratio"]),
                  (("compare", "randread-qd32", "aa-band", "", "iops"), c["aa_band"]),
                  (("compare", "randread-qd32", "nvme", "2", "iops"), c["rounds"]["nvme"][1])):
    if abs(float(idx[key]) - want) > 1e-5 * want: bad.append(key)
if ("scale", "16384", "ocssd", "", "reopen_realize_s") not in idx: bad.append("scale")
if any(len(x) != 6 for x in rows): bad.append("width")
print(" ".join(map(str, bad)) or "ok")' "$run/results.json" "$run/results.csv"

expect "the report has the scale curve" 0 "^ *16384 " cat "$run/report.txt"
expect "the report has the guest chunk-log read" 0 \
    "chunk log (CAh) of 16384 chunks read by the guest: 524288 bytes in 1 commands" \
    cat "$run/report.txt"
expect "the report has bench-timing's table" 0 \
    "^  1. QD1 random 4 KiB read on one PU" cat "$run/report.txt"
expect "the report states the load" 0 "load (1/5/15 min) at start \[1.52" \
    cat "$run/report.txt"
expect "the report has the targets line per job" 0 \
    "^  randread-qd1 *IOPS [0-9.]*x, " cat "$run/report.txt"

check "the timing numbers are in results.json" '
r = json.load(open(sys.argv[1]))
t = r["timing"]
got = (t["qd1_read_latency_us"]["off"], t["qd1_read_latency_us"]["on"],
       t["qd1_read_latency_us"]["model"], [p["on_iops"] for p in t["pu_read_iops"]["points"]],
       t["pu_read_iops"]["points"][3]["model_iops"], t["reset_us"]["model"])
print("ok" if got == (123.3, 217.2, 105.1, [498, 989, 1948, 2417], 2432, 20000) else got)' \
    "$run/results.json"
expect "bench-timing --report: the table from recorded lines" 0 \
    "^       8       6934       2417                   2432$" \
    sh "$top/scripts/bench-timing" --report "$data/timing.results" --json "$tmp/t.json"
check "bench-timing --json is JSON with the three parts" '
t = json.load(open(sys.argv[1]))
print("ok" if sorted(t) == ["pu_read_iops", "qd1_read_latency_us", "reset_us"] and
      t["reset_us"] == {"off": 31500, "on": 45750, "model": 20000} else t)' "$tmp/t.json"

# The picture: the gnuplot script always; the SVG and PNG with gnuplot.
expect "bench.gp draws the four panels" 0 "scale: realize time and RSS" cat "$run/bench.gp"
if command -v gnuplot > /dev/null; then
    check "bench.svg is SVG with the panels' titles, bench.png a PNG" '
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
png = open(sys.argv[2], "rb").read(8)
want = ["IOPS relative to nvme", "main-loop thread", "whole QEMU process", "scale:"]
miss = [w for w in want if w not in text]
print("ok" if not miss and png == b"\x89PNG\r\n\x1a\n" else (miss, png))' \
        "$run/bench.svg" "$run/bench.png"
else
    ok "# SKIP gnuplot not installed: no picture to check"
fi

# A job that did not run, a job without its end marker.
cp -r "$data/raw" "$tmp/bad"
mkdir -p "$tmp/badrun" && mv "$tmp/bad" "$tmp/badrun/raw"
python3 - "$tmp/badrun/raw" <<'EOF'
import os, sys
raw = sys.argv[1]
p = os.path.join(raw, "round2-ocssd.console")
t = open(p).read()
a = t.index("BENCH-FIO-BEGIN randread-qd1")
b = t.index("BENCH-FIO-END randread-qd1") + len("BENCH-FIO-END randread-qd1\r\n")
open(p, "w").write(t[:a] + "not ok - fio randread-qd1\r\n" + t[b:])
p = os.path.join(raw, "round3-nvme.marks.jsonl")
lines = [l for l in open(p) if '"end randread-qd32"' not in l]
open(p, "w").write("".join(lines))
EOF
expect "a failed job: --analyze still exits 0 and lists it" 0 \
    "ocssd round 2: randread-qd1 did not run" $bench --analyze "$tmp/badrun"
check "the failed round is left out of the median; a missing marker leaves only CPU out" '
r = json.load(open(sys.argv[1]))
c = r["compare"]["randread-qd1"]["iops"]
o = [x for x in raw_values(sys.argv[2], "randread-qd1", "ocssd", "iops") if x is not None]
q = r["compare"]["randread-qd32"]
ok = (c["rounds"]["ocssd"][1] is None and len(o) == 2 and close(c["median"]["ocssd"], med(o))
      and q["cpu_main_us"]["rounds"]["nvme"][2] is None and q["iops"]["rounds"]["nvme"][2] is not None
      and "ocssd round 2: not ok - fio randread-qd1" in r["failures"])
print("ok" if ok else (c["rounds"], r["failures"]))' \
    "$tmp/badrun/results.json" "$tmp/badrun/raw"

expect "--compare of a run with itself: every new/old is 1.00" 0 \
    "^  randread-qd1 *ocssd *iops *[0-9]* *[0-9]* *1.00$" \
    $bench --compare "$run/results.json" "$run/results.json"
expect "--analyze of a directory that is no run fails clearly" 1 \
    "is not a benchmark run" $bench --analyze "$tmp/nowhere"
expect "--qemu missing: usage error, nothing runs" 1 "is not executable" \
    $bench --qemu "$tmp/nonexistent" --out "$tmp/none"

echo "1..$n"
[ "$fails" -eq 0 ]
