#!/usr/bin/env bash
# The full fault run: 100 iterations of every crash, I/O-error and corruption
# case (CI runs 2). Takes about an hour on 2 cores.
# usage: tests/fault/run_full.sh [ITERATIONS]   (after scripts/test.sh built build/)
set -euo pipefail
cd "$(dirname "$0")/../integration"
export BACKSPAN_FAULT_ITERATIONS=${1:-100}
export BACKSPAN_BIN=${BACKSPAN_BIN:-$PWD/../../build/backspan}
export BACKSPAN_FAULT_BIN=${BACKSPAN_FAULT_BIN:-$PWD/../../build/tests/backspan_fault}
exec python3 -m unittest -v test_faults
