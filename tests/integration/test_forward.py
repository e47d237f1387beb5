"""`serve --forward` (docs/observatory.md, "Forwarding"): every accepted
span, external jobs and new anomalies included, reaches each destination
once, redacted, with its headers, as decoded by the OpenTelemetry JS
definitions (tests/otlp/receiver.mjs); a dead or silent destination fills
its queue and drops with counts in /metrics while ingest and the other
destinations carry on; bad --forward values are refused by name."""
import json
import os
import socket
import subprocess
import time
import unittest

from helpers import BIN
from observatory import Observatory, ObservatoryCase, json_span, random_hex, span_request
from test_insight import DAY, history
from test_tracing import start_receiver


def metric(text, name, **labels):
    """The value of the sample of `name` with these labels (0 if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class ForwardTest(ObservatoryCase):
    def receiver(self, *args):
        return start_receiver(self, *args)

    def metrics(self):
        return self.obs.request("GET", "/metrics")[2].decode()

    def post_spans(self, n_traces, spans_per_trace, attrs=None):
        ids = []
        now = time.time_ns()
        for _ in range(n_traces):
            trace_id, root = random_hex(16), random_hex(8)
            spans = [json_span(trace_id, root, "backup", now - 10**9, now, attrs=attrs)]
            for _ in range(spans_per_trace - 1):
                spans.append(json_span(trace_id, random_hex(8), "upload", now - 10**9, now - 10**8, parent=root))
            ids += [s["spanId"] for s in spans]
            code, _, body = self.obs.post_json_spans(span_request(spans, {"service.name": "test",
                                                                           "host.name": "h1"}))
            self.assertEqual(code, 200, body[:300])
        return ids

    def test_every_span_reaches_every_destination_once_redacted(self):
        a, b = self.receiver(), self.receiver()
        headers = os.path.join(self.tmp, "lightstep.headers")
        with open(headers, "w") as f:
            f.write("# the project's token\nlightstep-access-token: abc123\n\nX-Team: backups\n")
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--trace-paths", "hash",
                               "--forward", f"{a.endpoint}/v1/traces,headers={headers}",
                               "--forward", f"{b.endpoint}/v1/traces")
        attrs = {"db.url": "postgresql://backup:s3cret@db:5432/app", "file.path": "/home/ann/secret.txt",
                 "count": 7, "ratio": 0.5, "flag": True, "note": "plain"}
        ids = self.post_spans(20, 5, attrs)
        # An external job (the events API) is forwarded too.
        code, _, body = self.obs.request("POST", "/api/v1/ingest/events",
                                         json.dumps({"job_id": "ext-1", "type": "completed", "source": "nightly",
                                                     "host": "h2", "time": time.time()}).encode(),
                                         {"Content-Type": "application/json"})
        self.assertEqual(code, 200, body)
        for r in (a, b):
            self.assertTrue(self.obs.wait_until(lambda: len(r.spans()) >= len(ids) + 1, 20), len(r.spans()))
        time.sleep(0.5)
        for r in (a, b):
            got = r.spans()
            self.assertEqual(len(got), len(ids) + 1)
            got_ids = [s["spanId"] for s in got]
            self.assertEqual(len(set(got_ids)), len(got_ids))
            self.assertLessEqual(set(ids), set(got_ids))
            root = next(s for s in got if s["name"] == "backup")
            self.assertNotIn("s3cret", json.dumps(root))
            self.assertIn("REDACTED", root["attributes"]["db.url"])
            self.assertTrue(root["attributes"]["file.path"].startswith("hmac:"), root["attributes"])
            self.assertEqual((root["attributes"]["count"], root["attributes"]["ratio"], root["attributes"]["flag"],
                              root["attributes"]["note"]), ({"int": "7"}, 0.5, True, "plain"))
            child = next(s for s in got if s["name"] == "upload" and s["traceId"] == root["traceId"])
            self.assertEqual(child["parentSpanId"], root["spanId"])
            external = [s for s in got if s["spanId"] not in set(ids)]
            self.assertEqual(external[0]["attributes"].get("host.name"), "h2", external)
        self.assertEqual(a.requests()[0]["headers"].get("lightstep-access-token"), "abc123")
        self.assertEqual(a.requests()[0]["headers"].get("x-team"), "backups")
        self.assertNotIn("lightstep-access-token", b.requests()[0]["headers"])
        m = self.metrics()
        for r in (a, b):
            dest = f"{r.endpoint}/v1/traces"
            self.assertEqual(metric(m, "backspan_forward_spans_total", destination=dest, result="sent"), len(ids) + 1)
            self.assertEqual(metric(m, "backspan_forward_spans_total", destination=dest, result="dropped"), 0)
            self.assertEqual(metric(m, "backspan_forward_queue_spans", destination=dest), 0)

    def test_a_new_anomaly_is_forwarded_as_a_span_of_the_jobs_trace(self):
        a = self.receiver()
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--forward", f"{a.endpoint}/v1/traces")
        today = int(time.time()) // DAY * DAY
        events = history("db01", 40, mass_day=39, t0=today - 41 * DAY)
        body = "\n".join(json.dumps(e) for e in events).encode()
        code, _, out = self.obs.request("POST", "/api/v1/ingest/events", body[:body.rfind(b"\n")],
                                        {"Content-Type": "application/x-ndjson"})
        self.assertEqual(code, 200, out)
        self.assertTrue(self.obs.wait_until(
            lambda: self.obs.get_json("/api/v1/anomalies")["insight"]["pending"] == 0, 20))
        code, _, out = self.obs.request("POST", "/api/v1/ingest/events", json.dumps(events[-1]).encode(),
                                        {"Content-Type": "application/json"})
        self.assertEqual(code, 200, out)
        self.assertTrue(self.obs.wait_until(lambda: any(s["name"].startswith("anomaly") for s in a.spans()), 20))
        anomaly = next(s for s in a.spans() if s["name"].startswith("anomaly"))
        job = self.obs.get_json("/api/v1/jobs?host=db01&limit=1")["jobs"][0]
        self.assertEqual((anomaly["name"], anomaly["traceId"], anomaly["parentSpanId"]),
                         ("anomaly change", job["trace_id"], job["job_id"]))
        event = anomaly["events"][0]
        self.assertEqual((event["name"], event["attributes"]["backspan.anomaly.kind"]), ("anomaly", "change"))
        self.assertIn("files changed", event["attributes"]["backspan.anomaly.message"])

    def test_spans_a_destination_refuses_are_counted_once_as_rejected(self):
        picky = self.receiver("--partial", "2")
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--forward", f"{picky.endpoint}/v1/traces")
        ids = self.post_spans(3, 4)
        dest = f"{picky.endpoint}/v1/traces"
        self.assertTrue(self.obs.wait_until(lambda: metric(self.metrics(), "backspan_forward_queue_spans",
                                                           destination=dest) == 0 and picky.requests(), 20))
        time.sleep(0.5)
        m = self.metrics()
        rejected = metric(m, "backspan_forward_spans_total", destination=dest, result="rejected")
        sent = metric(m, "backspan_forward_spans_total", destination=dest, result="sent")
        self.assertEqual(rejected, 2 * len(picky.requests()))
        self.assertEqual(sent + rejected, len(ids))

    def test_a_dead_and_a_silent_destination_drop_with_counts_and_slow_nothing(self):
        live = self.receiver()
        # Silent: accepts connections and never answers. Dead: nothing listens.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1024)
        self.addCleanup(silent.close)
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        dead.close()
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1/traces"
        dead_url = f"http://127.0.0.1:{dead_port}/v1/traces"
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env,
                               "--forward", f"{silent_url},queue=1MiB", "--forward", f"{dead_url},queue=1MiB",
                               "--forward", f"{live.endpoint}/v1/traces")
        big = {"payload": os.urandom(8000).hex()}  # incompressible: the queues fill fast
        started = time.monotonic()
        ids = self.post_spans(300, 4, big)
        took = time.monotonic() - started
        self.assertTrue(self.obs.wait_until(lambda: len(live.spans()) >= len(ids), 30), len(live.spans()))
        m = self.metrics()
        for dest in (silent_url, dead_url):
            dropped = metric(m, "backspan_forward_spans_total", destination=dest, result="dropped")
            self.assertGreater(dropped, 0, dest)
            accounted = sum(metric(m, "backspan_forward_spans_total", destination=dest, result=r)
                            for r in ("sent", "failed", "dropped")) + \
                metric(m, "backspan_forward_queue_spans", destination=dest) 
            # What is neither queued, dropped nor failed is in the request in flight.
            self.assertLessEqual(accounted, len(ids), dest)
            self.assertGreaterEqual(accounted, len(ids) - 4096, dest)
        self.assertEqual(metric(m, "backspan_forward_spans_total", destination=f"{live.endpoint}/v1/traces",
                                result="sent"), len(ids))
        # Ingest did not wait for the stuck destinations (each request is
        # answered once stored, not once forwarded).
        self.assertLess(took, 60)
        # And stopping does not hang on them.
        t = time.monotonic()
        self.assertEqual(self.obs.stop(), 0)
        self.obs = None
        self.assertLess(time.monotonic() - t, 20)

    def test_bad_forward_values_are_refused_by_name(self):
        headers = os.path.join(self.tmp, "bad.headers")
        with open(headers, "w") as f:
            f.write("lightstep-access-token abc\n")
        for spec, words in ((f"ftp://example/v1/traces", "is not an http:// or https:// URL"),
                            (f"http://127.0.0.1:1/v1/traces,headers={headers}", "bad.headers:1: expected 'Name: value'"),
                            (f"http://127.0.0.1:1/v1/traces,headers={self.tmp}/missing", "the headers file"),
                            ("http://127.0.0.1:1/v1/traces,queue=10", "queue=10 must be a size of at least 1MiB")):
            p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data", os.path.join(self.tmp, "obs"),
                                "--forward", spec], env=self.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, (spec, p.stderr))
            self.assertIn(words, p.stderr, spec)
        # A user:password in the URL never shows in what is printed.
        p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data", os.path.join(self.tmp, "obs"),
                            "--forward", "ftp://user:pw@example/v1/traces"], env=self.env, capture_output=True,
                           text=True, timeout=30)
        self.assertNotIn("pw@", p.stderr)


if __name__ == "__main__":
    unittest.main()
