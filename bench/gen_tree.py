#!/usr/bin/env python3
"""Generates the benchmark's mixed source tree, deterministically.

About 1.5 GiB: ~20,000 small text files in nested directories, a few
hundred medium files, and ten large files of which half are random
(incompressible). Text is random words, so it compresses roughly like
logs or source code and no two files share content.

usage: gen_tree.py DIR [--scale FACTOR]
"""
import argparse
import os
import random

WORDS = (b"the of and to in is that for it as was with be by on not he this are or his from at "
         b"which but have an they you were her she there been one all we their has would when if "
         b"backup restore snapshot error warning info debug trace span request response server "
         b"client timeout retry config value index pack chunk tree blob hash key lock prune "
         b"0 1 2 3 4 5 6 7 8 9 10 42 100 200 404 500 2026-11-24T01:02:03Z INFO WARN ERROR").split()


def text_bytes(rng, n):
    """Random words with line breaks, n bytes long."""
    out = bytearray()
    words = WORDS
    while len(out) < n:
        line = b" ".join(rng.choices(words, k=rng.randint(4, 16)))
        out += line + b"\n"
    return bytes(out[:n])


def fast_text(rng, n):
    """Text-like bytes for large files: cheap to generate, compresses ~2-3x."""
    table = bytes((b" etaoinshrdlucmfwypvbgkjqxz\n,.0123456789"[i % 40]) for i in range(256))
    raw = rng.randbytes(n)
    return raw.translate(table)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    rng = random.Random(20261124)
    root = args.dir
    os.makedirs(root, exist_ok=True)
    s = args.scale

    n_small = int(20000 * s)
    for i in range(n_small):
        d = os.path.join(root, "small", f"d{i % 40:02d}", f"e{(i // 40) % 25:02d}")
        if i < 1000:
            os.makedirs(d, exist_ok=True)
        write(os.path.join(d, f"file{i:05d}.txt"), text_bytes(rng, rng.randint(200, 16000)))

    n_medium = int(300 * s)
    os.makedirs(os.path.join(root, "medium"), exist_ok=True)
    for i in range(n_medium):
        size = rng.randint(256 * 1024, 2 * 1024 * 1024)
        data = fast_text(rng, size) if i % 3 else rng.randbytes(size)
        write(os.path.join(root, "medium", f"m{i:03d}.bin"), data)

    os.makedirs(os.path.join(root, "large"), exist_ok=True)
    large = int(100 * 1024 * 1024 * s)
    for i in range(10):
        path = os.path.join(root, "large", f"large{i}.dat")
        with open(path, "wb") as f:
            for _ in range(large // (8 << 20)):
                f.write(rng.randbytes(8 << 20) if i % 2 else fast_text(rng, 8 << 20))


if __name__ == "__main__":
    main()
