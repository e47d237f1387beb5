#!/usr/bin/env python3
"""A seeded fleet of backup histories for the insight benchmark: job events
(as `POST /api/v1/ingest/events` takes them) and, apart, the labels the
scorer reads. Nothing in an event says whether it is injected.

Each source has a schedule (daily at its own hour, every 6 or 12 hours, or
weekdays only), a size, noise, and some of: weekly fulls, month-end spikes,
steady growth, holidays (no runs), a late start, flaky failures, phases
(scan/upload/finalize), byte counts or none. Injected, labeled anomalies:
`duration` (slow or implausibly fast runs of sources that report no bytes),
`throughput` (slow runs with the usual bytes, no phases), `phase` (one phase
much slower), `change` (mass rewrite, or the source emptied), `failures`
(a broken source failing run after run, or a failure rate that steps up). Some sources drift towards the end of
their backup window; the labels say when each first overran.

usage: generate.py OUT_DIR [--sources 500] [--days 180] [--seed 1]
writes OUT_DIR/events.jsonl (in time order) and OUT_DIR/labels.json.
"""
import argparse
import calendar
import hashlib
import json
import math
import os
import random

DAY = 86400
START = calendar.timegm((2026, 6, 1, 0, 0, 0))  # a Monday
PHASES = ("scan", "upload", "finalize")


def rfc3339(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t == int(t) else \
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t - int(t)) * 1000)


def month_end(t):
    y, m, d = time_parts(t)
    return d == calendar.monthrange(y, m)[1]


def time_parts(t):
    import time
    g = time.gmtime(t)
    return g.tm_year, g.tm_mon, g.tm_mday


class Source:
    def __init__(self, index, rng, days):
        self.index = index
        self.host = "host%03d" % index
        self.rg = "rg-%d" % (index % 12)
        self.tool = rng.choice(["pgbackrest", "rsnapshot", "veeam", "azure-backup", "restic"])
        kind = rng.random()
        if kind < 0.6:
            self.interval, self.weekdays_only = DAY, False
        elif kind < 0.75:
            self.interval, self.weekdays_only = DAY // 4, False
        elif kind < 0.85:
            self.interval, self.weekdays_only = DAY // 2, False
        else:
            self.interval, self.weekdays_only = DAY, True
        self.offset = rng.randrange(0, min(self.interval, DAY))
        self.duration = math.exp(rng.uniform(math.log(300), math.log(5400)))
        self.noise = rng.uniform(0.04, 0.12)
        self.reports_bytes = rng.random() < 0.8
        self.has_phases = self.reports_bytes and rng.random() < 0.5
        self.bytes_total = math.exp(rng.uniform(math.log(5e9), math.log(2e12)))
        self.files_total = int(self.bytes_total / rng.uniform(2e5, 5e6))
        self.added_share = rng.uniform(0.002, 0.03)
        self.weekly_full = (rng.randrange(7) if rng.random() < 0.3 and self.interval == DAY else None)
        self.full_factor = rng.uniform(3, 6)
        self.month_end_factor = rng.uniform(2, 3) if rng.random() < 0.15 else None
        self.growth = rng.uniform(0.001, 0.005) if rng.random() < 0.3 else 0.0
        self.fail_rate = rng.choice([0.0, 0.0, 0.005, 0.01, 0.02, 0.03, 0.08, 0.15])
        self.first_day = rng.randrange(20, 120) if rng.random() < 0.2 else 0
        self.holiday = None
        if rng.random() < 0.1:
            h = rng.randrange(self.first_day + 30, days - 15)
            self.holiday = (h, h + rng.randrange(5, 11))
        # The backup window: generous for everyone but the drifting sources,
        # whose duration grows linearly until it passes the window.
        peak = self.duration * (self.full_factor if self.weekly_full is not None else 1) * \
            (self.month_end_factor or 1) * math.exp(self.growth * days)
        if peak > 0.35 * self.interval:  # the longest run fits its schedule with room to spare
            self.duration *= 0.35 * self.interval / peak
            peak = 0.35 * self.interval
        self.drift = None
        window = max(peak * 2.5, self.duration * 4)
        if index % 10 in (3, 7) and self.interval == DAY:
            cross = rng.uniform(0.55, 0.95) * days  # the day the trend passes the window
            start_day = self.first_day
            self.drift = (window / self.duration - 1) / max(cross - start_day, 10)
        self.window = min(window, self.interval * 0.9)

    def ticks(self, days):
        t = START + self.first_day * DAY + self.offset
        end = START + days * DAY
        while t < end:
            day = (t - START) // DAY
            weekday = (day + 1) % 7  # START is a Monday; 0 Sunday
            if self.weekdays_only and weekday in (0, 6):
                t += self.interval
                continue
            if self.holiday and self.holiday[0] <= day < self.holiday[1]:
                t += self.interval
                continue
            yield t, day, weekday
            t += self.interval


def job_id(source, n):
    return hashlib.sha256(b"%d-%d" % (source.index, n)).hexdigest()[:20]


def generate(sources, days, seed):
    rng = random.Random(seed)
    fleet = [Source(i, rng, days) for i in range(sources)]
    events, labels = [], {"anomalies": [], "drifting": [], "steady": [], "jobs": 0}
    kinds = ["duration", "throughput", "phase", "change", "failures"]
    for s in fleet:
        ticks = list(s.ticks(days))
        # Where anomalies go: after 20 runs, 12 runs apart at least, never on
        # a weekly full or a month end (those are the usual there).
        fits = [k for k in ["duration", "throughput", "phase", "change", "failures"]
                if (k != "duration" or not s.reports_bytes) and (k != "throughput" or (s.reports_bytes and not s.has_phases))
                and (k != "phase" or s.has_phases) and (k != "change" or s.reports_bytes)]
        planned = {}
        n_anomalies = rng.choice([0, 1, 2, 3, 4])
        # ... and not in the last 22 runs, so every anomaly can play out.
        candidates = [i for i, (t, day, wd) in enumerate(ticks)
                      if 20 <= i < len(ticks) - 22 and wd != s.weekly_full and not month_end(t) and not month_end(t + DAY)]
        rng.shuffle(candidates)
        for i in candidates:
            if len(planned) >= n_anomalies:
                break
            if any(abs(i - j) < 25 for j in planned):
                continue
            planned[i] = rng.choice(fits)
        # Failures come as a broken source (3-10 runs failing nearly every
        # time, until someone fixes it) or a failure rate that steps up
        # (20 runs failing 30-50 % of the time).
        bursts = {}  # its first run -> (its runs, their failure probability)
        for i, kind in planned.items():
            if kind == "failures":
                if rng.random() < 0.7:
                    bursts[i] = (list(range(i, i + rng.randrange(3, 11))), 0.95)
                else:
                    bursts[i] = (list(range(i, i + 20)), rng.uniform(0.3, 0.5))
        burst = {r: p for runs, p in bursts.values() for r in runs}
        first_overrun = None
        seen_month_end = False
        outcomes, overran = [], []
        for n, (t, day, weekday) in enumerate(ticks):
            age = day - s.first_day
            level = s.duration * math.exp(s.growth * age)
            if s.drift:
                level *= 1 + s.drift * age
            size = s.bytes_total * math.exp(s.growth * age)
            duration = level * math.exp(rng.gauss(0, s.noise))
            added = size * s.added_share * math.exp(rng.gauss(0, 0.3))
            changed = max(1, int(s.files_total * s.added_share * math.exp(rng.gauss(0, 0.3))))
            files = s.files_total * math.exp(s.growth * age)
            if weekday == s.weekly_full:
                duration *= s.full_factor
                added *= 10
                changed *= 10
            if s.month_end_factor and month_end(t):
                duration *= s.month_end_factor
                added *= 4
            shares = [0.2, 0.75, 0.05]
            phases = [duration * x for x in shares]
            status = "completed"
            kind = "backup"
            label = planned.get(n)
            if label == "duration":
                duration *= rng.uniform(3, 8) if rng.random() < 0.7 else rng.uniform(0.03, 0.12)
            elif label == "throughput":
                duration *= rng.uniform(3, 6)
            elif label == "phase":
                which = rng.randrange(3) if rng.random() < 0.5 else 0
                extra = duration * rng.uniform(1.5, 4)
                phases[which] += extra
                duration += extra
            elif label == "change":
                if rng.random() < 0.6:
                    added = size * rng.uniform(0.3, 1.0)
                    changed = int(files * rng.uniform(0.3, 1.0))
                    duration *= rng.uniform(1.0, 1.5)
                else:
                    size *= rng.uniform(0.0, 0.2)
                    files *= rng.uniform(0.0, 0.2)
                    added = min(added, size)
                    duration *= rng.uniform(0.2, 1.0)
            if n in burst and (n in bursts or rng.random() < burst[n]):
                status = "failed"
                if rng.random() < 0.3:
                    kind = "missed"
            elif label is None and rng.random() < s.fail_rate:
                status = "failed"
            if label == "failures":
                # Found anywhere in the burst or the two runs after it.
                ids = [job_id(s, r) for r in range(n, bursts[n][0][-1] + 3)]
                labels["anomalies"].append({"host": s.host, "job_ids": ids, "kind": label, "time": t})
            elif label:
                labels["anomalies"].append({"host": s.host, "job_ids": [job_id(s, n)], "kind": label, "time": t})
            deadline = t + s.window
            outcomes.append("m" if kind == "missed" else "f" if status == "failed" else "o")
            overran.append("1" if kind != "missed" and duration > s.window else "0")
            # The first overrun of the source's own making: not an injected
            # anomaly, nor the spike of its first month end, which nothing
            # in its history foretells.
            first_month_end = month_end(t) and not seen_month_end
            seen_month_end = seen_month_end or month_end(t)
            if status == "completed" and label is None and not first_month_end and duration > s.window and \
                    first_overrun is None:
                first_overrun = n
            ev = {"job_id": job_id(s, n), "type": status, "source": s.tool, "kind": kind, "host": s.host,
                  "resource_group": s.rg, "paths": ["/data"], "start_time": t,
                  "time": round(t + (duration if kind != "missed" else s.window), 3), "deadline": int(deadline)}
            if status == "failed":
                ev["message"] = "the backup failed" if kind == "backup" else "the run was missed"
            elif s.reports_bytes:
                ev.update({"bytes_total": int(size), "bytes_added": int(added), "bytes_read": int(added * 1.1),
                           "bytes_stored": int(added * 0.6), "files_total": int(files), "files_changed": int(changed)})
            if status == "completed" and s.has_phases:
                ev["phases"] = [{"name": name, "duration_s": round(p, 3)} for name, p in zip(PHASES, phases)]
            events.append(ev)
        labels["jobs"] += len(ticks)
        labels.setdefault("sources", []).append({"host": s.host, "runs": [t for t, _, _ in ticks],
                                                 "outcomes": "".join(outcomes), "overran": "".join(overran)})
        if s.drift:
            labels["drifting"].append({"host": s.host, "first_overrun": first_overrun})
        elif first_overrun is None:
            labels["steady"].append({"host": s.host})
    events.sort(key=lambda e: e["time"])
    return events, labels


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--sources", type=int, default=500)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    events, labels = generate(a.sources, a.days, a.seed)
    with open(os.path.join(a.out, "events.jsonl"), "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    with open(os.path.join(a.out, "labels.json"), "w") as f:
        json.dump(labels, f)
    print(json.dumps({"events": len(events), "anomalies": len(labels["anomalies"]),
                      "drifting": len(labels["drifting"]), "steady": len(labels["steady"])}))


if __name__ == "__main__":
    main()
