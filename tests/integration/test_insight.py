"""Insight through a real `serve` (docs/insight.md): a history posted on the
job-events API, with phases and deadlines, is judged; anomalies, forecasts,
the feature export, the trace's `anomaly` events and /metrics agree; a
restart judges the stored jobs again to the same answers; bad parameters
get a 400 naming them."""
import csv
import io
import json
import os
import time
import unittest

from observatory import Observatory, ObservatoryCase

DAY = 86400
T0 = 1767574800  # 2026-01-05T01:00:00Z, a Monday


def rfc3339(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def history(host, days, slow_day=None, mass_day=None, drift=0.0, t0=T0):
    """A daily backup of `host`: 20 min (scan 4, upload 16), 50 GB total,
    500 MB added; `slow_day`'s scan takes 45 min; `mass_day` rewrites
    everything; `drift` seconds a day more, in a 3 h window."""
    events = []
    for d in range(days):
        start = t0 + d * DAY + (d * 37 % 300)
        wobble = 1 + ((d * 7919) % 11 - 5) / 100
        scan, upload = 240 * wobble + drift * d, 960 * wobble
        added, changed = 500e6 * wobble, 900 + d % 50
        if d == slow_day:
            scan = 45 * 60
        if d == mass_day:
            added, changed = 48e9, 180000
        duration = scan + upload
        events.append({"job_id": f"{host}-{d}", "type": "completed", "source": "nightly", "host": host,
                       "resource_group": "rg-insight", "paths": ["/srv/data"],
                       "start_time": rfc3339(start), "time": start + duration,
                       "deadline": rfc3339(start + 3 * 3600),
                       "bytes_added": int(added), "bytes_total": int(50e9), "bytes_read": int(added),
                       "bytes_stored": int(added / 2), "files_total": 200000, "files_changed": int(changed),
                       "phases": [{"name": "scan", "duration_s": scan}, {"name": "upload", "duration_s": upload}]})
    return events


class InsightTest(ObservatoryCase):
    def serve(self):
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--insight-quota", "1TiB")
        return self.obs

    def post_events(self, events):
        body = "\n".join(json.dumps(e) for e in events).encode()
        code, _, out = self.obs.request("POST", "/api/v1/ingest/events", body, {"Content-Type": "application/x-ndjson"})
        self.assertEqual(code, 200, out[:500])
        return json.loads(out)

    def settled(self):
        return self.obs.wait_until(lambda: self.obs.get_json("/api/v1/anomalies")["insight"]["pending"] == 0
                                   and self.obs.get_json("/api/v1/anomalies")["insight"]["loaded"], 30)

    def anomalies(self, query=""):
        self.assertTrue(self.settled())
        return self.obs.get_json("/api/v1/anomalies?limit=1000" + query)["anomalies"]

    def test_history_judged_explained_and_forecast(self):
        self.serve()
        # Sent newest first, in two halves: the verdicts cannot depend on it.
        events = history("db01", 60, slow_day=45, mass_day=52) + history("app01", 90, drift=60)
        events.reverse()
        self.post_events(events[:70])
        self.post_events(events[70:])
        found = self.anomalies()
        by_host = {}
        for a in found:
            by_host.setdefault(a["host"], []).append(a)
        self.assertEqual(sorted((a["kind"], a["time"][:10]) for a in by_host.get("db01", [])),
                         [("change", rfc3339(T0 + 52 * DAY)[:10]), ("phase", rfc3339(T0 + 45 * DAY)[:10])], found)
        self.assertNotIn("app01", by_host, "a steady drift is a trend, not an anomaly")
        phase = next(a for a in found if a["kind"] == "phase")
        self.assertIn("`scan` took 45 min", phase["message"])
        self.assertIn("slower than usual", phase["message"])
        self.assertEqual(phase["resource_group"], "rg-insight")
        self.assertIn("phase:scan_s", phase["evidence"]["numbers"])
        change = next(a for a in found if a["kind"] == "change")
        self.assertIn("files changed", change["message"])
        self.assertGreater(change["evidence"]["numbers"]["bytes_added"]["ratio"], 50)
        self.assertNotIn("/srv/data", json.dumps(found), "a path never reaches a message or evidence")

        # job_id and trace_id are the job list's: the trace shows the anomaly.
        jobs = self.obs.get_json("/api/v1/jobs?limit=1000&host=db01")["jobs"]
        job = next(j for j in jobs if j["job_id"] == phase["job_id"])
        self.assertEqual(job["trace_id"], phase["trace_id"])
        spans = self.obs.get_json(f"/api/v1/traces/{phase['trace_id']}")["spans"]
        root = next(s for s in spans if s["span_id"] == phase["job_id"])
        events = [e for e in root["events"] if e["name"] == "anomaly"]
        self.assertEqual([e["attributes"]["backspan.anomaly.kind"] for e in events], ["phase"])
        self.assertEqual(sorted(s["name"] for s in spans if s["span_id"] != phase["job_id"]), ["scan", "upload"])

        # Filters.
        self.assertEqual([a["kind"] for a in self.anomalies("&kind=change")], ["change"])
        self.assertEqual(self.anomalies("&until=" + rfc3339(T0 + 40 * DAY)), [])
        sources = {s["host"]: s["source_id"] for s in self.obs.get_json("/api/v1/freshness")["sources"]}
        self.assertEqual(self.anomalies(f"&source={sources['app01']}"), [])

        # The drifting source: 20 min + 1 min a day passes 3 h at day 160;
        # at day 90 that is ~70 runs ahead, beyond the 30-run horizon.
        forecasts = {f["host"]: f for f in self.obs.get_json("/api/v1/forecasts")["forecasts"]}
        self.assertIsNone(forecasts["app01"]["overrun"])
        self.assertIsNone(forecasts["db01"]["overrun"])
        self.assertLess(forecasts["db01"]["risk"]["p_fail"], 0.1)
        self.assertEqual(forecasts["db01"]["growth"]["quota_bytes"], 1 << 40)
        # Backtested: as of day 80 with drift continuing in later posts it is
        # the same as now; the forecast made later is nearer.
        self.post_events(history("app01", 150, drift=60)[90:])
        self.assertTrue(self.settled())
        end = rfc3339(T0 + 150 * DAY)
        now = {f["host"]: f for f in self.obs.get_json("/api/v1/forecasts?as_of=" + end)["forecasts"]}["app01"]
        self.assertIsNotNone(now["overrun"])
        self.assertLessEqual(now["overrun"]["runs_ahead"], 15)
        self.assertGreater(now["overrun"]["high_s"], now["overrun"]["window_s"])
        then = {f["host"]: f for f in
                self.obs.get_json("/api/v1/forecasts?as_of=" + rfc3339(T0 + 90 * DAY))["forecasts"]}["app01"]
        self.assertIsNone(then["overrun"])
        self.assertEqual(then["jobs"], 90)

        # The feature export: numbers and ids only.
        code, headers, body = self.obs.request("GET", "/api/v1/insight/features?format=csv")
        self.assertEqual(code, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        self.assertEqual(len(rows), 60 + 150)  # web09 comes later
        self.assertNotIn("db01", body.decode())
        self.assertNotIn("/srv/data", body.decode())
        lines = self.obs.request("GET", f"/api/v1/insight/features?source={sources['db01']}")[2].decode().splitlines()
        self.assertEqual(len(lines), 60)
        self.assertEqual(json.loads(lines[45])["duration_s"], 45 * 60 + 960 * (1 + ((45 * 7919) % 11 - 5) / 100))

        # /metrics, as of now: a source that ran until yesterday, 2.5 min a
        # day slower, is a few runs from its window.
        today = int(time.time()) // DAY * DAY
        self.post_events(history("web09", 60, drift=150, t0=today - 60 * DAY))
        self.assertTrue(self.settled())
        _, _, text = self.obs.request("GET", "/metrics")
        metrics = text.decode()
        self.assertIn('backspan_anomalies_total{kind="phase",source="db01:/srv/data"', metrics)
        self.assertIn('backspan_source_overrun_runs_ahead{source="web09:/srv/data"', metrics)
        self.assertIn('backspan_source_next_run_risk{source="db01:/srv/data",host="db01",resource_group="rg-insight",risk="fail"}', metrics)

        # A restart reads the stored jobs and judges them again alike.
        before = self.anomalies()
        self.obs.stop()
        self.serve()
        self.assertEqual(self.anomalies(), before)

    def test_a_new_anomaly_and_a_near_overrun_are_notified_once(self):
        from test_agent import WebhookReceiver, webhook_notify_file
        hook = WebhookReceiver()
        self.addCleanup(hook.close)
        notify = webhook_notify_file(os.path.join(self.tmp, "notify.toml"), hook.url, ["anomaly", "forecast", "failure"])
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--notify", notify)
        today = int(time.time()) // DAY * DAY
        # A history sent at once, with an old slow night: judged, not news.
        events = history("db01", 40, slow_day=20, t0=today - 41 * DAY)
        self.post_events(events[:39])
        self.assertTrue(self.settled())
        self.assertEqual([a["kind"] for a in self.anomalies()], ["phase"])
        # Last night's run rewrote everything: news.
        last = history("db01", 40, mass_day=39, t0=today - 41 * DAY)[39]
        self.post_events([last])
        self.assertTrue(self.obs.wait_until(lambda: hook.bodies, 20))
        time.sleep(1)
        sent = hook.events()
        self.assertEqual([e["event"] for e in sent], ["anomaly"], sent)
        self.assertIn("change: ", sent[0]["detail"])
        self.assertIn("files changed", sent[0]["detail"])
        self.assertEqual(sent[0]["source"]["host"], "db01")
        # A source whose runs are about to pass their window: one forecast.
        self.post_events(history("web09", 60, drift=170, t0=today - 61 * DAY))
        self.assertTrue(self.obs.wait_until(lambda: len(hook.bodies) >= 2, 20))
        time.sleep(1)
        forecast = hook.events()[1]
        self.assertEqual((forecast["event"], forecast["source"]["host"]), ("forecast", "web09"), forecast)
        self.assertIn("is forecast to take", forecast["detail"])
        self.assertIn("in a window of 3 h 0 min", forecast["detail"])
        # A restart judges the same jobs again: nothing is sent twice.
        self.obs.stop()
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--notify", notify)
        self.assertTrue(self.settled())
        time.sleep(1)
        self.assertEqual(len(hook.bodies), 2)

    def test_bad_parameters_and_a_bad_phase(self):
        self.serve()
        for query, word in [("?kind=slow", "kind"), ("?source=abc", "source"), ("?since=yesterday", "since"),
                            ("?limit=0", "limit")]:
            code, _, body = self.obs.request("GET", "/api/v1/anomalies" + query)
            self.assertEqual(code, 400, query)
            self.assertIn(word, json.loads(body)["error"])
        code, _, body = self.obs.request("GET", "/api/v1/insight/features?format=xml")
        self.assertEqual(code, 400)
        code, _, body = self.obs.request("GET", "/api/v1/forecasts?as_of=never")
        self.assertEqual(code, 400)
        # One event with a bad phase is a rejected item; the other is stored.
        good, bad = history("web01", 2)
        bad["phases"] = [{"name": "scan", "duration_s": -5}]
        code, _, body = self.obs.request("POST", "/api/v1/ingest/events", json.dumps([good, bad]).encode(),
                                         {"Content-Type": "application/json"})
        self.assertEqual(code, 200, body)
        out = json.loads(body)
        self.assertEqual(out["rejected"], 1, out)
        self.assertIn("phases", out["errors"][0])
        bad["deadline"] = "tomorrow"
        bad["phases"] = []
        code, _, body = self.obs.request("POST", "/api/v1/ingest/events", json.dumps(bad).encode(),
                                         {"Content-Type": "application/json"})
        self.assertIn("deadline", body.decode())


if __name__ == "__main__":
    unittest.main()
