#!/usr/bin/env bash
# What tracing costs a backup: the same backups with tracing off (no job
# history, no export) and on (job history, plus OTLP/HTTP export to a local
# receiver), alternating, on the benchmark tree; prints medians and the
# overhead. The target is under 1% of backup wall time.
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
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['port'])" "$work/port")

export BACKSPAN_PASSWORD=bench BACKSPAN_STATE_DIR=$work/state
seconds() { python3 -c "import sys,time; t=time.monotonic(); import subprocess; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(f'{time.monotonic()-t:.4f}')" "$@"; }
find "$data" -type f -exec cat {} + >/dev/null   # warm cache

declare -A first rebackup
for i in $(seq "$runs"); do
  for mode in off on; do
    repo=$work/repo-$mode-$i
    if [ "$mode" = off ]; then flags=(--no-history); else flags=(--otlp-endpoint "http://127.0.0.1:$port"); fi
    "$bin" --repo "$repo" -q --no-history init
    sync
    first[$mode]+="$(seconds "$bin" --repo "$repo" -q "${flags[@]}" backup "$data") "
    rebackup[$mode]+="$(seconds "$bin" --repo "$repo" -q "${flags[@]}" backup "$data") "
    rm -rf "$repo"
  done
done

python3 - "${first[off]}" "${first[on]}" "${rebackup[off]}" "${rebackup[on]}" "$work/received.jsonl" <<'PY'
import json, statistics, sys
f_off, f_on, r_off, r_on = ([float(x) for x in a.split()] for a in sys.argv[1:5])
spans = [len(json.loads(l)["decoded"]["spans"]) for l in open(sys.argv[5]) if l.strip()]
print(f"{'backup (median of %d)' % len(f_off):<28}{'tracing off':>12}{'tracing on':>12}{'overhead':>10}")
for name, off, on in (("first backup", f_off, f_on), ("unchanged re-backup", r_off, r_on)):
    a, b = statistics.median(off), statistics.median(on)
    print(f"{name:<28}{a:>11.3f}s{b:>11.3f}s{(b - a) / a * 100:>9.2f}%")
print(f"spans exported per backup: {min(spans)}..{max(spans)} in {len(spans)} requests")
PY
