#!/usr/bin/env bash
# Runs the JavaScript client's tests (clients/js/test) against the real huddle binary.
#
#   scripts/test-client.sh                      # build/asan/huddle (or $HUDDLE_BIN)
#   scripts/test-client.sh build/release/huddle
#
# Installs clients/js's dev dependencies (ws, typescript) and tests/integration's (jose, used by the
# shared harness for tokens) with `npm ci` when missing or stale; safe to run twice.
# Exit code: the test runner's (0 = every test passed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bin=${1:-${HUDDLE_BIN:-$root/build/asan/huddle}}
[[ $bin = /* ]] || bin="$root/$bin"
if [[ ! -x $bin ]]; then
    echo "test-client.sh: huddle binary not found at $bin (build the asan preset, or pass its path)" >&2
    exit 1
fi
export HUDDLE_BIN=$bin
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"

# npm ci when node_modules is missing or older than package-lock.json.
for dir in clients/js tests/integration; do
    stamp="$dir/node_modules/.package-lock.json"
    if [[ ! -f $stamp || $dir/package-lock.json -nt $stamp ]]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done

cd clients/js
node --test --test-concurrency=1 --test-timeout=90000 --test-reporter=spec test/*.test.mjs
