"""The observatory (`backspan serve`): a real OpenTelemetry JS SDK client and
real backups report to it; the API returns what was sent; bad input gets a
4xx and the server keeps serving; acknowledged spans survive kill -9;
retention; in-progress jobs; /metrics and health."""
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from helpers import BIN, FAULT_BIN, IS_ROOT, CliTestCase, write
from observatory import Observatory, field, fixed64, json_span, random_hex, read_varint, span_request

SDK_CLIENT = os.path.join(os.path.dirname(__file__), "../otlp/sdk_client.mjs")
PHASES = ["open repository", "lock", "load index", "find parent", "scan", "process files",
          "write trees", "write index", "save snapshot", "unlock"]
NOW = time.time_ns()


def pb_span(trace_id, span_id, name, start, end, attrs=0):
    body = field(1, trace_id) + field(2, span_id) + field(5, name.encode()) + field(6, 1)
    body += fixed64(7, start) + fixed64(8, end)
    for i in range(attrs):
        body += field(9, field(1, f"k{i}".encode()) + field(2, field(1, b"v")))
    return body


def pb_request(*spans):
    scope_spans = field(1, field(1, b"hand")) + b"".join(field(2, s) for s in spans)
    return field(1, field(2, scope_spans))


def pb_status_message(body):
    """google.rpc.Status.message (field 2) from a protobuf body."""
    i = 0
    while i < len(body):
        key, i = read_varint(body, i)
        if key & 7 == 0:
            _, i = read_varint(body, i)
            continue
        n, i = read_varint(body, i)
        if key >> 3 == 2:
            return body[i:i + n].decode()
        i += n
    return ""


class ObservatoryCase(CliTestCase):
    def setUp(self):
        super().setUp()
        self.server = Observatory(os.path.join(self.tmp, "observatory"), self.env)

    def tearDown(self):
        self.server.stop()
        super().tearDown()

    def assert_serving(self):
        code, _, body = self.server.request("GET", "/healthz")
        self.assertEqual((code, body), (200, b"ok\n"))

    def post_pb(self, body, content_type="application/x-protobuf"):
        return self.server.request("POST", "/v1/traces", body, {"Content-Type": content_type})


class SdkClientTest(ObservatoryCase):
    def check_sdk(self, protocol):
        out = subprocess.run(["node", SDK_CLIENT, self.server.url, protocol], capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        sent = json.loads(out.stdout)
        self.assertEqual(len(sent), 3)
        trace_id = sent[0]["traceId"]
        got = {s["span_id"]: s for s in self.server.get_json(f"/api/v1/traces/{trace_id}")["spans"]}
        self.assertEqual(len(got), 3)
        kinds = ["INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
        for s in sent:
            g = got[s["spanId"]]
            self.assertEqual(g["name"], s["name"])
            self.assertEqual(g["parent_span_id"], s["parentSpanId"])
            self.assertEqual(g["kind"], kinds[s["kind"]])
            self.assertEqual(g["start_time_unix_nano"], s["startNs"])
            self.assertEqual(g["end_time_unix_nano"], s["endNs"])
            self.assertEqual(g["attributes"], s["attributes"])
            self.assertEqual([(e["name"], e["attributes"]) for e in g["events"]],
                             [(e["name"], e["attributes"]) for e in s["events"]])
            self.assertEqual(g["status"]["code"], ["UNSET", "OK", "ERROR"][s["status"]["code"]])
            self.assertEqual(g["status"]["message"], s["status"].get("message", ""))
            self.assertEqual(g["resource"]["service.name"], f"sdk-{protocol}")
            self.assertEqual(g["scope"], {"name": "sdk-client-test", "version": "1.2.3"})
        # The root is a job: listed, failed, sliced by its resource group.
        jobs = self.server.get_json("/api/v1/jobs?tag=azure.resource_group.name%3Drg-js")["jobs"]
        self.assertEqual([(j["trace_id"], j["name"], j["status"], j["kind"]) for j in jobs],
                         [(trace_id, "nightly-backup", "failed", "backup")])
        self.assertEqual(jobs[0]["error_message"], "upload failed")

    def test_protobuf_exporter(self):
        self.check_sdk("proto")

    def test_json_exporter(self):
        self.check_sdk("http")


class BackupsTest(ObservatoryCase):
    """Real backups, successful, partial and failed, exported to the server."""

    def traced(self, *args, rc=0, prefix=(), binary=BIN):
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": self.server.url}
        return self.run_cli(*args, rc=rc, env=env, prefix=prefix, binary=binary)

    def test_success_partial_and_failure(self):
        src = os.path.join(self.tmp, "src")
        write(f"{src}/a", b"a" * 10000)
        self.init()
        self.traced("backup", "--tag", "azure.resource_group.name=rg-ok", src)
        self.traced("backup", "--tag", "azure.resource_group.name=rg-ok", src)
        # Failed: a wrong password.
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": self.server.url, "BACKSPAN_PASSWORD": "wrong"}
        self.run_cli("backup", "--tag", "azure.resource_group.name=rg-bad", src, rc=1, env=env)
        statuses = ["ok", "ok", "failed"]
        if not IS_ROOT or shutil.which("setpriv"):
            statuses.append("partial")
            self.partial_backup(src)
        jobs = self.server.get_json("/api/v1/jobs?kind=backup")["jobs"]
        self.assertEqual(sorted(j["status"] for j in jobs), sorted(statuses))
        failed = [j for j in jobs if j["status"] == "failed"][0]
        self.assertEqual(failed["error_type"], "wrong_password")
        self.assertEqual(failed["resource_group"], "rg-bad")
        # Filters: by tag, by status, by error text, by duration.
        by_tag = self.server.get_json("/api/v1/jobs?tag=azure.resource_group.name%3Drg-ok")["jobs"]
        self.assertEqual({j["status"] for j in by_tag}, {"ok"})
        self.assertEqual(len(by_tag), 2)
        self.assertEqual(len(self.server.get_json("/api/v1/jobs?status=failed")["jobs"]), 1)
        self.assertEqual(len(self.server.get_json("/api/v1/jobs?q=PASSWORD")["jobs"]), 1)
        self.assertEqual(self.server.get_json("/api/v1/jobs?min_duration=1h")["jobs"], [])
        # The waterfall's data: every phase of the successful backup, children of the root.
        ok = by_tag[0]
        spans = self.server.get_json(f"/api/v1/traces/{ok['trace_id']}")["spans"]
        root = [s for s in spans if s["parent_span_id"] == ""][0]
        self.assertEqual(root["span_id"], ok["job_id"])
        self.assertEqual(sorted(s["name"] for s in spans if s["parent_span_id"] == root["span_id"]
                                and s["name"] in PHASES), sorted(PHASES))
        # Freshness: one source per (host, paths, tags); its last success.
        fresh = self.server.get_json("/api/v1/freshness")["sources"]
        ok_source = [s for s in fresh if s["resource_group"] == "rg-ok"][0]
        self.assertEqual(ok_source["last_status"], "ok")
        self.assertFalse(ok_source["overdue"])
        self.assertEqual(ok_source["jobs"], 2)
        # Trends: grouped by resource group.
        trend = self.server.get_json("/api/v1/trends?metric=job_count&group_by=azure.resource_group.name&kind=backup")
        counts = {s["group"]: sum(s["values"]) for s in trend["series"]}
        self.assertEqual(counts["rg-ok"], 2)
        self.assertEqual(counts["rg-bad"], 1)
        # Prometheus: per-source Velero-style metrics.
        code, headers, body = self.server.request("GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn("text/plain", headers["Content-Type"])
        text = body.decode()
        self.assertRegex(text, r'backspan_backup_success_total\{source="[^"]+",host="[^"]+",resource_group="rg-ok"\} 2')
        self.assertRegex(text, r'backspan_backup_failure_total\{[^}]*resource_group="rg-bad"\} 1')
        self.assertRegex(text, r'backspan_backup_last_successful_timestamp\{[^}]*rg-ok"\} 1\.\d+e\+09|'
                               r'backspan_backup_last_successful_timestamp\{[^}]*rg-ok"\} 1\d{9}')
        self.assertIn('backspan_backup_duration_seconds_bucket{', text)
        self.assertRegex(text, r'backspan_ingest_spans_total\{result="accepted"\} [1-9]')

    def test_a_running_backup_is_visible_while_it_runs(self):
        """The agent's in-progress snapshots: running with progress, then replaced by the finished job."""
        src = os.path.join(self.tmp, "src")
        for i in range(12):
            write(f"{src}/f{i:02}", os.urandom(1000))
        self.init()
        env = dict(self.env, OTEL_EXPORTER_OTLP_ENDPOINT=self.server.url, BACKSPAN_FAULT="slow-read:400")
        proc = subprocess.Popen([FAULT_BIN, "--otlp-progress-interval", "0.3s", "backup", "--tag", "env=slow", src],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            running = []

            def seen_running_with_progress():
                running[:] = self.server.get_json("/api/v1/jobs?status=running")["jobs"]
                if not running:
                    return False
                spans = self.server.get_json(f"/api/v1/traces/{running[0]['trace_id']}")["spans"]
                root = [s for s in spans if s["span_id"] == running[0]["job_id"]][0]
                return root["in_progress"] and root["attributes"].get("backspan.progress.files_done", 0) > 0

            self.assertTrue(self.server.wait_until(seen_running_with_progress, timeout=60),
                            "the running backup never showed up with progress")
            self.assertIsNone(proc.poll(), "the backup ended before it was seen running")
            self.assertEqual(running[0]["kind"], "backup")
            self.assertEqual(running[0]["tags"].get("env"), "slow")
        finally:
            _, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err.decode())
        # Finished: the job is ok, nothing of it is left running, no snapshot remains in the trace.
        self.assertEqual(self.server.get_json("/api/v1/jobs?status=running")["jobs"], [])
        done = self.server.get_json("/api/v1/jobs?tag=env%3Dslow")["jobs"]
        self.assertEqual([j["status"] for j in done], ["ok"])
        spans = self.server.get_json(f"/api/v1/traces/{done[0]['trace_id']}")["spans"]
        self.assertFalse(any(s["in_progress"] for s in spans))

    def partial_backup(self, src):
        write(f"{src}/secret", b"no access", 0o000)
        os.chmod(self.tmp, 0o755)
        binary = os.path.join(self.tmp, "backspan")
        shutil.copy(BIN, binary)
        os.chmod(binary, 0o755)
        prefix = ()
        if IS_ROOT:
            for root, dirs, files in os.walk(self.tmp):
                for n in dirs + files:
                    if "observatory" not in root and n != "observatory":
                        os.lchown(os.path.join(root, n), 65534, 65534)
            os.lchown(self.tmp, 65534, 65534)
            prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        self.traced("backup", "--tag", "azure.resource_group.name=rg-partial", src, rc=3, prefix=prefix,
                    binary=binary)
        os.chmod(f"{src}/secret", 0o600)


class BadInputTest(ObservatoryCase):
    def good(self):
        return pb_request(pb_span(os.urandom(16), os.urandom(8), "ok", NOW, NOW + 1000))

    def assert_rejected(self, code, body, status, message_part, fmt="pb"):
        self.assertEqual(code, status, body[:300])
        message = pb_status_message(body) if fmt == "pb" else json.loads(body)["message"]
        self.assertIn(message_part, message)
        self.assert_serving()
        c, _, _ = self.post_pb(self.good())
        self.assertEqual(c, 200)

    def test_truncated_protobuf(self):
        body = self.good()
        code, _, resp = self.post_pb(body[:-7])
        self.assert_rejected(code, resp, 400, "not a valid protobuf")

    def test_wrong_content_type(self):
        code, _, resp = self.post_pb(self.good(), "text/plain")
        self.assert_rejected(code, resp, 415, "unsupported Content-Type", fmt="json")

    def test_huge_body(self):
        # Declared over the 20 MiB limit: answered 413 before the body is read.
        host, port = self.server.url.rsplit("/", 1)[1].split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                         b"Content-Length: %d\r\n\r\n" % (21 << 20) + b"\x0a" * 65536)
            reply = b""
            while b"larger than the limit" not in reply:
                chunk = sock.recv(65536)  # the body may come in a second segment
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:100])
        self.assertIn(b"larger than the limit", reply)
        self.assert_serving()

    def test_gzip_bomb_and_bad_gzip(self):
        import gzip
        bomb = gzip.compress(b"\0" * (64 << 20))
        code, _, resp = self.server.request("POST", "/v1/traces", bomb, {"Content-Type": "application/x-protobuf",
                                                                          "Content-Encoding": "gzip"})
        self.assert_rejected(code, resp, 413, "larger than")
        code, _, resp = self.server.request("POST", "/v1/traces", b"not gzip", {"Content-Type": "application/x-protobuf",
                                                                                 "Content-Encoding": "gzip"})
        self.assert_rejected(code, resp, 400, "not valid gzip")

    def test_invalid_ids(self):
        cases = [(os.urandom(15), os.urandom(8), "trace_id is not 16 bytes"),
                 (bytes(16), os.urandom(8), "trace_id is all zeros"),
                 (os.urandom(16), os.urandom(9), "span_id is not 8 bytes"),
                 (os.urandom(16), bytes(8), "span_id is all zeros")]
        for trace_id, span_id, why in cases:
            code, _, resp = self.post_pb(pb_request(pb_span(trace_id, span_id, "bad", NOW, NOW + 1)))
            self.assert_rejected(code, resp, 400, why)
        code, _, resp = self.server.post_json_spans(span_request([json_span("zz" * 16, random_hex(8), "x", NOW, NOW)]))
        self.assert_rejected(code, resp, 400, "trace_id", fmt="json")

    def test_end_before_start(self):
        code, _, resp = self.post_pb(pb_request(pb_span(os.urandom(16), os.urandom(8), "backwards", NOW, NOW - 5)))
        self.assert_rejected(code, resp, 400, "end_time_unix_nano is before start_time_unix_nano")

    def test_ten_thousand_attributes(self):
        code, _, resp = self.post_pb(pb_request(pb_span(os.urandom(16), os.urandom(8), "wide", NOW, NOW + 1,
                                                        attrs=10000)))
        self.assert_rejected(code, resp, 400, "10000 attributes")

    def test_not_json(self):
        code, _, resp = self.server.request("POST", "/v1/traces", b"{nope", {"Content-Type": "application/json"})
        self.assert_rejected(code, resp, 400, "not valid JSON", fmt="json")

    def test_partial_success(self):
        good_id = random_hex(16)
        spans = [json_span(good_id, random_hex(8), "fine", NOW, NOW + 10),
                 json_span(random_hex(16), random_hex(8), "backwards", NOW, NOW - 10)]
        code, _, resp = self.server.post_json_spans(span_request(spans))
        self.assertEqual(code, 200)
        partial = json.loads(resp)["partialSuccess"]
        self.assertEqual(partial["rejectedSpans"], "1")
        self.assertIn("end_time_unix_nano is before", partial["errorMessage"])
        self.assertEqual(len(self.server.get_json(f"/api/v1/traces/{good_id}")["spans"]), 1)

    def test_gzip_json_and_duplicates(self):
        trace_id = random_hex(16)
        req = span_request([json_span(trace_id, random_hex(8), "job", NOW, NOW + 10**9)])
        for _ in range(2):  # a retried delivery is stored once
            code, _, _ = self.server.post_json_spans(req, gzipped=True)
            self.assertEqual(code, 200)
        self.assertEqual(len(self.server.get_json(f"/api/v1/traces/{trace_id}")["spans"]), 1)
        self.assertEqual(len(self.server.get_json(f"/api/v1/jobs")["jobs"]), 1)

    def test_bad_api_parameters(self):
        for path in ["/api/v1/jobs?since=yesterday-ish", "/api/v1/jobs?tag=novalue", "/api/v1/jobs?limit=0",
                     "/api/v1/trends?metric=vibes", "/api/v1/trends?bucket=week", "/api/v1/traces/xyz"]:
            code, _, body = self.server.request("GET", path)
            self.assertEqual(code, 400, path)
            self.assertTrue(json.loads(body)["error"])
        code, _, _ = self.server.request("GET", f"/api/v1/traces/{random_hex(16)}")
        self.assertEqual(code, 404)


class DurabilityTest(CliTestCase):
    def test_acknowledged_spans_survive_kill_9(self):
        data = os.path.join(self.tmp, "observatory")
        server = Observatory(data, self.env)
        acked = []

        def send(i):
            trace_id = random_hex(16)
            spans = [json_span(trace_id, random_hex(8), "backup", NOW - i * 10**9, NOW - i * 10**9 + 10**9,
                               attrs={"backspan.job.kind": "backup", "host.name": f"host-{i % 5}"})]
            spans += [json_span(trace_id, random_hex(8), "phase", NOW, NOW + 10, parent=spans[0]["spanId"])
                      for _ in range(50)]
            try:
                code, _, _ = server.post_json_spans(span_request(spans))
            except OSError:
                return None
            return trace_id if code == 200 else None

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, i) for i in range(400)]
            time.sleep(0.5)
            server.proc.kill()  # kill -9, mid-stream
            for f in futures:
                r = f.result()
                if r:
                    acked.append(r)
        server.stop()
        self.assertGreater(len(acked), 0)
        again = Observatory(data, self.env)
        try:
            for trace_id in acked:
                spans = again.get_json(f"/api/v1/traces/{trace_id}")["spans"]
                self.assertEqual(len(spans), 51)
            jobs = again.get_json("/api/v1/jobs?limit=1000")["jobs"]
            self.assertGreaterEqual(len(jobs), len(acked))
            # The aggregates (written in batches) count every stored job exactly once.
            self.assertEqual(sum(s["jobs"] for s in again.get_json("/api/v1/freshness")["sources"]), len(jobs))
            trend = again.get_json("/api/v1/trends?metric=job_count&since=1d&bucket=hour")
            self.assertEqual(sum(v or 0 for s in trend["series"] for v in s["values"]), len(jobs))
            _, _, metrics = again.request("GET", "/metrics")
            counted = sum(float(line.split()[-1]) for line in metrics.decode().splitlines()
                          if line.startswith("backspan_jobs_total{"))
            self.assertEqual(counted, len(jobs))
        finally:
            again.stop()


class RetentionAndLiveTest(CliTestCase):
    def test_retention_deletes_the_oldest(self):
        data = os.path.join(self.tmp, "observatory")
        server = Observatory(data, self.env)
        old_id, new_id = random_hex(16), random_hex(16)
        day = 86400 * 10**9
        for tid, start in [(old_id, NOW - 40 * day), (new_id, NOW - day)]:
            code, _, _ = server.post_json_spans(span_request([json_span(tid, random_hex(8), "backup", start, start + 10**9,
                                                                        attrs={"backspan.job.kind": "backup"})]))
            self.assertEqual(code, 200)
        server.stop()
        server = Observatory(data, self.env, "--retention", "30d")
        try:
            self.assertTrue(server.wait_until(
                lambda: server.request("GET", f"/api/v1/traces/{old_id}")[0] == 404), "old trace not deleted")
            self.assertEqual(len(server.get_json(f"/api/v1/traces/{new_id}")["spans"]), 1)
            self.assertEqual([j["trace_id"] for j in server.get_json("/api/v1/jobs")["jobs"]], [new_id])
        finally:
            server.stop()

    def test_in_progress_updates(self):
        server = Observatory(os.path.join(self.tmp, "observatory"), self.env)
        try:
            tid, sid = random_hex(16), random_hex(8)
            start = NOW - 3 * 3600 * 10**9
            open_root = json_span(tid, sid, "backup", start, 0, attrs={"backspan.job.kind": "backup"})
            code, _, _ = server.post_json_spans(span_request([open_root]), path="/v1/traces/in-progress")
            self.assertEqual(code, 200)
            code, _, _ = server.post_json_spans(span_request([open_root]), path="/v1/traces/in-progress")
            self.assertEqual(code, 200)  # a later snapshot replaces the first
            jobs = server.get_json("/api/v1/jobs?status=running")["jobs"]
            self.assertEqual([j["trace_id"] for j in jobs], [tid])
            spans = server.get_json(f"/api/v1/traces/{tid}")["spans"]
            self.assertEqual([(s["name"], s["in_progress"]) for s in spans], [("backup", True)])
            done = json_span(tid, sid, "backup", start, NOW, attrs={"backspan.job.kind": "backup"})
            code, _, _ = server.post_json_spans(span_request([done]))
            self.assertEqual(code, 200)
            self.assertEqual(server.get_json("/api/v1/jobs?status=running")["jobs"], [])
            spans = server.get_json(f"/api/v1/traces/{tid}")["spans"]
            self.assertEqual([(s["name"], s["in_progress"]) for s in spans], [("backup", False)])
            self.assertEqual(server.get_json("/api/v1/jobs")["jobs"][0]["status"], "ok")
        finally:
            server.stop()

    def test_health_and_restart(self):
        server = Observatory(os.path.join(self.tmp, "observatory"), self.env)
        try:
            for path, body in [("/healthz", b"ok\n"), ("/readyz", b"ready\n")]:
                code, _, got = server.request("GET", path)
                self.assertEqual((code, got), (200, body))
            code, headers, page = server.request("GET", "/")
            self.assertEqual(code, 200)
            self.assertIn(b"assets/uPlot.min.js", page)
            code, _, js = server.request("GET", "/assets/uPlot.min.js")
            self.assertEqual(code, 200)
            self.assertGreater(len(js), 20000)
        finally:
            self.assertEqual(server.stop(signal.SIGINT), 0)


if __name__ == "__main__":
    unittest.main()
