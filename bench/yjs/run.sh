#!/usr/bin/env bash
# Huddle's Yjs engine against the JavaScript Yjs, in one run on the same bytes.
#
#   bench/yjs/run.sh [-r RUNS] [-n INSERTS] [-f FLAT]
#
#   -r  timed runs of each operation per engine (default 7)
#   -n  keystrokes in the generated session (default 100000, from 10 clients)
#   -f  updates merged in one call by both engines (default 10000: the JavaScript merge is
#       quadratic in the number of updates, ~1.5 s here for 10,000, ~90 s for 50,000)
#
# Steps: build huddle-yjs-bench (Release, build/bench-release), install the bench peers' npm
# packages (they pin yjs), generate the session with Node yjs (cached per size and seed), time
# the JS engine then the C++ engine, each pinned to core BENCH_CPU (default 1), check the outputs
# (verify.mjs) and print a markdown table. Results: bench/results/<stamp>-yjs/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH="$ROOT/bench"
RUNS=7
INSERTS=100000
FLAT=10000
CPU=${BENCH_CPU:-1}
while getopts "r:n:f:h" opt; do
    case $opt in
        r) RUNS=$OPTARG ;;
        n) INSERTS=$OPTARG ;;
        f) FLAT=$OPTARG ;;
        h) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) exit 2 ;;
    esac
done
log() { printf '[yjs/run.sh] %s\n' "$*" >&2; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$BENCH/results/$STAMP-yjs"
SESSION="$BENCH/results/yjs-session-$INSERTS"
mkdir -p "$OUT"

BIN=${YJS_BENCH_BIN:-$ROOT/build/bench-release/bench/huddle-yjs-bench}
if [[ -z ${YJS_BENCH_BIN:-} ]]; then
    log "building huddle-yjs-bench (release)"
    cmake -S "$ROOT" -B "$ROOT/build/bench-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DHUDDLE_TESTS=OFF >"$OUT/cmake.log" 2>&1
    cmake --build "$ROOT/build/bench-release" -j1 --target huddle-yjs-bench >>"$OUT/cmake.log" 2>&1
fi
if [[ ! -d $BENCH/peers/node_modules/yjs || $BENCH/peers/package-lock.json -nt $BENCH/peers/node_modules ]]; then
    log "installing bench packages (npm ci)"
    (cd "$BENCH/peers" && npm ci --no-audit --no-fund >&2)
    touch "$BENCH/peers/node_modules"
fi
if [[ ! -s $SESSION/session.json || $BENCH/yjs/gen-session.mjs -nt $SESSION/session.json ]]; then
    log "generating the session ($INSERTS keystrokes, 10 clients)"
    node "$BENCH/yjs/gen-session.mjs" --out "$SESSION" --inserts "$INSERTS" --clients 10 >&2
fi
cp "$SESSION"/updates.bin "$SESSION"/half-sv.bin "$SESSION"/session.json "$OUT/"
log "session: $(node -e 'const s=require(process.argv[1]);delete s.text;console.log(JSON.stringify(s))' "$OUT/session.json")"

log "JavaScript Yjs, $RUNS runs per operation (core $CPU)"
timeout 150 taskset -c "$CPU" node "$BENCH/yjs/bench-js.mjs" --dir "$OUT" --runs "$RUNS" --flat "$FLAT" \
    >"$OUT/results.jsonl"
log "Huddle C++ engine, $RUNS runs per operation (core $CPU)"
timeout 60 taskset -c "$CPU" "$BIN" --dir "$OUT" --runs "$RUNS" --flat "$FLAT" >>"$OUT/results.jsonl"
node "$BENCH/yjs/verify.mjs" --dir "$OUT" >&2
rm -f "$OUT/updates.bin"
node "$BENCH/yjs/summarize.mjs" "$OUT/results.jsonl"
log "results in $OUT"
