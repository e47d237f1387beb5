"""Repositories in Azure Blob Storage and S3, against the real emulators on
loopback (Azurite, which checks Shared Key and SAS signatures; s3rver, with
the proxy re-checking every SigV4 signature with the AWS SDK's signer):
backup, restore, check, forget, prune, concurrent backups beside prune,
locks, a wrong password, corruption; retries through injected faults;
append-only credentials; errors that name their cause; credentials kept out
of every output; the metadata cache; Entra ID tokens with Azurite in OAuth
mode."""
import itertools
import json
import os
import signal
import subprocess
import threading
import time
import unittest

from helpers import BIN, FAULT_BIN, CliTestCase, make_certificates, make_tree, snapshot_of, write
from storage import DEV_ACCOUNT, DEV_KEY, Azurite, CloudRepo, Proxy, S3rver, TokenServer, free_port

_names = itertools.count()


def trace_of_last_job(case):
    """The root span's attributes and every event of the last job."""
    doc = json.loads(case.run_cli("--json", "trace", "latest").stdout)
    root = doc["spans"][0]
    events = [e for s in doc["spans"] for e in s.get("events", [])]
    return root["attributes"], events


class CloudCase(CliTestCase):
    """A container or bucket of its own per test, reached through the proxy."""
    KIND = None

    @classmethod
    def setUpClass(cls):
        cls.peer_dir = os.path.join("/tmp", f"backspan-peers-{os.getpid()}-{cls.KIND}")
        os.makedirs(cls.peer_dir, exist_ok=True)
        cls.store = Azurite(cls.peer_dir) if cls.KIND == "azure" else S3rver(cls.peer_dir)
        cls.proxy = Proxy(cls.store.endpoint, cls.KIND)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.store.stop()
        subprocess.run(["rm", "-rf", cls.peer_dir])

    def setUp(self):
        super().setUp()
        self.container = f"t{next(_names):03d}{os.urandom(3).hex()}"
        self.cloud = CloudRepo(self.store, self.container, "repo", self.proxy.url)
        self.env.update(self.cloud.env())
        self.env["XDG_CACHE_HOME"] = os.path.join(self.tmp, "cache")
        self.env["TMPDIR"] = os.path.join(self.tmp, "spill")
        os.makedirs(self.env["TMPDIR"])
        self.proxy.faults()
        self.proxy.deny_delete(False)

    def tearDown(self):
        if self.KIND == "s3":
            self.assertEqual(self.proxy.stats()["signature_failures"], 0, "a request's SigV4 signature was wrong")
        super().tearDown()

    def source(self, name="src", files=20, size=300_000):
        src = os.path.join(self.tmp, name)
        for i in range(files):
            write(f"{src}/d{i % 4}/f{i}", os.urandom(size))
        return src

    def restored_identically(self, snapshot, src, env=None):
        out = os.path.join(self.tmp, "restore-" + os.urandom(4).hex())
        self.run_cli("restore", snapshot, "--target", out, "-q", env=env)
        self.assertEqual(snapshot_of(src), snapshot_of(out + src))

    def snapshot_ids(self, env=None):
        return [s["id"] for s in json.loads(self.run_cli("--json", "snapshots", env=env).stdout)]


class BackendSuite:
    """What the local backend's suite exercises, on a cloud backend."""

    def test_backup_restore_check_forget_prune(self):
        src = os.path.join(self.tmp, "src")
        make_tree(src)
        self.run_cli("init", "-q")
        self.assertIn("config", self.cloud.keys())
        self.run_cli("backup", src)
        out = os.path.join(self.tmp, "out")
        summary = self.json_out("restore", "latest", "--target", out, "--verify")[-1]
        self.assertEqual(summary["errors"], 0)
        self.assertEqual(snapshot_of(src, skip={b"socket"}), snapshot_of(out + src))
        self.run_cli("check", "--read-data")
        write(f"{src}/plain.txt", b"changed\n")
        second = self.backup(src)
        self.assertLess(second["bytes_read"], 100)  # unchanged files are not read again
        self.assertEqual(len(self.snapshot_ids()), 2)
        self.assertIn("plain.txt", self.run_cli("diff", *self.snapshot_ids()).stdout.decode())
        self.run_cli("forget", "--keep-last", "1", "--prune", "--grace", "0s")
        self.assertEqual(len(self.snapshot_ids()), 1)
        self.run_cli("check", "--read-data")
        out2 = os.path.join(self.tmp, "out2")
        self.run_cli("restore", "latest", "--target", out2, "-q")
        self.assertEqual(snapshot_of(src, skip={b"socket"}), snapshot_of(out2 + src))
        # Every lock was released, and the job reports its requests.
        self.assertEqual(self.cloud.keys("locks/"), [])
        attrs, _ = trace_of_last_job(self)
        self.assertGreater(attrs["backspan.storage.get.requests"], 0)
        self.assertGreater(attrs["backspan.storage.bytes_received"], 1 << 20)
        self.assertTrue(attrs["backspan.repository"].startswith(f"{self.KIND}://{self.container}/repo"))

    def test_wrong_password_writes_nothing(self):
        self.run_cli("init", "-q")
        self.backup(self.source(files=3))
        before = sorted(self.cloud.keys())
        p = self.run_cli("snapshots", rc=1, env={"BACKSPAN_PASSWORD": "wrong"})
        self.assertIn("wrong password", p.stderr.decode().lower())
        p = self.run_cli("backup", self.source("other", files=1), rc=1, env={"BACKSPAN_PASSWORD": "wrong"})
        self.assertEqual(sorted(self.cloud.keys()), before)

    def test_concurrent_backups_beside_prune(self):
        self.run_cli("init", "-q")
        sources = [self.source(f"s{i}", files=6) for i in range(3)]
        errors = []

        def backups(src):
            try:
                for _ in range(2):
                    write(f"{src}/extra", os.urandom(200_000))
                    self.run_cli("backup", "-q", src)
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=backups, args=(s,)) for s in sources]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            self.run_cli("forget", "--keep-last", "1", "--prune", "--grace", "1s", "--max-unused", "0", "-q")
        for t in threads:
            t.join()
        self.assertFalse(errors, errors)
        self.run_cli("forget", "--keep-last", "1", "--prune", "--grace", "0s", "-q")
        self.run_cli("prune", "--grace", "0s", "-q")
        self.run_cli("check", "--read-data")
        snaps = json.loads(self.run_cli("--json", "snapshots").stdout)
        self.assertEqual(sorted(s["paths"][0] for s in snaps), sorted(sources))
        for s in snaps:
            self.restored_identically(s["id"], s["paths"][0])
        self.assertEqual(self.cloud.keys("locks/"), [])

    def test_an_exclusive_lock_excludes_another(self):
        self.run_cli("init", "-q")
        self.backup(self.source(files=4))
        # A prune held up by slow storage holds its lock while a second one starts.
        self.proxy.faults({"method": "GET", "path": "/index/", "action": "stall", "ms": 4000, "times": 1})
        first = subprocess.Popen([BIN, "--no-cache", "prune", "--grace", "0s", "--max-unused", "0"], env=self.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not self.cloud.keys("locks/") and time.time() < deadline:
            time.sleep(0.1)
        p = self.run_cli("prune", rc=1)
        self.assertIn("lock", p.stderr.decode())
        _, err = first.communicate(timeout=120)
        self.assertEqual(first.returncode, 0, err)

    def test_corruption_is_detected_and_never_restored(self):
        self.run_cli("init", "-q")
        src = self.source(files=8)
        self.backup(src)
        packs = self.cloud.keys("data/")
        victim = max(packs, key=lambda k: len(self.cloud.read(k)))
        original = self.cloud.read(victim)
        data = bytearray(original)
        data[len(data) // 3] ^= 0x55
        self.cloud.write(victim, bytes(data))
        p = self.run_cli("check", "--read-data", rc=1)
        self.assertIn("snapshot", p.stderr.decode())
        out = os.path.join(self.tmp, "out")
        r = self.run_cli("restore", "latest", "--target", out, rc=None)
        self.assertNotEqual(r.returncode, 0)
        for dirpath, _, names in os.walk(out):  # what was restored is right
            for n in names:
                path = os.path.join(dirpath, n)
                with open(path, "rb") as f, open(src + path[len(out + src):], "rb") as g:
                    self.assertEqual(f.read(), g.read(), path)
        self.cloud.write(victim, original)
        # A damaged index file: a warning, and repair index rebuilds it from the packs.
        index = self.cloud.keys("index/")[0]
        raw = bytearray(self.cloud.read(index))
        raw[10] ^= 1
        self.cloud.write(index, bytes(raw))
        self.run_cli("check", rc=1)
        p = self.run_cli("--no-cache", "ls", "latest", rc=None)
        self.assertIn("damaged", p.stderr.decode())
        self.run_cli("repair", "index")
        self.assertNotIn(index, self.cloud.keys("index/"))
        self.run_cli("check", "--read-data")
        self.restored_identically("latest", src)


    def test_restore_of_more_directories_than_open_files(self):
        # A restore from the cloud fills files pack by pack with every
        # directory open; a tree with more directories than the process may
        # open is restored file by file instead.
        src = os.path.join(self.tmp, "dirs")
        for i in range(1200):
            write(f"{src}/d{i}/f", f"file {i}\n".encode())
        self.run_cli("init", "-q")
        self.run_cli("backup", "-q", src)
        out = os.path.join(self.tmp, "out")
        self.run_cli("restore", "latest", "--target", out, "-q", prefix=("prlimit", "--nofile=1024:1024"))
        self.assertEqual(snapshot_of(src), snapshot_of(out + src))


class RetriesSuite:
    """Injected faults between backspan and the store: each job completes
    through retries or fails cleanly, and nothing stored is ever lost."""

    def test_jobs_complete_through_faults(self):
        self.run_cli("init", "-q")
        first_src = self.source("first", files=10)
        self.backup(first_src)
        first = self.snapshot_ids()[0]
        src = self.source("second", files=30, size=600_000)  # packs of several parts
        part = "comp=block" if self.KIND == "azure" else "partNumber"
        self.proxy.faults(
            {"method": "PUT", "action": "status", "status": 503, "retry_after": 1, "times": 2},
            {"method": "PUT", "query": part, "action": "reset_request", "times": 1},
            {"method": "PUT", "action": "status", "status": 500, "times": 1, "skip": 3},
            {"method": "GET", "action": "status", "status": 429, "retry_after_ms": 300, "times": 2},
            {"method": "GET", "path": "/index/", "action": "reset_response", "times": 1},
            {"method": "HEAD", "action": "status", "status": 502, "times": 1},
        )
        self.run_cli("-o", "part-size=5MiB", "backup", "-q", src)
        _, events = trace_of_last_job(self)
        retries = [e for e in events if e["name"] == "backspan.storage.retry"]
        self.assertGreaterEqual(len(retries), 5, retries)
        self.assertTrue(any("503" in e["attributes"]["exception.message"] for e in retries))
        # Reads through resets, cut-short and lying bodies, and a stall past the timeout.
        self.proxy.faults(
            {"method": "GET", "path": "/data/", "action": "truncate", "times": 1},
            {"method": "GET", "path": "/data/", "action": "wrong_length", "times": 1, "skip": 1},
            {"method": "GET", "path": "/data/", "action": "reset_response", "times": 1, "skip": 2},
            {"method": "GET", "path": "/data/", "action": "stall", "ms": 3000, "times": 1, "skip": 3},
        )
        self.run_cli("-o", "timeout=1s", "check", "--read-data")
        self.proxy.faults({"method": "GET", "path": "/data/", "action": "status", "status": 503, "times": 3})
        self.restored_identically("latest", src)
        self.restored_identically(first, first_src)
        self.proxy.faults({"method": "DELETE", "action": "status", "status": 503, "times": 2},
                          {"method": "PUT", "action": "status", "status": 500, "times": 2})
        self.run_cli("forget", first, "--prune", "--grace", "0s", "--max-unused", "0", "-q")
        self.proxy.faults()
        self.run_cli("check", "--read-data")
        self.restored_identically("latest", src)
        self.assertGreater(self.proxy.stats()["faults"], 10)

    def test_a_failing_store_fails_the_job_cleanly(self):
        self.run_cli("init", "-q")
        src = self.source(files=6)
        self.backup(src)
        before = self.snapshot_ids()
        self.proxy.faults({"method": "PUT", "action": "status", "status": 500, "times": 100000})
        p = self.run_cli("-o", "retries=2", "backup", self.source("more", files=6), rc=1)
        err = p.stderr.decode()
        self.assertIn("HTTP 500", err)
        self.assertIn("after 3 attempts", err)
        self.proxy.faults()
        self.assertEqual(self.snapshot_ids(), before)
        self.run_cli("check", "--read-data")
        self.restored_identically(before[0], src)
        self.backup(self.source("more", files=6))


class AppendOnlySuite:
    def append_only_env(self):
        raise NotImplementedError

    def full_access(self):
        pass

    def test_append_only_credentials_back_up_but_cannot_delete(self):
        self.run_cli("init", "-q")
        src = self.source(files=4)
        self.backup(src)
        env = self.append_only_env()
        for i in range(2):
            write(f"{src}/new{i}", os.urandom(100_000))
            self.run_cli("backup", "-q", src, env=env)
        self.run_cli("check", env=env)
        keys = sorted(self.cloud.keys())
        ids = self.snapshot_ids(env=env)
        self.assertEqual(len(ids), 3)
        for cmd in (["forget", "--keep-last", "1", "--prune"], ["prune"], ["forget", ids[0]]):
            p = self.run_cli(*cmd, rc=1, env=env)
            err = p.stderr.decode()
            self.assertIn("may not delete (append-only)", err)
            self.assertIn("nothing was changed", err)
        self.assertEqual(sorted(self.cloud.keys()), keys)
        self.assertEqual(self.snapshot_ids(env=env), ids)
        # The full credentials, where prune runs, clean up what the others could not.
        self.full_access()
        self.run_cli("forget", "--keep-last", "1", "--prune", "--grace", "0s", "-q")
        self.assertEqual(len(self.snapshot_ids()), 1)
        self.restored_identically("latest", src)


class ErrorsSuite:
    def test_errors_name_their_cause(self):
        # An endpoint nobody listens on.
        dead = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"} if self.KIND == "s3" else \
            {"AZURE_STORAGE_CONNECTION_STRING": f"AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                                                f"BlobEndpoint=http://127.0.0.1:{free_port()}/{DEV_ACCOUNT}"}
        started = time.time()
        p = self.run_cli("-o", "retries=1", "init", rc=1, env=dead)
        self.assertIn("could not connect", p.stderr.decode())
        self.assertLess(time.time() - started, 15)
        # Credentials the store refuses.
        bad = {"AWS_SECRET_ACCESS_KEY": "not-the-secret"} if self.KIND == "s3" else \
            {"AZURE_STORAGE_CONNECTION_STRING": f"AccountName={DEV_ACCOUNT};AccountKey=QUJDREVGR0g=;"
                                                f"BlobEndpoint={self.proxy.url}"}
        p = self.run_cli("init", rc=1, env=bad)
        self.assertIn("credentials were refused", p.stderr.decode())
        self.assertEqual(self.cloud.keys(), [])
        self.proxy.reset_stats()  # the proxy counted that refusal as a bad signature
        # No repository there yet.
        p = self.run_cli("snapshots", rc=1)
        self.assertIn("is not a backspan repository", p.stderr.decode())
        # No credentials at all.
        none = {k: "" for k in ("AZURE_STORAGE_CONNECTION_STRING", "AWS_ACCESS_KEY_ID", "AWS_PROFILE")}
        none["HOME"] = self.tmp
        p = self.run_cli("snapshots", rc=1, env=none)
        self.assertIn("credentials", p.stderr.decode())
        # Not a container or bucket name.
        p = self.run_cli("-r", f"{self.KIND}://Bad_Name/x", "snapshots", rc=1)
        self.assertIn("name", p.stderr.decode())
        # Plain http beyond this host needs --insecure-http.
        far = {"AWS_ENDPOINT_URL": "http://192.0.2.1:9000"} if self.KIND == "s3" else \
            {"AZURE_STORAGE_CONNECTION_STRING": f"AccountName=a;AccountKey={DEV_KEY};BlobEndpoint=http://192.0.2.1/a"}
        p = self.run_cli("snapshots", rc=1, env=far)
        self.assertIn("--insecure-http", p.stderr.decode())
        # Then init creates the container or bucket.
        self.run_cli("init", "-q")
        self.assertIn("config", self.cloud.keys())
        p = self.run_cli("init", rc=1)
        self.assertIn("already exists", p.stderr.decode())

    def test_credentials_never_appear(self):
        secrets = self.secrets()
        outputs = []
        outputs.append(self.run_cli("init"))
        src = self.source(files=3)
        outputs.append(self.run_cli("backup", src))
        outputs.append(self.run_cli("--json", "backup", src))
        outputs.append(self.run_cli("--json", "snapshots"))
        outputs.append(self.run_cli("--json", "jobs"))
        outputs.append(self.run_cli("--json", "trace", "latest"))
        self.proxy.faults({"method": "GET", "action": "status", "status": 403, "times": 1000})
        outputs.append(self.run_cli("snapshots", rc=1))
        self.proxy.faults()
        text = b"".join(p.stdout + p.stderr for p in outputs)
        for dirpath, _, names in os.walk(self.state_dir):  # the job history
            for n in names:
                with open(os.path.join(dirpath, n), "rb") as f:
                    text += f.read()
        for s in secrets:
            self.assertNotIn(s.encode(), text)


class CacheSuite:
    def test_metadata_comes_from_the_cache(self):
        self.run_cli("init", "-q")
        src = self.source(files=40, size=20_000)
        for i in range(3):
            write(f"{src}/d0/new{i}", os.urandom(1000))
            self.run_cli("backup", "-q", src)
        self.run_cli("snapshots")  # warms what backups did not write themselves
        write(f"{src}/d1/last", os.urandom(1000))
        self.run_cli("backup", "-q", src)
        warm, _ = trace_of_last_job(self)
        self.run_cli("--no-cache", "backup", "-q", src)
        cold, _ = trace_of_last_job(self)
        self.assertLess(warm["backspan.storage.bytes_received"], cold["backspan.storage.bytes_received"])
        metadata = sum(len(self.cloud.read(k)) for k in self.cloud.keys("index/") + self.cloud.keys("snapshots/"))
        self.assertLess(warm["backspan.storage.get.requests"], cold["backspan.storage.get.requests"])
        # A damaged cache entry is noticed, dropped and fetched again.
        cache = os.path.join(self.tmp, "cache", "backspan")
        entries = [os.path.join(d, n) for d, _, ns in os.walk(cache) for n in ns if "/snapshots/" in os.path.join(d, n)]
        self.assertTrue(entries)
        for path in entries:
            with open(path, "r+b") as f:
                f.write(b"X")
        self.assertEqual(len(self.snapshot_ids()), 5)
        self.run_cli("check")
        print(f"{self.KIND}: an unchanged backup with a warm cache received {warm['backspan.storage.bytes_received']} "
              f"bytes in {warm['backspan.storage.get.requests']} reads; without the cache {cold['backspan.storage.bytes_received']} "
              f"bytes in {cold['backspan.storage.get.requests']}; index and snapshots hold {metadata} bytes", flush=True)


class AzureTest(CloudCase, BackendSuite, RetriesSuite, AppendOnlySuite, ErrorsSuite, CacheSuite):
    KIND = "azure"

    def append_only_env(self):
        sas = self.store.sas(self.container, "racwl")  # read, add, create, write, list: no delete
        return {"AZURE_STORAGE_CONNECTION_STRING": f"BlobEndpoint={self.proxy.url};SharedAccessSignature={sas}"}

    def secrets(self):
        self.store.create_container(self.container)
        sas = self.store.sas(self.container, "racwdl")
        self.env["AZURE_STORAGE_CONNECTION_STRING"] = f"BlobEndpoint={self.proxy.url};SharedAccessSignature={sas}"
        sig = [kv.split("=", 1)[1] for kv in sas.split("&") if kv.startswith("sig=")][0]
        return [sig, __import__("urllib.parse").parse.unquote(sig), DEV_KEY]

    def test_a_sas_that_may_not_create_the_container_says_so(self):
        sas = self.store.sas(self.container, "racwdl")
        p = self.run_cli("init", rc=1, env={"AZURE_STORAGE_CONNECTION_STRING":
                                            f"BlobEndpoint={self.proxy.url};SharedAccessSignature={sas}"})
        self.assertIn(f"container {self.container} does not exist and these credentials may not create it",
                      p.stderr.decode())


class S3Test(CloudCase, BackendSuite, RetriesSuite, AppendOnlySuite, ErrorsSuite, CacheSuite):
    KIND = "s3"

    def append_only_env(self):
        self.proxy.deny_delete(True)  # as a bucket policy without s3:DeleteObject would
        return {}

    def full_access(self):
        self.proxy.deny_delete(False)

    def secrets(self):
        return [self.env["AWS_SECRET_ACCESS_KEY"]]

    def test_unfinished_uploads_are_leftovers_prune_aborts(self):
        self.run_cli("init", "-q")
        # Packs of several parts whichever packer the files land in.
        src = self.source(files=16, size=2 << 20)
        # A backup killed while a part uploads leaves its multipart upload unfinished.
        self.proxy.faults({"method": "PUT", "query": "partNumber", "action": "stall", "ms": 30000, "times": 100})
        proc = subprocess.Popen([BIN, "-o", "part-size=5MiB", "backup", src], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while self.proxy.stats()["unfinished_uploads"] == 0 and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.proxy.faults()
        left = self.proxy.stats()["unfinished_uploads"]
        self.assertGreater(left, 0)
        self.assertIn("temporary files", self.run_cli("check").stdout.decode())
        out = self.json_out("prune")[-1]
        self.assertEqual(out["leftovers_kept"], left)  # young: a writer may still be at it
        self.proxy._post("age-uploads", {"seconds": 7200})
        out = self.json_out("prune")[-1]
        self.assertEqual(out["leftovers_removed"], left)
        self.assertEqual(self.proxy.stats()["unfinished_uploads"], 0)
        self.backup(src)


class EntraIdTest(CliTestCase):
    """Azurite in OAuth mode over https: bearer tokens from a client secret
    and from a managed identity, refreshed before they expire; TLS checked."""

    @classmethod
    def setUpClass(cls):
        cls.peer_dir = os.path.join("/tmp", f"backspan-peers-{os.getpid()}-entra")
        os.makedirs(cls.peer_dir, exist_ok=True)
        cls.ca, cert, key = make_certificates(cls.peer_dir)
        cls.store = Azurite(cls.peer_dir, tls=(cert, key), oauth=True)

    @classmethod
    def tearDownClass(cls):
        cls.store.stop()
        subprocess.run(["rm", "-rf", cls.peer_dir])

    def setUp(self):
        super().setUp()
        self.tokens = TokenServer(lifetime=4)
        self.container = f"e{next(_names):03d}{os.urandom(3).hex()}"
        self.env.update(BACKSPAN_REPOSITORY=f"azure://{self.container}/repo", XDG_CACHE_HOME=os.path.join(self.tmp, "c"),
                        AZURE_STORAGE_ACCOUNT=DEV_ACCOUNT, AZURE_STORAGE_ENDPOINT=self.store.endpoint,
                        SSL_CERT_FILE=self.ca)

    def tearDown(self):
        self.tokens.stop()
        super().tearDown()

    def client_secret(self, secret=TokenServer.CLIENT_SECRET):
        return {"AZURE_TENANT_ID": TokenServer.TENANT, "AZURE_CLIENT_ID": TokenServer.CLIENT_ID,
                "AZURE_CLIENT_SECRET": secret, "AZURE_AUTHORITY_HOST": self.tokens.url}

    def test_client_secret_and_managed_identities(self):
        env = self.client_secret()
        self.run_cli("init", "-q", env=env)
        src = os.path.join(self.tmp, "src")
        for i in range(20):
            write(f"{src}/f{i}", os.urandom(500_000))
        # A backup longer than a token lives: the token is refreshed before it expires.
        slow = subprocess.run([FAULT_BIN, "backup", "-q", src], env={**self.env, **env, "BACKSPAN_FAULT": "slow-read:350"},
                              capture_output=True, timeout=300)
        self.assertEqual(slow.returncode, 0, slow.stderr.decode())
        self.assertGreaterEqual(self.tokens.stats()["by_flow"]["client_secret"], 3)
        identity = {"IDENTITY_ENDPOINT": f"{self.tokens.url}/msi/token", "IDENTITY_HEADER": TokenServer.IDENTITY_HEADER}
        out = os.path.join(self.tmp, "out")
        self.run_cli("restore", "latest", "--target", out, "-q", env=identity)
        self.assertEqual(snapshot_of(src), snapshot_of(out + src))
        imds = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.tokens.url}
        self.run_cli("check", "--read-data", env=imds)
        flows = self.tokens.stats()["by_flow"]
        self.assertGreaterEqual(flows["identity_endpoint"], 1)
        self.assertGreaterEqual(flows["imds"], 1)
        # A wrong secret: the token endpoint's reason, nothing else.
        p = self.run_cli("snapshots", rc=1, env=self.client_secret("wrong"))
        self.assertIn("AADSTS7000215", p.stderr.decode())
        self.assertNotIn("wrong", p.stderr.decode().replace("wrong password", ""))

    def test_tls_is_verified(self):
        env = {**self.client_secret(), "SSL_CERT_FILE": ""}
        p = self.run_cli("init", rc=1, env=env)
        self.assertIn("does not verify", p.stderr.decode())
        self.run_cli("--cacert", self.ca, "init", "-q", env=env)


if __name__ == "__main__":
    unittest.main()
