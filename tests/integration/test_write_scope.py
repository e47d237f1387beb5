"""The write rule, with tokens from a real OpenID Connect provider: a caller
may write only where its roles allow, both in what it sends and in what that
would replace. Every ingest path x {own scope, another scope, no scope, a
mixed batch} x {a new item, an item replacing another scope's}; then the
holes found by attacking the observatory, each a regression test."""
import hashlib
import json
import os
import socket
import time
import unittest

from helpers import CliTestCase
from identity import ACCESS, CLIENTS, NOW, Provider
from observatory import Observatory, field, fixed64, json_span, read_varint, span_request

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "azure")
START, END = (NOW - 600) * 10**9, (NOW - 60) * 10**9


def ids(key):
    """A fixed trace and span id for `key`: the same key is the same span."""
    d = hashlib.sha256(key.encode()).hexdigest()
    return d[:32], d[32:48]


def rejected_in(path_name, out):
    """How many items a 200 answer says were rejected."""
    if path_name == "otlp-protobuf":  # ExportTraceServiceResponse.partial_success(1).rejected_spans(1)
        if not out:
            return 0
        _, i = read_varint(out, 0)
        size, i = read_varint(out, i)
        inner = out[i:i + size]
        return read_varint(inner, 1)[0] if inner and inner[0] == 0x08 else 0
    body = json.loads(out)
    if "partialSuccess" in body:
        return int(body["partialSuccess"]["rejectedSpans"])
    return body.get("rejected", 0)


def pb_span(span):
    body = field(1, bytes.fromhex(span["traceId"])) + field(2, bytes.fromhex(span["spanId"]))
    body += field(5, span["name"].encode()) + field(6, 1)
    body += fixed64(7, int(span["startTimeUnixNano"])) + fixed64(8, int(span["endTimeUnixNano"]))
    for a in span["attributes"]:
        body += field(9, field(1, a["key"].encode()) + field(2, field(1, a["value"]["stringValue"].encode())))
    return body


def pb_request(spans):
    return field(1, field(2, field(1, field(1, b"test")) + b"".join(field(2, pb_span(s)) for s in spans)))


def span_for(rg, key, name, open_=False):
    trace_id, span_id = ids(key)
    attrs = {"backspan.job.kind": "backup", "test.key": key}
    if rg:
        attrs["azure.resource_group.name"] = rg
    return json_span(trace_id, span_id, name, START, 0 if open_ else END, attrs=attrs)


def event_for(rg, key, name):
    ev = {"job_id": key, "source": "hook", "type": "completed", "name": name, "start_time": START / 1e9,
          "time": END / 1e9, "tags": {"test.key": key}}
    if rg:
        ev["resource_group"] = rg
    return ev


def job_row_for(rg, key, name):
    with open(os.path.join(FIXTURES, "backup_jobs.json")) as f:
        row = json.load(f)[0]
    row.update(JobUniqueId=key, DatasourceFriendlyName=key, BackupItemFriendlyName=name, ResourceGroupName=rg,
               ResourceId="", JobStartDateTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START / 1e9)))
    return row


def alert_for(rg, key, name):
    with open(os.path.join(FIXTURES, "metric_alert_fired.json")) as f:
        alert = json.load(f)
    e = alert["data"]["essentials"]
    e.update(alertId="/subscriptions/1/providers/Microsoft.AlertsManagement/alerts/" + key, alertRule=f"{name} ({key})",
             targetResourceGroup=rg, alertTargetIDs=[],
             firedDateTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START / 1e9)))
    return alert


# Each ingest path: how to send items (a list), and whether it takes more than one.
PATHS = {
    "otlp-protobuf": ("/v1/traces", "application/x-protobuf", lambda items: pb_request(items), span_for, True),
    "otlp-json": ("/v1/traces", "application/json", lambda items: json.dumps(span_request(items)).encode(), span_for, True),
    "in-progress": ("/v1/traces/in-progress", "application/json", lambda items: json.dumps(span_request(items)).encode(),
                    lambda rg, key, name: span_for(rg, key, name, open_=True), True),
    "events": ("/api/v1/ingest/events", "application/json", lambda items: json.dumps(items).encode(), event_for, True),
    "azure-backup-jobs": ("/api/v1/ingest/azure-backup-jobs", "application/json", lambda items: json.dumps(items).encode(),
                          job_row_for, True),
    "azure-monitor": ("/api/v1/ingest/azure-monitor", "application/json", lambda items: json.dumps(items[0]).encode(),
                      alert_for, False),
}


class WriteScopeTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.provider = Provider(self.tmp)
        access_file = os.path.join(self.tmp, "access.json")
        with open(access_file, "w") as f:
            json.dump(ACCESS, f)
        self.data = os.path.join(self.tmp, "obs")
        self.obs = Observatory(self.data, self.env, "--oidc-issuer", self.provider.issuer, "--access-config", access_file)
        self.tokens = {c: self.provider.token(c) for c in CLIENTS}

    def tearDown(self):
        self.obs.stop()
        self.provider.stop()
        super().tearDown()

    def call(self, method, path, client=None, body=None, content_type="application/json", scheme="Bearer"):
        headers = {"Content-Type": content_type}
        if client:
            headers["Authorization"] = f"{scheme} {self.tokens[client]}"
        code, _, out = self.obs.request(method, path, body, headers)
        return code, out

    def send(self, path_name, client, items):
        path, content_type, encode, _, _ = PATHS[path_name]
        return self.call("POST", path, client, encode(items), content_type)

    def visible(self, client, key):
        """The jobs `client` sees that carry `key`, as (name, resource group, status)."""
        code, out = self.call("GET", "/api/v1/jobs?limit=1000", client)
        self.assertEqual(code, 200, out)
        return [(j["name"], j["resource_group"], j["status"]) for j in json.loads(out)["jobs"] if key in json.dumps(j)]

    def audit(self, *args):
        p = self.run_cli("--json", "audit", "list", "--data", self.data, "--limit", "10000", *args)
        return [json.loads(line) for line in p.stdout.decode().splitlines()]

    def test_write_matrix(self):
        rejected_total = 0
        for path_name, (_, _, _, make, batches) in PATHS.items():
            with self.subTest(path=path_name):
                k = lambda what: f"{path_name}-{what}"  # noqa: E731
                # A new item in the caller's scope; in another; in none.
                code, out = self.send(path_name, "agent-prod", [make("rg-prod", k("own"), k("own"))])
                self.assertEqual(code, 200, out)
                self.assertTrue(self.obs.wait_until(lambda: self.visible("reader-prod", k("own"))), path_name)
                for where, rg in (("other", "rg-dev"), ("none", "")):
                    code, out = self.send(path_name, "agent-prod", [make(rg, k(where), k(where))])
                    self.assertEqual(code, 400, (where, out))
                    self.assertIn(b"outside the scopes the caller may write", out)
                    self.assertEqual(self.visible("admin-bot", k(where)), [], where)
                    rejected_total += 1
                if batches:
                    # A batch mixing both: a partial success.
                    code, out = self.send(path_name, "agent-prod", [make("rg-prod", k("mixed-ok"), k("mixed-ok")),
                                                                   make("rg-dev", k("mixed-bad"), k("mixed-bad"))])
                    self.assertEqual(code, 200, out)
                    self.assertEqual(rejected_in(path_name, out), 1, out)
                    self.assertTrue(self.obs.wait_until(lambda: self.visible("admin-bot", k("mixed-ok"))))
                    self.assertEqual(self.visible("admin-bot", k("mixed-bad")), [])
                    rejected_total += 1
                # Replacing: rg-dev's item, re-sent by rg-prod's agent as its own.
                code, out = self.send(path_name, "agent-dev", [make("rg-dev", k("victim"), "dev-original")])
                self.assertEqual(code, 200, out)
                self.assertTrue(self.obs.wait_until(lambda: self.visible("agent-dev", k("victim"))))
                before = self.visible("agent-dev", k("victim"))
                code, out = self.send(path_name, "agent-prod", [make("rg-prod", k("victim"), "taken-over")])
                self.assertEqual(code, 400, out)
                self.assertIn(b"outside the scopes the caller may write", out)
                rejected_total += 1
                self.assertEqual(self.visible("agent-dev", k("victim")), before)
                self.assertEqual(self.visible("reader-prod", k("victim")), [])
                if batches:
                    # Mixed with a good item, the takeover is the one rejected.
                    code, out = self.send(path_name, "agent-prod", [make("rg-prod", k("victim"), "taken-over"),
                                                                   make("rg-prod", k("beside"), k("beside"))])
                    self.assertEqual(code, 200, out)
                    self.assertEqual(self.visible("agent-dev", k("victim")), before)
                    rejected_total += 1
                # Replacing one's own item is a write like any other.
                code, out = self.send(path_name, "agent-prod", [make("rg-prod", k("own"), k("own") + "-renamed")])
                self.assertEqual(code, 200, out)
                # An unrestricted writer may replace anything.
                code, out = self.send(path_name, "admin-bot", [make("rg-dev", k("victim"), "admin-edit")])
                self.assertEqual(code, 200, out)
        # Each refusal is audited as a denial, with who asked.
        denials = [r for r in self.audit("--result", "denied", "--subject", "agent-prod") if r["action"].startswith("ingest")]
        self.assertEqual(len(denials), rejected_total)

    def test_takeover_through_job_events(self):
        # Found: operator-b's job, re-posted by agent-a in rg-a, moved into rg-a as failed.
        started = {"job_id": "sql-nightly", "source": "hook", "type": "started", "resource_group": "rg-dev", "host": "sql-b9"}
        code, out = self.call("POST", "/api/v1/ingest/events", "agent-dev", json.dumps(started).encode())
        self.assertEqual(code, 200, out)
        takeover = {"job_id": "sql-nightly", "source": "hook", "type": "failed", "resource_group": "rg-prod",
                    "message": "taken over"}
        code, out = self.call("POST", "/api/v1/ingest/events", "agent-prod", json.dumps(takeover).encode())
        self.assertEqual(code, 400, out)
        self.assertIn("outside the scopes the caller may write", json.loads(out)["error"])
        self.assertEqual(self.visible("agent-dev", "sql-b9"), [("backup", "rg-dev", "running")])
        self.assertEqual(self.visible("reader-prod", "sql-b9"), [])

    def test_replacing_a_span_over_otlp(self):
        # Found: re-sending another scope's span (same ids) with one's own resource group replaced it.
        victim = span_for("rg-dev", "otlp-victim", "dev-backup")
        self.assertEqual(self.call("POST", "/v1/traces", "agent-dev", json.dumps(span_request([victim])).encode())[0], 200)
        forged = dict(victim, name="forged", attributes=[{"key": "azure.resource_group.name", "value": {"stringValue": "rg-prod"}},
                                                         {"key": "backspan.job.kind", "value": {"stringValue": "backup"}}])
        code, _ = self.call("POST", "/v1/traces", "agent-prod", json.dumps(span_request([forged])).encode())
        self.assertEqual(code, 400)
        code, out = self.call("GET", f"/api/v1/traces/{victim['traceId']}", "agent-dev")
        self.assertEqual(code, 200)
        self.assertEqual([s["name"] for s in json.loads(out)["spans"]], ["dev-backup"])
        self.assertEqual(self.call("GET", f"/api/v1/traces/{victim['traceId']}", "reader-prod")[0], 404)
        # Nor may a finished span retire another scope's running one, or a
        # new snapshot replace it.
        live = span_for("rg-dev", "live-victim", "dev-running", open_=True)
        self.assertEqual(self.call("POST", "/v1/traces/in-progress", "agent-dev", json.dumps(span_request([live])).encode())[0], 200)
        for path, end in (("/v1/traces", END), ("/v1/traces/in-progress", 0)):
            forged = json_span(live["traceId"], live["spanId"], "forged", START, end,
                               attrs={"azure.resource_group.name": "rg-prod", "backspan.job.kind": "backup"})
            self.assertEqual(self.call("POST", path, "agent-prod", json.dumps(span_request([forged])).encode())[0], 400, path)
        self.assertEqual(self.visible("agent-dev", "live-victim"), [("dev-running", "rg-dev", "running")])

    def test_audit_spans_cannot_be_forged(self):
        # Only who may read the audit log may write spans that look like its records.
        forged_event = {"job_id": "fake-audit", "source": "hook", "type": "completed", "kind": "audit",
                        "resource_group": "rg-prod", "start_time": START / 1e9, "time": END / 1e9}
        code, out = self.call("POST", "/api/v1/ingest/events", "agent-prod", json.dumps(forged_event).encode())
        self.assertEqual(code, 400, out)
        span = span_for("rg-prod", "fake-audit-span", "audit 2026-11-24")
        span["attributes"] = [a for a in span["attributes"] if a["key"] != "backspan.job.kind"] + [
            {"key": "backspan.job.kind", "value": {"stringValue": "audit"}},
            {"key": "backspan.audit.result", "value": {"stringValue": "allowed"}}]
        code, out = self.call("POST", "/v1/traces", "agent-prod", json.dumps(span_request([span])).encode())
        self.assertEqual(code, 400, out)
        audit_jobs = json.loads(self.call("GET", "/api/v1/jobs?kind=audit&limit=1000", "admin-bot")[1])["jobs"]
        self.assertFalse([j for j in audit_jobs if "fake" in json.dumps(j)])

    def test_metrics_count_only_the_callers_scope(self):
        for client, rg, key in (("agent-prod", "rg-prod", "m-prod"), ("agent-dev", "rg-dev", "m-dev1"), ("agent-dev", "rg-dev", "m-dev2")):
            live = span_for(rg, key, key, open_=True)
            self.assertEqual(self.call("POST", "/v1/traces/in-progress", client, json.dumps(span_request([live])).encode())[0], 200)
        def metric(client, name):
            code, out = self.call("GET", "/metrics", client)
            self.assertEqual(code, 200)
            values = [float(l.split()[-1]) for l in out.decode().splitlines() if l.startswith(name + " ") or l.startswith(name + "{")]
            return values
        self.assertEqual(metric("reader-prod", "backspan_jobs_running"), [1.0])
        self.assertEqual(metric("reader-prod", "backspan_store_jobs"), [1.0])
        self.assertEqual(metric("agent-dev", "backspan_jobs_running"), [2.0])
        # The server's own counters count every scope's requests: not for a scoped reader.
        for name in ("backspan_ingest_requests_total", "backspan_ingest_spans_total", "backspan_store_size_bytes",
                     "backspan_http_connections_open"):
            self.assertEqual(metric("reader-prod", name), [], name)
            self.assertTrue(metric("sre-bot", name), name)
        self.assertEqual(metric("sre-bot", "backspan_jobs_running"), [3.0])

    def test_progress_before_start_is_a_rejected_item(self):
        # Found: a progress event for a job that never started answered 503 (retried forever) for the whole batch.
        events = [{"job_id": "never-started", "source": "hook", "type": "progress", "resource_group": "rg-prod",
                   "progress": {"files_done": 3}},
                  {"job_id": "fine", "source": "hook", "type": "started", "resource_group": "rg-prod", "host": "fine-host"}]
        code, out = self.call("POST", "/api/v1/ingest/events", "agent-prod", json.dumps(events[:1]).encode())
        self.assertEqual(code, 400, out)
        self.assertIn("has not started", json.loads(out)["error"])
        code, out = self.call("POST", "/api/v1/ingest/events", "agent-prod", json.dumps(events).encode())
        self.assertEqual(code, 200, out)
        self.assertEqual((json.loads(out)["stored"], json.loads(out)["rejected"]), (1, 1))
        self.assertTrue(self.visible("agent-prod", "fine-host"))

    def test_unencoded_tag_filter(self):
        # Found: ?tag=azure.resource_group.name=rg-x, as curl users write it, was a 400.
        self.assertEqual(self.call("POST", "/v1/traces", "agent-prod",
                                   json.dumps(span_request([span_for("rg-prod", "tagged", "tagged")])).encode())[0], 200)
        host, port = self.obs.url.rsplit("/", 1)[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /api/v1/jobs?tag=azure.resource_group.name=rg-prod HTTP/1.1\r\nHost: x\r\n"
                         b"Authorization: Bearer " + self.tokens["reader-prod"].encode() + b"\r\nConnection: close\r\n\r\n")
            reply = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:300])
        self.assertIn(b'"tagged"', reply)

    def test_reads_outside_scope_are_audited_as_denials(self):
        victim = span_for("rg-dev", "audited", "dev-only")
        self.assertEqual(self.call("POST", "/v1/traces", "agent-dev", json.dumps(span_request([victim])).encode())[0], 200)
        self.assertEqual(self.call("GET", f"/api/v1/traces/{victim['traceId']}", "reader-prod")[0], 404)
        records = [r for r in self.audit("--subject", "reader-prod", "--action", "traces.get")]
        self.assertEqual([r["result"] for r in records], ["denied"])

    def test_bearer_scheme_in_any_case(self):
        # Found: "bearer" in lower case was refused; RFC 7235 makes the scheme case-insensitive.
        for scheme in ("bearer", "BEARER", "Bearer"):
            self.assertEqual(self.call("GET", "/api/v1/jobs", "reader-prod", scheme=scheme)[0], 200, scheme)

    def test_authentication_comes_first(self):
        # Found: a wrong content type without a token answered 415, unaudited.
        code, _, out = self.obs.request("POST", "/v1/traces", b"x", {"Content-Type": "text/plain"})
        self.assertEqual(code, 401, out)
        code, _, out = self.obs.request("POST", "/api/v1/ingest/events", b"x" * (2 << 20), {"Content-Type": "application/json"})
        self.assertEqual(code, 401, out)  # over the endpoint's size limit, still 401 first
        denied = [r for r in self.audit("--result", "denied") if r["action"] in ("ingest.otlp", "ingest.external")]
        self.assertEqual(len(denied), 2)


if __name__ == "__main__":
    unittest.main()
