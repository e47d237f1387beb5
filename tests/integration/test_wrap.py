"""`backspan wrap`: real restic and borg runs (the Debian packages), and any
other command, become job traces in the observatory; the wrapped command's
output passes through unchanged and it gets TRACEPARENT."""
import json
import os
import subprocess
import unittest

from helpers import BIN, CliTestCase, write
from observatory import Observatory


class WrapTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env)
        self.src = os.path.join(self.tmp, "src")
        write(os.path.join(self.src, "a.bin"), os.urandom(2 << 20))
        write(os.path.join(self.src, "docs", "b.txt"), b"hello\n" * 1000)
        # Both tools keep caches and config under these, inside the test's directory.
        self.env.update(OTEL_EXPORTER_OTLP_ENDPOINT=self.obs.url, RESTIC_PASSWORD="restic pw",
                        RESTIC_CACHE_DIR=os.path.join(self.tmp, "restic-cache"), BORG_PASSPHRASE="borg pw",
                        BORG_BASE_DIR=os.path.join(self.tmp, "borg-home"), HOME=os.path.join(self.tmp, "home"))

    def tearDown(self):
        self.obs.stop()
        super().tearDown()

    def tool(self, *args):
        subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=120)

    def wrap(self, *command, rc=0, tags=()):
        args = ["wrap"]
        for t in tags:
            args += ["--tag", t]
        return self.run_cli(*args, "--", *command, rc=rc)

    def only_job(self, **filters):
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        jobs = self.obs.get_json("/api/v1/jobs?" + query)["jobs"]
        self.assertEqual(len(jobs), 1, jobs)
        spans = self.obs.get_json(f"/api/v1/traces/{jobs[0]['trace_id']}")["spans"]
        return jobs[0], {s["name"]: s for s in spans}

    def test_restic_backup_success_and_failure(self):
        repo = os.path.join(self.tmp, "restic-repo")
        self.tool("restic", "-r", repo, "init")
        p = self.wrap("restic", "-r", repo, "backup", self.src, "--json", tags=["azure.resource_group.name=rg-backup-prod"])
        # restic's own JSON passes through untouched.
        lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
        summary = [l for l in lines if l.get("message_type") == "summary"][0]
        job, spans = self.only_job(kind="backup")
        self.assertEqual(job["status"], "ok")
        self.assertEqual(job["snapshot_id"], summary["snapshot_id"])
        self.assertEqual(job["files_total"], 2)
        self.assertEqual(job["bytes_added"], summary["data_added"])
        self.assertEqual(job["resource_group"], "rg-backup-prod")
        root = spans["backup"]["attributes"]
        self.assertEqual(root["backspan.wrap.tool"], "restic")
        self.assertEqual(root["backspan.bytes.total"], (2 << 20) + 6000)
        self.assertEqual(root["process.exit.code"], 0)
        for phase in ["open repository", "process files", "finish"]:
            self.assertEqual(spans[phase]["parent_span_id"], spans["backup"]["span_id"], phase)

        # A wrong password: restic's exit code, and why, on the span.
        p = self.run_cli("wrap", "--", "restic", "-r", repo, "backup", self.src, "--json", rc=1,
                         env={"RESTIC_PASSWORD": "wrong"})
        self.assertIn(b"wrong password", p.stderr)
        failed, spans = self.only_job(status="failed")
        self.assertEqual(failed["kind"], "backup")
        events = {e["name"]: e for e in spans["backup"]["events"]}
        self.assertIn("wrong password", events["stderr"]["attributes"]["process.stderr.tail"])
        self.assertEqual(spans["backup"]["attributes"]["process.exit.code"], 1)

    def test_borg_create_success_warning_and_failure(self):
        repo = os.path.join(self.tmp, "borg-repo")
        self.tool("borg", "init", "-e", "repokey", repo)
        p = self.wrap("borg", "create", "--log-json", "--progress", "--json", repo + "::first", self.src)
        archive = json.loads(p.stdout)["archive"]
        job, spans = self.only_job(kind="backup")
        self.assertEqual((job["status"], job["snapshot_id"], job["files_total"]), ("ok", archive["id"], 2))
        self.assertEqual(job["bytes_added"], archive["stats"]["deduplicated_size"])
        self.assertIn("process files", spans)
        self.assertIn("cache.begin_transaction", spans)
        self.assertEqual(spans["backup"]["attributes"]["backspan.archive.name"], "first")

        # A missing source is a warning (exit 1): the archive is made, partial.
        self.wrap("borg", "create", "--log-json", "--json", repo + "::second", self.src,
                  os.path.join(self.tmp, "missing"), rc=1)
        partial, spans = self.only_job(status="partial")
        warnings = [e for e in spans["backup"]["events"] if e["name"] == "warning"]
        self.assertIn("No such file or directory", warnings[0]["attributes"]["message"])

        # A wrong passphrase is an error (exit 2): failed, with borg's message.
        self.run_cli("wrap", "--", "borg", "create", "--log-json", repo + "::third", self.src, rc=2,
                     env={"BORG_PASSPHRASE": "wrong"})
        failed, spans = self.only_job(status="failed")
        errors = [e for e in spans["backup"]["events"] if e["name"] == "exception"]
        self.assertIn("passphrase", errors[0]["attributes"]["exception.message"])
        self.assertEqual(errors[0]["attributes"]["backspan.error.id"], "PassphraseWrong")

    def test_any_command(self):
        p = self.wrap("sh", "-c", "echo $TRACEPARENT; echo 'disk full' >&2; exit 4", rc=4, tags=["env=test"])
        traceparent = p.stdout.decode().strip()
        self.assertEqual(p.stderr.decode().strip(), "disk full")
        job, spans = self.only_job(kind="command")
        self.assertEqual(job["status"], "failed")
        self.assertEqual(traceparent.split("-")[1], job["trace_id"])
        self.assertEqual(traceparent.split("-")[2], spans["command"]["span_id"])
        events = {e["name"]: e for e in spans["command"]["events"]}
        self.assertEqual(events["stderr"]["attributes"]["process.stderr.tail"], "disk full\n")
        self.assertEqual(job["tags"]["env"], "test")

        p = self.run_cli("wrap", "--", "no-such-backup-tool", "--now", rc=127)
        self.assertIn(b"cannot run no-such-backup-tool", p.stderr)
        self.assertEqual(len(self.obs.get_json("/api/v1/jobs?status=failed")["jobs"]), 2)


if __name__ == "__main__":
    unittest.main()
