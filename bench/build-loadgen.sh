# shellcheck shell=bash
# Sourced by the benchmark scripts: build_loadgen LOGFILE sets LOADGEN to a current load
# generator: $LOADGEN_BIN when set; otherwise build/bench-release/bench/huddle-loadgen, rebuilt
# (Release, warnings as errors) when a loadgen source is newer than it.

build_loadgen() {
    local log_file=$1
    if [[ -n ${LOADGEN_BIN:-} ]]; then
        LOADGEN=$LOADGEN_BIN
        return
    fi
    local root bench f stale=0
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    bench="$root/bench"
    local dir="$root/build/bench-release"
    LOADGEN="$dir/bench/huddle-loadgen"
    [[ -x $LOADGEN ]] || stale=1
    for f in "$bench"/loadgen/*.cpp "$bench"/loadgen/*.hpp; do
        [[ $f -nt $LOADGEN ]] && stale=1
    done
    ((stale)) || return 0
    echo "[bench] building huddle-loadgen (release)" >&2
    if cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUDDLE_TESTS=OFF \
        >"$log_file" 2>&1 &&
        cmake --build "$dir" -j1 --target huddle-loadgen >>"$log_file" 2>&1; then
        return
    fi
    # The load generator needs nothing of the server: build it alone if the project does not
    # configure (yet).
    echo "[bench] project build failed (see $log_file); compiling the loadgen alone" >&2
    LOADGEN="$root/build/bench-loadgen/huddle-loadgen"
    mkdir -p "$(dirname "$LOADGEN")"
    g++ -std=c++20 -O2 -DNDEBUG -Wall -Wextra -Wpedantic -Wshadow -Werror \
        "$bench"/loadgen/*.cpp -o "$LOADGEN" -lcrypto -pthread
}
