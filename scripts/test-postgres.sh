#!/usr/bin/env bash
# Runs the store tests against a PostgreSQL server of their own (scripts/lib/postgres.sh): a
# temporary directory, a free loopback port, fsync on. The server is stopped and its directory
# removed on exit, whatever happens; safe to run twice (and at once).
#
#   scripts/test-postgres.sh build/asan/tests/unit/store_tests [gtest arguments...]
#
# The tests get HUDDLE_TEST_POSTGRES_URL, and HUDDLE_TEST_POSTGRES_STOP / _START (shell commands)
# for the restart tests. PG_BIN overrides the server's binaries directory.
set -euo pipefail
# shellcheck source=scripts/lib/processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/processes.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/postgres.sh"
tests=${1:?usage: $0 <store_tests binary> [gtest arguments...]}
shift
tests=$(realpath "$tests")

work=$(mktemp -d /tmp/huddle-pg-XXXXXX)
cleanup() {
    stop_private_postgres
    rm -rf "$work"
}
trap cleanup EXIT

start_private_postgres "$work"
export HUDDLE_TEST_POSTGRES_URL=$PG_URL
export HUDDLE_TEST_POSTGRES_STOP=$PG_STOP_CMD
export HUDDLE_TEST_POSTGRES_START=$PG_START_CMD
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($work)"
"$tests" "$@"
