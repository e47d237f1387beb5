"""Helpers for the command-line integration tests: running backspan,
building a source tree with every kind of file, and comparing trees."""
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import unittest

BIN = os.environ.get("BACKSPAN_BIN", os.path.join(os.path.dirname(__file__), "../../build/backspan"))
# The command line on a fault-injecting Env (tests/fault/fault_main.cc).
FAULT_BIN = os.environ.get("BACKSPAN_FAULT_BIN",
                           os.path.join(os.path.dirname(__file__), "../../build/tests/backspan_fault"))
IS_ROOT = os.geteuid() == 0


class CliTestCase(unittest.TestCase):
    """A temp dir with a repository path, and a run() that calls the binary."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="backspan-it.")
        self.repo = os.path.join(self.tmp, "repo")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("BACKSPAN_", "OTEL_", "TRACEPARENT", "TRACESTATE"))}
        # The job history goes to the test's temporary directory, never $HOME.
        self.state_dir = os.path.join(self.tmp, "state")
        self.env.update(BACKSPAN_REPOSITORY=self.repo, BACKSPAN_PASSWORD="correct horse",
                        BACKSPAN_STATE_DIR=self.state_dir)

    def tearDown(self):
        for root, dirs, _ in os.walk(self.tmp):
            for d in dirs:  # read-only directories would block removal
                try:
                    os.chmod(os.path.join(root, d), 0o700, follow_symlinks=False)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_cli(self, *args, rc=0, env=None, prefix=(), binary=BIN):
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.run([*prefix, binary, *args], env=e, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=300)
        if rc is not None and p.returncode != rc:
            self.fail(f"backspan {' '.join(map(str, args))}: exit {p.returncode}, wanted {rc}\n"
                      f"stdout: {p.stdout.decode(errors='replace')[-2000:]}\n"
                      f"stderr: {p.stderr.decode(errors='replace')[-2000:]}")
        return p

    def json_out(self, *args, rc=0, env=None):
        """Runs with --json; returns the parsed lines of stdout (each must be JSON)."""
        p = self.run_cli("--json", *args, rc=rc, env=env)
        return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]

    def init(self):
        self.run_cli("init", "-q")

    def backup(self, *paths, extra=(), rc=0):
        lines = self.json_out("backup", *extra, *paths, rc=rc)
        summary = lines[-1]
        self.assertEqual(summary["message_type"], "summary")
        return summary


def write(path, data, mode=None, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def make_tree(root):
    """Builds a tree covering what backup must preserve. Returns notes for the tests."""
    rnd = os.urandom
    write(f"{root}/plain.txt", b"hello world\n" * 100, 0o644, 1_600_000_000_123_456_789)
    write(f"{root}/empty", b"", 0o600)
    write(f"{root}/exec.sh", b"#!/bin/sh\necho hi\n", 0o755)
    write(f"{root}/setuid", b"x", 0o4755)
    write(f"{root}/readonly.txt", b"ro", 0o444)
    write(f"{root}/big.bin", rnd(20 << 20))  # several chunks
    write(f"{root}/with space and\nnewline", b"odd name")
    write(f"{root}/ünïcødé-日本.txt", "unicode".encode())
    write(os.fsencode(root) + b"/bad-\xff\xfe-utf8", b"not utf-8 name")
    os.makedirs(f"{root}/emptydir")
    # A read-only directory with content: restore must fill it before locking it.
    write(f"{root}/rodir/inside.txt", b"inside")
    os.chmod(f"{root}/rodir", 0o555)
    # Sparse: 64 MiB with 4 KiB of data in the middle.
    with open(f"{root}/sparse.img", "wb") as f:
        f.truncate(64 << 20)
        f.seek(32 << 20)
        f.write(b"x" * 4096)
    # Links.
    os.symlink("plain.txt", f"{root}/link-rel")
    os.symlink("/nonexistent/target", f"{root}/link-dangling")
    os.symlink("../../../../etc/passwd", f"{root}/link-escape")
    os.utime(f"{root}/link-rel", ns=(1_500_000_000_000_000_000,) * 2, follow_symlinks=False)
    write(f"{root}/hard-a", b"hard linked content")
    os.link(f"{root}/hard-a", f"{root}/hard-b")
    os.makedirs(f"{root}/sub")
    os.link(f"{root}/hard-a", f"{root}/sub/hard-c")
    # A deep tree.
    deep = root
    for _ in range(200):
        deep = os.path.join(deep, "d")
    write(f"{deep}/bottom.txt", b"deep")
    # Special files: a FIFO is recorded; a socket is skipped with a warning.
    os.mkfifo(f"{root}/fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind(f"{root}/socket")
    s.close()
    if IS_ROOT:
        os.chown(f"{root}/plain.txt", 1234, 5678)
        os.chown(f"{root}/link-rel", 4321, 8765, follow_symlinks=False)
        os.chown(f"{root}/sub", 1111, 2222)
    # Directory mtimes last, after their contents were written.
    os.utime(f"{root}/sub", ns=(1_400_000_000_000_000_000,) * 2)
    return {"socket": f"{root}/socket"}


def snapshot_of(root, skip=()):
    """Everything compared between a source and its restore, keyed by relative path."""
    root_b = os.fsencode(root)
    out = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root_b):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root_b)
            if rel in skip:
                continue
            st = os.lstat(path)
            entry = {"type": stat.S_IFMT(st.st_mode), "mode": stat.S_IMODE(st.st_mode),
                     "uid": st.st_uid, "gid": st.st_gid}
            if not stat.S_ISDIR(st.st_mode):
                entry["mtime_ns"] = st.st_mtime_ns
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    entry["sha"] = __import__("hashlib").sha256(f.read()).hexdigest()
                entry["size"] = st.st_size
                if st.st_nlink > 1:
                    entry["link_group"] = inodes.setdefault(st.st_ino, rel)
            if stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(path)
            out[rel] = entry
    # Directory mtimes after the walk (reading them does not change them).
    for dirpath, dirnames, _ in os.walk(root_b):
        for name in dirnames:
            rel = os.path.relpath(os.path.join(dirpath, name), root_b)
            if rel in out:
                out[rel]["mtime_ns"] = os.lstat(os.path.join(dirpath, name)).st_mtime_ns
    return out


def make_certificates(tmp):
    """A throwaway CA and a certificate it signs for 127.0.0.1: (ca.pem, cert.pem, key.pem)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp)
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "1", "-subj", "/CN=backspan test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
        "-out", "cert.csr", "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem",
        "-days", "1", "-extfile", "san.ext")
    return tuple(os.path.join(tmp, n) for n in ("ca.pem", "cert.pem", "key.pem"))
