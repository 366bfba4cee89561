#!/usr/bin/env bash
# Browser tests of the demo pages: builds them (web/build.sh), then Debian's chromium, driven by
# playwright-core, opens them against the real huddle binary (two pages editing one document, two
# chat pages, a server killed and started again). Screenshots of failures: build/browser-artifacts/.
#
#   scripts/test-browser.sh [path/to/huddle]      # default: $HUDDLE_BIN, else build/asan/huddle
#   scripts/test-browser.sh build/asan/huddle tests/chat.test.mjs   # some files (relative to tests/browser)
# Safe to run twice.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

bin="${1:-${HUDDLE_BIN:-$root/build/asan/huddle}}"
[[ $# -gt 0 ]] && shift
[[ $bin == /* ]] || bin="$root/$bin"
if [[ ! -x $bin ]]; then
    echo "test-browser.sh: no huddle binary at $bin (build one or pass its path)" >&2
    exit 1
fi
if [[ ! -x /usr/bin/chromium ]]; then
    echo "test-browser.sh: /usr/bin/chromium is missing (./scripts/install-deps.sh installs it)" >&2
    exit 1
fi

./web/build.sh

cd tests/browser
stamp="node_modules/.package-lock.json"
if [[ ! -d node_modules || ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
rm -rf "$root/build/browser-artifacts"
files=("$@")
((${#files[@]})) || files=(tests/)
export HUDDLE_BIN="$bin"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec "${files[@]}"
