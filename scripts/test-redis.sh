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
tests=${1:?usage: $0 <broker_tests binary> [gtest arguments...]}
shift
tests=$(realpath "$tests")
command -v redis-server >/dev/null || { echo "no redis-server (apt package redis-server)" >&2; exit 1; }
command -v redis-cli >/dev/null || { echo "no redis-cli (apt package redis-tools)" >&2; exit 1; }

work=$(mktemp -d /tmp/huddle-redis-XXXXXX)
stop_server() {
    local pid
    pid=$(cat "$work/redis.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$work/redis.pid"
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port: nothing answers there now.
port=
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[[ -n $port ]] || { echo "no free port found" >&2; exit 1; }

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
pid=\$(cat "$work/redis.pid" 2>/dev/null) || exit 0
kill "\$pid" 2>/dev/null || true
for _ in \$(seq 1 100); do
    kill -0 "\$pid" 2>/dev/null || break
    sleep 0.05
done
kill -9 "\$pid" 2>/dev/null || true
rm -f "$work/redis.pid"
STOP
chmod +x "$work/start.sh" "$work/stop.sh"
"$work/start.sh" || { cat "$work/redis.log" >&2; exit 1; }

export HUDDLE_TEST_REDIS_URL="redis://127.0.0.1:$port"
export HUDDLE_TEST_REDIS_STOP="$work/stop.sh"
export HUDDLE_TEST_REDIS_START="$work/start.sh"
echo "Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port ($work)"
"$tests" "$@"
