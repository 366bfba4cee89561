#!/usr/bin/env bash
# Differential check of the Huddle Yjs engine against the JavaScript Yjs.
#   tests/yjs-vectors/run.sh PATH/TO/huddle-yjs-tool [check.mjs options, e.g. --rounds 50 --seed 7]
# Installs the pinned npm dependencies (npm ci: safe to run again),
# regenerates nothing (vectors/ is committed), and runs check.mjs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="${1:?usage: run.sh PATH/TO/huddle-yjs-tool [--rounds N] [--seed S]}"
shift
tool="$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
exec node check.mjs "$tool" "$@"
