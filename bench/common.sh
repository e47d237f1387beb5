# Shared by the benchmark scripts (sourced from the repository root).

# Builds the release binary into build-release/ and sets $bin.
build_release() {
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBACKSPAN_BUILD_TESTS=OFF -DBACKSPAN_BUILD_BENCH=ON >/dev/null
  cmake --build build-release -j"$(nproc)" >/dev/null
  bin=$PWD/build-release/backspan
}

# Generates the benchmark tree for scale $1 once, in build/bench-data, and sets $data.
ensure_tree() {
  data=$PWD/build/bench-data/tree-$1
  if [ ! -d "$data" ]; then
    echo "generating the source tree (scale $1) in $data ..." >&2
    mkdir -p "$data.partial" && python3 bench/gen_tree.py "$data.partial" --scale "$1" && mv "$data.partial" "$data"
  fi
}

# Waits up to 5 s for a background process to write its first line to file
# $1, then prints field $2 of that JSON line (e.g. url, port).
first_json_field() {
  for _ in $(seq 50); do [ -s "$1" ] && break; sleep 0.1; done
  python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])" "$1" "$2"
}
