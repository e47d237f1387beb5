#!/usr/bin/env python3
"""Feeds a generated fleet (generate.py) through the job-events API into a
real `backspan serve`, then scores what its insight API answers against the
generator's labels, which the server never sees. Prints one table.

usage: score.py BACKSPAN_BIN DATA_DIR [--keep]
DATA_DIR holds events.jsonl and labels.json.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

KINDS = ["duration", "throughput", "change", "failures", "phase"]
DAY = 86400


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Serve:
    def __init__(self, binary, data):
        self.proc = subprocess.Popen([binary, "--json", "serve", "--listen", "127.0.0.1:0", "--data", data,
                                      "--max-body", "4MiB"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("serve did not start: " + self.proc.stderr.read().decode(errors="replace"))
        self.url = json.loads(line)["url"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Content-Type": "application/x-ndjson"} if body else {})
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read())

    def get(self, path, **params):
        return self.call("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))


def post_all(serve, path, limit=1000 * 1000):
    batch, size, rejected = [], 0, 0

    def flush():
        nonlocal batch, size, rejected
        if batch:
            out = serve.call("POST", "/api/v1/ingest/events", b"".join(batch))
            rejected += out.get("rejected", 0)
        batch, size = [], 0

    with open(path, "rb") as f:
        for line in f:
            if size + len(line) > limit:
                flush()
            batch.append(line)
            size += len(line)
    flush()
    return rejected


def settle(serve, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = serve.get("/api/v1/anomalies", limit=1)["insight"]
        if st["loaded"] and st["pending"] == 0:
            return st
        time.sleep(0.2)
    sys.exit("insight did not settle")


def score_anomalies(found, labels):
    by_job = {}
    for i, label in enumerate(labels["anomalies"]):
        for job in label["job_ids"]:
            by_job.setdefault((label["host"], job), []).append(i)
    hit = set()
    tp = {k: 0 for k in KINDS}
    fp = {k: 0 for k in KINDS}
    unlabeled = 0
    wrong_kind = []
    for a in found:
        matches = by_job.get((a["host"], a["job_id"]), [])
        same = [i for i in matches if labels["anomalies"][i]["kind"] == a["kind"]]
        if same:
            tp[a["kind"]] += 1
            hit.update(same)
        else:
            fp[a["kind"]] += 1
            if matches:
                wrong_kind.append((labels["anomalies"][matches[0]]["kind"], a["kind"]))
            else:
                unlabeled += 1
    n = {k: 0 for k in KINDS}
    found_labels = {k: 0 for k in KINDS}
    for i, label in enumerate(labels["anomalies"]):
        n[label["kind"]] += 1
        found_labels[label["kind"]] += i in hit
    labeled_jobs = sum(len(l["job_ids"]) for l in labels["anomalies"])
    return tp, fp, n, found_labels, unlabeled, labeled_jobs, wrong_kind


def explain(found, labels, count):
    """What the detector got wrong, to tune it by: false alarms and misses per kind."""
    labeled = {(l["host"], j): l["kind"] for l in labels["anomalies"] for j in l["job_ids"]}
    found_at = {(x["host"], x["job_id"]): x["kind"] for x in found}
    for k in KINDS:
        wrong = [x for x in found if x["kind"] == k and labeled.get((x["host"], x["job_id"])) != k]
        for x in wrong[:count]:
            print(f"false {k}: {x['host']} {x['time']} [{labeled.get((x['host'], x['job_id']), '-')}] {x['message']}",
                  file=sys.stderr)
        missed = [l for l in labels["anomalies"] if l["kind"] == k and
                  not any(found_at.get((l["host"], j)) == k for j in l["job_ids"])]
        for l in missed[:count]:
            print(f"missed {k}: {l['host']} {rfc3339(l['time'])} found as "
                  f"{[found_at.get((l['host'], j)) for j in l['job_ids'] if (l['host'], j) in found_at]}", file=sys.stderr)


def known_rates(labels):
    """Per source and run, P(fail) as the generator's own rates say: the
    source's rate outside its failure incidents; inside one, after its first
    run, the incident's rate (the first run of an incident nothing foretells)."""
    incidents = {}
    for l in labels["anomalies"]:
        if l["kind"] == "failures":
            incidents.setdefault(l["host"], []).append((l["time"], len(l["job_ids"]) - 2))
    out = {}
    for s in labels["sources"]:
        runs, outcomes = s["runs"], s["outcomes"]
        inside = [None] * len(runs)
        for t, length in incidents.get(s["host"], []):
            first = runs.index(t)
            rate = outcomes[first:first + length].count("f") / length
            for k in range(first + 1, min(first + length, len(runs))):
                inside[k] = rate
        usual = [o for k, o in enumerate(outcomes) if inside[k] is None]
        rate = usual.count("f") / max(len(usual), 1)
        out[s["host"]] = [rate if r is None else r for r in inside]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("data")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--explain", type=int, default=0, help="print so many false alarms and misses per kind")
    a = p.parse_args()
    with open(os.path.join(a.data, "labels.json")) as f:
        labels = json.load(f)
    work = tempfile.mkdtemp(prefix="backspan-insight-bench.")
    serve = Serve(a.binary, os.path.join(work, "store"))
    rows = []
    try:
        t0 = time.monotonic()
        rejected = post_all(serve, os.path.join(a.data, "events.jsonl"))
        t_ingest = time.monotonic() - t0
        status = settle(serve)
        t_judged = time.monotonic() - t0
        if rejected:
            sys.exit(f"{rejected} events were rejected")
        found = serve.get("/api/v1/anomalies", limit=100000)["anomalies"]
        # The events' own job ids, as a client finds them: on the job's span.
        for an in found:
            spans = serve.get("/api/v1/traces/" + an["trace_id"])["spans"]
            root = next(sp for sp in spans if sp["span_id"] == an["job_id"])
            an["job_id"] = root["attributes"]["backspan.job.id"]
        tp, fp, n, found_labels, unlabeled, labeled_jobs, wrong_kind = score_anomalies(found, labels)
        if a.explain:
            explain(found, labels, a.explain)

        rows.append(("jobs posted / judged", f"{labels['jobs']} / {status['jobs']}"))
        rows.append(("ingest + judging, wall (s)", f"{t_ingest:.1f} + {t_judged - t_ingest:.1f}"))
        for k in KINDS:
            prec = tp[k] / max(tp[k] + fp[k], 1)
            rec = found_labels[k] / max(n[k], 1)
            f1 = 2 * prec * rec / max(prec + rec, 1e-9)
            rows.append((f"{k}: precision / recall / F1 (labels)", f"{prec:.3f} / {rec:.3f} / {f1:.3f} ({n[k]})"))
        TP, FP = sum(tp.values()), sum(fp.values())
        prec = TP / max(TP + FP, 1)
        rec = sum(found_labels.values()) / max(sum(n.values()), 1)
        rows.append(("all kinds: precision / recall / F1",
                     f"{prec:.3f} / {rec:.3f} / {2 * prec * rec / max(prec + rec, 1e-9):.3f}"))
        normal = labels["jobs"] - labeled_jobs
        rows.append(("false alarms per 1,000 normal jobs", f"{unlabeled * 1000 / normal:.2f} ({unlabeled})"))
        if wrong_kind:
            counts = {}
            for w in wrong_kind:
                counts[w] = counts.get(w, 0) + 1
            rows.append(("labeled, found as another kind", ", ".join(f"{l}→{d}: {c}" for (l, d), c in sorted(counts.items()))))

        # Forecasts, backtested: each asked as of a moment, from the jobs before it.
        t1 = time.monotonic()
        calls = 0
        sources = {s["host"]: s for s in labels["sources"]}
        ids = {s["host"]: s["source_id"] for s in serve.get("/api/v1/freshness")["sources"]}

        def forecast(host, as_of):
            nonlocal calls
            calls += 1
            out = serve.get("/api/v1/forecasts", source=ids[host], as_of=rfc3339(as_of))["forecasts"]
            return out[0] if out else None

        leads, early, drifting_scored, errors = [], 0, 0, []
        for d in labels["drifting"]:
            f = d["first_overrun"]
            if f is None or f < 12:
                continue
            drifting_scored += 1
            runs = sources[d["host"]]["runs"]
            # as of run f-k+1's start, jobs up to run f-k are known: run f is k runs ahead.
            lead = 0
            for k in range(1, 31):
                if f - k + 1 < 0:
                    break
                fc = forecast(d["host"], runs[f - k + 1])
                if not fc or not fc["overrun"]:
                    break
                lead = k
                if k == 3:
                    errors.append(fc["overrun"]["runs_ahead"] - 3)
            leads.append(lead)
            early += lead >= 3
        false_overruns = 0
        ends = [min(s["runs"]) for s in labels["sources"]]
        start = min(ends)
        checkpoints = [start + d * DAY + DAY // 2 for d in (60, 90, 120, 150, 180)]
        steady = {s["host"] for s in labels["steady"]}
        for t in checkpoints:
            calls += 1
            for fc in serve.get("/api/v1/forecasts", as_of=rfc3339(t))["forecasts"]:
                if fc["host"] in steady and fc["overrun"]:
                    steady.discard(fc["host"])
                    false_overruns += 1
        rows.append(("drifting sources: overrun predicted ≥ 3 runs ahead",
                     f"{early / max(drifting_scored, 1):.3f} ({early}/{drifting_scored})"))
        if leads:
            rows.append(("drifting sources: median lead (runs, capped at 30)", f"{statistics.median(leads):.0f}"))
        if errors:
            rows.append(("3 runs before: predicted run − actual (median, runs)", f"{statistics.median(errors):+.0f}"))
        rows.append(("never-overrunning sources with a predicted overrun",
                     f"{false_overruns / max(len(labels['steady']), 1):.3f} ({false_overruns}/{len(labels['steady'])})"))

        # Next-run risk: Brier skill against the base rate, as of many moments;
        # beside it, the skill of a predictor that knows what the generator
        # did (each source's usual rate, and each incident's rate after its
        # first run): the most this fleet's failures allow.
        known = known_rates(labels)
        pairs = {"fail": [], "missed": [], "overrun": [], "any": [], "known": []}
        for day in range(40, 180, 2):
            t = start + day * DAY + 7 * 3600
            calls += 1
            for fc in serve.get("/api/v1/forecasts", as_of=rfc3339(t))["forecasts"]:
                s = sources[fc["host"]]
                nxt = next((i for i, r in enumerate(s["runs"]) if r >= t), None)
                if nxt is None:
                    continue
                o, over = s["outcomes"][nxt], s["overran"][nxt] == "1"
                r = fc["risk"]
                p_over = r["p_overrun"] or 0.0
                pairs["fail"].append((r["p_fail"], o == "f"))
                pairs["missed"].append((r["p_missed"], o == "m"))
                pairs["known"].append((known[fc["host"]][nxt], o == "f"))
                if r["p_overrun"] is not None and o != "m":
                    pairs["overrun"].append((p_over, over))
                # The risk as a whole: the next run fails, is missed or
                # overruns (an overrun counted for a run that was not missed).
                p_any = r["p_fail"] + r["p_missed"] + (1 - r["p_fail"] - r["p_missed"]) * p_over
                pairs["any"].append((p_any, o != "o" or over))
        names = {"fail": "next-run risk p_fail", "missed": "next-run risk p_missed",
                 "overrun": "next-run risk p_overrun (runs that ran)",
                 "any": "next-run risk: fails, is missed or overruns",
                 "known": "p_fail of a predictor knowing the generator"}
        for name, ps in pairs.items():
            base = sum(o for _, o in ps) / len(ps)
            bs = sum((p - o) ** 2 for p, o in ps) / len(ps)
            ref = sum((base - o) ** 2 for _, o in ps) / len(ps)
            # Calibration: outcomes where the prediction was ≥ 20 %.
            high = [(p, o) for p, o in ps if p >= 0.2]
            cal = (f"; predicted ≥ 20 %: mean {sum(p for p, _ in high) / len(high):.2f}, "
                   f"observed {sum(o for _, o in high) / len(high):.2f} (n={len(high)})") if high else ""
            rows.append((names[name] + ": Brier skill (base rate, n)", f"{1 - bs / ref:.3f} ({base:.3f}, n={len(ps)}){cal}"))
        t_backtest = time.monotonic() - t1
        rows.append(("forecast backtests, wall (s)", f"{t_backtest:.1f} ({calls} calls)"))

        # Answer times with everything stored.
        lat = {"anomalies": [], "forecasts": []}
        for _ in range(50):
            for name, path in (("anomalies", "/api/v1/anomalies?limit=100"), ("forecasts", "/api/v1/forecasts")):
                s0 = time.monotonic()
                urllib.request.urlopen(serve.url + path, timeout=60).read()
                lat[name].append((time.monotonic() - s0) * 1000)
        for name, v in lat.items():
            v.sort()
            rows.append((f"GET /api/v1/{name} p95 (ms, {labels['jobs']} jobs)", f"{v[int(len(v) * 0.95) - 1]:.1f}"))
    finally:
        serve.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|---|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
