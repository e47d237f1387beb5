#!/usr/bin/env bash
# Runs every fuzz target of a build made with clang and -DBACKSPAN_FUZZ=ON
# on a copy of its seed corpus, two at a time, and prints a table of
# executions and coverage per target. Exits 1 if any target found a crash;
# the input that crashed it is kept in BUILD/fuzz-artifacts/.
#
#   tests/fuzz/run.sh [--seconds-each N | --seconds-total N] [BUILD_DIR]
#
# CI runs it with --seconds-total 180; tests/fuzz/run_long.sh for hours.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
each=10
total=""
build="$here/../../build-san"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds-each) each="$2"; shift 2 ;;
    --seconds-total) total="$2"; shift 2 ;;
    *) build="$1"; shift ;;
  esac
done
targets=$(cd "$build/fuzz" && ls fuzz_* | grep -v make_seeds)
n=$(echo "$targets" | wc -w)
if [ -n "$total" ]; then each=$(( total * 2 / n )); [ "$each" -ge 1 ] || each=1; fi
mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts" "$build/fuzz-logs"

run_one() {
  local t="$1"
  local corpus="$build/fuzz-corpus/$t"
  mkdir -p "$corpus"
  [ -d "$here/corpus/$t" ] && cp -n "$here/corpus/$t"/* "$corpus/" 2>/dev/null || true
  # A long run's finds are kept between runs in the build folder, not in the tree.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$t" "$corpus" -max_total_time="$each" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
    -artifact_prefix="$build/fuzz-artifacts/$t-" -print_final_stats=1 >"$build/fuzz-logs/$t.log" 2>&1
  echo "$t $?"
}
export -f run_one
export build here each
echo "fuzzing $n targets for ${each}s each, two at a time" >&2
results=$(echo "$targets" | tr ' ' '\n' | xargs -P2 -I{} bash -c 'run_one {}')

failed=0
printf '%-26s %12s %8s %8s %8s  %s\n' target executions exec/s cov ft result
for t in $targets; do
  log="$build/fuzz-logs/$t.log"
  rc=$(echo "$results" | awk -v t="$t" '$1 == t {print $2}')
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -n1 | grep -Eo '[0-9]+$' || echo 0)
  rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | tail -n1 | grep -Eo '[0-9]+$' || echo 0)
  cov=$(echo "$done_line" | grep -Eo 'cov: [0-9]+' | grep -Eo '[0-9]+' || echo "-")
  ft=$(echo "$done_line" | grep -Eo 'ft: [0-9]+' | grep -Eo '[0-9]+' || echo "-")
  result=ok
  if [ "$rc" != "0" ]; then
    result="CRASH: $(ls "$build/fuzz-artifacts/$t-"* 2>/dev/null | head -n1) (log: $log)"
    failed=1
  fi
  printf '%-26s %12s %8s %8s %8s  %s\n' "$t" "$execs" "$rate" "$cov" "$ft" "$result"
done
exit $failed
