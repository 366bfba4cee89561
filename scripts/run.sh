#!/usr/bin/env bash
# Installs what Huddle needs, builds it in Release and the demo pages (web/build.sh), and runs the
# server with its defaults plus config/demo.toml (port 3000, a printed development token, the demo
# pages at http://127.0.0.1:3000/). Extra arguments go to `huddle`, e.g. --port 4000.
# Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./web/build.sh
cmake --preset release >/dev/null
cmake --build --preset release --target huddle
# The demo pages' configuration (config/demo.toml) unless the caller chose another one;
# HUDDLE_CONFIG= ./scripts/run.sh runs with the plain defaults.
export HUDDLE_CONFIG="${HUDDLE_CONFIG-config/demo.toml}"
exec ./build/release/huddle "$@"
