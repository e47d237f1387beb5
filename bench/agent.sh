#!/usr/bin/env bash
# The agent's and the observatory's scheduling targets (release build):
# - an idle agent (20 policies, none due, heartbeats to an observatory every
#   minute): CPU under 0.1 % of a core and RSS under 20 MiB, over --seconds
#   (default 120);
# - the observatory judging 10,000 sources against 100 agents' declared
#   schedules: store read plus states, p95 under 50 ms (bench/freshness_bench.cc).
#
# usage: bench/agent.sh [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=120
[ "${1:-}" = "--seconds" ] && seconds=$2
. bench/common.sh
build_release
work=$(mktemp -d "${TMPDIR:-/tmp}/backspan-agent-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo agent-bench-token-0123456789 >"$work/token"
"$bin" --json serve --listen 127.0.0.1:0 --data "$work/obs" --ingest-token-file "$work/token" \
  >"$work/listen" 2>"$work/serve.log" &
pids+=($!)
url=$(first_json_field "$work/listen" url)
echo pw >"$work/pw"
mkdir -p "$work/data"
{
  printf '[agent]\nhost = "bench"\nstate_dir = "%s/state"\n\n' "$work"
  printf '[observatory]\nurl = "%s"\ntoken_file = "%s/token"\nheartbeat = "1m"\n\n' "$url" "$work"
  for i in $(seq 20); do
    # Yearly on a day that is not today: never due during the run.
    printf '[[policy]]\nname = "p%s"\nrepository = "%s/repo"\npassword_file = "%s/pw"\npaths = ["%s/data"]\n' "$i" "$work" "$work" "$work"
    printf 'schedule = "0 3 %s %s *"\ntimezone = "Europe/Berlin"\n\n' "$(( ($(date +%-d) % 27) + 1 ))" "$(( ($(date +%-m) % 12) + 1 ))"
  done
} >"$work/agent.toml"
"$bin" agent --config "$work/agent.toml" 2>"$work/agent.log" &
agent=$!
pids+=($agent)
sleep 5  # past startup
ticks() { awk '{print $14 + $15}' /proc/$agent/stat; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep "$seconds"
t1=$(ticks)
cpu=$(python3 -c "print(f'{($t1 - $t0) / $hz / $seconds * 100:.3f}')")
rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$agent/status)
hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$agent/status)
fresh=$(build-release/bench/freshness_bench --sources 10000 --runs 50)
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$fresh" "$1"; }

row() { printf '| %-58s | %10s | %8s |\n' "$1" "$2" "$3"; }
echo "| measure | value | target |"
echo "|---|---|---|"
row "idle agent, 20 policies: CPU over ${seconds} s (% of a core)" "$cpu" "< 0.1"
row "idle agent: RSS now / peak (MiB)" "$rss / $hwm" "< 20"
row "10,000 sources: read + states, p50 (ms)" "$(field "d['read_and_compute_ms']['p50']")" ""
row "10,000 sources: read + states, p95 (ms)" "$(field "d['read_and_compute_ms']['p95']")" "< 50"
row "10,000 sources: states alone, p95 (ms)" "$(field "d['compute_ms']['p95']")" ""
