# Cut a scripts/bench run's raw/ down to what --analyze reads (the fio JSON
# fields, BENCH- and TAP lines, markers without the per-thread sums), for
# tests/tools/bench-test.sh:  python3 trim.py RUN/raw tests/tools/bench-data/raw
import json, os, sys, shutil
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
def trim_fio(body):
    d = json.loads(body[body.find("{"):])
    out = {"fio version": d["fio version"], "jobs": []}
    for j in d["jobs"]:
        t = {"jobname": j["jobname"], "error": j["error"]}
        for k in ("read", "write"):
            s = j[k]
            pct = s["lat_ns"].get("percentile", {})
            t[k] = {"iops": s["iops"], "bw_bytes": s["bw_bytes"], "total_ios": s["total_ios"],
                    "runtime": s["runtime"],
                    "lat_ns": {"mean": s["lat_ns"]["mean"], "percentile": {x: pct[x] for x in ("50.000000", "99.000000") if x in pct}}}
        out["jobs"].append(t)
    return json.dumps(out, indent=1)
for f in sorted(os.listdir(src)):
    p = os.path.join(src, f)
    if f.endswith(".console"):
        lines = open(p, errors="replace").read().replace("\r", "").split("\n")
        out, i = [], 0
        while i < len(lines):
            l = lines[i]
            if l.startswith("BENCH-FIO-BEGIN "):
                name = l.split()[1]; body = []; i += 1
                while lines[i] != "BENCH-FIO-END " + name:
                    body.append(lines[i]); i += 1
                out.append(l); out.append(trim_fio("\n".join(body))); out.append(lines[i])
            elif l.startswith(("BENCH-", "ok - ", "not ok - ", "guest:", "OCSSD-GUEST-EXIT")):
                out.append(l)
            i += 1
        open(os.path.join(dst, f), "w").write("\r\n".join(out) + "\r\n")
    elif f.endswith(".marks.jsonl"):
        with open(os.path.join(dst, f), "w") as o:
            for l in open(p):
                m = json.loads(l); m.pop("threads", None); o.write(json.dumps(m) + "\n")
    elif f.endswith(".json"):
        d = json.load(open(p))
        if f == "boots.json":
            for b in d: b["stderr"] = ""
        json.dump(d, open(os.path.join(dst, f), "w"), indent=1)
