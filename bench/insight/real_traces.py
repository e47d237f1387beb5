#!/usr/bin/env python3
"""Insight on real traces: two dozen real backups of a changing tree,
exported to a real `serve`, one of them on a slow source disk (the fault
Env's slow-read) and one after every file was rewritten (what mass
encryption looks like). Prints what insight found; exits non-zero unless
the slow run is a `phase` or `duration` anomaly, the rewrite a `change`
anomaly naming files changed, and nothing else is flagged.

usage: real_traces.py BACKSPAN_BIN BACKSPAN_FAULT_BIN [--files 2000] [--runs 24]
(a few minutes: the slow run takes about 80 s by design, since insight
does not call a run slow for less than a minute more than usual)
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def write_file(path, rng, size):
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("fault_binary")
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--runs", type=int, default=24)
    a = p.parse_args()
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix="backspan-insight-real.")
    serve = None
    try:
        tree, repo = os.path.join(work, "tree"), os.path.join(work, "repo")
        for d in range(20):
            os.makedirs(os.path.join(tree, "d%02d" % d))
        names = [os.path.join(tree, "d%02d" % (i % 20), "f%05d" % i) for i in range(a.files)]
        for n in names:
            write_file(n, rng, rng.randrange(4096, 32768))
        serve = subprocess.Popen([a.binary, "--json", "serve", "--listen", "127.0.0.1:0", "--data",
                                  os.path.join(work, "store")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        url = json.loads(serve.stdout.readline())["url"]
        env = dict(os.environ, BACKSPAN_REPOSITORY=repo, BACKSPAN_PASSWORD="insight-bench",
                   BACKSPAN_STATE_DIR=os.path.join(work, "state"), OTEL_EXPORTER_OTLP_ENDPOINT=url,
                   BACKSPAN_HOST="bench-host")
        subprocess.run([a.binary, "init"], env=env, check=True, capture_output=True)
        slow_run, rewrite_run = a.runs - 6, a.runs - 3
        print(f"{a.runs} backups of {a.files} files; run {slow_run} on a slow disk, run {rewrite_run} after a mass rewrite",
              file=sys.stderr)
        for run in range(a.runs):
            # A few percent of the files change between runs.
            for n in rng.sample(names, max(1, a.files // 50)):
                write_file(n, rng, rng.randrange(4096, 32768))
            if run == rewrite_run:
                for n in names:
                    write_file(n, rng, os.path.getsize(n))
            binary, run_env = a.binary, env
            if run == slow_run:
                binary = a.fault_binary
                run_env = dict(env, BACKSPAN_FAULT="slow-read:4000")  # reads outside the repository: the source
            t0 = time.monotonic()
            subprocess.run([binary, "backup", tree, "--tag", "env=bench"], env=run_env, check=True, capture_output=True)
            print(f"  run {run}: {time.monotonic() - t0:.1f} s", file=sys.stderr)

        def get(path):
            with urllib.request.urlopen(url + path, timeout=30) as r:
                return json.loads(r.read())

        deadline = time.monotonic() + 60
        while True:
            st = get("/api/v1/anomalies")["insight"]
            if (st["loaded"] and st["pending"] == 0 and st["jobs"] >= a.runs) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        found = get("/api/v1/anomalies")["anomalies"]
        jobs = sorted(get("/api/v1/jobs?kind=backup&limit=1000")["jobs"], key=lambda j: j["start_unix_nano"])
        run_of = {j["job_id"]: i for i, j in enumerate(jobs)}
        ok = True
        by_run = {}
        for x in found:
            r = run_of.get(x["job_id"])
            by_run[r] = x
            print(f"run {r}: {x['kind']} ({x['severity']}, score {x['score']:.1f}): {x['message']}")
            print(f"    evidence: {json.dumps(x['evidence']['numbers'])}")
        slow = by_run.get(slow_run)
        if not slow or slow["kind"] not in ("phase", "duration"):
            print(f"FAIL: the slow run {slow_run} is not a phase or duration anomaly", file=sys.stderr)
            ok = False
        rewrite = by_run.get(rewrite_run)
        if not rewrite or rewrite["kind"] != "change" or "files changed" not in rewrite["message"]:
            print(f"FAIL: the rewrite (run {rewrite_run}) is not a change anomaly naming files changed", file=sys.stderr)
            ok = False
        extra = sorted(r for r in by_run if r not in (slow_run, rewrite_run))
        if extra:
            print(f"FAIL: runs {extra} were flagged too", file=sys.stderr)
            ok = False
        trace = get(f"/api/v1/traces/{jobs[slow_run]['trace_id']}")["spans"]
        marks = [e for s in trace for e in s["events"] if e["name"] == "anomaly"]
        print(f"the slow run's trace carries {len(marks)} anomaly event(s); its phases:")
        root = next(s for s in trace if s["span_id"] == jobs[slow_run]["job_id"])
        for s in trace:
            if s["parent_span_id"] == root["span_id"]:
                print(f"    {s['name']}: {s['duration_ms'] / 1000:.2f} s")
        ok = ok and len(marks) == 1
        print("ok" if ok else "FAILED")
        sys.exit(0 if ok else 1)
    finally:
        if serve:
            serve.terminate()
            serve.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
