"""Damage and interruption, each a regression test of something found by
attacking the engine: one damaged index file no longer blocks every restore
and `repair index` rebuilds the index from the packs; killed backups leave
debris that check reports and prune removes; messages name what is wrong;
Ctrl-C and SIGTERM stop every long job within a second with exit 130; other
tools' locations are refused; OTLP gRPC falls back to http/protobuf, loudly."""
import glob
import json
import os
import resource
import shutil
import signal
import subprocess
import time
import unittest

from helpers import BIN, FAULT_BIN, CliTestCase, write
from observatory import Observatory

HOUR = 3600


class DamageTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.init()
        self.sources = {}
        for name in ("alpha", "beta", "gamma"):
            src = os.path.join(self.tmp, name)
            for i in range(3):
                write(f"{src}/f{i}", os.urandom(300_000 + i))
            self.sources[name] = src
            self.backup(src)
        self.snaps = {s["paths"][0]: s["id"] for s in self.json_out("snapshots")[0]}

    def restore(self, snap, env=None, rc=0):
        target = os.path.join(self.tmp, "restore-" + os.urandom(4).hex())
        return self.run_cli("restore", snap, "--target", target, rc=rc, env=env), target

    def restored_identically(self, snap, src, env=None):
        _, target = self.restore(snap, env)
        for i in range(3):
            with open(f"{src}/f{i}", "rb") as a, open(f"{target}{src}/f{i}", "rb") as b:
                self.assertEqual(a.read(), b.read())

    def leftovers(self):
        return [os.path.join(d, f) for d, _, files in os.walk(self.repo) for f in files if ".tmp-" in f]

    def flip(self, path, offset=40):
        with open(path, "r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0xFF]))

    def test_each_damaged_index_in_turn(self):
        index_files = sorted(os.listdir(os.path.join(self.repo, "index")))
        self.assertGreaterEqual(len(index_files), 3)
        pristine = os.path.join(self.tmp, "pristine")
        shutil.copytree(self.repo, pristine)
        for name in index_files:
            with self.subTest(index=name[:8]):
                shutil.rmtree(self.repo)
                shutil.copytree(pristine, self.repo)
                self.flip(os.path.join(self.repo, "index", name))
                # Each snapshot restores if an intact file indexes it, and
                # fails by name otherwise; at least one restores.
                restored = 0
                for src, snap in self.snaps.items():
                    p, _ = self.restore(snap, rc=None)
                    err = p.stderr.decode()
                    self.assertIn(f"index/{name[:8]} is damaged", err)
                    self.assertIn("backspan repair index", err)
                    if p.returncode == 0:
                        restored += 1
                        self.restored_identically(snap, src)
                    else:
                        self.assertEqual(p.returncode, 1, err)
                        self.assertIn("not in the index", err)
                self.assertGreaterEqual(restored, 1)
                # check goes on past it and names what it affects.
                p = self.run_cli("check", rc=1)
                err = p.stderr.decode()
                self.assertIn(f"index/{name[:8]} is damaged", err)
                self.assertIn("snapshot", err)
                # prune must not act on part of the index.
                p = self.run_cli("prune", rc=1)
                self.assertIn("repair index", p.stderr.decode())
                # repair index rebuilds it from the packs; then all is sound.
                out = self.json_out("repair", "index")[-1]
                self.assertEqual(out["packs_unreadable"], [])
                self.assertEqual(out["index_files_removed"], len(index_files))
                self.run_cli("check", "--read-data")
                for src, snap in self.snaps.items():
                    self.restored_identically(snap, src)

    def test_repair_names_a_pack_whose_header_is_damaged(self):
        packs = sorted(glob.glob(os.path.join(self.repo, "data", "*", "*")), key=os.path.getsize)
        victim = packs[-1]
        self.flip(victim, os.path.getsize(victim) - 20)  # inside the sealed header
        p = self.run_cli("repair", "index", rc=3)
        self.assertIn(f"pack {os.path.basename(victim)[:8]}", p.stderr.decode())
        p = self.run_cli("check", rc=1)
        self.assertIn("snapshot", p.stderr.decode())  # the files it held are named

    def test_killed_backups_leave_debris_that_prune_removes(self):
        src = os.path.join(self.tmp, "big")
        for i in range(4):
            write(f"{src}/b{i}", os.urandom(3 << 20))
        for n in (3, 5, 8):  # kill -9 at a few of a backup's writes
            subprocess.run([FAULT_BIN, "backup", src], env={**self.env, "BACKSPAN_FAULT": f"crash:{n}"}, capture_output=True)
        # And one as a writer killed before the fault harness existed would leave it.
        write(os.path.join(self.repo, "data", "ab", ".tmp-0123456789abcdef01234567"), os.urandom(1 << 20))
        leftovers = self.leftovers()
        self.assertGreaterEqual(len(leftovers), 2)
        p = self.run_cli("check")
        self.assertIn("temporary files", p.stdout.decode())
        # Fresh ones may belong to a writer still running: kept.
        out = self.json_out("prune")[-1]
        self.assertEqual(out["leftovers_removed"], 0)
        self.assertEqual(out["leftovers_kept"], len(leftovers))
        old = time.time() - 2 * HOUR
        for path in leftovers:
            os.utime(path, (old, old))
        out = self.json_out("prune")[-1]
        self.assertEqual(out["leftovers_removed"], len(leftovers))
        self.assertEqual(self.leftovers(), [])
        self.assertNotIn("temporary files", self.run_cli("check").stdout.decode())
        for s, snap in self.snaps.items():
            self.restored_identically(snap, s)

    def test_messages_name_what_is_wrong(self):
        # A flipped byte in a key file is damage, not an unknown format.
        key = glob.glob(os.path.join(self.repo, "keys", "*"))[0]
        with open(key, "rb") as f:
            saved = f.read()
        with open(key, "wb") as f:
            f.write(saved.replace(b"argon2id", b"argon2ie"))
        err = self.run_cli("snapshots", rc=1).stderr.decode()
        self.assertIn("is damaged: its content does not match its name", err)
        self.assertNotIn("unknown key derivation", err)
        with open(key, "wb") as f:
            f.write(saved)
        # A damaged blob under the key that opened the repository is 'damaged', with what to run.
        pack = max(glob.glob(os.path.join(self.repo, "data", "*", "*")), key=os.path.getsize)
        self.flip(pack, 100)
        errs = "".join(self.restore(snap, rc=None)[0].stderr.decode() for snap in self.snaps.values())
        self.assertIn("is damaged (authentication failed)", errs)
        self.assertIn("check --read-data", errs)
        self.assertNotIn("key is wrong", errs)
        self.flip(pack, 100)
        # A write failure does not call the files it stopped reading changed.
        src = os.path.join(self.tmp, "delta")
        for i in range(20):
            write(f"{src}/d{i}", os.urandom(200_000))
        p = subprocess.run([FAULT_BIN, "backup", src], env={**self.env, "BACKSPAN_FAULT": "append:ENOSPC:2"},
                           capture_output=True)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"No space left on device", p.stderr)
        self.assertNotIn(b"changed during backup", p.stderr)
        # Past a file-size limit: an ordinary write error, not a silent death by SIGXFSZ.
        limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # noqa: E731
        p = subprocess.run([BIN, "backup", src], env=self.env, capture_output=True, preexec_fn=limit)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"File too large", p.stderr)
        self.run_cli("check")

    def test_locations_of_other_tools_are_refused(self):
        os.chdir(self.tmp)
        for location, words in (("sftp:user@host:/srv/repo", "SFTP"), ("rest:http://h:8000/", "REST"),
                                ("rclone:remote:bucket", "rclone"), ("gs:bucket:/p", "Google"),
                                ("s3:s3.amazonaws.com/bucket", "s3://BUCKET"), ("azure:cont:/p", "azure://"),
                                ("b2:bucket:p", "B2"), ("weird:thing", "./weird:thing")):
            p = self.run_cli("-r", location, "init", rc=2)
            self.assertIn(words, p.stderr.decode(), location)
        self.assertEqual(sorted(os.listdir(self.tmp)), sorted(["repo", "state", "alpha", "beta", "gamma"]))
        self.run_cli("-r", "./odd:name", "init", "-q")  # a local name with a colon, said so
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "odd:name", "config")))

    def test_otlp_grpc_falls_back_to_http_with_a_warning(self):
        obs = Observatory(os.path.join(self.tmp, "obs"), self.env)
        try:
            p = self.run_cli("snapshots", env={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                                                "OTEL_EXPORTER_OTLP_ENDPOINT": obs.url})
            p = self.run_cli("check", env={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": obs.url})
            err = p.stderr.decode()
            self.assertIn("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: OTLP over gRPC is not supported; sending http/protobuf to "
                          + obs.url + "/v1/traces instead", err)
            self.assertTrue(obs.wait_until(lambda: any(j["kind"] == "check" for j in obs.get_json("/api/v1/jobs")["jobs"])))
        finally:
            obs.stop()


class InterruptTest(CliTestCase):
    """Ctrl-C or SIGTERM during each long job: it stops within a second,
    releases its lock, and is recorded (history, span) as interrupted."""

    def setUp(self):
        super().setUp()
        self.init()
        self.src = os.path.join(self.tmp, "src")
        for i in range(30):
            write(f"{self.src}/f{i}", os.urandom(1 << 20))
        # Each read takes this long: jobs last several seconds, and none can
        # stop inside a read, so it is also the slack of the 1 s target.
        self.slow = "300"
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env)
        self.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.obs.url

    def tearDown(self):
        self.obs.stop()
        super().tearDown()

    def interrupt(self, fault, sig, *args):
        proc = subprocess.Popen([FAULT_BIN, *args], env={**self.env, "BACKSPAN_FAULT": fault},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        if proc.poll() is not None:
            self.fail(f"{args} ended before the signal: {proc.communicate()[1][-500:]!r}")
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        stopped = time.monotonic() - sent
        self.assertEqual(proc.returncode, 130, err)
        self.assertLess(stopped, 1.0, f"{args[0]} took {stopped:.2f} s to stop")
        self.assertIn(b"was interrupted by a signal", err)
        self.assertEqual(os.listdir(os.path.join(self.repo, "locks")), [], "the lock was not released")
        job = self.json_out("jobs", "--limit", "1")[0][0]
        self.assertEqual((job["kind"], job["status"]), (args[0], "interrupted"))
        # The observatory shows it as interrupted at once, not running for hours.
        self.assertTrue(self.obs.wait_until(lambda: any(
            j["kind"] == args[0] and j["status"] == "interrupted" for j in self.obs.get_json("/api/v1/jobs")["jobs"])),
            self.obs.get_json("/api/v1/jobs"))
        return stopped

    def test_every_long_job_stops_within_a_second(self):
        figures = {}
        figures["backup"] = self.interrupt("slow-read:" + self.slow, signal.SIGINT, "backup", self.src)
        self.backup(self.src)  # reuses what the interrupted one stored
        target = os.path.join(self.tmp, "restore")
        figures["restore"] = self.interrupt("slow-repo-read:" + self.slow, signal.SIGTERM, "restore", "latest", "--target", target)
        figures["check"] = self.interrupt("slow-repo-read:" + self.slow, signal.SIGINT, "check", "--read-data")
        write(f"{self.src}/extra", os.urandom(1 << 20))
        self.backup(self.src)
        first = self.json_out("snapshots")[0][0]["id"]
        figures["forget"] = self.interrupt("slow-repo-read:" + self.slow, signal.SIGTERM, "forget", first, "--prune", "--grace", "20s")
        figures["prune"] = self.interrupt("slow-repo-read:" + self.slow, signal.SIGINT, "prune", "--grace", "20s")
        print("seconds from the signal to the exit:", json.dumps({k: round(v, 3) for k, v in figures.items()}), flush=True)
        # Interrupted anywhere, the repository is sound and complete.
        self.run_cli("check", "--read-data")
        target = os.path.join(self.tmp, "final")
        self.run_cli("restore", "latest", "--target", target)
        for i in range(30):
            with open(f"{self.src}/f{i}", "rb") as a, open(f"{target}{self.src}/f{i}", "rb") as b:
                self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    unittest.main()
