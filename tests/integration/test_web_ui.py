"""The web UI in headless Chromium (tests/browser/ui.test.mjs): real backups
in two resource groups, Azure Backup jobs beside them, a running backup and an overdue source; screenshots are saved in
build/test-artifacts/ (or $BACKSPAN_ARTIFACTS)."""
import json
import os
import shutil
import subprocess
import time
import unittest

from helpers import CliTestCase, write
from observatory import Observatory, json_span, random_hex, span_request

UI_TEST = os.path.join(os.path.dirname(__file__), "../browser/ui.test.mjs")
ARTIFACTS = os.environ.get("BACKSPAN_ARTIFACTS",
                           os.path.join(os.path.dirname(os.path.abspath(os.environ.get("BACKSPAN_BIN", "build/x"))),
                                        "test-artifacts"))


@unittest.skipUnless(os.path.exists("/usr/bin/chromium"), "needs Debian's chromium")
class WebUiTest(CliTestCase):
    def test_ui_in_chromium(self):
        server = Observatory(os.path.join(self.tmp, "observatory"), self.env)
        try:
            src = os.path.join(self.tmp, "src")
            for i in range(20):
                write(f"{src}/f{i}", os.urandom(20000))
            self.init()
            env = {"OTEL_EXPORTER_OTLP_ENDPOINT": server.url}
            for rg in ["rg-east", "rg-west", "rg-east"]:
                self.run_cli("backup", "--tag", f"azure.resource_group.name={rg}", "--tag", "env=prod", src, env=env)
                write(f"{src}/f0", os.urandom(20000))
            # A source whose three daily backups stopped five days ago: overdue.
            day = 86400 * 10**9
            now = time.time_ns()
            for d in (8, 7, 6, 5):
                start = now - d * day
                span = json_span(random_hex(16), random_hex(8), "backup", start, start + 60 * 10**9,
                                 attrs={"backspan.job.kind": "backup", "azure.resource_group.name": "rg-west"})
                code, _, _ = server.post_json_spans(span_request([span], resource={"service.name": "backspan",
                                                                                   "host.name": "old-host"}))
                self.assertEqual(code, 200)
            # A backup running for two hours, as its agent's snapshots show it.
            start = now - 2 * 3600 * 10**9
            running = json_span(random_hex(16), random_hex(8), "backup", start, 0, attrs={
                "backspan.job.kind": "backup", "azure.resource_group.name": "rg-east",
                "backspan.progress.files_done": 1200, "backspan.progress.files_total": 4800,
                "backspan.progress.bytes_done": 3 << 30, "backspan.progress.bytes_total": 12 << 30,
                "backspan.progress.errors": 0, "backspan.progress.scan_done": True})
            code, _, _ = server.post_json_spans(span_request([running], resource={"service.name": "backspan",
                                                                                  "host.name": "big-host"}),
                                                path="/v1/traces/in-progress")
            self.assertEqual(code, 200)
            # Azure Backup's own jobs in the same resource group, as Log Analytics exports them.
            with open(os.path.join(os.path.dirname(__file__), "fixtures", "azure", "backup_jobs.json")) as f:
                rows = [r for r in json.load(f) if r["JobStatus"] != "InProgress"]
            for i, r in enumerate(rows):  # an hour ago: fresh sources
                start = time.gmtime(now / 1e9 - 3600 - 600 * i)
                r["JobStartDateTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", start)
                r["ResourceGroupName"] = "rg-east"
                r["ResourceId"] = r["ResourceId"].replace("RG-BACKUP-PROD", "RG-EAST")
            code, _, body = server.request("POST", "/api/v1/ingest/azure-backup-jobs", json.dumps(rows).encode(),
                                           {"Content-Type": "application/json"})
            self.assertEqual(code, 200, body)
            # Forty nightly runs of a database backup on the events API, in a
            # 3 h window it is drifting towards, one of them with a slow scan.
            events = []
            for d in range(40, 0, -1):
                start = (now // day - d) * day // 10**9 + 3600
                scan = 300 if d != 30 else 4800
                upload = 600 + 180 * (40 - d)
                events.append({"job_id": f"nightly-{d}", "type": "completed", "source": "pgbackrest", "host": "db-host",
                               "resource_group": "rg-east", "paths": ["/var/lib/postgresql"], "start_time": start,
                               "time": start + scan + upload, "deadline": start + 3 * 3600,
                               "bytes_total": 40 << 30, "bytes_added": 1 << 30, "bytes_stored": 1 << 29,
                               "files_total": 5000, "files_changed": 100,
                               "phases": [{"name": "scan", "duration_s": scan}, {"name": "upload", "duration_s": upload}]})
            code, _, body = server.request("POST", "/api/v1/ingest/events", json.dumps(events).encode(),
                                           {"Content-Type": "application/json"})
            self.assertEqual(code, 200, body)
            self.assertTrue(server.wait_until(
                lambda: server.get_json("/api/v1/anomalies")["insight"]["pending"] == 0 and
                server.get_json("/api/v1/anomalies")["anomalies"], 30))
            os.makedirs(ARTIFACTS, exist_ok=True)
            p = subprocess.run(["node", UI_TEST, server.url, ARTIFACTS], capture_output=True, timeout=180)
            self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
            for name in ["jobs", "trace", "trends", "freshness", "insights", "anomalous-trace"]:
                self.assertTrue(os.path.getsize(os.path.join(ARTIFACTS, f"{name}.png")) > 10000)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
