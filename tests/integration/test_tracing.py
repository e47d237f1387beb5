"""Every job is a trace: a real backup's spans exported over OTLP/HTTP to a
receiver that decodes them with an independent implementation (the
OpenTelemetry JS protobuf definitions, tests/otlp/receiver.mjs); retries,
Retry-After, a dead endpoint, TRACEPARENT, redaction, and the local job
history with `jobs` and `trace`."""
import json
import os
import socket
import subprocess
import time
import unittest

from helpers import FAULT_BIN, CliTestCase, write

RECEIVER = os.path.join(os.path.dirname(__file__), "../otlp/receiver.mjs")
PHASES = ["open repository", "lock", "load index", "find parent", "scan", "process files",
          "write trees", "write index", "save snapshot", "unlock"]


def make_socket(path):
    """A Unix socket file: backups skip it with a notice."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()


class Receiver:
    """The JS receiver on a free loopback port; requests() reads what it got."""

    def __init__(self, tmp, *args):
        self.out = os.path.join(tmp, f"received-{time.monotonic_ns()}.jsonl")
        open(self.out, "w").close()
        self.proc = subprocess.Popen(["node", RECEIVER, "--out", self.out, *args], stdout=subprocess.PIPE)
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.proc.stdout.close()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def all_requests(self):
        with open(self.out) as f:
            return [json.loads(l) for l in f if l.strip()]

    def requests(self):
        """The trace exports (requests to other paths are answered 404)."""
        return [r for r in self.all_requests() if not r.get("ignored")]

    def spans(self):
        return [s for r in self.requests() if r["status"] == 200 for s in r["decoded"]["spans"]]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_receiver(case, *args):
    """A Receiver for the test case `case`, closed when it ends."""
    r = Receiver(case.tmp, *args)
    case.addCleanup(r.close)
    return r


class TracingCase(CliTestCase):
    def setUp(self):
        super().setUp()
        self.run_cli("init", "-q")
        self.src = os.path.join(self.tmp, "src")
        write(f"{self.src}/docs/readme.txt", b"hello\n" * 100)
        write(f"{self.src}/big.bin", os.urandom(3 << 20))

    def receiver(self, *args):
        return start_receiver(self, *args)

    def otel_env(self, r, **extra):
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": r.endpoint, "OTEL_EXPORTER_OTLP_TIMEOUT": "10000"}
        env.update(extra)
        return env

    def backup(self, env, *extra, rc=0):
        p = self.run_cli("--json", "backup", *extra, self.src, env=env, rc=rc)
        return json.loads(p.stdout.splitlines()[-1]), p


class ExportTest(TracingCase):
    def check_backup_trace(self, r, summary):
        spans = r.spans()
        self.assertTrue(spans, r.requests())
        by_id = {s["spanId"]: s for s in spans}
        roots = [s for s in spans if not s["parentSpanId"]]
        self.assertEqual(len(roots), 1, [s["name"] for s in roots])
        root = roots[0]
        self.assertEqual({s["traceId"] for s in spans}, {root["traceId"]})
        for s in spans:
            self.assertEqual(s["scope"], "backspan")
            if s is not root:
                self.assertIn(s["parentSpanId"], by_id, f"{s['name']} has a parent outside the trace")
            self.assertLessEqual(int(s["start"]), int(s["end"]))
        names = [s["name"] for s in spans if s["parentSpanId"] == root["spanId"]]
        for phase in PHASES:
            self.assertIn(phase, names)
        a = root["attributes"]
        self.assertEqual(root["name"], "backup")
        self.assertEqual(root["status"]["code"], 1)  # OK
        self.assertEqual(a["backspan.snapshot.id"], summary["snapshot_id"])
        self.assertEqual(a["backspan.files.new"], {"int": str(summary["files_new"])})
        self.assertEqual(a["backspan.bytes.added"], {"int": str(summary["bytes_added"])})
        self.assertEqual(a["backspan.bytes.stored"], {"int": str(summary["bytes_stored"])})
        self.assertEqual(a["backspan.bytes.new"], {"int": str(3 * 1024 * 1024 + 600)})
        self.assertEqual(a["backspan.bytes.unmodified"], {"int": "0"})
        self.assertEqual(a["cicd.pipeline.task.run.result"], "success")
        self.assertEqual(a["azure.resource_group.name"], "rg-prod")
        self.assertEqual(a["backspan.tags"], ["azure.resource_group.name=rg-prod", "env=prod"])
        self.assertGreater(a["backspan.dedup.ratio"], 0)
        self.assertNotIn("error.type", a)
        self.assertEqual(a["backspan.repository"], self.repo)
        resource = r.requests()[0]["decoded"]["resources"][0]
        self.assertEqual(resource["service.name"], "backspan")
        self.assertEqual(resource["azure.resource_group.name"], "rg-prod")
        self.assertIn("host.name", resource)
        # The snapshot and the trace point at each other.
        self.assertEqual(summary["trace_id"], root["traceId"])
        snaps = json.loads(self.run_cli("--json", "snapshots").stdout)
        self.assertEqual(snaps[-1]["trace_id"], root["traceId"])
        return spans, root

    def test_protobuf_export_of_a_real_backup(self):
        r = self.receiver()
        env = self.otel_env(r, OTEL_EXPORTER_OTLP_HEADERS="lightstep-access-token=abc%20123,x-team=sre")
        summary, p = self.backup(env, "--tag", "azure.resource_group.name=rg-prod", "--tag", "env=prod")
        self.assertNotIn("warning", p.stderr.decode())
        spans, root = self.check_backup_trace(r, summary)
        req = r.requests()[0]
        self.assertEqual(req["url"], "/v1/traces")
        self.assertEqual(req["headers"]["content-type"], "application/x-protobuf")
        self.assertEqual(req["headers"]["lightstep-access-token"], "abc 123")
        self.assertEqual(req["headers"]["x-team"], "sre")

    def test_json_export_with_gzip(self):
        r = self.receiver()
        env = self.otel_env(r, OTEL_EXPORTER_OTLP_PROTOCOL="http/json", OTEL_EXPORTER_OTLP_COMPRESSION="gzip")
        summary, _ = self.backup(env, "--tag", "azure.resource_group.name=rg-prod", "--tag", "env=prod")
        for req in r.requests():
            self.assertEqual(req["headers"]["content-type"], "application/json")
            self.assertEqual(req["headers"]["content-encoding"], "gzip")
            self.assertEqual(req["problems"], [])
        self.check_backup_trace(r, summary)

    def test_a_collector_receives_only_finished_spans(self):
        """A long job asks once for the in-progress extension; after the 404 it sends only finished spans."""
        r = self.receiver()
        env = self.otel_env(r, BACKSPAN_FAULT="slow-read:300")
        p = self.run_cli("--json", "--otlp-progress-interval", "0.2s", "backup", "--tag",
                         "azure.resource_group.name=rg-prod", "--tag", "env=prod", self.src, env=env, binary=FAULT_BIN)
        summary = json.loads(p.stdout.splitlines()[-1])
        self.assertNotIn("warning", p.stderr.decode())
        asked = [q for q in r.all_requests() if q.get("ignored")]
        self.assertEqual([(q["url"], q["status"]) for q in asked], [("/v1/traces/in-progress", 404)])
        spans, _ = self.check_backup_trace(r, summary)
        self.assertTrue(all(int(s["end"]) > 0 for s in spans))

    def test_sdk_disabled_means_no_export(self):
        r = self.receiver()
        self.backup(self.otel_env(r, OTEL_SDK_DISABLED="true"))
        self.assertEqual(r.requests(), [])
        self.assertEqual(json.loads(self.run_cli("--json", "jobs").stdout)[0]["kind"], "backup")

    def test_traces_endpoint_and_flags(self):
        r = self.receiver("--traces-path", "/custom/path")
        env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": r.endpoint + "/custom/path"}
        self.backup(env)
        self.assertEqual({q["url"] for q in r.requests()}, {"/custom/path"})
        r2 = self.receiver()
        self.run_cli("--otlp-endpoint", r2.endpoint, "--otlp-protocol", "http/json", "--otlp-header", "k=v",
                     "check", "-q")
        spans = r2.spans()
        self.assertEqual([s["name"] for s in spans if not s["parentSpanId"]], ["check"])
        self.assertEqual(r2.requests()[0]["headers"]["k"], "v")

    def test_large_files_get_spans_and_file_issues_become_events(self):
        make_socket(f"{self.src}/a-socket")
        r = self.receiver()
        self.backup(self.otel_env(r))
        spans = r.spans()
        process = [s for s in spans if s["name"] == "process files"][0]
        # The 3 MiB file is under the 64 MiB threshold: no span for it.
        self.assertEqual([s for s in spans if s["name"] == "large file"], [])
        events = [e for s in spans for e in s["events"] if e["name"].startswith("backspan.file_")]
        self.assertTrue(any(e["attributes"]["file.path"].endswith("a-socket") for e in events), events)
        self.assertLessEqual(len(spans), 512)
        self.assertTrue(process)

    def test_a_failed_job_is_an_error_span(self):
        r = self.receiver()
        p = self.run_cli("backup", os.path.join(self.tmp, "missing"), env=self.otel_env(r), rc=1)
        self.assertIn("Fatal", p.stderr.decode())
        root = [s for s in r.spans() if not s["parentSpanId"]][0]
        self.assertEqual(root["status"]["code"], 2)
        self.assertEqual(root["attributes"]["error.type"], "not_found")
        self.assertEqual(root["attributes"]["cicd.pipeline.task.run.result"], "failure")
        self.assertTrue(any(e["name"] == "exception" for e in root["events"]))

    def test_wrong_password_is_recorded(self):
        r = self.receiver()
        self.run_cli("check", env=dict(self.otel_env(r), BACKSPAN_PASSWORD="wrong"), rc=1)
        spans = r.spans()
        root = [s for s in spans if not s["parentSpanId"]][0]
        self.assertEqual(root["attributes"]["error.type"], "wrong_password")
        opened = [s for s in spans if s["name"] == "open repository"][0]
        self.assertEqual(opened["status"]["code"], 2)


class PropagationTest(TracingCase):
    def test_traceparent_makes_the_job_a_child(self):
        r = self.receiver()
        trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        env = self.otel_env(r, TRACEPARENT=f"00-{trace_id}-{parent}-01", TRACESTATE="vendor=x")
        self.backup(env)
        spans = r.spans()
        self.assertEqual({s["traceId"] for s in spans}, {trace_id})
        root = [s for s in spans if s["name"] == "backup"][0]
        self.assertEqual(root["parentSpanId"], parent)
        self.assertEqual(root["traceState"], "vendor=x")

    def test_child_processes_get_traceparent_of_the_current_span(self):
        r = self.receiver()
        seen = os.path.join(self.tmp, "seen-traceparent")
        command = f"echo \"$TRACEPARENT\" > {seen}; echo 'correct horse'"
        env = dict(self.otel_env(r), BACKSPAN_PASSWORD="", BACKSPAN_PASSWORD_COMMAND=command)
        self.run_cli("check", "-q", env=env)
        with open(seen) as f:
            version, trace_id, span_id, flags = f.read().strip().split("-")
        opened = [s for s in r.spans() if s["name"] == "open repository"][0]
        self.assertEqual((version, trace_id, span_id, flags), ("00", opened["traceId"], opened["spanId"], "01"))
        self.run_cli("check", "-q", env=dict(env, BACKSPAN_PASSWORD_COMMAND="exit 4"), rc=1)

    def test_a_malformed_traceparent_is_ignored_with_a_warning(self):
        r = self.receiver()
        p = self.run_cli("check", env=self.otel_env(r, TRACEPARENT="00-zz-11-01"))
        self.assertIn("ignoring TRACEPARENT", p.stderr.decode())
        root = [s for s in r.spans() if s["name"] == "check"][0]
        self.assertEqual(root["parentSpanId"], "")


class RetryTest(TracingCase):
    def test_retries_503_then_succeeds(self):
        r = self.receiver("--fail", "2", "--fail-status", "503")
        _, p = self.backup(self.otel_env(r))
        statuses = [q["status"] for q in r.requests()]
        self.assertEqual(statuses[:3], [503, 503, 200])
        self.assertNotIn("could not be exported", p.stderr.decode())
        self.assertIn("backup", [s["name"] for s in r.spans()])

    def test_honours_retry_after(self):
        r = self.receiver("--fail", "1", "--fail-status", "429", "--retry-after", "2")
        self.backup(self.otel_env(r))
        times = [q["time"] for q in r.requests()]
        self.assertGreaterEqual(len(times), 2)
        self.assertGreaterEqual(times[1] - times[0], 1900)

    def test_no_retry_on_400(self):
        r = self.receiver("--status", "400")
        _, p = self.backup(self.otel_env(r))
        self.assertEqual(len(r.requests()), 1)
        self.assertIn("could not be exported", p.stderr.decode())
        self.assertIn("HTTP 400", p.stderr.decode())

    def test_partial_success_is_logged_not_retried(self):
        r = self.receiver("--partial", "3")
        p = self.run_cli("check", env=self.otel_env(r))
        self.assertEqual(len(r.requests()), 1)
        self.assertIn("rejected 3", p.stderr.decode())

    def test_dead_endpoint_the_job_still_succeeds(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again before the job runs: nothing listens
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_EXPORTER_OTLP_TIMEOUT": "1500"}
        start = time.monotonic()
        summary, p = self.backup(env)
        elapsed = time.monotonic() - start
        self.assertTrue(summary["snapshot_id"])
        err = [json.loads(l) for l in p.stderr.decode().splitlines() if l.startswith("{")]
        warnings = [w for w in err if w.get("message_type") == "warning"]
        self.assertTrue(any("spans could not be exported" in w["message"] for w in warnings), err)
        self.assertLess(elapsed, 15)
        # The local history has the job all the same.
        jobs = json.loads(self.run_cli("--json", "jobs").stdout)
        self.assertEqual(jobs[0]["snapshot_id"], summary["snapshot_id"])


class RedactionTest(TracingCase):
    def test_paths_hashed_and_credentials_removed(self):
        secret_dir = os.path.join(self.src, "alice@example.com")
        os.makedirs(secret_dir)
        make_socket(os.path.join(secret_dir, "sock"))
        r = self.receiver()
        env = self.otel_env(r, OTEL_RESOURCE_ATTRIBUTES="deployment.environment=prod,db.url=https://u:hunter2@db.example/x?sig=abc")
        self.backup(env, "--trace-paths", "hash", "--trace-redact", "host.name=hash",
                    "--tag", "blob=https://acct.blob.core.windows.net/c?sv=1&sig=SECRETSIG")
        text = json.dumps(r.requests())
        self.assertNotIn("SECRETSIG", text)
        self.assertNotIn("alice@example.com", text)
        self.assertNotIn(self.src, text.replace("\\/", "/"))
        spans = r.spans()
        root = [s for s in spans if s["name"] == "backup"][0]
        self.assertTrue(all(p.startswith("hmac:") for p in root["attributes"]["backspan.paths"]))
        self.assertTrue(root["attributes"]["host.name"].startswith("hmac:"))
        self.assertIn("sig=REDACTED", root["attributes"]["blob"])
        events = [e for s in spans for e in s["events"] if e["name"].startswith("backspan.file_")]
        self.assertTrue(events and all(e["attributes"]["file.path"].startswith("hmac:") for e in events))
        # Hashing is keyed but stable: the same path hashes alike in the next job.
        self.backup(env, "--trace-paths", "hash")
        roots = [s for s in r.spans() if s["name"] == "backup"]
        self.assertEqual(roots[0]["attributes"]["backspan.paths"], roots[1]["attributes"]["backspan.paths"])

    def test_paths_dropped(self):
        make_socket(f"{self.src}/a-socket")
        r = self.receiver()
        self.backup(self.otel_env(r), "--trace-paths", "drop")
        spans = r.spans()
        root = [s for s in spans if s["name"] == "backup"][0]
        self.assertNotIn("backspan.paths", root["attributes"])
        for e in (e for s in spans for e in s["events"]):
            self.assertNotIn("file.path", e["attributes"])


class HistoryTest(TracingCase):
    def test_jobs_and_trace_without_a_collector(self):
        summary, _ = self.backup({}, "--tag", "env=prod")
        self.run_cli("backup", os.path.join(self.tmp, "missing"), rc=1)
        self.run_cli("check", "-q")
        jobs = json.loads(self.run_cli("--json", "jobs").stdout)
        self.assertEqual([j["kind"] for j in jobs], ["check", "backup", "backup", "init"])
        ok_backup = jobs[2]
        self.assertEqual(ok_backup["snapshot_id"], summary["snapshot_id"])
        self.assertEqual(ok_backup["trace_id"], summary["trace_id"])
        self.assertEqual(ok_backup["tags"], ["env=prod"])
        self.assertEqual(jobs[1]["status"], "failed")
        self.assertEqual(jobs[1]["error_type"], "not_found")
        self.assertEqual([j["kind"] for j in json.loads(self.run_cli("--json", "jobs", "--tag", "env=prod").stdout)],
                         ["backup"])
        self.assertEqual([j["kind"] for j in json.loads(self.run_cli("--json", "jobs", "--status", "error").stdout)],
                         ["backup"])
        self.assertEqual(json.loads(self.run_cli("--json", "jobs", "--since", "1h").stdout)[0]["kind"], "check")
        # The waterfall, by job id and by trace id.
        out = self.run_cli("trace", ok_backup["job_id"], "--width", "40").stdout.decode()
        for phase in PHASES:
            self.assertIn(phase, out)
        self.assertIn("\u2588", out)
        doc = json.loads(self.run_cli("--json", "trace", summary["trace_id"]).stdout)
        self.assertEqual(doc["trace_id"], summary["trace_id"])
        self.assertIn("process files", [s["name"] for s in doc["spans"]])
        failed = self.run_cli("trace", jobs[1]["job_id"][:8]).stdout.decode()
        self.assertIn("ERROR", failed)
        p = self.run_cli("trace", "ffffffffffff", rc=1)
        self.assertIn("no job or trace", p.stderr.decode())

    def test_no_history_flag(self):
        self.run_cli("--no-history", "check", "-q")
        jobs = json.loads(self.run_cli("--json", "jobs").stdout)
        self.assertEqual([j["kind"] for j in jobs], ["init"])


if __name__ == "__main__":
    unittest.main()
