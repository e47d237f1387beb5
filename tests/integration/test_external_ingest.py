"""Backup events from other systems: Azure Monitor alerts in the common alert
schema (payloads in the shapes of Microsoft's documented examples), Azure
Backup job records as Log Analytics exports them, and the generic job-events
API. Each becomes spans the API, trends and metrics see; duplicates are
stored once; bad input gets a 4xx and the server keeps serving."""
import gzip
import json
import os
import socket
import time
import unittest

from observatory import Observatory, ObservatoryCase

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "azure")
BACKUP_FAILURE_JOB = "3f2a1b0c-9d8e-4f7a-b6c5-d4e3f2a1b0c9"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


class ExternalIngestTest(ObservatoryCase):
    def serve(self, *flags, env=None):
        e = dict(self.env)
        e.update(env or {})
        self.obs = Observatory(os.path.join(self.tmp, "obs"), e, *flags)
        return self.obs

    def post(self, path, body, status=200, headers=None):
        code, _, out = self.obs.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})
        self.assertEqual(code, status, out[:500])
        return json.loads(out) if out else {}

    def post_huge(self, path, size):
        """A body of `size` bytes declared up front: the server answers 413
        before reading it, so only its start is sent."""
        host, port = self.obs.url.rsplit("/", 1)[1].split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % (path.encode(), size) + b" " * 65536)
            reply = b""
            while b"larger than" not in reply:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:200])
        self.assertIn(b"larger than", reply)

    def alert(self, name, status=200):
        return self.post("/api/v1/ingest/azure-monitor", fixture(name), status)

    def jobs(self, query=""):
        return self.obs.get_json("/api/v1/jobs?limit=1000" + query)["jobs"]

    def spans(self, trace_id):
        return self.obs.get_json(f"/api/v1/traces/{trace_id}")["spans"]

    def job_counts(self):
        _, _, text = self.obs.request("GET", "/metrics")
        counts = {}
        for line in text.decode().splitlines():
            if line.startswith("backspan_jobs_total{"):
                labels, value = line.rsplit(" ", 1)
                counts[labels[len("backspan_jobs_total"):]] = int(float(value))
        return counts

    def test_alert_shapes_fired_and_resolved(self):
        self.serve()
        for name in ["metric_alert_fired.json", "log_alert_fired.json", "activity_log_alert_fired.json"]:
            self.assertEqual(self.alert(name)["stored"], 1, name)
        alerts = {j["name"]: j for j in self.jobs("&kind=alert")}
        self.assertEqual(set(alerts), {"backup-vm-cpu-high", "backup-jobs-failed-last-24h", "vault-backup-policy-changed"})
        metric = alerts["backup-vm-cpu-high"]
        self.assertEqual(metric["status"], "failed")  # Sev2, fired
        self.assertEqual(metric["resource_group"], "rg-backup-prod")
        self.assertEqual(metric["duration_ms"], 0)
        # Informational (Sev4) activity: an alert, not a failure.
        self.assertEqual(alerts["vault-backup-policy-changed"]["status"], "ok")

        span = self.spans(metric["trace_id"])[0]
        a = span["attributes"]
        self.assertEqual(a["cloud.provider"], "azure")
        self.assertEqual(a["azure.resource_group.name"], "rg-backup-prod")
        self.assertTrue(a["cloud.resource_id"].endswith("/virtualmachines/vm-backup-01"))
        self.assertEqual(a["cloud.account.id"], "11111111-2222-3333-4444-555555555555")
        self.assertEqual(a["azure.monitor.alert.severity"], "Sev2")
        self.assertEqual(a["azure.monitor.alert.condition"], "Fired")
        self.assertEqual(a["azure.monitor.metric.name"], "Percentage CPU")
        self.assertEqual(a["azure.monitor.metric.value"], 97.25)
        self.assertEqual(a["azure.monitor.custom.team"], "storage-sre")
        self.assertEqual(span["status"]["code"], "ERROR")
        self.assertEqual([e["name"] for e in span["events"]], ["alert fired"])
        log = self.spans(alerts["backup-jobs-failed-last-24h"]["trace_id"])[0]["attributes"]
        self.assertIn("AddonAzureBackupJobs", log["azure.monitor.log.query"])
        activity = self.spans(alerts["vault-backup-policy-changed"]["trace_id"])[0]["attributes"]
        self.assertEqual(activity["azure.activity_log.operation"], "Microsoft.RecoveryServices/vaults/backupPolicies/write")
        self.assertNotIn("azure.monitor.context.claims", activity)  # the caller's token claims stay out

        # Resolved closes the same alert: one job, fired to resolved.
        self.assertEqual(self.alert("metric_alert_resolved.json")["stored"], 1)
        metric = [j for j in self.jobs("&kind=alert") if j["name"] == "backup-vm-cpu-high"]
        self.assertEqual(len(metric), 1)
        self.assertAlmostEqual(metric[0]["duration_ms"], (41 * 60 + 52.5 - 14 * 60 - 7.1234567) * 1000, delta=1)
        span = self.spans(metric[0]["trace_id"])
        self.assertEqual(len(span), 1)
        self.assertEqual(span[0]["attributes"]["azure.monitor.alert.condition"], "Resolved")
        self.assertEqual([e["name"] for e in span[0]["events"]], ["alert fired", "alert resolved"])
        # Azure retries the Fired notification late: the alert stays resolved.
        self.assertEqual(self.alert("metric_alert_fired.json")["unchanged"], 1)
        self.assertEqual(self.spans(metric[0]["trace_id"])[0]["attributes"]["azure.monitor.alert.condition"], "Resolved")
        self.assertEqual(self.job_counts()['{kind="alert",status="failed"}'], 2)

        # The log and activity-log shapes resolve the same way.
        for name, rule in [("log_alert_fired.json", "backup-jobs-failed-last-24h"),
                           ("activity_log_alert_fired.json", "vault-backup-policy-changed")]:
            doc = json.loads(fixture(name))
            doc["data"]["essentials"].update(monitorCondition="Resolved", resolvedDateTime="2026-11-23T00:00:00Z")
            self.assertEqual(self.post("/api/v1/ingest/azure-monitor", json.dumps(doc).encode())["stored"], 1)
            job = [j for j in self.jobs("&kind=alert") if j["name"] == rule]
            self.assertEqual(len(job), 1)
            fired = json.loads(fixture(name))["data"]["essentials"]["firedDateTime"]
            self.assertEqual(job[0]["start_time"][:19], fired[:19])
            self.assertEqual(job[0]["end_time"][:19], "2026-11-23T00:00:00")
        self.assertEqual(len(self.jobs("&kind=alert")), 3)

    def check_backup_failure_joined(self):
        jobs = [j for j in self.jobs() if j["trace_id"] == self.failed_trace]
        self.assertEqual(sorted(j["kind"] for j in jobs), ["alert", "backup"])
        spans = {s["name"]: s for s in self.spans(self.failed_trace)}
        job, alert = spans["backup"], spans["Backup Failure"]
        self.assertEqual(alert["parent_span_id"], job["span_id"])
        self.assertEqual([e["name"] for e in job["events"]], ["alert fired"])
        self.assertEqual(job["status"]["message"], "UserErrorVmProvisioningStateFailed")
        a = alert["attributes"]
        self.assertEqual(a["azure.backup.job.id"], BACKUP_FAILURE_JOB)
        self.assertIn("failed provisioning state", a["azure.backup.possible_causes"])
        self.assertIn("redeploy", a["azure.backup.recommended_actions"])
        self.assertEqual(a["host.name"], "vm-app-02")
        self.assertTrue(a["azure.backup.protected_item.id"].endswith("protectedItems/VM;iaasvmcontainerv2;rg-app-prod;vm-app-02"))

    def test_backup_job_records_and_alert_join_in_either_order(self):
        self.serve()
        # The alert first, then the job it names.
        self.assertEqual(self.alert("backup_failure_alert_fired.json")["stored"], 1)
        out = self.post("/api/v1/ingest/azure-backup-jobs", fixture("backup_jobs.json"))
        self.assertEqual((out["stored"], out["rejected"]), (3, 0))
        backups = {j["host"]: j for j in self.jobs("&kind=backup")}
        self.assertEqual(backups["vm-app-01"]["status"], "ok")
        self.assertAlmostEqual(backups["vm-app-01"]["duration_ms"], 2058400, delta=1)
        self.assertEqual(backups["vm-app-01"]["bytes_added"], int(1843.2 * 1024 * 1024))
        self.assertEqual(backups["vm-app-01"]["resource_group"], "rg-backup-prod")
        self.assertEqual(backups["vm-app-02"]["status"], "failed")
        self.assertEqual(backups["orders"]["status"], "running")
        self.assertEqual(backups["orders"]["resource_group"], "rg-backup-dev")
        self.failed_trace = backups["vm-app-02"]["trace_id"]
        self.check_backup_failure_joined()
        attrs = self.spans(backups["vm-app-01"]["trace_id"])[0]["attributes"]
        self.assertEqual(attrs["azure.backup.vault.name"], "rsv-prod-01")
        self.assertEqual(attrs["azure.backup.job.failure_code"] if "azure.backup.job.failure_code" in attrs else "", "")
        self.assertEqual(attrs["azure.backup.job.operation_subtype"], "Incremental")

        # The running job completes (JSON lines, numbers as text): one job.
        self.assertEqual(self.post("/api/v1/ingest/azure-backup-jobs", fixture("backup_jobs_completed.jsonl"))["stored"], 1)
        orders = [j for j in self.jobs("&kind=backup") if j["host"] == "orders"]
        self.assertEqual(len(orders), 1)
        self.assertEqual(orders[0]["status"], "partial")  # CompletedWithWarnings
        self.assertAlmostEqual(orders[0]["duration_ms"], 612000, delta=1)

        # The legacy AzureDiagnostics columns, and a Log Analytics API response.
        out = self.post("/api/v1/ingest/azure-backup-jobs", fixture("backup_jobs_azurediagnostics.jsonl"))
        self.assertEqual((out["stored"], out["rejected"]), (1, 1))
        self.assertIn("not a job record", out["errors"][0])
        self.assertEqual(self.post("/api/v1/ingest/azure-backup-jobs", fixture("backup_jobs_query_api.json"))["stored"], 1)
        legacy = [j for j in self.jobs("&kind=backup") if j["duration_ms"] == 2400000]
        self.assertEqual(len(legacy), 1)
        self.assertEqual(legacy[0]["resource_group"], "rg-backup-prod")
        self.assertEqual(len(self.jobs("&kind=restore")), 1)

        # Re-exporting the same records stores nothing twice.
        before = self.job_counts()
        out = self.post("/api/v1/ingest/azure-backup-jobs", fixture("backup_jobs.json"))
        self.assertEqual(out["stored"], 0)
        self.assertEqual(self.job_counts(), before)
        self.assertEqual(len(self.spans(self.failed_trace)), 2)
        # Azure Backup items are sources whose freshness is watched.
        sources = self.obs.get_json("/api/v1/freshness")["sources"]
        self.assertIn("azure-backup", {s["service"] for s in sources})

    def test_job_first_then_alert(self):
        self.serve()
        self.post("/api/v1/ingest/azure-backup-jobs", fixture("backup_jobs.json"))
        self.alert("backup_failure_alert_fired.json")
        self.failed_trace = [j for j in self.jobs("&kind=backup") if j["host"] == "vm-app-02"][0]["trace_id"]
        self.check_backup_failure_joined()

    def test_job_events_api(self):
        self.serve("--lost-after", "2s")
        post = lambda ev, status=200: self.post("/api/v1/ingest/events", json.dumps(ev).encode(), status)
        base = {"job_id": "db01-2026-11-24", "source": "pgbackrest"}
        post({**base, "type": "started", "kind": "backup", "host": "db01", "resource_group": "rg-backup-prod",
              "tags": {"env": "prod"}, "paths": ["/var/lib/postgresql"]})
        running = self.jobs("&status=running")
        self.assertEqual([(j["name"], j["host"], j["service"]) for j in running], [("backup", "db01", "pgbackrest")])
        post({**base, "type": "progress", "progress": {"files_done": 10, "files_total": 40}, "message": "copying"})
        done = {**base, "type": "completed", "time": time.time(), "bytes_added": 5 << 20, "snapshot_id": "20261124-010000F"}
        post(done)
        jobs = self.jobs("&kind=backup")
        self.assertEqual(len(jobs), 1)
        job = jobs[0]
        self.assertEqual((job["status"], job["bytes_added"], job["snapshot_id"]), ("ok", 5 << 20, "20261124-010000F"))
        self.assertIn(("env", "prod"), job["tags"].items())
        span = self.spans(job["trace_id"])
        self.assertEqual(len(span), 1)
        self.assertEqual(span[0]["attributes"]["backspan.progress.files_done"], 10)
        self.assertEqual([e["name"] for e in span[0]["events"]], ["progress"])
        # A repeated completion is a duplicate.
        self.assertEqual(post(done)["unchanged"], 1)

        # A failure in JSON lines, with its own start time.
        lines = "\n".join(json.dumps(e) for e in [
            {"job_id": "nas-1", "type": "started", "time": "2026-11-24T02:00:00Z", "source": "rsnapshot", "host": "nas"},
            {"job_id": "nas-1", "type": "failed", "time": "2026-11-24T02:05:00Z", "source": "rsnapshot",
             "message": "rsync exited with 23", "error_type": "rsync_partial_transfer"}]).encode()
        self.post("/api/v1/ingest/events", lines)
        failed = self.jobs("&status=failed")
        self.assertEqual([(j["host"], j["duration_ms"], j["error_message"]) for j in failed], [("nas", 300000, "rsync exited with 23")])

        # Started and never completed: running, then lost.
        post({"job_id": "stuck-1", "type": "started", "source": "cron", "host": "web01"})
        self.assertEqual([j["host"] for j in self.jobs("&status=running")], ["web01"])
        self.assertTrue(self.obs.wait_until(lambda: [j["host"] for j in self.jobs("&status=lost")] == ["web01"], 10))
        self.assertEqual(self.jobs("&status=running"), [])
        # An end still finishes it.
        post({"job_id": "stuck-1", "type": "completed", "source": "cron"})
        self.assertEqual(self.jobs("&status=lost"), [])

    def test_bad_input(self):
        self.serve()
        path = "/api/v1/ingest/azure-monitor"
        metric = json.loads(fixture("metric_alert_fired.json"))

        def mutated(fn):
            doc = json.loads(json.dumps(metric))
            fn(doc)
            return json.dumps(doc).encode()

        cases = [
            (b"this is not json", 400, "not JSON"),
            (mutated(lambda d: d.update(schemaId="Microsoft.Insights/activityLogs")), 400, "schemaId"),
            (mutated(lambda d: d["data"].pop("essentials")), 400, "essentials"),
            (mutated(lambda d: d["data"]["essentials"].pop("alertId")), 400, "alertId"),
            (mutated(lambda d: d["data"]["essentials"].pop("firedDateTime")), 400, "firedDateTime"),
            (mutated(lambda d: d["data"]["essentials"].update(monitorCondition="Maybe")), 400, "monitorCondition"),
            (mutated(lambda d: d["data"]["essentials"].update(firedDateTime="9999-12-31T23:59:59Z")), 400, "plausible"),
            (mutated(lambda d: d["data"]["essentials"].update(firedDateTime="1601-01-01T00:00:00Z")), 400, "plausible"),
            (mutated(lambda d: d["data"]["essentials"].update(monitorCondition="Resolved",
                                                                resolvedDateTime="2026-11-19T00:00:00Z")), 400, "resolvedDateTime"),
        ]
        for body, status, words in cases:
            out = self.post(path, body, status)
            self.assertIn(words, out["error"], (body[:80], out))
        # 10 MB: declared, and hidden in a small gzip body.
        self.post_huge(path, 10 << 20)
        out = self.post(path, gzip.compress(b"{" + b" " * (10 << 20) + b"}"), 413, {"Content-Encoding": "gzip"})
        self.assertIn("larger than the limit of 262144 bytes", out["error"])
        self.post_huge("/api/v1/ingest/events", 10 << 20)
        jobs = [
            (b"not json\n", 400, "not JSON"),
            (json.dumps([{"JobUniqueId": "a", "JobStatus": "Completed", "JobStartDateTime": "2026-13-45T00:00:00Z"}]).encode(),
             400, "JobStartDateTime"),
            (json.dumps([{"JobUniqueId": "a", "JobStatus": "Completed", "JobStartDateTime": "2026-11-01T00:00:00Z",
                          "JobDurationInSecs": -5}]).encode(), 400, "JobDurationInSecs"),
            (json.dumps([{"JobStatus": "Completed"}]).encode(), 400, "JobUniqueId"),
            # 5 million rows: more than one request may carry, refused before any row is made.
            (b"[" + b"0," * (5 << 20) + b"0]", 400, "rows in one request, more than 10000"),
            (b"[" + b"0," * 100 + b"0]", 400, "not a JSON object"),
        ]
        for body, status, words in jobs:
            out = self.post("/api/v1/ingest/azure-backup-jobs", body, status)
            self.assertIn(words, out["error"], (body[:80], out))
        for body, status, words in [(b"{]", 400, "not JSON"), (b'{"type": "started"}', 400, "job_id"),
                                    (b'{"job_id": "x", "type": "exploded"}', 400, "type"),
                                    (b'{"job_id": "x", "type": "started", "time": "2126-01-01T00:00:00Z"}', 400, "plausible")]:
            out = self.post("/api/v1/ingest/events", body, status)
            self.assertIn(words, out["error"], (body[:80], out))
        self.assertEqual(self.jobs(), [])

        # A duplicate delivery is an idempotent 200 that stores nothing twice.
        self.assertEqual(self.alert("metric_alert_fired.json")["stored"], 1)
        self.assertEqual(self.alert("metric_alert_fired.json"), {"stored": 0, "unchanged": 1, "rejected": 0, "errors": []})
        self.assertEqual(len(self.jobs()), 1)
        self.assertEqual(len(self.spans(self.jobs()[0]["trace_id"])), 1)
        self.assertEqual(self.obs.request("GET", "/healthz")[0], 200)

    def test_ingest_token(self):
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write("s3cret-ingest-token\n")
        self.serve("--ingest-token-file", token_file)
        body = fixture("metric_alert_fired.json")
        path = "/api/v1/ingest/azure-monitor"
        self.assertIn("token", self.post(path, body, 401)["error"])
        self.assertIn("wrong", self.post(path + "?token=guess", body, 401)["error"])
        self.assertIn("wrong", self.post(path + "?token=s3cret-ingest-toke", body, 401)["error"])
        self.assertEqual(self.jobs(), [])
        self.assertEqual(self.post(path + "?token=s3cret-ingest-token", body)["stored"], 1)
        self.assertEqual(self.post("/api/v1/ingest/events", b'{"job_id": "j", "type": "started"}',
                                   headers={"Authorization": "Bearer s3cret-ingest-token"})["stored"], 1)


if __name__ == "__main__":
    unittest.main()
