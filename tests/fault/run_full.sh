#!/usr/bin/env bash
# The full fault run: 100 iterations of every crash, I/O-error and corruption
# case (CI runs 2 locally and 1 on S3), on a local repository, then on
# Azurite and on s3rver. About an hour per backend on 2 cores.
# usage: tests/fault/run_full.sh [ITERATIONS] [BACKENDS]   (after scripts/test.sh built build/)
#   e.g. tests/fault/run_full.sh 20 "local s3"
set -euo pipefail
cd "$(dirname "$0")/../integration"
export BACKSPAN_FAULT_ITERATIONS=${1:-100}
export BACKSPAN_BIN=${BACKSPAN_BIN:-$PWD/../../build/backspan}
export BACKSPAN_FAULT_BIN=${BACKSPAN_FAULT_BIN:-$PWD/../../build/tests/backspan_fault}
for backend in ${2:-local azure s3}; do
  echo "== $backend" >&2
  BACKSPAN_TEST_BACKEND=$backend python3 -m unittest -v test_faults
done
