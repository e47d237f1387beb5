"""Crash safety, proven: kill -9 at random points of backup, forget and prune;
injected I/O errors; corrupted repository files; backups running while
prune runs. The fault binary (tests/fault/fault_main.cc) is the same command
line on a fault-injecting Env.

BACKSPAN_FAULT_ITERATIONS sets the iterations per case (CI: 2; the full run,
tests/fault/run_full.sh, uses 100). BACKSPAN_FAULT_SEED replays a run.
BACKSPAN_TEST_BACKEND=azure or s3 runs the same cases on a cloud repository
(Azurite or s3rver behind the test proxy): its packs wait in temporary
files, where the write faults land, and its kills also come at random times,
so that they fall between requests too."""
import json
import os
import random
import shutil
import subprocess
import threading
import time
import unittest

from helpers import BIN, FAULT_BIN, CliTestCase, snapshot_of, write
from storage import Azurite, CloudRepo, Proxy, S3rver

ITERATIONS = int(os.environ.get("BACKSPAN_FAULT_ITERATIONS", "2"))
BACKEND = os.environ.get("BACKSPAN_TEST_BACKEND", "local")
SEED = int(os.environ.get("BACKSPAN_FAULT_SEED", str(random.SystemRandom().randrange(1 << 30))))
print(f"fault tests: {ITERATIONS} iterations per case, seed {SEED}", flush=True)


def make_version(root, v, big_mib=10):
    """A source tree: shared files, files that change with v, one new big file."""
    rng = random.Random(v)
    for i in range(25):
        write(f"{root}/docs/note{i}.txt", (f"note {i} version {v if i % 3 == 0 else 0}\n" * 200).encode())
    write(f"{root}/shared.bin", random.Random(-1).randbytes(6 << 20))
    write(f"{root}/new-{v}.bin", rng.randbytes(big_mib << 20))


class FaultCase(CliTestCase):
    @classmethod
    def setUpClass(cls):
        if BACKEND == "local":
            return
        cls.peer_dir = f"/tmp/backspan-peers-{os.getpid()}-faults"
        os.makedirs(cls.peer_dir, exist_ok=True)
        cls.store = Azurite(cls.peer_dir) if BACKEND == "azure" else S3rver(cls.peer_dir)
        cls.proxy = Proxy(cls.store.endpoint, BACKEND)

    @classmethod
    def tearDownClass(cls):
        if BACKEND == "local":
            return
        cls.proxy.stop()
        cls.store.stop()
        shutil.rmtree(cls.peer_dir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.rng = random.Random(SEED ^ hash(self.id()) & 0xffffffff)
        self.cloud = None
        if BACKEND != "local":
            self.container = f"f{os.urandom(4).hex()}"
            self.cloud = CloudRepo(self.store, self.container, "repo", self.proxy.url)
            spill = os.path.join(self.tmp, "spill")
            os.makedirs(spill)
            self.env.update(self.cloud.env(), TMPDIR=spill, BACKSPAN_FAULT_SCOPE=spill,
                            XDG_CACHE_HOME=os.path.join(self.tmp, "cache"))
        self.init()
        self.run_cli("key", "add", "--new-password-file", self.password_file("second key"), "-q")
        self.sources = {}
        for v in range(3):
            self.add_version(v)
            self.backup(self.sources[v], extra=("--time", f"2026-11-0{v + 1} 10:00:00"))
        self.new_source = self.add_version(3)

    def password_file(self, pw):
        path = os.path.join(self.tmp, "pw-" + pw.replace(" ", "-"))
        with open(path, "w") as f:
            f.write(pw + "\n")
        return path

    def add_version(self, v):
        src = os.path.join(self.tmp, f"src{v}")
        make_version(src, v)
        self.sources[v] = src
        return src

    def copy_repo(self, i):
        if self.cloud:
            return {"BACKSPAN_REPOSITORY": self.cloud.copy_to(f"repo-{i}").location}
        dst = os.path.join(self.tmp, f"repo-{i}")
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(self.repo, dst, symlinks=True)
        return {"BACKSPAN_REPOSITORY": dst}

    def fault_run(self, env, fault, *args, kill_after=None):
        e = dict(self.env)
        e.update(env)
        e["BACKSPAN_FAULT"] = fault
        if kill_after is None:
            return subprocess.run([FAULT_BIN, *args], env=e, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=300)
        # A kill at a moment, not at an operation: it may fall between requests.
        proc = subprocess.Popen([FAULT_BIN, *args], env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.kill()
        out, err = proc.communicate(timeout=300)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def remove_copy(self, env):
        if not self.cloud:
            shutil.rmtree(env["BACKSPAN_REPOSITORY"])

    def count_ops(self, *args):
        started = time.monotonic()
        p = self.fault_run(self.copy_repo("count"), "count", *args)
        self.duration = time.monotonic() - started
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        line = [l for l in p.stderr.decode().splitlines() if l.startswith("fault-ops: ")][-1]
        return int(line.split()[1])

    def snapshots(self, env):
        return json.loads(self.run_cli("--json", "snapshots", env=env).stdout)

    def assert_sound(self, env, expect_present=()):
        """check --read-data passes; every snapshot restores byte-identically."""
        self.run_cli("check", "--read-data", "-q", env=env)
        snaps = self.snapshots(env)
        present = {s["paths"][0] for s in snaps}
        for path in expect_present:
            self.assertIn(path, present)
        out = os.path.join(self.tmp, "restore")
        for s in snaps:
            shutil.rmtree(out, ignore_errors=True)
            self.run_cli("restore", s["id"], "--target", out, "-q", env=env)
            src = s["paths"][0]
            self.assertEqual(snapshot_of(src), snapshot_of(out + src), f"snapshot {s['short_id']} of {src}")
        shutil.rmtree(out, ignore_errors=True)
        return snaps


class CrashTest(FaultCase):
    def crash_loop(self, args, after=None, expect_present=()):
        total = self.count_ops(*args)
        killed = reused = 0
        for i in range(ITERATIONS):
            env = self.copy_repo(i)
            if after:
                after(env, setup=True)
            # On a cloud store every other kill falls at a moment rather than an
            # operation; the first is always at an operation, so one iteration kills.
            if self.cloud and i % 2 == 1:
                at = self.rng.uniform(0.1, max(0.2, 0.9 * self.duration))
                p = self.fault_run(env, "count", *args, kill_after=at)
                n = f"{at:.2f}s"
            else:
                n = self.rng.randint(1, max(total, 1))
                p = self.fault_run(env, f"crash:{n}", *args)
            self.assertIn(p.returncode, (-9, 0), f"crash:{n}: {p.stderr.decode()[-1500:]}")
            killed += p.returncode == -9
            self.assert_sound(env, expect_present)
            # The next backup succeeds and reuses what is already there.
            summary = json.loads(self.run_cli("--json", "backup", self.new_source, env=env).stdout.splitlines()[-1])
            reused += summary["bytes_added"] < (10 << 20)
            self.run_cli("check", "--read-data", "-q", env=env)
            self.remove_copy(env)
        print(f"{self.id()}: {ITERATIONS} iterations, {killed} killed at one of {total} write operations, "
              f"next backup reused data in {reused}", flush=True)
        self.assertGreater(killed, 0)
        return reused

    def test_kill_during_backup(self):
        reused = self.crash_loop(["backup", "-q", "--checkpoint-interval", "0s", self.new_source],
                                 expect_present=[self.sources[v] for v in range(3)])
        if ITERATIONS >= 20:
            self.assertGreater(reused, 0)

    def test_kill_during_forget_with_prune(self):
        self.crash_loop(["forget", "--keep-last", "2", "--group-by", "host", "--prune", "--grace", "0s", "--max-unused", "0"],
                        expect_present=[self.sources[1], self.sources[2]])

    def test_kill_during_prune(self):
        self.run_cli("forget", "--keep-last", "2", "--group-by", "host", "-q")
        self.crash_loop(["prune", "--grace", "0s", "--max-unused", "0"],
                        expect_present=[self.sources[1], self.sources[2]])


class IoErrorTest(FaultCase):
    def test_io_errors_fail_cleanly_and_lose_nothing(self):
        self.run_cli("forget", "--keep-last", "2", "--group-by", "host", "-q")
        faults = ["append:EIO", "append:ENOSPC", "fsync:EIO", "create:ENOSPC", "rename:EIO"]
        commands = [["backup", "-q", "--checkpoint-interval", "0s", self.new_source],
                    ["prune", "-q", "--grace", "0s", "--max-unused", "0"]]
        failed = 0
        for i in range(ITERATIONS):
            for cmd in commands:
                for fault in faults:
                    env = self.copy_repo(i)
                    spec = f"{fault}:{self.rng.randint(1, 6)}"
                    p = self.fault_run(env, spec, *cmd)
                    err = p.stderr.decode()
                    self.assertIn(p.returncode, (0, 1), f"{spec} {cmd[0]}: {err}")
                    if p.returncode == 1:
                        failed += 1
                        self.assertRegex(err, r"Fatal: .*(Input/output error|No space left on device)",
                                         f"{spec} {cmd[0]}")
                    self.assert_sound(env, [self.sources[1], self.sources[2]])
                    self.remove_copy(env)
        print(f"{self.id()}: {ITERATIONS * len(faults) * len(commands)} injected faults, {failed} failed the job "
              f"cleanly, the rest fell after the job's last such operation", flush=True)
        self.assertGreater(failed, 0)


class RestoreFaultTest(FaultCase):
    """A restore through a failing or dying filesystem: each fault is a clean
    error naming its cause, nothing outside the target is touched, and a
    rerun with --overwrite restores everything."""

    def setUp(self):
        super().setUp()
        src = os.path.join(self.tmp, "restore-src")
        for i in range(30):
            write(f"{src}/d{i % 3}/e{i % 2}/f{i}.txt", (f"file {i}\n" * (50 + i)).encode())
        write(f"{src}/big.bin", random.Random(7).randbytes(3 << 20))
        with open(f"{src}/sparse.bin", "wb") as f:  # ends in a hole: restored with a truncate
            f.write(random.Random(8).randbytes(1 << 20))
            f.truncate(4 << 20)
        os.symlink("d0/e0/f0.txt", f"{src}/link")
        os.link(f"{src}/d1/e1/f1.txt", f"{src}/hardlink")
        os.mkfifo(f"{src}/fifo")
        self.restore_src = src
        self.backup(src)
        self.parent = os.path.join(self.tmp, "restores")
        self.target = os.path.join(self.parent, "target")
        write(os.path.join(self.parent, "canary", "keep.txt"), b"outside the target")
        self.canary = snapshot_of(self.parent)

    def restore(self, fault, overwrite=False):
        args = ["restore", "latest", "--target", self.target, "-q"] + (["--overwrite"] if overwrite else [])
        return self.fault_run({"BACKSPAN_FAULT_SCOPE": self.target}, fault, *args)

    def assert_outside_untouched(self):
        now = snapshot_of(self.parent, skip={b"target"})
        now = {k: v for k, v in now.items() if not k.startswith(b"target" + os.sep.encode())}
        before = {k: v for k, v in self.canary.items() if k != b"."}
        self.assertEqual({k: v for k, v in now.items() if k != b"."}, before)

    def assert_rerun_completes(self):
        p = self.restore("count", overwrite=True)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(snapshot_of(self.restore_src), snapshot_of(self.target + self.restore_src))

    def test_io_errors_during_restore_fail_cleanly(self):
        faults = ["append:EIO", "append:ENOSPC", "create:EIO", "create:ENOSPC", "mkdir:EIO", "link:EIO",
                  "truncate:EIO", "metadata:EIO"]
        failed = 0
        for i in range(ITERATIONS):
            for fault in faults:
                shutil.rmtree(self.target, ignore_errors=True)
                spec = f"{fault}:{self.rng.randint(1, 3)}"
                p = self.restore(spec)
                err = p.stderr.decode()
                self.assertIn(p.returncode, (0, 1), f"{spec}: {err}")
                if p.returncode == 1:
                    failed += 1
                    self.assertRegex(err, r"(Input/output error|No space left on device)", spec)
                    self.assertIn(self.target, err, f"{spec}: the error names the path")
                self.assert_outside_untouched()
                self.assert_rerun_completes()
        print(f"{self.id()}: {ITERATIONS * len(faults)} injected faults, {failed} failed the restore cleanly",
              flush=True)
        self.assertGreater(failed, 0)

    def test_kill_during_restore(self):
        shutil.rmtree(self.target, ignore_errors=True)
        p = self.restore("count")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        ops = int([l for l in p.stderr.decode().splitlines() if l.startswith("fault-ops: ")][-1].split()[1])
        self.assertGreater(ops, 40)
        for _ in range(ITERATIONS):
            shutil.rmtree(self.target, ignore_errors=True)
            k = self.rng.randint(1, ops)
            p = self.restore(f"crash:{k}")
            self.assertEqual(p.returncode, -9, f"crash:{k} of {ops}: {p.stderr.decode()}")
            self.assert_outside_untouched()
            self.assert_rerun_completes()


class CorruptionTest(FaultCase):
    def flip_a_byte(self, env, kind):
        """Flips a random byte of a random file of `kind` (data, index, ...); says which."""
        if self.cloud:
            copy = CloudRepo(self.store, self.container, env["BACKSPAN_REPOSITORY"].split("/", 3)[3], self.proxy.url)
            victim = self.rng.choice(sorted(copy.keys(kind + "/")))
            data = bytearray(copy.read(victim))
            offset = self.rng.randrange(len(data))
            data[offset] ^= self.rng.randint(1, 255)
            copy.write(victim, bytes(data))
            return f"byte {offset} of {victim}"
        repo = env["BACKSPAN_REPOSITORY"]
        files = []
        for dirpath, _, names in os.walk(os.path.join(repo, kind)):
            files += [os.path.join(dirpath, n) for n in names]
        victim = self.rng.choice(sorted(files))
        offset = self.rng.randrange(os.path.getsize(victim))
        with open(victim, "r+b") as f:
            f.seek(offset)
            b = f.read(1)[0]
            f.seek(offset)
            f.write(bytes([b ^ self.rng.randint(1, 255)]))
        return f"byte {offset} of {victim}"

    def test_corruption_is_always_detected_and_never_restored(self):
        detected = total = 0
        for kind in ["data", "index", "snapshots", "keys"]:
            for i in range(ITERATIONS):
                env = self.copy_repo(i)
                offset = self.flip_a_byte(env, kind)
                total += 1
                p = self.run_cli("check", "--read-data", rc=None, env=env)
                detected += p.returncode == 1
                self.assertEqual(p.returncode, 1, f"{kind}: {offset} flipped, check passed")
                # Restoring is either refused or byte-identical, never silently wrong.
                out = os.path.join(self.tmp, "restore")
                for v in range(3):
                    src = self.sources[v]
                    listing = self.run_cli("--json", "snapshots", rc=None, env=env)
                    if listing.returncode != 0:
                        break
                    for s in json.loads(listing.stdout):
                        if s["paths"][0] != src:
                            continue
                        shutil.rmtree(out, ignore_errors=True)
                        r = self.run_cli("restore", s["id"], "--target", out, "-q", rc=None, env=env)
                        if r.returncode == 0:
                            self.assertEqual(snapshot_of(src), snapshot_of(out + src),
                                             f"{kind}: restore succeeded with different content")
                shutil.rmtree(out, ignore_errors=True)
                self.remove_copy(env)
        print(f"{self.id()}: {detected} of {total} injected corruptions detected by check --read-data", flush=True)
        self.assertEqual(detected, total)


class ConcurrentPruneTest(FaultCase):
    def test_backups_keep_running_while_prune_runs(self):
        rounds = max(4, ITERATIONS)
        for v in range(4, 4 + rounds):
            self.add_version(v)
        errors = []

        def backups():
            try:
                for v in range(3, 4 + rounds):
                    self.run_cli("backup", "-q", self.sources[v])
            except Exception as e:  # reported by the main thread
                errors.append(e)

        t = threading.Thread(target=backups)
        t.start()
        prunes = 0
        while t.is_alive() or prunes < 2:
            self.run_cli("forget", "--keep-last", "3", "--group-by", "host", "--prune", "--grace", "1s",
                         "--max-unused", "0", "-q")
            self.run_cli("prune", "--grace", "1s", "--max-unused", "0", "-q")
            prunes += 1
        t.join()
        self.assertFalse(errors, errors)
        # Apply the policy to the last backups too, finish what is marked, verify.
        self.run_cli("forget", "--keep-last", "3", "--group-by", "host", "--prune", "--grace", "0s", "-q")
        self.run_cli("prune", "--grace", "0s", "-q")
        snaps = self.assert_sound(self.env)
        self.assertEqual(len(snaps), 3)
        print(f"{self.id()}: {rounds + 1} backups alongside {prunes} forget+prune rounds; "
              f"{len(snaps)} snapshots kept, all restored identically", flush=True)


if __name__ == "__main__":
    unittest.main()
