#!/usr/bin/env bash
# A short check of the documents scenario against real servers: Huddle, the reference
# y-websocket server and Hocuspocus each get 5 documents x 3 editors for 1 s. Passes when the loadgen reports
# ok (every update relayed to every other editor, no gap, no unknown update), and when the state
# Huddle stored for one document, applied to a fresh Y.Doc, holds exactly the 16-character
# timestamps its editors sent (so Huddle accepted the loadgen's updates as valid Yjs).
#
#   bench/smoke-documents.sh       (HUDDLE_BIN, LOADGEN_BIN as for run.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HUDDLE_BIN=${HUDDLE_BIN:-$ROOT/build/release/huddle}
LOADGEN=${LOADGEN_BIN:-$ROOT/build/bench-release/bench/huddle-loadgen}
CONFIG="$ROOT/bench/huddle-bench.toml"
PORT=${SMOKE_PORT:-3390}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z ${LOADGEN_BIN:-} ]]; then
    cmake -S "$ROOT" -B "$ROOT/build/bench-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DHUDDLE_TESTS=OFF >"$WORK/cmake.log" 2>&1
    cmake --build "$ROOT/build/bench-release" -j1 --target huddle-loadgen >>"$WORK/cmake.log" 2>&1
fi
if [[ ! -d $ROOT/bench/peers/node_modules/@y/websocket-server ]]; then
    (cd "$ROOT/bench/peers" && npm ci --no-audit --no-fund >&2)
fi

wait_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on $1" >&2
    return 1
}

passed=0
failed=0
check() { # name, command...
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

run_loadgen() { # label, args...
    local label=$1
    shift
    "$LOADGEN" --scenario documents --documents 5 --editors 3 --rate 20 --warmup 0.5 \
        --duration 1 --quiet --label "$label" "$@" >"$WORK/$label.log" 2>&1
    grep -q '"ok":true' "$WORK/$label.log"
}

(cd "$WORK" && exec "$HUDDLE_BIN" --config "$CONFIG" --port "$PORT" --threads 1 \
    --host 127.0.0.1) >"$WORK/huddle.log" 2>&1 &
PIDS+=($!)
wait_port "$PORT"
TOKEN=$(cd "$WORK" && "$HUDDLE_BIN" --config "$CONFIG" token --sub bench --ttl 1h 2>/dev/null | tail -1)
check "huddle: documents scenario ok" run_loadgen huddle \
    --url "ws://127.0.0.1:$PORT/yjs/{room}?token={token}" --token "$TOKEN"

stored_state_matches() {
    curl -sf -H 'Authorization: Bearer huddle-development-api-key' \
        "http://127.0.0.1:$PORT/api/documents/bench-doc-0/state" -o "$WORK/state.bin" || return 1
    (cd "$ROOT/bench/peers" && node -e '
        const Y = require("yjs");
        const fs = require("fs");
        const doc = new Y.Doc();
        Y.applyUpdate(doc, fs.readFileSync(process.argv[1]));
        const text = doc.getText("t").toString();
        const clients = [...doc.store.clients.keys()].sort();
        // Editors 0..2 of document 0 are connections 0..2: client ids 1000000..1000002.
        const ok = text.length > 0 && text.length % 16 === 0 && /^[0-9a-f]+$/.test(text) &&
          JSON.stringify(clients) === JSON.stringify([1000000, 1000001, 1000002]);
        console.log(`stored text ${text.length} characters, clients ${clients.join(",")}`);
        process.exit(ok ? 0 : 1);
    ' "$WORK/state.bin")
}
check "huddle: stored document holds the editors' updates" stored_state_matches

node "$ROOT/bench/peers/yws-server.mjs" $((PORT + 1)) >"$WORK/yws.log" 2>&1 &
PIDS+=($!)
wait_port $((PORT + 1))
check "y-websocket server: documents scenario ok" run_loadgen yws \
    --url "ws://127.0.0.1:$((PORT + 1))/yjs/{room}"

node "$ROOT/bench/peers/hocuspocus-server.mjs" $((PORT + 2)) >"$WORK/hocuspocus.log" 2>&1 &
PIDS+=($!)
wait_port $((PORT + 2))
check "hocuspocus: documents scenario ok" run_loadgen hocuspocus --protocol hocuspocus \
    --url "ws://127.0.0.1:$((PORT + 2))/"

echo "$passed passed, $failed failed"
((failed == 0))
