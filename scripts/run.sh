#!/usr/bin/env bash
# Installs what Huddle needs, builds it in Release and runs the server with its defaults
# (port 3000, a printed development token). Extra arguments go to `huddle`, e.g. --port 4000.
# Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target huddle
exec ./build/release/huddle "$@"
