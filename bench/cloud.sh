#!/usr/bin/env bash
# The cloud backends against the emulators on loopback (Azurite, s3rver),
# with a release build, on the benchmark tree: first backup, restore and
# check --read-data beside a plain parallel upload and download of the same
# stored bytes through the same emulator (restic 0.14 cannot be the peer
# here: against s3rver its later commands fail, and its Azure backend has no
# custom endpoint); an incremental backup with a warm cache; peak memory.
# Prints a table and writes bench/results/cloud-<date>.json.
#
# usage: bench/cloud.sh [--scale FACTOR] [--connections N]
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1.0
connections=8
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
. bench/common.sh
build_release
ensure_tree "$scale"
mkdir -p bench/results
python3 bench/cloud_bench.py "$bin" "$data" "bench/results/cloud-$(date +%Y%m%d-%H%M%S).json" --connections "$connections"
