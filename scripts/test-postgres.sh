#!/usr/bin/env bash
# Runs the store tests against a PostgreSQL server of their own: initdb in a temporary
# directory, a free loopback port, the unix socket in that directory, fsync on. The server is
# stopped and its directory removed on exit, whatever happens; safe to run twice (and at once).
#
#   scripts/test-postgres.sh build/asan/tests/unit/store_tests [gtest arguments...]
#
# The tests get HUDDLE_TEST_POSTGRES_URL, and HUDDLE_TEST_POSTGRES_STOP / _START (shell commands)
# for the restart tests. PG_BIN overrides the server's binaries directory.
set -euo pipefail
# shellcheck source=scripts/lib/processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/processes.sh"
tests=${1:?usage: $0 <store_tests binary> [gtest arguments...]}
shift
tests=$(realpath "$tests")
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x $pg_bin/initdb ]] || { echo "no PostgreSQL server binaries (apt package postgresql)" >&2; exit 1; }

work=$(mktemp -d /tmp/huddle-pg-XXXXXX)
# initdb and postgres refuse to run as root: run them as the postgres user then.
as_server_user=()
if [[ $(id -u) == 0 ]]; then
    chown postgres: "$work"
    as_server_user=(runuser -u postgres --)
fi
server_ctl() { "${as_server_user[@]}" "$pg_bin/pg_ctl" -D "$work/data" "$@"; }
cleanup() {
    server_ctl -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(free_loopback_port)

"${as_server_user[@]}" "$pg_bin/initdb" -D "$work/data" -U huddle --auth=trust --no-locale \
    -E UTF8 >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
server_options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$work"
server_options+=" -c fsync=on -c synchronous_commit=on -c max_connections=200"
server_ctl -l "$work/server.log" -w -t 60 -o "$server_options" start >/dev/null \
    || { cat "$work/server.log" >&2; exit 1; }
"$pg_bin/createdb" -h "$work" -p "$port" -U huddle huddle

export HUDDLE_TEST_POSTGRES_URL="postgres://huddle@127.0.0.1:$port/huddle"
stop_cmd="${as_server_user[*]} $pg_bin/pg_ctl -D $work/data -m immediate -w stop"
export HUDDLE_TEST_POSTGRES_STOP="$stop_cmd >/dev/null"
export HUDDLE_TEST_POSTGRES_START="${as_server_user[*]} $pg_bin/pg_ctl -D $work/data -l $work/server.log -w -t 60 -o '$server_options' start >/dev/null"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($work)"
"$tests" "$@"
