"""A real PostgreSQL server for tests: a fresh cluster in a temporary directory,
on a free loopback port, started and stopped by the test. As root it runs as
the `postgres` system user, which the Debian package creates."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def _bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL server is installed (Debian: apt-get install postgresql)")
    return os.path.dirname(found[-1])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.bin = _bin_dir()
        self.dir = tempfile.mkdtemp(prefix="backspan-pg-")
        self.prefix = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run(f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self.port = _free_port()
        self.running = False
        self.start()

    def _run(self, *args):
        r = subprocess.run([*self.prefix, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {r.stdout.decode(errors='replace')}")
        return r.stdout.decode()

    def start(self):
        # Durability is not what these tests are about: fsync off keeps them fast.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/server.log", "-w", "-t", "60",
                  "-o", options, "start")
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run(f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", mode, "-w", "stop")
            self.running = False

    def uri(self, db="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql, db="postgres"):
        """The rows of `sql`, as lists of strings."""
        out = self._run(f"{self.bin}/psql", "-X", "-A", "-t", "-F", "\t", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", db, "-c", sql)
        return [line.split("\t") for line in out.splitlines() if line]

    def new_database(self, name):
        self.psql(f"DROP DATABASE IF EXISTS {name}")
        self.psql(f"CREATE DATABASE {name}")
        return self.uri(name)

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
