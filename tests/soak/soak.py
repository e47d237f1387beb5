#!/usr/bin/env python3
"""The observatory under steady load for a long time (run by hand, not in
CI; run.sh builds and starts it): OTLP traces of backup-shaped jobs, job
events, and the queries a wall screen makes (job lists by tag, traces,
trends, freshness, /metrics). Every 10 s it samples the server's RSS and the
queries' latency (p50, p95) into a CSV; at the end gnuplot draws them, and
the run passes if both stay flat: the last quarter no worse than the second
(RSS within 10 % + 16 MiB, p95 within 2x + 5 ms).

  soak.py URL PID --minutes 30 --out DIR"""
import argparse
import json
import os
import random
import statistics
import subprocess
import threading
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from flood import rss_mib  # noqa: E402

NS = 1_000_000_000


def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
        return r.status


def get(url, path):
    t = time.monotonic()
    with urllib.request.urlopen(url + path, timeout=30) as r:
        body = r.read()
    return time.monotonic() - t, body


def job_request(n, rng):
    """One backup job as a trace: the root and 19 phases, in one of 20 sources."""
    trace_id = os.urandom(16).hex()
    root = os.urandom(8).hex()
    start = time.time_ns() - rng.randrange(60, 300) * NS  # retention (10m) deletes them minutes later
    source = n % 20
    attrs = [{"key": "backspan.job.kind", "value": {"stringValue": "backup"}},
             {"key": "azure.resource_group.name", "value": {"stringValue": f"rg-{source % 4}"}},
             {"key": "host.name", "value": {"stringValue": f"host-{source}"}},
             {"key": "backspan.paths", "value": {"arrayValue": {"values": [{"stringValue": "/srv/data"}]}}},
             {"key": "backspan.bytes.added", "value": {"intValue": str(rng.randrange(1 << 30))}}]
    spans = [{"traceId": trace_id, "spanId": root, "name": "backup", "kind": 1, "startTimeUnixNano": str(start),
              "endTimeUnixNano": str(start + 30 * NS), "attributes": attrs,
              "status": {"code": 2 if n % 17 == 0 else 1}}]
    for i in range(19):
        spans.append({"traceId": trace_id, "spanId": os.urandom(8).hex(), "parentSpanId": root, "name": f"phase {i}",
                      "kind": 1, "startTimeUnixNano": str(start + i * NS), "endTimeUnixNano": str(start + (i + 1) * NS)})
    return trace_id, {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "soak"}}]},
                                         "scopeSpans": [{"spans": spans}]}]}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("url")
    ap.add_argument("pid", type=int)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--jobs-per-second", type=float, default=50)
    ap.add_argument("--out", default=".")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    stop = threading.Event()
    lock = threading.Lock()
    latencies, traces, counts = [], [], {"jobs": 0, "events": 0, "queries": 0, "errors": 0}
    first_errors = []

    def failed(what, e):
        with lock:
            counts["errors"] += 1
            if len(first_errors) < 5:
                detail = e.read()[:300].decode(errors="replace") if hasattr(e, "read") else ""
                first_errors.append(f"{what}: {e} {detail}")

    def ingest():
        rng = random.Random(1)
        n = 0
        next_at = time.monotonic()
        while not stop.is_set():
            trace_id, body = job_request(n, rng)
            try:
                post(args.url, "/v1/traces", body)
                with lock:
                    counts["jobs"] += 1
                    traces.append(trace_id)
                    del traces[:-1000]
            except OSError as e:
                failed("ingest", e)
            n += 1
            next_at += 1 / args.jobs_per_second
            stop.wait(max(0.0, next_at - time.monotonic()))

    def events():
        n = 0
        while not stop.wait(0.5):
            job = f"hook-{n}"
            try:
                post(args.url, "/api/v1/ingest/events", [
                    {"job_id": job, "source": "soak-hook", "type": "started", "resource_group": "rg-hooks", "host": "db"},
                    {"job_id": job, "source": "soak-hook", "type": "completed", "bytes_added": n}])
                with lock:
                    counts["events"] += 1
            except OSError as e:
                failed("events", e)
            n += 1

    def queries():
        rng = random.Random(2)
        paths = ["/api/v1/jobs?tag=azure.resource_group.name=rg-1&limit=100", "/api/v1/jobs?status=failed&limit=50",
                 "/api/v1/trends?metric=duration&group_by=azure.resource_group.name&since=2h",
                 "/api/v1/freshness", "/metrics", "/api/v1/tags"]
        while not stop.wait(0.05):
            with lock:
                trace = rng.choice(traces) if traces else None
            path = rng.choice(paths + ([f"/api/v1/traces/{trace}"] if trace else []))
            try:
                seconds, _ = get(args.url, path)
                with lock:
                    latencies.append(seconds)
                    counts["queries"] += 1
            except OSError as e:
                failed("query " + path, e)

    threads = [threading.Thread(target=f) for f in (ingest, ingest, events, queries, queries)]
    for t in threads:
        t.start()
    csv_path = os.path.join(args.out, "soak.csv")
    rows = []
    t0 = time.monotonic()
    with open(csv_path, "w") as csv:
        csv.write("seconds,rss_mib,p50_ms,p95_ms,jobs,events,queries,errors\n")
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(10)
            with lock:
                window = sorted(latencies)
                latencies.clear()
                c = dict(counts)
            p50 = window[len(window) // 2] * 1000 if window else 0
            p95 = window[int(len(window) * 0.95)] * 1000 if window else 0
            row = (round(time.monotonic() - t0), round(rss_mib(args.pid), 1), round(p50, 2), round(p95, 2),
                   c["jobs"], c["events"], c["queries"], c["errors"])
            rows.append(row)
            csv.write(",".join(map(str, row)) + "\n")
            csv.flush()
            print(json.dumps(dict(zip(("seconds", "rss_mib", "p50_ms", "p95_ms", "jobs", "events", "queries", "errors"), row))),
                  flush=True)
    stop.set()
    for t in threads:
        t.join()

    png = os.path.join(args.out, "soak.png")
    plot = f"""set datafile separator ','
set terminal png size 1100,700
set output '{png}'
set multiplot layout 2,1 title 'backspan serve under steady load ({args.jobs_per_second:g} jobs/s of 20 spans, events, queries)'
set xlabel 'seconds'
set ylabel 'RSS (MiB)'
set yrange [0:*]
plot '{csv_path}' using 1:2 skip 1 with lines lw 2 title 'RSS'
set ylabel 'query latency (ms)'
plot '{csv_path}' using 1:4 skip 1 with lines lw 2 title 'p95', '' using 1:3 skip 1 with lines title 'p50'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=plot.encode(), check=True)
    quarter = max(1, len(rows) // 4)
    second = rows[quarter:2 * quarter] or rows
    last = rows[-quarter:]
    rss_then, rss_now = statistics.median(r[1] for r in second), statistics.median(r[1] for r in last)
    p95_then, p95_now = statistics.median(r[3] for r in second), statistics.median(r[3] for r in last)
    flat = rss_now <= rss_then * 1.1 + 16 and p95_now <= p95_then * 2 + 5
    verdict = {"flat": flat, "rss_mib": [rss_then, rss_now], "p95_ms": [p95_then, p95_now], "csv": csv_path, "png": png,
               "jobs": rows[-1][4], "events": rows[-1][5], "queries": rows[-1][6], "errors": rows[-1][7],
               "first_errors": first_errors}
    print(json.dumps(verdict), flush=True)
    raise SystemExit(0 if flat and rows[-1][7] == 0 else 1)


if __name__ == "__main__":
    main()
