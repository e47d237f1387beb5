#!/usr/bin/env bash
# The observatory's targets (release build, this machine's 2 cores; the load
# generator shares them):
# - ingest: spans/s over OTLP/HTTP protobuf, 512 spans a request, 8
#   keep-alive connections, backup-shaped jobs of 20 spans (target 200,000);
# - query p95 with 100,000 jobs (~2M spans) stored: 100 jobs filtered by a
#   tag, and a 30-day trend grouped by resource group (target < 50 ms);
#   with --full, again at 1,000,000 jobs (~20M spans);
# - the server's peak memory (VmHWM) and the store's size.
# With --forward, the server also forwards every span (serve --forward) to
# a second `serve` on this machine, and the table adds what reached it.
# With --store postgresql, the same run then repeats the measures on two
# `serve --store postgresql://...` replicas sharing one PostgreSQL (a fresh
# cluster in a temporary directory, default settings: fsync and
# synchronous_commit on), the load split between them (target: 100,000
# spans/s over 1M jobs with --full), beside SQLite's figures.
#
# usage: bench/observatory.sh [--full] [--forward] [--store postgresql]
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
forward=0
postgres=0
usage() { echo "usage: bench/observatory.sh [--full] [--forward] [--store postgresql]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1 ;;
    --forward) forward=1 ;;
    --store) [ "${2:-}" = postgresql ] || usage; postgres=1; shift ;;
    *) usage ;;
  esac
  shift
done
. bench/common.sh
build_release
work=$(mktemp -d "${TMPDIR:-/tmp}/backspan-observatory-bench.XXXXXX")
pid=""
sink_pid=""
replica_pids=()
pg_bin=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  for p in "${replica_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$pg_bin" ] && as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
# PostgreSQL refuses to run as root: then it runs as the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
trap cleanup EXIT

forward_flags=()
if [ $forward = 1 ]; then
  "$bin" --json serve --listen 127.0.0.1:0 --data "$work/sink" --sync normal >"$work/sink-listen" 2>"$work/sink.log" &
  sink_pid=$!
  sink_url=$(first_json_field "$work/sink-listen" url)
  forward_flags=(--forward "$sink_url/v1/traces,queue=512MiB")
fi
"$bin" --json serve --listen 127.0.0.1:0 --data "$work/data" "${forward_flags[@]}" >"$work/listen" 2>"$work/serve.log" &
pid=$!
url=$(first_json_field "$work/listen" url)
load=build-release/bench/observatory_bench
total=100000
[ $full = 1 ] && total=1000000

row() { printf '| %-40s | %14s |\n' "$1" "$2"; }
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$1" "$2"; }

echo "| measure | value |"
echo "|---|---|"
ingest=$("$load" ingest "$url" --jobs 100000 --total-jobs "$total" --connections 8)
row "ingest, first 100k jobs (spans/s)" "$(field "$ingest" "round(d['spans_per_second'])")"
if [ $forward = 1 ]; then
  # What the forwarder still had to send when ingest ended, and how long it took.
  metric() { curl -s "$url/metrics" | awk -v m="$1" -v r="$2" 'index($0, m "{") == 1 && index($0, r) {print $NF}'; }
  t0=$(date +%s.%N)
  while [ "$(metric backspan_forward_queue_spans destination)" != "0" ]; do sleep 0.2; done
  row "forward: drained after ingest (s)" "$(python3 -c "import time; print(round(time.time() - $t0, 1))")"
  row "forward: spans sent / dropped / failed" \
    "$(metric backspan_forward_spans_total 'result="sent"') / $(metric backspan_forward_spans_total 'result="dropped"') / $(metric backspan_forward_spans_total 'result="failed"')"
fi
query=$("$load" query "$url" --runs 200)
row "100k jobs: 100 jobs by tag, p95 (ms)" "$(field "$query" "d['jobs_by_tag']['p95_ms']")"
row "100k jobs: 30-day trend by rg, p95 (ms)" "$(field "$query" "d['trend_30d_by_rg']['p95_ms']")"
if [ $full = 1 ]; then
  ingest=$("$load" ingest "$url" --jobs 900000 --first-job 100000 --total-jobs "$total" --connections 8)
  row "ingest, next 900k jobs (spans/s)" "$(field "$ingest" "round(d['spans_per_second'])")"
  query=$("$load" query "$url" --runs 200)
  row "1M jobs: 100 jobs by tag, p95 (ms)" "$(field "$query" "d['jobs_by_tag']['p95_ms']")"
  row "1M jobs: 30-day trend by rg, p95 (ms)" "$(field "$query" "d['trend_30d_by_rg']['p95_ms']")"
fi
row "server peak RSS (MiB)" "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$pid/status)"
row "store size (MiB)" "$(du -sm "$work/data" | cut -f1)"

[ $postgres = 1 ] || exit 0
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$work/pg"
if [ "$(id -u)" = 0 ]; then chmod 711 "$work"; chown postgres "$work/pg"; fi
as_pg "$pg_bin/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 >/dev/null
pg_port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_wal_size=4GB" start >/dev/null
uri="postgresql://postgres@127.0.0.1:$pg_port/postgres"
urls=()
for r in 1 2; do
  "$bin" --json serve --listen 127.0.0.1:0 --data "$work/replica$r" --store "$uri" >"$work/listen$r" 2>"$work/replica$r.log" &
  replica_pids+=($!)
  urls+=("$(first_json_field "$work/listen$r" url)")
done
# The jobs split between the replicas as a round-robin load balancer would
# (every host's jobs through both, in the order of time), from one pool of
# 8 connections, as the SQLite figure is.
ingest_both() {  # first_job jobs
  "$load" ingest "${urls[0]},${urls[1]}" --jobs "$2" --first-job "$1" --total-jobs "$total" --connections 8 >"$work/in" ||
    echo "ingest into the replicas failed: $(cat "$work/in")" >&2
  field "$(cat "$work/in")" "d['spans_per_second']"
}
row "postgres, 2 replicas: ingest, first 100k jobs (spans/s)" "$(ingest_both 0 100000)"
query=$("$load" query "${urls[1]}" --runs 200)
row "postgres: 100k jobs: 100 jobs by tag, p95 (ms)" "$(field "$query" "d['jobs_by_tag']['p95_ms']")"
row "postgres: 100k jobs: 30-day trend by rg, p95 (ms)" "$(field "$query" "d['trend_30d_by_rg']['p95_ms']")"
if [ $full = 1 ]; then
  row "postgres: ingest, next 900k jobs (spans/s)" "$(ingest_both 100000 900000)"
  query=$("$load" query "${urls[1]}" --runs 200)
  row "postgres: 1M jobs: 100 jobs by tag, p95 (ms)" "$(field "$query" "d['jobs_by_tag']['p95_ms']")"
  row "postgres: 1M jobs: 30-day trend by rg, p95 (ms)" "$(field "$query" "d['trend_30d_by_rg']['p95_ms']")"
fi
for r in 0 1; do
  row "postgres: replica $((r + 1)) peak RSS (MiB)" "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/${replica_pids[$r]}/status)"
done
row "postgres: database size, WAL aside (MiB)" \
  "$("$pg_bin/psql" -X -A -t -h 127.0.0.1 -p "$pg_port" -U postgres -c "SELECT pg_database_size('postgres') / 1048576")"
