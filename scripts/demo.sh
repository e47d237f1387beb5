#!/usr/bin/env bash
# The main job on an embedded default: builds backspan, backs up a sample
# tree into a fresh local repository, restores it, checks that the restore
# is identical, and lists the snapshots. Everything lives in build/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target backspan >/dev/null

demo=$PWD/build/demo
rm -rf "$demo"
mkdir -p "$demo/sample/docs" "$demo/sample/logs"
# The sample tree: the project's own sources and docs, plus some generated logs.
cp -r src docs bench "$demo/sample/docs/"
for i in $(seq 1 20); do
  for j in $(seq 1 200); do echo "2026-11-24T01:$((i % 60)):$((j % 60))Z INFO job $i step $j done"; done \
    >"$demo/sample/logs/job-$i.log"
done
ln -s docs/docs/cli.md "$demo/sample/cli-doc-link"

export BACKSPAN_REPOSITORY=$demo/repo
export BACKSPAN_STATE_DIR=$demo/state   # the job history, kept inside the build folder
export BACKSPAN_PASSWORD_FILE=$demo/password
head -c 24 /dev/urandom | base64 >"$BACKSPAN_PASSWORD_FILE"   # a throwaway password

bin=build/backspan
set -x
$bin init
$bin backup --tag env=demo --tag azure.resource_group.name=rg-demo "$demo/sample"
echo "one more line" >>"$demo/sample/logs/job-1.log"
$bin backup --tag env=demo --tag azure.resource_group.name=rg-demo "$demo/sample"
$bin trace latest    # the backup just made, as a waterfall
$bin restore latest --target "$demo/restore" --verify
diff -r "$demo/sample" "$demo/restore$demo/sample"
$bin check --read-data
$bin snapshots
$bin jobs
