#!/usr/bin/env bash
# The long fuzz run, by hand (not in CI): every target, two at a time, for
# HOURS hours in all (default 2), on what earlier runs found. Build first:
#   CXX=clang++ cmake -S . -B build-san -DBACKSPAN_FUZZ=ON && cmake --build build-san -j
#   tests/fuzz/run_long.sh [HOURS] [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hours="${1:-2}"
exec "$here/run.sh" --seconds-total $(( hours * 3600 )) "${@:2}"
