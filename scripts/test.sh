#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: a release build (g++,
# warnings are errors) runs the unit tests and what only an optimised,
# uninstrumented binary shows (memory bounds under a flood, the crash cases
# on S3); a sanitized build (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, optimised) runs the unit tests and the whole
# integration suite, and holds the fuzz targets, which it then fuzzes
# briefly (3 minutes in all; tests/fuzz/run_long.sh runs them for hours,
# tests/fault/run_full.sh the crash cases on every backend).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== release build" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure -L 'unit|release')

echo "== sanitized build (clang, ASan + UBSan) with the fuzz targets" >&2
CXX=clang++ cmake -S . -B build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DBACKSPAN_FUZZ=ON >/dev/null
cmake --build build-san -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-san && ctest -j"$jobs" --output-on-failure -LE cloud-faults)

echo "== fuzzing every target, 180 s in all" >&2
tests/fuzz/run.sh --seconds-total 180 build-san
