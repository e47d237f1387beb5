#!/usr/bin/env bash
# The soak test (by hand, not in CI): a release build of backspan serve
# under steady ingest and queries for MINUTES minutes (default 30), with
# retention deleting as it goes; RSS and query latency are sampled every
# 10 s into build/soak/soak.csv and drawn in build/soak/soak.png. Exits 0
# if both stayed flat (soak.py says how that is judged).
#
#   tests/soak/run.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes="${1:-30}"
scripts/install-deps.sh --soak
. bench/common.sh
build_release
out=$PWD/build/soak
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/backspan-soak.XXXXXX")
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" --json serve --listen 127.0.0.1:0 --data "$work/data" --retention 10m >"$work/listen" 2>"$out/serve.log" &
pid=$!
url=$(first_json_field "$work/listen" url)
python3 tests/soak/soak.py "$url" "$pid" --minutes "$minutes" --out "$out"
