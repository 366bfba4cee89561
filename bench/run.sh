#!/usr/bin/env bash
# Runs one load scenario against Huddle and its peers, side by side, several times each.
#
#   bench/run.sh [-s SCENARIO] [-S SERVERS] [-r RUNS] [-- extra huddle-loadgen options]
#
#   -s  fanout (default) | rate | rooms | idle | connect | documents
#   -S  servers, comma or space separated: huddle,ws,uws,socketio (default: all four);
#       documents (Yjs): huddle,yws,hocuspocus (default: all three; yws = @y/websocket-server);
#       also huddle-b (see HUDDLE_BIN_B) and huddle-pg: HUDDLE_BIN storing in PostgreSQL, a
#       server this script starts on the server's core (fsync on), a fresh database per run
#   -r  runs per server (default 3)
#   --  everything after is passed to huddle-loadgen (e.g. -- --connections 5000 --duration 5)
#
# Environment:
#   HUDDLE_BIN      huddle binary (default build/release/huddle); HUDDLE_ARGS: extra server flags
#   HUDDLE_BIN_B, HUDDLE_ARGS_B  a second Huddle, run as server `huddle-b` (default: HUDDLE_BIN),
#                   to compare two builds or settings interleaved in one invocation
#   HUDDLE_BENCH_CONFIG  huddle config file (default bench/huddle-bench.toml)
#   HUDDLE_TOKEN    token for huddle (default: `$HUDDLE_BIN token --sub bench --ttl 1h`)
#   HUDDLE_READY_CHECK, HUDDLE_SUBSCRIBE, HUDDLE_PUBLISH  loadgen templates for huddle
#   LOADGEN_BIN     load generator (default: built here in build/bench-release)
#   SERVER_CPU      core for the server (default 0); LOADGEN_CPU: core for the loadgen (default 1)
#   RESULTS_DIR     where the logs, results and the servers' data go (default bench/results); a
#                   tmpfs there (/dev/shm/...) takes the disk out of a comparison of two builds' CPU
#   BASE_PORT       huddle on BASE_PORT, ws +1, uws +2, socketio +3, yws +4, hocuspocus +5,
#                   huddle-b +6, huddle-pg +7 (default 3300)
#   PG_BIN          PostgreSQL server binaries for huddle-pg (default: the newest installed)
#
# The server runs on one core (taskset), the loadgen on the other. Each run starts a fresh server.
# Output: per-run logs and a JSON line per run under RESULTS_DIR, a markdown table on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=bench/build-loadgen.sh
source "$ROOT/bench/build-loadgen.sh"
BENCH="$ROOT/bench"
SCENARIO=${SCENARIO:-fanout}
SERVERS=${SERVERS:-huddle ws uws socketio}
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
BASE_PORT=${BASE_PORT:-3300}
HUDDLE_BIN=${HUDDLE_BIN:-$ROOT/build/release/huddle}

usage() { sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while getopts "s:S:r:h" opt; do
    case $opt in
        s) SCENARIO=$OPTARG ;;
        S) SERVERS=$OPTARG; SERVERS_SET=1 ;;
        r) RUNS=$OPTARG ;;
        h) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ ${1:-} == "--" ]] && shift
EXTRA=("$@")
SERVERS=${SERVERS//,/ }
case $SCENARIO in fanout | rate | rooms | idle | connect | documents) ;; *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;; esac
# The document servers speak y-websocket, the others the JSON rooms protocol.
if [[ $SCENARIO == documents && -z ${SERVERS_SET:-} && $SERVERS == "huddle ws uws socketio" ]]; then
    SERVERS="huddle yws hocuspocus"
fi

log() { printf '[run.sh] %s\n' "$*" >&2; }

# --- Huddle: the one place to adjust how the server is started and addressed -----------------
# Started as: HUDDLE_BIN --port P --threads 1 --host 127.0.0.1 --config bench/huddle-bench.toml
# (per-client limits off, quiet logs), in the run's results folder (its ./data goes there).
# Edit here when the server's flags change.
huddle_config_args() {
    local config=${HUDDLE_BENCH_CONFIG:-$BENCH/huddle-bench.toml}
    if [[ -f $config ]]; then printf '%s\n' --config "$config"; fi
}
start_huddle() { # port binary [extra flags, one string split on spaces]
    local port=$1 binary=$2 extra=${3:-} args
    mapfile -t args < <(huddle_config_args)
    # shellcheck disable=SC2206
    args+=($extra)
    # A fresh working directory (so a fresh ./data store) per run: documents and history of an
    # earlier run must not be loaded into the next one.
    local work="$RUN_DIR/$server-$run.work"
    mkdir -p "$work"
    [[ " $extra " == *" --threads "* ]] || args+=(--threads 1)
    (cd "$work" && exec taskset -c "$SERVER_CPU" "$binary" "${args[@]}" \
        --port "$port" --host 127.0.0.1) &
    SERVER_PID=$!
}
huddle_token() {
    local args
    mapfile -t args < <(huddle_config_args)
    (cd "$RUN_DIR" && "$HUDDLE_BIN" "${args[@]}" token --sub bench --ttl 1h 2>/dev/null | tail -1)
}
huddle_loadgen_args() {
    local port=$1
    if [[ $SCENARIO == documents ]]; then
        # y-websocket at /yjs/<document>; ready when the server answers sync step 1.
        printf '%s\n' --url "ws://127.0.0.1:$port/yjs/{room}?token={token}" --token "$HUDDLE_TOKEN"
        return
    fi
    printf '%s\n' --url "ws://127.0.0.1:$port/ws?token={token}" --token "$HUDDLE_TOKEN" \
        --ready-check "${HUDDLE_READY_CHECK:-\"ok\":true}"
    # The loadgen's default templates are the rooms JSON protocol; override them if needed.
    if [[ -n ${HUDDLE_SUBSCRIBE:-} ]]; then printf '%s\n' --subscribe "$HUDDLE_SUBSCRIBE"; fi
    if [[ -n ${HUDDLE_PUBLISH:-} ]]; then printf '%s\n' --publish "$HUDDLE_PUBLISH"; fi
}

# --- Peers -----------------------------------------------------------------------------------
start_peer() {
    local script=$1 port=$2
    taskset -c "$SERVER_CPU" node "$BENCH/peers/$script" "$port" &
    SERVER_PID=$!
}
peer_loadgen_args() {
    local name=$1 port=$2
    if [[ $name == yws ]]; then
        printf '%s\n' --url "ws://127.0.0.1:$port/yjs/{room}"
    elif [[ $name == hocuspocus ]]; then
        # One socket may carry several documents: each message names its document.
        printf '%s\n' --protocol hocuspocus --url "ws://127.0.0.1:$port/"
    elif [[ $name == socketio ]]; then
        printf '%s\n' --protocol socketio \
            --url "ws://127.0.0.1:$port/socket.io/?EIO=4&transport=websocket" --ready-check '"ok":true'
    else
        printf '%s\n' --url "ws://127.0.0.1:$port/ws" --ready-check '"ok":true'
    fi
}

port_of() {
    case $1 in huddle) echo $((BASE_PORT)) ;; ws) echo $((BASE_PORT + 1)) ;;
        uws) echo $((BASE_PORT + 2)) ;; socketio) echo $((BASE_PORT + 3)) ;;
        yws) echo $((BASE_PORT + 4)) ;; hocuspocus) echo $((BASE_PORT + 5)) ;;
        huddle-b) echo $((BASE_PORT + 6)) ;; huddle-pg) echo $((BASE_PORT + 7)) ;; esac
}

# --- Peers: installed into bench/peers/node_modules ---------------------------------------

install_peers() {
    local need=0 s
    for s in $SERVERS; do [[ $s != huddle* ]] && need=1; done
    ((need)) || return 0
    command -v node >/dev/null || { echo "node is needed for the peer servers" >&2; exit 1; }
    if [[ ! -d $BENCH/peers/node_modules || $BENCH/peers/package-lock.json -nt $BENCH/peers/node_modules ]]; then
        log "installing peer servers (npm)"
        if [[ -f $BENCH/peers/package-lock.json ]]; then
            (cd "$BENCH/peers" && npm ci --no-audit --no-fund >&2)
        else
            (cd "$BENCH/peers" && npm install --no-audit --no-fund >&2)
        fi
        touch "$BENCH/peers/node_modules"
    fi
}

# --- Process helpers -------------------------------------------------------------------------
cpu_seconds() { # utime + stime of a process, in seconds
    local pid=$1 stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${12} ${13} $(getconf CLK_TCK)" | awk '{printf "%.3f", ($1 + $2) / $3}'
}

wait_ready() { # wait for "listening" in the log (peers) or for the port to accept (huddle)
    local port=$1 logfile=$2
    for _ in $(seq 1 200); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        if grep -q '^listening' "$logfile" 2>/dev/null; then return 0; fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

stop_server() {
    [[ -n ${SERVER_PID:-} ]] || return 0
    stop_pid "$SERVER_PID"
    SERVER_PID=
}
# huddle-pg's PostgreSQL: stopped, and its data (100-400 MB) removed; its server.log stays.
stop_bench_postgres() {
    stop_private_postgres
    [[ -n ${PG_DIR:-} ]] && rm -rf "$PG_DIR/data"
    return 0
}
trap 'stop_server; stop_bench_postgres' EXIT
trap 'stop_server; stop_bench_postgres; exit 130' INT TERM

# huddle-pg: one PostgreSQL server for the whole invocation, on the server's core (it is part of
# the server side), and a database per run so that no run loads an earlier one's documents.
start_huddle_pg() { # port run
    local port=$1 run=$2
    if [[ -z ${PG_URL:-} ]]; then
        mkdir -p "$RUN_DIR/postgres"
        start_private_postgres "$RUN_DIR/postgres" "$SERVER_CPU" || return 1
        log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
    fi
    local url
    url=$(create_private_database "run$run") || return 1
    start_huddle "$port" "$HUDDLE_BIN" "${HUDDLE_ARGS:-} --set store.url=$url"
}

# --- Main ------------------------------------------------------------------------------------
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
mkdir -p "$RESULTS_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUN_DIR="$RESULTS_DIR/$STAMP-$SCENARIO"
RESULTS="$RESULTS_DIR/$STAMP-$SCENARIO.jsonl"
mkdir -p "$RUN_DIR"

ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "open files limit $(ulimit -n)"

build_loadgen "$RESULTS_DIR/cmake.log"
install_peers

# The servers run from their result directories: a relative path must not change meaning there.
[[ $HUDDLE_BIN == /* ]] || HUDDLE_BIN="$PWD/$HUDDLE_BIN"
HUDDLE_BIN_B=${HUDDLE_BIN_B:-$HUDDLE_BIN}
[[ $HUDDLE_BIN_B == /* ]] || HUDDLE_BIN_B="$PWD/$HUDDLE_BIN_B"
if [[ " $SERVERS " == *" huddle "* && ! -x $HUDDLE_BIN ]]; then
    log "no huddle binary at $HUDDLE_BIN: skipping huddle (set HUDDLE_BIN)"
    SERVERS=$(echo " $SERVERS " | sed 's/ huddle / /')
fi
if [[ " $SERVERS " == *" huddle-b "* && ! -x $HUDDLE_BIN_B ]]; then
    log "no huddle binary at $HUDDLE_BIN_B: skipping huddle-b (set HUDDLE_BIN_B)"
    SERVERS=$(echo " $SERVERS " | sed 's/ huddle-b / /')
fi
# Both Huddles read the same config, so one token serves both.
if [[ " $SERVERS " == *" huddle"* && -z ${HUDDLE_TOKEN:-} ]]; then
    HUDDLE_TOKEN=$(huddle_token)
fi

# Huddle takes publishes from room members only: in fanout and rate the publisher subscribes too,
# for every server alike (the peers, like Huddle, do not send a message back to its sender).
COMMON=()
case $SCENARIO in fanout | rate) COMMON=(--publisher-subscribes) ;; esac
# A server alone on its core: that core's busy time also counts kernel work done for it outside
# its own CPU time (softirq handed to ksoftirqd), which the process's CPU time misses.
CORE_ARGS=()
[[ $SERVER_CPU =~ ^[0-9]+$ ]] && CORE_ARGS=(--server-core "$SERVER_CPU")

GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
NODE_VERSION=$(node --version 2>/dev/null || echo none)
log "scenario $SCENARIO, servers: $SERVERS, $RUNS run(s) each; loadgen $LOADGEN"
log "server on core $SERVER_CPU, loadgen on core $LOADGEN_CPU; results in $RESULTS"

# Runs outer, servers inner: when other work on the machine comes and goes, it falls on every
# server alike rather than on whichever ran at that moment.
for run in $(seq 1 "$RUNS"); do
    for server in $SERVERS; do
        port=$(port_of "$server")
        slog="$RUN_DIR/$server-$run.server.log"
        llog="$RUN_DIR/$server-$run.loadgen.log"
        sync  # every run starts with nothing of the earlier ones left to write
        case $server in
            huddle) start_huddle "$port" "$HUDDLE_BIN" "${HUDDLE_ARGS:-}" >"$slog" 2>&1 ;;
            huddle-b) start_huddle "$port" "$HUDDLE_BIN_B" "${HUDDLE_ARGS_B:-}" >"$slog" 2>&1 ;;
            huddle-pg) start_huddle_pg "$port" "$run" >"$slog" 2>&1 ;;
            ws) start_peer ws-server.mjs "$port" >"$slog" 2>&1 ;;
            uws) start_peer uws-server.mjs "$port" >"$slog" 2>&1 ;;
            socketio) start_peer socketio-server.mjs "$port" >"$slog" 2>&1 ;;
            yws) start_peer yws-server.mjs "$port" >"$slog" 2>&1 ;;
            hocuspocus) start_peer hocuspocus-server.mjs "$port" >"$slog" 2>&1 ;;
            *) echo "unknown server $server" >&2; exit 2 ;;
        esac
        if ! wait_ready "$port" "$slog"; then
            log "$server did not start (see $slog)"
            stop_server
            continue
        fi
        if [[ $server == huddle* ]]; then
            mapfile -t target < <(huddle_loadgen_args "$port")
        else
            mapfile -t target < <(peer_loadgen_args "$server" "$port")
        fi
        cpu_before=$(cpu_seconds "$SERVER_PID")
        t0=$(date +%s.%N)
        log "$server run $run/$RUNS (pid $SERVER_PID, port $port)"
        rc=0
        taskset -c "$LOADGEN_CPU" "$LOADGEN" --scenario "$SCENARIO" "${target[@]}" \
            --server-pid "$SERVER_PID" "${CORE_ARGS[@]}" --label "$server" --quiet "${COMMON[@]}" "${EXTRA[@]}" \
            >"$llog" 2>&1 || rc=$?
        t1=$(date +%s.%N)
        cpu_after=$(cpu_seconds "$SERVER_PID")
        stop_server
        # A documents run leaves a store of about 80 MB: removed before its pages are written
        # back, which would otherwise slow the next runs' fsyncs (the later runs of a series were
        # up to 30 % slower than the first).
        rm -rf "$RUN_DIR/$server-$run.work/data"
        [[ $server == huddle-pg ]] && drop_private_database "run$run"
        grep -v '^RESULT ' "$llog" | sed 's/^/    /' >&2
        result=$(grep '^RESULT ' "$llog" | tail -1 | cut -c8-)
        if [[ -z $result ]]; then
            log "$server run $run: no RESULT line (exit $rc, see $llog)"
            continue
        fi
        node -e '
            const [line, server, run, cpu0, cpu1, t0, t1, rc, git, nodev] = process.argv.slice(1);
            const r = JSON.parse(line);
            Object.assign(r, { server, run: Number(run), exit_code: Number(rc), git, node: nodev,
              server_cpu_total_s: Number((cpu1 - cpu0).toFixed(3)),
              wall_s: Number((t1 - t0).toFixed(3)) });
            console.log(JSON.stringify(r));
        ' "$result" "$server" "$run" "$cpu_before" "$cpu_after" "$t0" "$t1" "$rc" "$GIT_REV" \
            "$NODE_VERSION" >>"$RESULTS"
    done
done

if [[ -s $RESULTS ]]; then
    node "$BENCH/summarize.mjs" "$RESULTS"
else
    log "no results"
    exit 1
fi
# A run the load generator did not call ok (errors, messages missing) fails the script: the test
# command uses a short run of it as a smoke test.
if ! node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
    process.exit(lines.every((l) => JSON.parse(l).ok) ? 0 : 1);' "$RESULTS"; then
    log "a run was not ok (see $RESULTS)"
    exit 1
fi
