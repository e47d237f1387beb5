#!/usr/bin/env python3
"""The cloud backends against the emulators' own limits (bench/cloud.sh runs
this): on the benchmark tree, the first backup to Azurite and to s3rver
beside a plain parallel upload of the same stored bytes through the same
emulator; restore and check --read-data beside a plain parallel download; an
incremental backup with a warm cache (bytes and requests downloaded); peak
memory beside the local backend's. Prints a table and writes JSON.

  cloud_bench.py BIN TREE OUT_JSON [--connections N]"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from storage import Azurite, CloudRepo, S3rver  # noqa: E402


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd, env, store=None):
    """[seconds, peak RSS MiB, CPU seconds, the emulator's CPU seconds meanwhile]
    of a command, which must succeed."""
    with tempfile.NamedTemporaryFile() as t:
        emulator = cpu_seconds(store.proc.pid) if store else 0.0
        started = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", t.name, *cmd], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        took = time.monotonic() - started
        emulator = cpu_seconds(store.proc.pid) - emulator if store else 0.0
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(cmd)} failed: {p.stderr.decode()[-2000:]}")
        rss, user, system = open(t.name).read().split()[-3:]
        return [took, int(rss) / 1024, float(user) + float(system), emulator]


def plain_timed(fn, items, connections, store):
    """[seconds, 0, the client's CPU seconds, the emulator's] of a plain parallel client."""
    emulator = cpu_seconds(store.proc.pid)
    client = time.process_time()
    started = time.monotonic()
    parallel(fn, items, connections)
    return [time.monotonic() - started, 0, time.process_time() - client, cpu_seconds(store.proc.pid) - emulator]


def root_attributes(bin_, env):
    doc = json.loads(subprocess.run([bin_, "--json", "trace", "latest"], env=env, capture_output=True, check=True).stdout)
    return doc["spans"][0]["attributes"]


def files_of(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            out.append(os.path.relpath(os.path.join(d, n), root))
    return out


def parallel(fn, items, connections):
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        for _ in pool.map(fn, items):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("tree")
    ap.add_argument("out")
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="backspan-cloud-bench.")
    env = {**os.environ, "BACKSPAN_PASSWORD": "bench", "BACKSPAN_STATE_DIR": f"{work}/state",
           "XDG_CACHE_HOME": f"{work}/cache", "TMPDIR": work}
    results = {"connections": args.connections}
    try:
        subprocess.run(["sh", "-c", f"find '{args.tree}' -type f -exec cat {{}} + >/dev/null"], check=True)
        # The local backend, for the stored bytes and the memory baseline.
        local = f"{work}/local"
        subprocess.run([args.bin, "-r", local, "init", "-q"], env=env, check=True)
        results["local.backup"] = timed([args.bin, "-r", local, "backup", "-q", args.tree], env)
        # Restores go to fresh directories, removed only at the end: ext4 is
        # slow to create files while it still remembers many just deleted.
        results["local.restore"] = timed([args.bin, "-r", local, "restore", "latest", "--target", f"{work}/restore-local",
                                          "-q"], env)
        stored = files_of(local)
        stored_bytes = sum(os.path.getsize(os.path.join(local, f)) for f in stored)
        results["stored_bytes"] = stored_bytes
        results["stored_objects"] = len(stored)
        for kind in ("azure", "s3"):
            peer_dir = f"{work}/{kind}-peer"
            os.makedirs(peer_dir)
            store = Azurite(peer_dir) if kind == "azure" else S3rver(peer_dir)
            try:
                cenv = {**env, **store.env()}
                # The emulator's limit: the same objects, PUT and GET in parallel by a plain client.
                plain = CloudRepo(store, "plain", "repo")
                if kind == "azure":
                    store.create_container("plain")
                else:
                    store.put_bucket("plain")
                results[f"{kind}.plain_upload"] = plain_timed(
                    lambda f: plain.write(f, open(os.path.join(local, f), "rb").read()), stored, args.connections, store)
                results[f"{kind}.plain_download"] = plain_timed(lambda f: plain.read(f), stored, args.connections, store)
                loc = f"{kind}://bench/repo"
                o = ["-o", f"connections={args.connections}"]
                subprocess.run([args.bin, "-r", loc, "init", "-q"], env=cenv, check=True)
                results[f"{kind}.backup"] = timed([args.bin, "-r", loc, *o, "backup", "-q", args.tree], cenv, store)
                a = root_attributes(args.bin, cenv)
                results[f"{kind}.backup_requests"] = a.get("backspan.storage.requests", 0)
                results[f"{kind}.backup_bytes_sent"] = a.get("backspan.storage.bytes_sent", 0)
                out = f"{work}/restore-{kind}"
                results[f"{kind}.restore"] = timed([args.bin, "-r", loc, *o, "restore", "latest", "--target", out, "-q"],
                                                   cenv, store)
                results[f"{kind}.check_read_data"] = timed([args.bin, "-r", loc, *o, "check", "--read-data", "-q"], cenv, store)
                # An incremental backup: one file changed, with the cache the last backup left.
                with open(os.path.join(args.tree, "bench-touched"), "wb") as f:
                    f.write(os.urandom(4096))
                timed([args.bin, "-r", loc, *o, "backup", "-q", args.tree], cenv)
                with open(os.path.join(args.tree, "bench-touched"), "wb") as f:
                    f.write(os.urandom(4096))
                results[f"{kind}.incremental"] = timed([args.bin, "-r", loc, *o, "backup", "-q", args.tree], cenv, store)
                a = root_attributes(args.bin, cenv)
                results[f"{kind}.incremental_bytes_received"] = a.get("backspan.storage.bytes_received", 0)
                results[f"{kind}.incremental_requests"] = a.get("backspan.storage.requests", 0)
                repo = CloudRepo(store, "bench", "repo")
                metadata = [k for k in repo.keys() if not k.startswith("data/") and not k.startswith("locks/")]
                results[f"{kind}.metadata_bytes"] = sum(len(repo.read(k)) for k in metadata)
            finally:
                store.stop()
                os.remove(os.path.join(args.tree, "bench-touched")) if os.path.exists(
                    os.path.join(args.tree, "bench-touched")) else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    gib = results["stored_bytes"] / (1 << 30)
    print(f"\n{results['stored_objects']} objects, {gib:.2f} GiB stored; {args.connections} connections\n")
    print("| measure | Azurite | s3rver | target |")
    print("|---|---|---|---|")

    def row(name, fmt, target=""):
        print(f"| {name} | {fmt('azure')} | {fmt('s3')} | {target} |")

    row("first backup", lambda k: f"{results[k + '.backup'][0]:.2f} s", "")
    row("plain parallel upload of the stored bytes", lambda k: f"{results[k + '.plain_upload'][0]:.2f} s", "")
    row("backup / plain upload", lambda k: f"{results[k + '.backup'][0] / results[k + '.plain_upload'][0]:.2f}x", "<= 1.3x")
    row("restore", lambda k: f"{results[k + '.restore'][0]:.2f} s", "")
    row("check --read-data", lambda k: f"{results[k + '.check_read_data'][0]:.2f} s", "")
    row("plain parallel download", lambda k: f"{results[k + '.plain_download'][0]:.2f} s", "")
    row("restore / plain download", lambda k: f"{results[k + '.restore'][0] / results[k + '.plain_download'][0]:.2f}x", "<= 1.3x")
    row("check --read-data / plain download",
        lambda k: f"{results[k + '.check_read_data'][0] / results[k + '.plain_download'][0]:.2f}x", "<= 1.3x")
    row("incremental backup (warm cache)", lambda k: f"{results[k + '.incremental'][0]:.2f} s", "")
    row("  downloaded / metadata",
        lambda k: f"{results[k + '.incremental_bytes_received']} B / {results[k + '.metadata_bytes']} B = "
                  f"{100 * results[k + '.incremental_bytes_received'] / max(1, results[k + '.metadata_bytes']):.2f} %",
        "< 1 %")
    row("  requests", lambda k: str(results[k + ".incremental_requests"]), "")
    row("first backup: requests per GiB stored", lambda k: f"{results[k + '.backup_requests'] / gib:.0f}", "")
    row("peak RSS backup (local: " + f"{results['local.backup'][1]:.0f} MiB)",
        lambda k: f"{results[k + '.backup'][1]:.0f} MiB", "local + buffers in flight")
    # On a small machine the emulator and backspan share the cores: a job
    # cannot end before the CPU both spend is done.
    cores = os.cpu_count()
    print(f"\nCPU seconds, backspan (or the plain client) + emulator, and the least wall time they allow on {cores} cores:\n")
    print("| step | Azurite | s3rver |")
    print("|---|---|---|")
    for step in ("plain_upload", "backup", "plain_download", "restore", "check_read_data"):
        def cell(k):
            _, _, ours, emu = results[f"{k}.{step}"]
            return f"{ours:.2f} + {emu:.2f} = {ours + emu:.2f} CPU-s, >= {(ours + emu) / cores:.2f} s"
        print(f"| {step.replace('_', ' ')} | {cell('azure')} | {cell('s3')} |")
    print(f"\nlocal backend: first backup {results['local.backup'][0]:.2f} s, restore {results['local.restore'][0]:.2f} s")


if __name__ == "__main__":
    main()
