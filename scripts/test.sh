#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: once with a release
# build (g++, warnings are errors), once with a sanitized build (clang,
# AddressSanitizer and UndefinedBehaviorSanitizer) that also holds the fuzz
# targets, which it then fuzzes briefly (3 minutes in all;
# tests/fuzz/run_long.sh runs them for hours).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== release build" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
# The crash and fault tests prove properties of the format, not of the
# optimiser: they run once, in the sanitized build below.
(cd build && ctest -j"$jobs" --output-on-failure -E '^integration\.test_faults$')

echo "== sanitized build (clang, ASan + UBSan) with the fuzz targets" >&2
# Optimised, with line tables for the sanitizers' stack traces and assertions
# on: the suite runs about twice as fast as at -O0.
CXX=clang++ cmake -S . -B build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DBACKSPAN_FUZZ=ON >/dev/null
cmake --build build-san -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-san && ctest -j"$jobs" --output-on-failure)

echo "== fuzzing every target, 180 s in all" >&2
tests/fuzz/run.sh --seconds-total 180 build-san
