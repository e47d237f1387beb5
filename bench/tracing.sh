#!/usr/bin/env bash
# What tracing costs a backup, two ways:
# - wall time: the same backups of the benchmark tree with tracing off (no
#   job history, no export) and on (job history, plus OTLP/HTTP export to a
#   local receiver), the order alternating from run to run; medians. On a
#   noisy machine the difference is within run-to-run noise.
# - directly: trace_bench times one job's tracing work (a backup-shaped
#   trace through redaction, the history and the exporter), which is then
#   set against the backups' wall time.
# The target is under 1% of backup wall time.
#
# usage: bench/tracing.sh [--scale FACTOR] [--runs N]   (default 1.0 and 5)
# Needs: python3, node with the test peers (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1.0
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

. bench/common.sh
build_release
ensure_tree "$scale"
work=$(mktemp -d "${TMPDIR:-/tmp}/backspan-tracing-bench.XXXXXX")
receiver_pid=""
cleanup() {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

node tests/otlp/receiver.mjs --out "$work/received.jsonl" >"$work/port" &
receiver_pid=$!
port=$(first_json_field "$work/port" port)

export BACKSPAN_PASSWORD=bench BACKSPAN_STATE_DIR=$work/state
seconds() { python3 -c "import sys,time; t=time.monotonic(); import subprocess; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(f'{time.monotonic()-t:.4f}')" "$@"; }
find "$data" -type f -exec cat {} + >/dev/null   # warm cache

declare -A first rebackup
for i in $(seq "$runs"); do
  # Alternate which mode goes first, so neither always follows the other.
  if [ $((i % 2)) = 1 ]; then order="off on"; else order="on off"; fi
  for mode in $order; do
    repo=$work/repo-$mode-$i
    if [ "$mode" = off ]; then flags=(--no-history); else flags=(--otlp-endpoint "http://127.0.0.1:$port"); fi
    "$bin" --repo "$repo" -q --no-history init
    sync
    first[$mode]+="$(seconds "$bin" --repo "$repo" -q "${flags[@]}" backup "$data") "
    rebackup[$mode]+="$(seconds "$bin" --repo "$repo" -q "${flags[@]}" backup "$data") "
    rm -rf "$repo"
  done
done

cp "$work/received.jsonl" "$work/from-backups.jsonl"
# The direct cost: one job's tracing work, timed by Google Benchmark.
BACKSPAN_BENCH_OTLP_ENDPOINT=http://127.0.0.1:$port build-release/bench/trace_bench \
  --benchmark_format=json --benchmark_min_time=1 >"$work/trace_bench.json" 2>/dev/null

python3 - "${first[off]}" "${first[on]}" "${rebackup[off]}" "${rebackup[on]}" "$work/from-backups.jsonl" \
  "$work/trace_bench.json" <<'PY'
import json, statistics, sys
f_off, f_on, r_off, r_on = ([float(x) for x in a.split()] for a in sys.argv[1:5])
spans = [len(json.loads(l)["decoded"]["spans"]) for l in open(sys.argv[5]) if l.strip()]
direct = {b["name"].split("/")[1]: b["real_time"] for b in json.load(open(sys.argv[6]))["benchmarks"]}  # ms
print(f"wall time, median of {len(f_off)} runs, tracing off vs on (history + OTLP/protobuf export):")
print(f"  {'':<22}{'off':>9}{'on':>9}{'difference':>12}")
for name, off, on in (("first backup", f_off, f_on), ("unchanged re-backup", r_off, r_on)):
    a, b = statistics.median(off), statistics.median(on)
    print(f"  {name:<22}{a:>8.3f}s{b:>8.3f}s{(b - a) / a * 100:>11.2f}%")
print(f"  spans per export request: {min(spans)}..{max(spans)} ({len(spans)} requests)")
print("tracing work per job, measured directly (trace_bench), as a share of the backup's wall time:")
print(f"  {'':<34}{'per job':>9}{'first backup':>14}{'re-backup':>11}")
f, r = statistics.median(f_off), statistics.median(r_off)
for name in ("history_only", "history_and_otlp_protobuf", "history_and_otlp_json"):
    ms = direct[name]
    print(f"  {name:<34}{ms:>7.2f}ms{ms / 1000 / f * 100:>13.3f}%{ms / 1000 / r * 100:>10.2f}%")
PY
