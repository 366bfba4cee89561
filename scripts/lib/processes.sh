# shellcheck shell=bash
# Shell helpers shared by the scripts that start servers of their own (the Redis and PostgreSQL
# test runners, the benchmarks). Source it; it defines functions only.

# True when something accepts connections on 127.0.0.1:<port>.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints a loopback port nothing listens on, below the ephemeral range so that no client socket
# takes it meanwhile; never the same one twice in one shell.
HUDDLE_USED_PORTS=" "
free_loopback_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))
        [[ $HUDDLE_USED_PORTS == *" $port "* ]] && continue
        if ! port_open "$port"; then
            HUDDLE_USED_PORTS+="$port "
            echo "$port"
            return 0
        fi
    done
    echo "no free loopback port found" >&2
    return 1
}

# Stops a process: TERM, up to 5 s for it to go, then KILL (and reaps it if it is our child).
stop_pid() {
    local pid=$1
    if ! kill -TERM "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true  # gone already: reap it if it was ours
        return 0
    fi
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
