#!/usr/bin/env bash
# Compares backspan with restic and borg on the same generated tree, in the
# same run, with a warm page cache and a release build, and prints a table.
#
# usage: bench/run.sh [--scale FACTOR] [--runs N] [--keep]
#   --scale  size of the generated tree (1.0 = ~1.5 GiB; default 1.0)
#   --runs   repeat every measurement N times and report the median (default 3)
#   --keep   keep the generated tree between runs (in build/bench-data)
#
# Before each measurement dirty pages are flushed (sync) and, when run as
# root, the page cache is dropped, so no tool pays for another's writeback or
# cache pollution. Then the source is read once, so backups start with it
# cached. Restores read the repository from disk. The order of the tools
# rotates from run to run.
# Needs: restic and borgbackup (Debian packages), GNU time, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1.0
runs=3
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for tool in restic borg /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (apt-get install restic borgbackup time)" >&2; exit 1; }
done

. bench/common.sh
build_release
ensure_tree "$scale"
work=$(mktemp -d "${TMPDIR:-/tmp}/backspan-bench.XXXXXX")
cleanup() {
  rm -rf "$work"
  if [ "$keep" = 0 ]; then rm -rf "$PWD/build/bench-data"; fi
}
trap cleanup EXIT

export BACKSPAN_STATE_DIR=$work/state
export BACKSPAN_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_BASE_DIR=$work/borg-home

settle() {
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}
warm() { settle; find "$data" -type f -exec cat {} + >/dev/null; }

# measure NAME CMD... : runs CMD, appends wall seconds and peak RSS (KiB).
declare -A secs rss
measure() {
  local name=$1; shift
  local out=$work/time.$name
  [ "$name" = "${name%.restore}" ] || settle
  sync
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>"$work/err.$name" || {
    echo "bench: $name failed:" >&2; cat "$work/err.$name" >&2; exit 1; }
  local s r
  read -r s r <"$out"
  secs[$name]+="$s "
  rss[$name]+="$r "
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

src_bytes=$(du -sb "$data" | cut -f1)
src_files=$(find "$data" -type f | wc -l)
declare -A repo

run_backspan() {
  local r=$work/backspan-repo out=$work/backspan-out-$i
  rm -rf "$r"
  $bin -r "$r" init -q
  warm; measure backspan.backup $bin -r "$r" backup -q "$data"
  warm; measure backspan.rebackup $bin -r "$r" backup -q "$data"
  measure backspan.restore $bin -r "$r" restore -q latest --target "$out"
  diff -r "$data" "$out$data" >/dev/null || { echo "bench: backspan restore differs" >&2; exit 1; }
  repo[backspan]=$(du -sb "$r" | cut -f1)
}

run_restic() {  # default compression (auto)
  local r=$work/restic-repo out=$work/restic-out-$i
  rm -rf "$r"
  restic -r "$r" init -q >/dev/null
  warm; measure restic.backup restic -r "$r" backup -q "$data"
  warm; measure restic.rebackup restic -r "$r" backup -q "$data"
  measure restic.restore restic -r "$r" restore -q latest --target "$out"
  repo[restic]=$(du -sb "$r" | cut -f1)
}

run_borg() {  # default compression (lz4), repokey encryption
  local r=$work/borg-repo out=$work/borg-out-$i
  rm -rf "$r" "$BORG_BASE_DIR"
  borg init -e repokey "$r" >/dev/null 2>&1
  warm; measure borg.backup borg create "$r::one" "$data"
  warm; measure borg.rebackup borg create "$r::two" "$data"
  mkdir -p "$out"
  measure borg.restore sh -c "cd '$out' && borg extract '$r::two'"
  repo[borg]=$(du -sb "$r" | cut -f1)
}

# Restored trees stay until the end: deleting 20,000 files makes the next
# restore on ext4 slower (recently freed inodes are skipped), which would
# penalise whichever tool came next.
tools=(backspan restic borg)
for ((i = 0; i < runs; i++)); do
  for ((k = 0; k < 3; k++)); do
    tool=${tools[$(((i + k) % 3))]}
    echo "run $((i + 1))/$runs: $tool" >&2
    "run_$tool"
  done
done
for key in "${!secs[@]}"; do secs[$key]=$(median "${secs[$key]}"); rss[$key]=$(median "${rss[$key]}"); done


ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

printf '\nsource: %s files, %s MiB; %s cores; median of %s runs; restic %s; %s\n\n' "$src_files" "$(mib "$src_bytes")" "$(nproc)" "$runs" \
  "$(restic version | awk '{print $2}')" "$(borg --version)"
printf '%-22s %12s %12s %12s %14s %12s\n' "measure" "backspan" "restic" "borg" "restic/backspan" "borg/backspan"
for m in backup rebackup restore; do
  printf '%-22s %11ss %11ss %11ss %14s %12s\n' "$m (wall)" "${secs[backspan.$m]}" "${secs[restic.$m]}" "${secs[borg.$m]}" \
    "$(ratio "${secs[restic.$m]}" "${secs[backspan.$m]}")" "$(ratio "${secs[borg.$m]}" "${secs[backspan.$m]}")"
done
for m in backup rebackup restore; do
  printf '%-22s %10sMiB %10sMiB %10sMiB %14s %12s\n' "$m (peak RSS)" "$(mib $((rss[backspan.$m] * 1024)))" \
    "$(mib $((rss[restic.$m] * 1024)))" "$(mib $((rss[borg.$m] * 1024)))" \
    "$(ratio "${rss[restic.$m]}" "${rss[backspan.$m]}")" "$(ratio "${rss[borg.$m]}" "${rss[backspan.$m]}")"
done
printf '%-22s %10sMiB %10sMiB %10sMiB %14s %12s\n' "repository size" "$(mib "${repo[backspan]}")" "$(mib "${repo[restic]}")" \
  "$(mib "${repo[borg]}")" "$(ratio "${repo[restic]}" "${repo[backspan]}")" "$(ratio "${repo[borg]}" "${repo[backspan]}")"

if [ -x build-release/bench/chunker_bench ]; then
  echo
  build-release/bench/chunker_bench --benchmark_min_time=0.5 2>/dev/null | grep -E '^(BM_|Benchmark|-)' || true
fi
