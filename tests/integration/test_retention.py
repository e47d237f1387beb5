"""forget, prune and unlock from the command line: policies applied to real
snapshots, space given back, and locks that exclude, go stale and unlock."""
import json
import os
import subprocess
import time
import unittest

from helpers import BIN, CliTestCase, snapshot_of, write


class ForgetPruneTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.env["TZ"] = "UTC"
        self.init()
        self.src = os.path.join(self.tmp, "src")
        for day in range(1, 8):  # a week of backups; each day adds and drops a big file
            for old in os.listdir(self.src) if os.path.isdir(self.src) else []:
                if old.startswith("day-"):
                    os.remove(os.path.join(self.src, old))
            write(f"{self.src}/day-{day}.bin", os.urandom(3 << 20))
            write(f"{self.src}/stable.txt", b"the same every day\n" * 1000)
            self.backup(self.src, extra=("--time", f"2026-11-{day:02d} 10:00:00"))

    def repo_bytes(self):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(self.repo) for f in fs)

    def test_dry_run_lists_every_snapshot_with_reasons(self):
        [doc] = self.json_out("forget", "--keep-last", "2", "--keep-weekly", "2", "--dry-run")
        self.assertTrue(doc["dry_run"])
        self.assertEqual(doc["removed"], 0)
        [group] = doc["groups"]
        actions = {s["time"][:10]: (s["action"], s["reasons"]) for s in group["snapshots"]}
        self.assertEqual(len(actions), 7)
        # 2026-11-01 is a Sunday (ISO week 44); the 2nd to the 7th are week 45.
        self.assertEqual(actions["2026-11-07"], ("keep", ["last snapshot", "weekly snapshot"]))
        self.assertEqual(actions["2026-11-06"], ("keep", ["last snapshot"]))
        self.assertEqual(actions["2026-11-01"], ("keep", ["weekly snapshot"]))
        for day in ("02", "03", "04", "05"):
            self.assertEqual(actions[f"2026-11-{day}"], ("remove", []))
        self.assertEqual(len(self.json_out("snapshots")[0]), 7)

    def test_forget_and_prune_give_space_back_and_keep_the_rest_whole(self):
        before = self.repo_bytes()
        self.run_cli("forget", "--keep-last", "2", "--prune", "--grace", "0s", "--max-unused", "0")
        self.assertLess(self.repo_bytes(), before - 12 * (1 << 20))  # four days of 3 MiB are gone
        snaps = self.json_out("snapshots")[0]
        self.assertEqual([s["time"][:10] for s in snaps], ["2026-11-06", "2026-11-07"])
        self.run_cli("check", "--read-data", "-q")
        out = os.path.join(self.tmp, "out")
        self.run_cli("restore", "latest", "--target", out, "-q")
        self.assertEqual(snapshot_of(self.src), snapshot_of(out + self.src))
        self.assertEqual(os.listdir(os.path.join(self.repo, "deletions")), [])
        [again] = self.json_out("prune", "--grace", "0s")
        self.assertEqual(again["packs_deleted"], 0)

    def test_forget_by_id_and_without_a_policy(self):
        p = self.run_cli("forget")
        self.assertIn("no policy", p.stdout.decode())
        first = self.json_out("snapshots")[0][0]["short_id"]
        self.run_cli("forget", first, "-q")
        self.assertEqual(len(self.json_out("snapshots")[0]), 6)
        self.run_cli("forget", "--keep-daily", "x", rc=2)
        self.run_cli("forget", "--keep-within", "1w", rc=2)

    def test_an_exclusive_lock_excludes_and_goes_stale_when_its_process_dies(self):
        self.run_cli("forget", "--keep-last", "1", "-q")
        # This prune marks packs, then waits out its grace delay holding its lock.
        holder = subprocess.Popen([BIN, "prune", "--grace", "60s"], env=self.env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not os.listdir(os.path.join(self.repo, "deletions")) and time.monotonic() < deadline:
                time.sleep(0.05)
            p = self.run_cli("prune", rc=1)
            self.assertRegex(p.stderr.decode(), rf"locked exclusively by pid {holder.pid} on .*\(prune, since")
            self.run_cli("backup", "-q", self.src)  # shared locks are not excluded
            [doc] = self.json_out("unlock")
            self.assertEqual(doc["removed"], [])  # the holder is alive: its lock is not stale
        finally:
            holder.kill()
            holder.wait()
        # Dead on this host: stale at once. prune goes ahead and finishes the mark.
        [doc] = self.json_out("prune", "--grace", "0s")
        self.assertGreater(doc["packs_deleted"], 0)
        [doc] = self.json_out("unlock")
        self.assertEqual([l["pid"] for l in doc["removed"]], [holder.pid])
        self.assertEqual(os.listdir(os.path.join(self.repo, "locks")), [])
        self.run_cli("check", "--read-data", "-q")


if __name__ == "__main__":
    unittest.main()
