#!/usr/bin/env bash
# Insight, evaluated like a model (docs/insight.md): a seeded fleet of 500
# sources x 180 days with labeled anomalies and drifting sources, fed
# through the job-events API into a release `serve`, scored from the API's
# answers. Targets: precision >= 0.95 and recall >= 0.90 over all kinds,
# >= 0.85 for each kind; overruns predicted >= 3 runs ahead for >= 90 % of
# drifting sources, <= 2 % of steady sources ever forecast to overrun;
# Brier skill of next-run risk >= 0.3; the backtests in under a minute.
#
# usage: bench/insight.sh [--seed N] [--sources N] [--days N]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
build_release
work=$(mktemp -d "${TMPDIR:-/tmp}/backspan-insight-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 bench/insight/generate.py "$work" "$@" >&2
python3 bench/insight/score.py "$bin" "$work"
