#!/usr/bin/env bash
# Installs the Debian 12 packages backspan needs to build, test and benchmark
# (restic and borgbackup: the wrap tests run them, the benchmarks race them;
# openssl: the access tests make a certificate authority for an https issuer;
# clang: the fuzz targets; python3-croniter: the cron oracle; prometheus:
# promtool checks the shipped alerting rules; postgresql: the store's tests
# start a server of their own).
# Skips apt entirely when everything is already installed.
set -euo pipefail
packages=(
  g++ cmake make pkg-config ccache
  libssl-dev openssl libsodium-dev libzstd-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libbenchmark-dev python3 util-linux
  protobuf-compiler libprotobuf-dev libcpp-httplib-dev libsqlite3-dev zlib1g-dev libbrotli-dev libpugixml-dev
  libpq-dev postgresql
  libhowardhinnant-date-dev tzdata libtomlplusplus-dev libcurl4-openssl-dev
  nodejs npm chromium fonts-dejavu-core restic borgbackup
  python3-croniter python3-aiosmtpd prometheus
)
# Beside the test suite: the fuzzers' compiler (clang with libFuzzer) is
# needed by the tests too (CI fuzzes for a few minutes); gnuplot draws the
# soak test's plot.
packages+=(clang libclang-rt-14-dev)
if [ "${1:-}" = "--bench" ]; then packages+=(time); fi
if [ "${1:-}" = "--soak" ]; then packages+=(gnuplot-nox); fi

missing=()
for p in "${packages[@]}"; do
  # A nodejs that bundles npm (e.g. NodeSource's) needs no separate package.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
install_npm_packages() {
  # The test peers (package.json), exactly as package-lock.json pins them.
  (cd "$(dirname "$0")/.." && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
if [ ${#missing[@]} -eq 0 ]; then install_npm_packages; exit 0; fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_npm_packages
