#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: once with a release
# build, once under AddressSanitizer and UndefinedBehaviorSanitizer; then
# builds the fuzz targets with clang and fuzzes each briefly (3 minutes in
# all; tests/fuzz/run_long.sh runs them for hours).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== release build" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure)

echo "== ASan + UBSan build" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBACKSPAN_SANITIZE=ON -DBACKSPAN_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest -j"$jobs" --output-on-failure)

echo "== fuzz targets (clang, libFuzzer, ASan + UBSan), 180 s in all" >&2
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBACKSPAN_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
tests/fuzz/run.sh --seconds-total 180 build-fuzz
