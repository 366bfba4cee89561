#!/usr/bin/env bash
# Runs the integration suite against the real huddle binary.
#
#   tests/integration/run.sh                 # all test files
#   tests/integration/run.sh tests/limits.test.mjs   # some files (paths relative to this folder)
#
# HUDDLE_BIN     the binary (default: build/asan/huddle of this repository)
# ASAN_OPTIONS   passed to the server (default: detect_leaks=1:abort_on_error=1)
# Exit code: the test runner's (0 = every test passed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

# npm ci when node_modules is missing or older than package-lock.json; safe to run twice.
stamp="node_modules/.package-lock.json"
if [[ ! -d node_modules || ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

export HUDDLE_BIN="${HUDDLE_BIN:-$repo/build/asan/huddle}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
if [[ ! -x "$HUDDLE_BIN" ]]; then
    echo "run.sh: huddle binary not found at $HUDDLE_BIN (build the asan preset or set HUDDLE_BIN)" >&2
fi

if [[ $# -gt 0 ]]; then
    files=("$@")
else
    files=(tests/)
fi
rm -rf artifacts  # server output of failed tests from an earlier run
set +e
node --test --test-concurrency=1 --test-timeout=90000 --test-reporter=spec "${files[@]}"
rc=$?
set -e
exit $rc
