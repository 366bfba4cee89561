#!/usr/bin/env bash
# Installs what the tests need, then builds and runs every test: formatting, unit tests and the
# real binary against Node clients (sanitizer build), and every fuzz target for a bounded time.
# Safe to run twice. FUZZ_SECONDS (default 15) sets the time per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_seconds=${FUZZ_SECONDS:-15}
jobs=$(nproc)

step() { printf '\n=== %s ===\n' "$*"; }

step "dependencies"
./scripts/install-deps.sh

step "formatting (clang-format --dry-run)"
git ls-files -co --exclude-standard -- 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'bench/*.cpp' \
    'bench/*.hpp' 'fuzz/*.cpp' | xargs clang-format --dry-run --Werror

step "build (ASan + UBSan)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"

step "build (Release, the binary ./scripts/run.sh runs: GCC -O3 warns differently)"
cmake --preset release >/dev/null
cmake --build --preset release --target huddle -j "$jobs"

step "unit tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan --output-on-failure -j "$jobs"

step "store tests against PostgreSQL (a private server on loopback)"
./scripts/test-postgres.sh build/asan/tests/unit/store_tests

step "broker tests against Redis (a private server on loopback)"
./scripts/test-redis.sh build/asan/tests/unit/broker_tests

step "Yjs engine against the JavaScript Yjs (differential check)"
./tests/yjs-vectors/run.sh build/asan/tests/unit/huddle-yjs-tool

step "integration tests (real binary, Node clients)"
HUDDLE_BIN="$root/build/asan/huddle" ./tests/integration/run.sh

step "load generator smoke (Huddle alone, then 3 nodes through a private Redis)"
HUDDLE_BIN="$root/build/release/huddle" ./bench/run.sh -s fanout -S huddle -r 1 -- --duration 3 --warmup 1
HUDDLE_BIN="$root/build/asan/huddle" ./bench/cluster.sh --smoke

step "JavaScript client (real binary, Node clients)"
./scripts/test-client.sh "$root/build/asan/huddle"

step "browser tests (demo pages in Debian's chromium, playwright-core)"
./scripts/test-browser.sh "$root/build/asan/huddle"

step "fuzz targets (${fuzz_seconds}s each, clang + libFuzzer + ASan/UBSan)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_all -j "$jobs"
mkdir -p build/fuzz-artifacts
for target in build/fuzz/fuzz/fuzz_*; do
    [[ -x $target && -f $target ]] || continue
    name=$(basename "$target")
    corpus="fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    seeds=()
    [[ -d $corpus ]] && seeds=("$corpus")
    echo "--- $name"
    if ! "$target" -max_total_time="$fuzz_seconds" -print_final_stats=0 \
        -artifact_prefix="build/fuzz-artifacts/$name-" "$work" "${seeds[@]}" >"$work.log" 2>&1; then
        tail -n 40 "$work.log"
        echo "$name failed; the input is in build/fuzz-artifacts/ (add it to $corpus once fixed)"
        exit 1
    fi
    tail -n 1 "$work.log"
    rm -rf "$work" "$work.log"
done

step "all tests passed"
