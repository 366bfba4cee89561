#!/usr/bin/env bash
# Cross-node fan-out through Redis (issue #7): Huddle as one node, one node + Redis, and a
# cluster of N nodes + Redis, several runs each.
#
#   bench/cluster.sh [-r RUNS] [-n NODES] [--smoke]
#
#   -r  runs per configuration (default 3)
#   -n  nodes of the cluster configurations (default 3)
#   --smoke  one short run of each part with tiny numbers (about 10 s); exits non-zero unless
#            messages crossed nodes and each node received only its rooms' share from Redis
#
# Part 1, fanout: FANOUT_SUBSCRIBERS (1000) subscribers in one room, connection i on node
#   i mod N, one publisher on node 0 keeping FANOUT_WINDOW (16) messages in flight; for
#   1 node without broker, 1 node + Redis, N nodes + Redis.
# Part 2, interest (N nodes + Redis): INTEREST_ROOMS (300) rooms of 10; connection i is on node
#   i mod N and in room i mod rooms, so with rooms a multiple of N every member of room r is on
#   node r mod N; the first member of each room publishes INTEREST_RATE (20) messages/s. Each
#   node's huddle_broker_received_total and huddle_broker_published_total are read before and
#   after. Then the control: rooms + 1 rooms (not a multiple of N), so every room has members
#   on every node and every node must receive everything.
#
# Environment:
#   HUDDLE_BIN     huddle binary (default build/release/huddle), copied to the results folder
#   LOADGEN_BIN    load generator (default: built in build/bench-release, as bench/run.sh does)
#   SERVER_CPUS    cores for the nodes and redis-server (default 0); LOADGEN_CPU (default 1)
#   DURATION, WARMUP  seconds measured / before measuring (default 5 / 2)
#
# Starts its own redis-server (free loopback port, no persistence, temporary directory) and
# fresh nodes (own working directory, so own ./data) for every run; stops them all on exit.
# Output: logs and one JSON line per run under bench/results/, markdown tables on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
# shellcheck source=bench/build-loadgen.sh
source "$ROOT/bench/build-loadgen.sh"
BENCH="$ROOT/bench"
RUNS=${RUNS:-3}
NODES=${NODES:-3}
SMOKE=0
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-2}
FANOUT_SUBSCRIBERS=${FANOUT_SUBSCRIBERS:-1000}
FANOUT_WINDOW=${FANOUT_WINDOW:-16}
INTEREST_ROOMS=${INTEREST_ROOMS:-300}
INTEREST_MEMBERS=${INTEREST_MEMBERS:-10}
INTEREST_RATE=${INTEREST_RATE:-20}
HUDDLE_BIN=${HUDDLE_BIN:-$ROOT/build/release/huddle}
CONFIG=${HUDDLE_BENCH_CONFIG:-$BENCH/huddle-bench.toml}

usage() { sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        -r) RUNS=$2; shift 2 ;;
        -n) NODES=$2; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
if ((SMOKE)); then
    RUNS=1 DURATION=1 WARMUP=0.5 FANOUT_SUBSCRIBERS=30 INTEREST_ROOMS=$((NODES * 10))
    INTEREST_MEMBERS=2 INTEREST_RATE=10
fi
((NODES >= 2)) || { echo "-n must be at least 2" >&2; exit 2; }

log() { printf '[cluster.sh] %s\n' "$*" >&2; }

# --- Processes -------------------------------------------------------------------------------
NODE_PIDS=()   # the nodes of the current configuration (stopped after each run and on exit)
NODE_PORTS=()
REDIS_PID=
REDIS_PORT=

cleanup() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
    [[ -n $REDIS_PID ]] && stop_pid "$REDIS_PID"
    [[ -n ${REDIS_DIR:-} ]] && rm -rf "$REDIS_DIR"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM


http_get() { # port path: the whole answer (HTTP/1.1, Connection: close)
    local port=$1 path=$2
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
    timeout 5 cat <&3 || true
    exec 3<&-
}

cpu_seconds() { # utime + stime of a process, in seconds
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${12} ${13} $(getconf CLK_TCK)" | awk '{printf "%.3f", ($1 + $2) / $3}'
}

start_redis() {
    REDIS_DIR=$(mktemp -d)
    REDIS_PORT=$(free_loopback_port)
    taskset -c "$SERVER_CPUS" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$REDIS_DIR" --logfile "$RUN_DIR/redis.log" &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
        if [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then return 0; fi
        sleep 0.05
    done
    log "redis-server did not start (see $RUN_DIR/redis.log)"
    exit 1
}

# start_nodes COUNT BROKER(0|1) TAG: starts COUNT fresh nodes; with BROKER, waits until each reports
# the broker connected.
start_nodes() {
    local count=$1 broker=$2 tag=$3 n port work url=
    NODE_PIDS=()
    NODE_PORTS=()
    if ((broker)); then
        url="redis://127.0.0.1:$REDIS_PORT"
        # Nothing of the previous configuration (presence, node heartbeats, history) is left.
        redis-cli -p "$REDIS_PORT" flushall >/dev/null
    fi
    for ((n = 0; n < count; n++)); do
        port=$(free_loopback_port)
        work="$RUN_DIR/$tag.node$n.work"
        mkdir -p "$work"
        (cd "$work" && exec env -u HUDDLE_BROKER_URL ${url:+HUDDLE_BROKER_URL=$url} \
            taskset -c "$SERVER_CPUS" "$LOCAL_HUDDLE" --config "$CONFIG" --port "$port" \
            --threads 1 --host 127.0.0.1) >"$RUN_DIR/$tag.node$n.log" 2>&1 &
        NODE_PIDS+=("$!")
        NODE_PORTS+=("$port")
    done
    for ((n = 0; n < count; n++)); do
        local ok=0
        for _ in $(seq 1 200); do
            kill -0 "${NODE_PIDS[n]}" 2>/dev/null || break
            if port_open "${NODE_PORTS[n]}"; then
                if ((!broker)) || http_get "${NODE_PORTS[n]}" /health | grep -q '"state":"connected"'; then
                    ok=1
                    break
                fi
            fi
            sleep 0.05
        done
        if ((!ok)); then
            log "node $n did not start (see $RUN_DIR/$tag.node$n.log)"
            exit 1
        fi
    done
}

stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
    NODE_PIDS=()
}

# "received published" of each node's broker counters, one node per line.
broker_counters() {
    local port
    for port in "${NODE_PORTS[@]}"; do
        http_get "$port" /metrics | awk '
            $1 == "huddle_broker_received_total" { r = $2 }
            $1 == "huddle_broker_published_total" { p = $2 }
            END { print r + 0, p + 0 }'
    done
}

# --- One run ---------------------------------------------------------------------------------
# run_loadgen CONFIG RUN NODES BROKER SCENARIO-ARGS...: starts the nodes, runs the loadgen
# against all of them, appends one JSON line (the loadgen's RESULT plus the configuration, CPU
# per process and the broker counters' increase per node) to $RESULTS.
run_loadgen() {
    local config=$1 run=$2 count=$3 broker=$4
    shift 4
    local tag="$config-$run" llog="$RUN_DIR/$config-$run.loadgen.log" rc=0 n
    start_nodes "$count" "$broker" "$tag"
    local args=() pids=("${NODE_PIDS[@]}") roles=()
    for ((n = 0; n < count; n++)); do
        args+=(--url "ws://127.0.0.1:${NODE_PORTS[n]}/ws?token={token}")
        roles+=("node$n")
    done
    if ((broker)); then
        pids+=("$REDIS_PID")
        roles+=(redis)
    fi
    for n in "${pids[@]}"; do args+=(--server-pid "$n"); done
    local before=
    ((broker)) && before=$(broker_counters | tr '\n' ',')
    log "$config run $run/$RUNS: $count node(s), broker $( ((broker)) && echo Redis || echo none)"
    taskset -c "$LOADGEN_CPU" "$LOADGEN" "$@" "${args[@]}" --token "$TOKEN" \
        --ready-check '"ok":true' --warmup "$WARMUP" --duration "$DURATION" --label "$config" \
        --quiet >"$llog" 2>&1 || rc=$?
    local after=
    ((broker)) && after=$(broker_counters | tr '\n' ',')
    stop_nodes
    grep -v '^RESULT ' "$llog" | sed 's/^/    /' >&2
    local result
    result=$(grep '^RESULT ' "$llog" | tail -1 | cut -c8-)
    if [[ -z $result ]]; then
        log "$config run $run: no RESULT line (exit $rc, see $llog)"
        FAILURES=$((FAILURES + 1))
        return
    fi
    ((rc == 0)) || FAILURES=$((FAILURES + 1))
    node -e '
        const [line, config, run, nodes, broker, pids, roles, before, after, rc, git] =
            process.argv.slice(1);
        const r = JSON.parse(line);
        const list = (s) => s.split(",").filter((x) => x.trim());
        const pidList = list(pids), roleList = list(roles);
        // CPU % of each process over the measured window, by role (node0.., redis).
        const cpu = {};
        pidList.forEach((pid, k) => {
            cpu[roleList[k]] = r.server_cpu_pct_by_pid ? r.server_cpu_pct_by_pid[pid] : r.server_cpu_pct;
        });
        const counters = (s) => list(s).map((l) => l.trim().split(/\s+/).map(Number));
        const b0 = counters(before), b1 = counters(after);
        const out = Object.assign(r, { config, run: Number(run), nodes: Number(nodes),
            broker: broker === "1", cpu, exit_code: Number(rc), git });
        if (b0.length) {
            out.broker_received = b1.map((x, k) => x[0] - b0[k][0]);
            out.broker_published = b1.map((x, k) => x[1] - b0[k][1]);
        }
        console.log(JSON.stringify(out));
    ' "$result" "$config" "$run" "$count" "$broker" "$(IFS=,; echo "${pids[*]}")" \
        "$(IFS=,; echo "${roles[*]}")" "$before" "$after" "$rc" "$GIT_REV" >>"$RESULTS"
}

# --- Main ------------------------------------------------------------------------------------
command -v redis-server >/dev/null || { echo "redis-server is needed (scripts/install-deps.sh)" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed for the summary" >&2; exit 1; }
[[ -x $HUDDLE_BIN ]] || { echo "no huddle binary at $HUDDLE_BIN (set HUDDLE_BIN)" >&2; exit 1; }

mkdir -p "$BENCH/results"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
NAME=$STAMP-cluster
((SMOKE)) && NAME+=-smoke
RUN_DIR="$BENCH/results/$NAME"
RESULTS="$BENCH/results/$NAME.jsonl"
mkdir -p "$RUN_DIR"
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The binary may be rebuilt while this runs: every run uses the same copy.
LOCAL_HUDDLE="$RUN_DIR/huddle"
cp "$HUDDLE_BIN" "$LOCAL_HUDDLE"
build_loadgen "$RUN_DIR/cmake.log"
TOKEN=$(cd "$RUN_DIR" && "$LOCAL_HUDDLE" --config "$CONFIG" token --sub bench --ttl 1h 2>/dev/null | tail -1)
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
FAILURES=0
start_redis
log "nodes and redis-server on core(s) $SERVER_CPUS, loadgen on core $LOADGEN_CPU; $(nproc) cores"
log "results in $RESULTS"

FANOUT=(--scenario fanout --connections "$FANOUT_SUBSCRIBERS" --window "$FANOUT_WINDOW"
    --publisher-subscribes)
interest() { # rooms: connections = rooms x members
    echo --scenario rooms --rooms "$1" --connections $(($1 * INTEREST_MEMBERS)) --rate "$INTEREST_RATE"
}
ASSIGNED_ROOMS=$(((INTEREST_ROOMS + NODES - 1) / NODES * NODES))
SPREAD_ROOMS=$((ASSIGNED_ROOMS + 1))

# Runs outer, configurations inner: other work on the machine falls on every configuration alike.
start_s=$SECONDS
for run in $(seq 1 "$RUNS"); do
    if ((!SMOKE)); then
        run_loadgen fanout-1node "$run" 1 0 "${FANOUT[@]}"
        run_loadgen fanout-1node-redis "$run" 1 1 "${FANOUT[@]}"
    fi
    run_loadgen "fanout-${NODES}nodes-redis" "$run" "$NODES" 1 "${FANOUT[@]}"
    # shellcheck disable=SC2046
    run_loadgen "interest-${NODES}nodes-assigned" "$run" "$NODES" 1 $(interest "$ASSIGNED_ROOMS")
    if ((!SMOKE)); then
        # shellcheck disable=SC2046
        run_loadgen "interest-${NODES}nodes-spread" "$run" "$NODES" 1 $(interest "$SPREAD_ROOMS")
    fi
done
log "done in $((SECONDS - start_s)) s; redis-server CPU over the whole script: $(cpu_seconds "$REDIS_PID") s"

[[ -s $RESULTS ]] || { log "no results"; exit 1; }
SUMMARY_ARGS=()
((SMOKE)) && SUMMARY_ARGS=(--smoke)
node "$BENCH/cluster-summarize.mjs" "$RESULTS" "${SUMMARY_ARGS[@]}" || FAILURES=$((FAILURES + 1))
if ((FAILURES)); then
    log "$FAILURES failure(s)"
    exit 1
fi
