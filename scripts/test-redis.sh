#!/usr/bin/env bash
# Runs the broker tests against a Redis server of their own: a free loopback port, a temporary
# directory, no persistence. The server is stopped and its directory removed on exit, whatever
# happens; safe to run twice (and at once).
#
#   scripts/test-redis.sh build/asan/tests/unit/broker_tests [gtest arguments...]
#
# The tests get HUDDLE_TEST_REDIS_URL, and HUDDLE_TEST_REDIS_STOP / _START (shell commands) for
# the restart tests.
set -euo pipefail
# shellcheck source=scripts/lib/processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/processes.sh"
tests=${1:?usage: $0 <broker_tests binary> [gtest arguments...]}
shift
tests=$(realpath "$tests")
command -v redis-server >/dev/null || { echo "no redis-server (apt package redis-server)" >&2; exit 1; }
command -v redis-cli >/dev/null || { echo "no redis-cli (apt package redis-tools)" >&2; exit 1; }

work=$(mktemp -d /tmp/huddle-redis-XXXXXX)
cleanup() {
    [[ -x $work/stop.sh ]] && "$work/stop.sh"
    rm -rf "$work"
}
trap cleanup EXIT

port=$(free_loopback_port)

# Written as scripts so the tests can stop and start the same server (same port, no data kept).
cat >"$work/start.sh" <<START
#!/usr/bin/env bash
cd "$work"
redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --pidfile "$work/redis.pid" >>"$work/redis.log" 2>&1 </dev/null &
for _ in \$(seq 1 200); do
    redis-cli -h 127.0.0.1 -p $port ping >/dev/null 2>&1 && exit 0
    sleep 0.05
done
echo "redis-server did not start" >&2
exit 1
START
cat >"$work/stop.sh" <<STOP
#!/usr/bin/env bash
source "$(realpath "$(dirname "${BASH_SOURCE[0]}")")/lib/processes.sh"
pid=\$(cat "$work/redis.pid" 2>/dev/null) || exit 0
stop_pid "\$pid"
rm -f "$work/redis.pid"
STOP
chmod +x "$work/start.sh" "$work/stop.sh"
"$work/start.sh" || { cat "$work/redis.log" >&2; exit 1; }

export HUDDLE_TEST_REDIS_URL="redis://127.0.0.1:$port"
export HUDDLE_TEST_REDIS_STOP="$work/stop.sh"
export HUDDLE_TEST_REDIS_START="$work/start.sh"
echo "Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port ($work)"
"$tests" "$@"
