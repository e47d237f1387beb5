"""End-to-end tests of the backspan command line on real files."""
import json
import os
import shutil
import stat
import subprocess
import time
import unittest

from helpers import BIN, IS_ROOT, CliTestCase, make_tree, snapshot_of, write


class BackupRestoreTest(CliTestCase):
    def test_roundtrip_preserves_content_and_metadata(self):
        src = os.path.join(self.tmp, "src")
        make_tree(src)
        self.init()
        p = self.run_cli("backup", src)
        self.assertIn(b"socket skipped", p.stderr)  # a warning, not a failure: exit 0
        out = os.path.join(self.tmp, "out")
        lines = self.json_out("restore", "latest", "--target", out, "--verify")
        summary = lines[-1]
        self.assertEqual(summary["errors"], 0)
        self.assertGreater(summary["files_verified"], 5)
        restored = out + src
        want = snapshot_of(src, skip={b"socket"})
        got = snapshot_of(restored)
        self.assertEqual(sorted(want), sorted(got))
        for rel in want:
            self.assertEqual(want[rel], got[rel], f"{rel!r} differs")
        # Sparse files stay sparse.
        st = os.stat(os.path.join(restored, "sparse.img"))
        self.assertLess(st.st_blocks * 512, 1 << 20)
        self.assertTrue(stat.S_ISFIFO(os.lstat(os.path.join(restored, "fifo")).st_mode))

    def test_backup_json_summary_fields(self):
        src = os.path.join(self.tmp, "src")
        write(f"{src}/a", b"a" * 1000)
        write(f"{src}/b", os.urandom(3 << 20))
        self.init()
        s = self.backup(src)
        for key in ("snapshot_id", "files_new", "files_changed", "files_unmodified", "bytes_read",
                    "bytes_added", "bytes_stored", "duration_s"):
            self.assertIn(key, s)
        self.assertEqual(s["files_new"], 2)
        self.assertEqual(s["bytes_read"], 1000 + (3 << 20))
        # New file data plus the new trees (directory listings), before compression.
        self.assertGreaterEqual(s["bytes_added"], 1000 + (3 << 20))
        self.assertLess(s["bytes_added"], 1000 + (3 << 20) + 4096)
        self.assertGreater(s["bytes_stored"], 3 << 20)  # random data does not compress
        self.assertEqual(len(s["snapshot_id"]), 64)

    def test_incremental_backup_reads_only_changed_files(self):
        src = os.path.join(self.tmp, "src")
        for i in range(50):
            write(f"{src}/dir{i % 5}/f{i}", os.urandom(10000))
        self.init()
        first = self.backup(src)
        second = self.backup(src)
        self.assertEqual(second["bytes_read"], 0)
        self.assertEqual(second["files_unmodified"], 50)
        self.assertEqual(second["data_blobs"], 0)
        # Only directory listings may be new: the root tree records /tmp,
        # whose mtime other processes change.
        self.assertLess(second["bytes_added"], 4096)
        self.assertEqual(second["parent"], first["snapshot_id"])
        write(f"{src}/dir3/f3", os.urandom(12345))
        third = self.backup(src)
        self.assertEqual(third["files_changed"], 1)
        self.assertEqual(third["files_unmodified"], 49)
        self.assertEqual(third["bytes_read"], 12345)

    def test_restore_include_and_overwrite(self):
        src = os.path.join(self.tmp, "src")
        write(f"{src}/keep/a.txt", b"a")
        write(f"{src}/keep/b.log", b"b")
        write(f"{src}/other/c.txt", b"c")
        self.init()
        self.backup(src)
        out = os.path.join(self.tmp, "out")
        self.run_cli("restore", "latest", "--target", out, "--include", "*.txt", "-q")
        self.assertTrue(os.path.exists(f"{out}{src}/keep/a.txt"))
        self.assertTrue(os.path.exists(f"{out}{src}/other/c.txt"))
        self.assertFalse(os.path.exists(f"{out}{src}/keep/b.log"))
        p = self.run_cli("restore", "latest", "--target", out, rc=1)
        self.assertIn(b"--overwrite", p.stderr)
        write(f"{out}{src}/keep/a.txt", b"changed")
        self.run_cli("restore", "latest", "--target", out, "--overwrite", "-q")
        with open(f"{out}{src}/keep/a.txt", "rb") as f:
            self.assertEqual(f.read(), b"a")


class InterruptionTest(CliTestCase):
    def test_killed_backup_keeps_checkpointed_uploads(self):
        src = os.path.join(self.tmp, "src")
        for i in range(12):
            write(f"{src}/f{i:02d}", os.urandom(40 << 20))
        self.init()
        index_dir = os.path.join(self.repo, "index")
        env = dict(self.env)
        proc = subprocess.Popen([BIN, "backup", "-q", "--checkpoint-interval", "0.2s", src], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        def committed():
            return [n for n in os.listdir(index_dir) if ".tmp-" not in n]
        deadline = time.monotonic() + 120
        while not committed() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait()
        self.assertTrue(committed(), "no index checkpoint was written before the kill")
        self.assertEqual(self.json_out("snapshots")[0], [])
        self.run_cli("check", "--read-data", "-q")
        summary = self.backup(src)
        self.assertLess(summary["bytes_added"], 12 * (40 << 20))  # reused what was uploaded
        out = os.path.join(self.tmp, "out")
        self.run_cli("restore", "latest", "--target", out, "-q")
        self.assertEqual(snapshot_of(src), snapshot_of(out + src))
        self.run_cli("check", "--read-data", "-q")


class SelectionTest(CliTestCase):
    def test_excludes_tags_hosts_ls_and_diff(self):
        src = os.path.join(self.tmp, "src")
        write(f"{src}/a.txt", b"a")
        write(f"{src}/skip.log", b"log")
        write(f"{src}/cache/x", b"x")
        write(f"{src}/nested/b.txt", b"b")
        excl = os.path.join(self.tmp, "excludes")
        write(excl, b"# comment\n\n" + f"{src}/cache\n".encode())
        self.init()
        s1 = self.backup(src, extra=["--exclude", "*.log", "--exclude-file", excl, "--tag",
                                     "azure.resource_group.name=rg-prod", "--tag", "env=prod", "--host", "h1"])
        ls = self.json_out("ls", s1["snapshot_id"][:8])[0]
        paths = {n["path"] for n in ls["nodes"]}
        self.assertIn(f"{src}/a.txt", paths)
        self.assertNotIn(f"{src}/skip.log", paths)
        self.assertNotIn(f"{src}/cache", paths)
        only = self.json_out("ls", "latest", f"{src}/nested")[0]
        self.assertEqual({n["path"] for n in only["nodes"]}, {f"{src}/nested", f"{src}/nested/b.txt"})

        os.remove(f"{src}/a.txt")
        write(f"{src}/new.txt", b"new")
        write(f"{src}/nested/b.txt", b"bb")
        s2 = self.backup(src, extra=["--host", "h2"])
        snaps = self.json_out("snapshots", "--tag", "env=prod")[0]
        self.assertEqual([s["id"] for s in snaps], [s1["snapshot_id"]])
        self.assertEqual(snaps[0]["tags"], ["azure.resource_group.name=rg-prod", "env=prod"])
        self.assertEqual(len(self.json_out("snapshots", "--host", "h2")[0]), 1)
        self.assertEqual(len(self.json_out("snapshots")[0]), 2)

        diff = self.json_out("diff", s1["snapshot_id"], s2["snapshot_id"])[0]
        changes = {c["path"]: c["modifier"] for c in diff["changes"]}
        self.assertEqual(changes[f"{src}/a.txt"], "-")
        self.assertEqual(changes[f"{src}/new.txt"], "+")
        self.assertEqual(changes[f"{src}/nested/b.txt"], "M")
        text = self.run_cli("diff", s1["snapshot_id"][:10], "latest").stdout.decode()
        self.assertIn(f"+    {src}/new.txt", text)


class BadInputTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.tmp, "src")
        write(f"{self.src}/a", b"a" * 5000)
        write(f"{self.src}/b", os.urandom(30 << 20))
        write(f"{self.src}/c", b"c" * 5000)

    def listing(self):
        out = []
        for root, _, files in os.walk(self.repo):
            for f in files:
                p = os.path.join(root, f)
                out.append((p, os.path.getsize(p), os.path.getmtime(p)))
        return sorted(out)

    def test_wrong_password_writes_nothing(self):
        self.init()
        self.backup(self.src)
        before = self.listing()
        for cmd in (["snapshots"], ["backup", self.src], ["check"]):
            p = self.run_cli(*cmd, rc=1, env={"BACKSPAN_PASSWORD": "wrong"})
            self.assertIn(b"wrong password", p.stderr)
        self.assertEqual(self.listing(), before)

    def test_errors_say_what_to_do(self):
        os.makedirs(os.path.join(self.tmp, "notrepo"))
        p = self.run_cli("-r", os.path.join(self.tmp, "notrepo"), "snapshots", rc=1)
        self.assertIn(b"not a backspan repository", p.stderr)
        self.assertIn(b"backspan init", p.stderr)

        self.init()
        for _ in range(6):
            self.backup(self.src, extra=["--tag", f"n={_}"])
        p = self.run_cli("ls", "0" * 12, rc=1)
        self.assertIn(b"backspan snapshots", p.stderr)
        ids = [s["id"] for s in self.json_out("snapshots")[0]]
        firsts = [i[0] for i in ids]
        shared = next((c for c in firsts if firsts.count(c) > 1), None)
        if shared:
            p = self.run_cli("ls", shared, rc=1)
            self.assertIn(b"matches", p.stderr)
            self.assertIn(b"more characters", p.stderr)

        self.assertEqual(self.run_cli("backup", "--tag", "novalue", self.src, rc=2).returncode, 2)
        self.assertEqual(self.run_cli("backup", "--no-such-flag", self.src, rc=2).returncode, 2)
        self.assertEqual(self.run_cli("check", "--read-data-subset", "250%", rc=2).returncode, 2)
        p = self.run_cli("backup", os.path.join(self.tmp, "missing"), rc=1)
        self.assertIn(b"does not exist", p.stderr)
        p = self.run_cli("snapshots", rc=1, env={"BACKSPAN_PASSWORD": ""})
        self.assertIn(b"BACKSPAN_PASSWORD", p.stderr)
        err = json.loads(self.run_cli("--json", "ls", "0" * 12, rc=1).stderr.decode().splitlines()[-1])
        self.assertEqual(err["message_type"], "exit_error")
        self.assertEqual(err["error_type"], "not_found")

        keys = os.listdir(os.path.join(self.repo, "keys"))
        with open(os.path.join(self.repo, "keys", keys[0]), "w") as f:
            f.write("{ damaged")
        p = self.run_cli("snapshots", rc=1)
        self.assertIn(b"damaged", p.stderr)

    def test_damaged_pack_is_found_and_only_its_files_fail(self):
        self.init()
        self.backup(self.src)
        self.run_cli("check", "--read-data", "-q")
        packs = sorted((os.path.getsize(os.path.join(r, f)), os.path.join(r, f))
                       for r, _, fs in os.walk(os.path.join(self.repo, "data")) for f in fs)
        victim = packs[-1][1]  # the largest pack holds only data of file b
        os.chmod(victim, 0o600)
        with open(victim, "r+b") as f:
            f.seek(1000)
            byte = f.read(1)
            f.seek(1000)
            f.write(bytes([byte[0] ^ 0xff]))
        self.run_cli("check", "-q")  # the structure is intact
        res = self.json_out("check", "--read-data", rc=1)[0]
        self.assertFalse(res["ok"])
        self.assertEqual({a["path"] for a in res["affected"]}, {f"{self.src}/b"})
        p = self.run_cli("check", "--read-data", "--read-data-subset", "100", rc=None)
        self.assertEqual(p.returncode, 2)  # the two options exclude each other
        out = os.path.join(self.tmp, "out")
        p = self.run_cli("restore", "latest", "--target", out, rc=1)
        self.assertIn(f"{self.src}/b".encode(), p.stderr)
        self.assertFalse(os.path.exists(f"{out}{self.src}/b"))
        with open(f"{out}{self.src}/a", "rb") as f:
            self.assertEqual(f.read(), b"a" * 5000)
        with open(f"{out}{self.src}/c", "rb") as f:
            self.assertEqual(f.read(), b"c" * 5000)

    @unittest.skipUnless(not IS_ROOT or shutil.which("setpriv"), "needs setpriv to drop root")
    def test_unreadable_file_gives_exit_3_and_a_snapshot(self):
        write(f"{self.src}/secret", b"no access", 0o000)
        os.chmod(self.tmp, 0o755)
        prefix = ()
        # A copy of the binary where any user can run it (the build tree may not be).
        binary = os.path.join(self.tmp, "backspan")
        shutil.copy(BIN, binary)
        os.chmod(binary, 0o755)
        if IS_ROOT:
            # Root reads everything; run as nobody so the permission bits count.
            for root, dirs, files in os.walk(self.tmp):
                for n in dirs + files:
                    os.lchown(os.path.join(root, n), 65534, 65534)
            os.lchown(self.tmp, 65534, 65534)
            prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        self.run_cli("init", "-q", prefix=prefix, binary=binary)
        p = self.run_cli("--json", "backup", self.src, rc=3, prefix=prefix, binary=binary)
        lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
        errors = [l for l in lines if l["message_type"] == "error"]
        self.assertEqual([e["item"] for e in errors], [f"{self.src}/secret"])
        self.assertEqual(lines[-1]["errors"], 1)
        self.assertIn(b"secret", p.stderr)
        snaps = json.loads(self.run_cli("--json", "snapshots", prefix=prefix, binary=binary).stdout)
        self.assertEqual(len(snaps), 1)


class KeyAndCheckTest(CliTestCase):
    def test_keys(self):
        self.init()
        added = self.json_out("key", "add", env={"BACKSPAN_NEW_PASSWORD": "second"})[0]
        keys = self.json_out("key", "list")[0]
        self.assertEqual(len(keys), 2)
        self.assertEqual(sum(k["current"] for k in keys), 1)
        old = next(k["id"] for k in keys if k["current"])
        self.run_cli("snapshots", env={"BACKSPAN_PASSWORD": "second"})
        p = self.run_cli("key", "remove", old, rc=1)
        self.assertIn(b"in use", p.stderr)
        self.run_cli("key", "remove", old[:10], env={"BACKSPAN_PASSWORD": "second"})
        self.run_cli("snapshots", rc=1)
        self.assertEqual(len(self.json_out("key", "list", env={"BACKSPAN_PASSWORD": "second"})[0]), 1)
        self.assertEqual(added["message_type"], "key_added")

    def test_check_and_subset(self):
        src = os.path.join(self.tmp, "src")
        write(f"{src}/x", os.urandom(40 << 20))
        self.init()
        self.backup(src)
        res = self.json_out("check", "--read-data-subset", "50%")[0]
        self.assertTrue(res["ok"])
        self.assertGreaterEqual(res["packs_read"], 1)
        self.assertLess(res["packs_read"], res["packs"])
        text = self.run_cli("check").stdout
        self.assertIn(b"no errors were found", text)


if __name__ == "__main__":
    unittest.main()
