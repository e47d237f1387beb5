#!/usr/bin/env bash
# Installs the Debian 12 packages backspan needs to build, test and benchmark.
# Skips apt entirely when everything is already installed.
set -euo pipefail
packages=(
  g++ cmake make pkg-config ccache
  libssl-dev libsodium-dev libzstd-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libbenchmark-dev python3 util-linux
  protobuf-compiler libprotobuf-dev libcurl4-openssl-dev libsqlite3-dev zlib1g-dev
)
if [ "${1:-}" = "--bench" ]; then packages+=(restic borgbackup time); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
