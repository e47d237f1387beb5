#!/usr/bin/env bash
# The long fuzz run, by hand (not in CI): every target for HOURS hours
# (default 2) on what earlier runs found. Build first:
#   CXX=clang++ cmake -S . -B build-fuzz -DBACKSPAN_FUZZ=ON && cmake --build build-fuzz -j
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hours="${1:-2}"
n=$(ls "$here/../../build-fuzz/fuzz" | grep -c '^fuzz_' || true)
exec "$here/run.sh" --seconds-total $(( hours * 3600 * 2 / 2 )) "${@:2}"
