# shellcheck shell=bash
# A PostgreSQL server of its own for a test or benchmark script: initdb in a directory given by
# the caller, a free loopback port, the unix socket in that directory, fsync and synchronous
# commit on (the durability Huddle promises). Source it (after processes.sh); it defines
# functions only.
#
#   start_private_postgres DIR [CPUS]   initdb in DIR/data and start; CPUS pins the server to
#                                       those cores (taskset list). Sets PG_BIN, PG_PORT, PG_URL
#                                       (database "huddle"), PG_START_CMD and PG_STOP_CMD.
#   create_private_database NAME        creates a database; prints its URL
#   drop_private_database NAME
#   stop_private_postgres               stops the server (immediate); safe to call twice
#
# PG_BIN overrides the server's binaries directory.

start_private_postgres() {
    local dir=$1 cpus=${2:-}
    PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    [[ -x $PG_BIN/initdb ]] || { echo "no PostgreSQL server binaries (apt package postgresql)" >&2; return 1; }
    PG_DIR=$dir
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    PG_AS_SERVER_USER=()
    if [[ $(id -u) == 0 ]]; then
        chown postgres: "$PG_DIR"
        PG_AS_SERVER_USER=(runuser -u postgres --)
    fi
    [[ -n $cpus ]] && PG_AS_SERVER_USER=(taskset -c "$cpus" "${PG_AS_SERVER_USER[@]}")
    PG_PORT=$(free_loopback_port)
    "${PG_AS_SERVER_USER[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U huddle --auth=trust \
        --no-locale -E UTF8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    local options="-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR"
    options+=" -c fsync=on -c synchronous_commit=on -c max_connections=200"
    PG_START_CMD="${PG_AS_SERVER_USER[*]} $PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w -t 60 -o '$options' start >/dev/null"
    PG_STOP_CMD="${PG_AS_SERVER_USER[*]} $PG_BIN/pg_ctl -D $PG_DIR/data -m immediate -w stop >/dev/null"
    eval "$PG_START_CMD" || { cat "$PG_DIR/server.log" >&2; return 1; }
    create_private_database huddle >/dev/null
    PG_URL="postgres://huddle@127.0.0.1:$PG_PORT/huddle"
}

create_private_database() {
    "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U huddle "$1"
    echo "postgres://huddle@127.0.0.1:$PG_PORT/$1"
}

drop_private_database() {
    "$PG_BIN/dropdb" -h "$PG_DIR" -p "$PG_PORT" -U huddle --if-exists "$1"
}

stop_private_postgres() {
    [[ -n ${PG_STOP_CMD:-} ]] || return 0
    eval "$PG_STOP_CMD" 2>/dev/null || true
    PG_STOP_CMD=
}
