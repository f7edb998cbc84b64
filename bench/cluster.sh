#!/usr/bin/env bash
# make bench-cluster (issue 16): the cluster rows on this machine. For each row a fresh Redis
# (AOF on, appendfsync always, in a temporary folder on a free loopback port) and two fresh nodes
# of one event (bench/bench.yaml plus a `cluster:` section, each with its own port and database),
# node a pinned to core 0 and node b to core 1, beside the same row on ONE plain node (no cluster,
# core 0, the tool on core 1, as bench/run.sh runs it). The load tool spreads its clients over
# both nodes' ports (`--url A --url B`, round-robin), so no SO_REUSEPORT is needed; Redis and the
# tool are not pinned (the scheduler puts them on whichever core has room; CLUSTER_REDIS_CPU and
# CLUSTER_TOOL_CPU pin them). Prints one Markdown table per part (docs/BENCHMARKS.md, "Cluster").
#   CLUSTER_ONLY="chat-5000 votes-5000 join-30000" runs only those rows (join-10000: the one-node
#   join, for memory per participant); CLUSTER_KEEP=1 keeps the folder with every JSON line and log;
#   CLUSTER_HOLD (default 20) is the seconds join-30000's two tool processes hold their clients;
#   CLUSTER_REUSE_PORT=1 runs both nodes on one shared port (`reuse_port: true`, SO_REUSEPORT) and
#   points the tool at that one port: the kernel spreads the connections, and the table shows
#   how (each node's sockets in /proc; /metrics answers from either node there);
#   CLUSTER_EVENT_LOOP=libev (or libuv) runs every server, the one-node ones too, on that lws event
#   library (`event_loop:`) instead of poll(2).
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=${STELLING_BIN:-.build/release/stelling}
HOLD=${CLUSTER_HOLD:-20}
REUSE=${CLUSTER_REUSE_PORT:-}
EVENT_LOOP=${CLUSTER_EVENT_LOOP:-poll}
export STELLING_MODERATOR_KEY=bench-moderator-key-0123456789
WORK=$(mktemp -d /tmp/stelling-cluster.XXXXXX)
RESULTS=$WORK/results
mkdir -p "$RESULTS"
TICKS=$(getconf CLK_TCK)

[ -x "$BIN" ] || { echo "bench-cluster: no $BIN; run make release first" >&2; exit 1; }
command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    || { echo "bench-cluster: redis-server and redis-cli are needed (apt package redis-server; make deps)" >&2; exit 1; }

# As bench/run.sh: each process raises its soft open-file limit to the hard one.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# pinned CPU: `taskset -c CPU` when CPU is set, else nothing.
pinned() { [ -n "${1:-}" ] && echo "taskset -c $1"; }
REDIS_TASKSET=$(pinned "${CLUSTER_REDIS_CPU:-}")
TOOL_TASKSET=$(pinned "${CLUSTER_TOOL_CPU:-}")

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

PIDS=()   # everything this script started and has not stopped yet
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
stop_all() {  # newest first: the tools, the nodes, then Redis (a node logs Redis going away)
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
    PIDS=()
}
trap 'stop_all; [ -n "${CLUSTER_KEEP:-}" ] || rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

wait_healthy() {  # PORT WHAT LOG: /healthz 200 within 30 s
    for _ in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz")" = 200 ] && return 0
        sleep 0.1
    done
    echo "bench-cluster: $2 did not become healthy; see $3" >&2
    return 1
}

cpu_seconds() {  # PID: utime + stime in seconds
    awk -v t="$TICKS" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0
}
sockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }  # PID: its open sockets
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
metric() {  # PORT NAME: one sample of /metrics, 0 when missing
    curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { printf "%d\n", $2; found = 1 } END { if (!found) print 0 }'
}

# start_redis DIR: redis-server as Sources/StellingTesting/RedisServer.swift starts it.
start_redis() {
    local dir=$1/redis
    mkdir -p "$dir"
    REDIS_PORT=$(free_port)
    # shellcheck disable=SC2086
    $REDIS_TASKSET redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync always --save "" --daemonize no --logfile "$dir/redis.log" &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    echo "bench-cluster: redis-server did not start; see $dir/redis.log" >&2
    return 1
}

# start_node DIR NAME CPU [EVENT [PORT]]: a node (with EVENT: of that cluster event; without: a
# plain single server) on a fresh copy of bench/bench.yaml, pinned to CPU; with PORT, on that port
# shared (`reuse_port: true`); sets NODE_PID and NODE_PORT.
start_node() {
    local dir=$1/node-$2 name=$2 cpu=$3 event=${4:-} shared=${5:-}
    mkdir -p "$dir"
    cp bench/bench.yaml "$dir/bench.yaml"
    [ "$EVENT_LOOP" = poll ] || echo "event_loop: $EVENT_LOOP" >>"$dir/bench.yaml"
    if [ -n "$event" ]; then
        printf 'cluster:\n  redis: redis://127.0.0.1:%s/0\n  event: %s\n  node: %s\n' "$REDIS_PORT" "$event" "$name" >>"$dir/bench.yaml"
        [ -z "$shared" ] || printf '  reuse_port: true\n' >>"$dir/bench.yaml"
    fi
    NODE_PORT=${shared:-$(free_port)}
    taskset -c "$cpu" "$BIN" serve --config "$dir/bench.yaml" --port "$NODE_PORT" --host 127.0.0.1 --log-level error \
        >"$dir/server.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    if [ -n "$shared" ]; then
        # On a shared port /healthz may answer from the other node: wait for this one's listener.
        local pid=$NODE_PID
        for _ in $(seq 300); do
            ss -Htlnp "sport = :$NODE_PORT" 2>/dev/null | grep -q "pid=$pid," && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        ss -Htlnp "sport = :$NODE_PORT" 2>/dev/null | grep -q "pid=$pid," \
            || { echo "bench-cluster: node $name did not listen on the shared port; see $dir/server.log" >&2; return 1; }
    fi
    wait_healthy "$NODE_PORT" "node $name" "$dir/server.log"
}

# start_cluster NAME: Redis, node a on core 0, node b on core 1 (a first: it writes the event's
# settings, b checks them); sets A_PID A_PORT B_PID B_PORT.
start_cluster() {
    local dir=$WORK/$1
    start_redis "$dir" || return 1
    local shared=""
    [ -z "$REUSE" ] || shared=$(free_port)
    start_node "$dir" a 0 "bench-$1" "$shared" || return 1
    A_PID=$NODE_PID A_PORT=$NODE_PORT
    start_node "$dir" b 1 "bench-$1" "$shared" || return 1
    B_PID=$NODE_PID B_PORT=$NODE_PORT
    sleep 0.5   # idle memory settles
    A_SOCKETS=$(sockets "$A_PID") B_SOCKETS=$(sockets "$B_PID")   # before any client
}

# spread NAME: each node's client connections now (its sockets above the idle count), as JSON.
spread() {
    jq -n --argjson a "$(( $(sockets "$A_PID") - A_SOCKETS ))" --argjson b "$(( $(sockets "$B_PID") - B_SOCKETS ))" \
        '{a: $a, b: $b}' >"$RESULTS/$1.spread.json"
}

# The tool's endpoints: both ports, or the one shared port.
urls() {
    if [ -n "$REUSE" ]; then echo "--url ws://127.0.0.1:$A_PORT/ws"
    else echo "--url ws://127.0.0.1:$A_PORT/ws --url ws://127.0.0.1:$B_PORT/ws"; fi
}

# snapshot NAME LABEL: Redis' counters, its CPU time and the time now, in $RESULTS/NAME.LABEL.*.
snapshot() {
    redis-cli -p "$REDIS_PORT" INFO all | tr -d '\r' | awk -F'[:,=]' '
        /^total_commands_processed:/ || /^total_net_input_bytes:/ || /^total_net_output_bytes:/ { print $1, $2 }
        /^cmdstat_(xadd|xread|xrange|xrevrange):/ { print $1, $3 }' >"$RESULTS/$1.$2.info"
    echo "cpu $(cpu_seconds "$REDIS_PID")" >>"$RESULTS/$1.$2.info"
    echo "time $(date +%s.%N)" >>"$RESULTS/$1.$2.info"
}
info_value() { awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }

# redis_figures NAME FROM TO: Redis' work between two snapshots, and the stream as it is now (its
# length, memory, and the batches in the append-only file), as JSON in $RESULTS/NAME.redis.json.
redis_figures() {
    local name=$1 from=$RESULTS/$1.$2.info to=$RESULTS/$1.$3.info
    [ -f "$from" ] && [ -f "$to" ] || { echo '{"error":"no snapshots"}' >"$RESULTS/$name.redis.json"; return; }
    delta() { awk -v a="$(info_value "$to" "$1")" -v b="$(info_value "$from" "$1")" 'BEGIN { print a - b }'; }
    local key="stelling:{bench-$name}:log" xlen memory batches
    xlen=$(redis-cli -p "$REDIS_PORT" XLEN "$key")
    memory=$(redis-cli -p "$REDIS_PORT" MEMORY USAGE "$key" SAMPLES 0)
    batches=$(python3 bench/aof-batches.py "$WORK/$name/redis" 2>/dev/null || echo '{}')
    jq -n --argjson seconds "$(delta time)" --argjson cpu "$(delta cpu)" \
        --argjson commands "$(delta total_commands_processed)" --argjson xadd "$(delta cmdstat_xadd)" \
        --argjson xread "$(delta cmdstat_xread)" --argjson net_in "$(delta total_net_input_bytes)" \
        --argjson net_out "$(delta total_net_output_bytes)" --argjson xlen "${xlen:-0}" \
        --argjson memory "${memory:-0}" --argjson batches "$batches" \
        '{seconds: $seconds, cpu_s: $cpu, commands: $commands, ops_per_s: (if $seconds > 0 then $commands / $seconds else null end),
          xadd: $xadd, xread: $xread, net_in_b: $net_in, net_out_b: $net_out, xlen: $xlen, stream_memory_b: $memory} + $batches' \
        >"$RESULTS/$name.redis.json"
}

present() {  # the participants present in the event, the lower of the two nodes' rooms (each counts both nodes')
    local a b
    a=$(metric "$A_PORT" stelling_participants_present) b=$(metric "$B_PORT" stelling_participants_present)
    echo $(( a < b ? a : b ))
}

selected() { [ -z "${CLUSTER_ONLY:-}" ] || [[ " $CLUSTER_ONLY " == *" $1 "* ]]; }

# single NAME SCENARIO ARGS...: one plain node on core 0, the tool on core 1 (bench/run.sh's setup).
single() {
    local name=$1 scenario=$2
    shift 2
    selected "$name" || return 0
    echo "bench-cluster: $name on one node" >&2
    mkdir -p "$WORK/$name-single"
    if start_node "$WORK/$name-single" single 0; then
        sleep 0.5
        taskset -c 1 "$BIN" load --url "ws://127.0.0.1:$NODE_PORT/ws" "$scenario" --server-pid "$NODE_PID" \
            --json --quiet "$@" >"$RESULTS/$name.single.json" 2>"$RESULTS/$name.single.err"
        [ $? -le 1 ] || echo "{\"error\":$(jq -Rs . <"$RESULTS/$name.single.err")}" >"$RESULTS/$name.single.json"
    else
        echo '{"error":"the node did not start"}' >"$RESULTS/$name.single.json"
    fi
    stop_all
}

# cluster NAME CLIENTS SCENARIO ARGS...: the row on two nodes + Redis, one tool process over both
# ports. Redis' figures cover the traffic only: from the moment both nodes' rooms hold CLIENTS
# participants to the first leave (the joins before and the closes after are left out, up to the
# 50 ms this script polls; the append-only file's figures cover the whole stream, exactly).
cluster() {
    local name=$1 clients=$2 scenario=$3
    shift 3
    selected "$name" || return 0
    echo "bench-cluster: $name on two nodes + Redis" >&2
    if start_cluster "$name"; then
        snapshot "$name" start
        # shellcheck disable=SC2086
        $TOOL_TASKSET "$BIN" load $(urls) "$scenario" \
            --server-pid "$A_PID" --server-pid "$B_PID" --json --quiet "$@" >"$RESULTS/$name.cluster.json" 2>"$RESULTS/$name.cluster.err" &
        local tool=$! phase=joining open
        PIDS+=("$tool")
        for _ in $(seq 6000); do   # at most 300 s; the tool's own timeout is 120 s
            kill -0 "$tool" 2>/dev/null || break
            open=$(present)
            if [ $phase = joining ] && [ "$open" -ge "$clients" ]; then
                snapshot "$name" joined; spread "$name"; phase=traffic
            elif [ $phase = traffic ] && [ "$open" -lt "$clients" ]; then
                snapshot "$name" closing; phase=closing
            fi
            sleep 0.05
        done
        wait "$tool"
        [ $? -le 1 ] || echo "{\"error\":$(jq -Rs . <"$RESULTS/$name.cluster.err")}" >"$RESULTS/$name.cluster.json"
        [ $phase != traffic ] || snapshot "$name" closing
        redis_figures "$name" joined closing
        # What the nodes wrote to their clients over the whole run (/metrics counters; not on
        # a shared port, where either node may answer).
        [ -n "$REUSE" ] || jq -n --argjson events "$(( $(metric "$A_PORT" stelling_events_out_total) + $(metric "$B_PORT" stelling_events_out_total) ))" \
            --argjson bytes "$(( $(metric "$A_PORT" stelling_bytes_out_total) + $(metric "$B_PORT" stelling_bytes_out_total) ))" \
            '{events_out: $events, bytes_out: $bytes, bytes_per_event: (if $events > 0 then $bytes / $events else null end)}' \
            >"$RESULTS/$name.clients.json"
    else
        echo '{"error":"the cluster did not start"}' >"$RESULTS/$name.cluster.json"
    fi
    stop_all
}

# join-30000: 30,000 participants on two nodes, held. One tool process per node (each process,
# like each node, has 20,000 descriptors at most): 15,000 each, from four source addresses each.
# While both hold, this script reads each node's connections, participants present and memory.
join_held() {
    local name=join-30000 per=15000
    selected "$name" || return 0
    echo "bench-cluster: $name on two nodes + Redis" >&2
    start_cluster "$name" || { echo '{"error":"the cluster did not start"}' >"$RESULTS/$name.cluster.json"; stop_all; return; }
    snapshot "$name" start
    local start rss_a rss_b cpu_a cpu_b
    rss_a=$(rss_bytes "$A_PID") rss_b=$(rss_bytes "$B_PID")
    cpu_a=$(cpu_seconds "$A_PID") cpu_b=$(cpu_seconds "$B_PID")
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    $TOOL_TASKSET "$BIN" load --url "ws://127.0.0.1:$A_PORT/ws" join --clients "$per" --source-addresses 127.0.0.1-127.0.0.4 \
        --hold "$HOLD" --timeout 240 --json --quiet >"$RESULTS/$name.a.json" 2>"$RESULTS/$name.a.err" &
    local tool_a=$!
    # shellcheck disable=SC2086
    $TOOL_TASKSET "$BIN" load --url "ws://127.0.0.1:$B_PORT/ws" join --clients "$per" --source-addresses 127.0.0.5-127.0.0.8 \
        --hold "$HOLD" --timeout 240 --json --quiet >"$RESULTS/$name.b.json" 2>"$RESULTS/$name.b.err" &
    local tool_b=$!
    PIDS+=("$tool_a" "$tool_b")
    # Wait (at most 240 s) until both nodes hold every connection, or a tool has ended.
    local all_s=""
    for _ in $(seq 480); do
        if [ "$(present)" -ge $((2 * per)) ]; then
            snapshot "$name" joined
            all_s=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
            break
        fi
        kill -0 "$tool_a" 2>/dev/null && kill -0 "$tool_b" 2>/dev/null || break
        sleep 0.5
    done
    [ -f "$RESULTS/$name.joined.info" ] || snapshot "$name" joined
    sleep 2   # the last presence and records settle
    spread "$name"
    jq -n --argjson conn_a "$(jq .a "$RESULTS/$name.spread.json")" --argjson conn_b "$(jq .b "$RESULTS/$name.spread.json")" \
        --argjson present_a "$(metric "$A_PORT" stelling_participants_present)" \
        --argjson present_b "$(metric "$B_PORT" stelling_participants_present)" \
        --argjson rss_a0 "$rss_a" --argjson rss_b0 "$rss_b" --argjson rss_a "$(rss_bytes "$A_PID")" --argjson rss_b "$(rss_bytes "$B_PID")" \
        --argjson cpu_a "$(awk -v a="$(cpu_seconds "$A_PID")" -v b="$cpu_a" 'BEGIN { print a - b }')" \
        --argjson cpu_b "$(awk -v a="$(cpu_seconds "$B_PID")" -v b="$cpu_b" 'BEGIN { print a - b }')" \
        --arg all_s "${all_s:-}" --argjson per "$per" \
        '{conn_a: $conn_a, conn_b: $conn_b, present_a: $present_a, present_b: $present_b,
          rss_a_b: $rss_a, rss_b_b: $rss_b, rss_a0_b: $rss_a0, rss_b0_b: $rss_b0,
          kib_per_participant_a: (($rss_a - $rss_a0) / 1024 / (2 * $per)), kib_per_participant_b: (($rss_b - $rss_b0) / 1024 / (2 * $per)),
          kib_per_connection_a: (if $conn_a > 0 then ($rss_a - $rss_a0) / 1024 / $conn_a else null end),
          kib_per_connection_b: (if $conn_b > 0 then ($rss_b - $rss_b0) / 1024 / $conn_b else null end),
          cpu_a_s: $cpu_a, cpu_b_s: $cpu_b,
          all_connected_s: (if $all_s == "" then null else ($all_s | tonumber) end)}' >"$RESULTS/$name.nodes.json"
    redis_figures "$name" start joined
    local part
    for part in a b; do
        local pid=$tool_a
        [ $part = b ] && pid=$tool_b
        for _ in $(seq $((2 * (HOLD + 240)))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        wait "$pid" 2>/dev/null
        [ -s "$RESULTS/$name.$part.json" ] || echo "{\"error\":$(jq -Rs . <"$RESULTS/$name.$part.err")}" >"$RESULTS/$name.$part.json"
    done
    stop_all
}

UPTIME_BEFORE=$(uptime)
single  join-10000 join --clients 10000
single  chat-5000  chat --clients 5000 --rate 20 --duration 10
cluster chat-5000 5000 chat --clients 5000 --rate 20 --duration 10
single  votes-5000 votes --clients 5000
cluster votes-5000 5000 votes --clients 5000
join_held
UPTIME_AFTER=$(uptime)

# ---- the tables ----------------------------------------------------------------------------
value() {  # FILE JQ: a figure, or — (missing file, error, missing key)
    [ -f "$1" ] || { echo "—"; return; }
    jq -r "if .error then \"—\" else (($2) // \"—\") end" "$1" 2>/dev/null | head -1 | sed 's/^$/—/'
}
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "—" || v == "" || v == "null") print "—"; else { s = sprintf("%." d "f", v); n = split(s, p, "."); i = p[1]; neg = (i ~ /^-/); sub(/^-/, "", i); o = ""; while (length(i) > 3) { o = "," substr(i, length(i) - 2) o; i = substr(i, 1, length(i) - 3) } o = i o; if (neg) o = "-" o; if (n > 1) o = o "." p[2]; print o } }'; }
checks() {  # FILE: all passed / which failed / the error
    [ -f "$1" ] || { echo "no run"; return; }
    jq -r 'if .error then "error: " + (.error | tostring | gsub("[\n|]"; " ") | .[0:100])
           elif .passed then "all passed"
           else "FAILED: " + ([.checks[]? | select(.passed | not) | .name] | join(", ")) end' "$1"
}
line() { printf '| %s |\n' "$(IFS='|'; echo "$*" | sed 's/|/ | /g')"; }

S=$RESULTS/chat-5000.single.json C=$RESULTS/chat-5000.cluster.json
echo
echo "one node: a plain server on core 0, the tool on core 1. two nodes: ${REUSE:+one shared port (reuse_port), }node a on core 0, node b on core 1, Redis (AOF, appendfsync always)${CLUSTER_REDIS_CPU:+ on core $CLUSTER_REDIS_CPU}${CLUSTER_REDIS_CPU:- unpinned} and the tool${CLUSTER_TOOL_CPU:+ on core $CLUSTER_TOOL_CPU}${CLUSTER_TOOL_CPU:- unpinned}; event loop: $EVENT_LOOP; one run each"
echo
line "row" "figure" "one node" "two nodes + Redis"
line "---" "---" "---" "---"
if [ -f "$S" ] || [ -f "$C" ]; then
    line "chat-5000 (5,000 @ 20/s, 10 s)" "deliveries a second" "$(fmt "$(value "$S" .deliveries_per_s)")" "$(fmt "$(value "$C" .deliveries_per_s)")"
    line "" "delivery p50 / p99 (ms)" "$(fmt "$(value "$S" .latency_p50_ms)" 1) / $(fmt "$(value "$S" .latency_p99_ms)" 1)" "$(fmt "$(value "$C" .latency_p50_ms)" 1) / $(fmt "$(value "$C" .latency_p99_ms)" 1)"
    line "" "deliveries lost" "$(fmt "$(value "$S" .lost)")" "$(fmt "$(value "$C" .lost)")"
    line "" "chat send to ack p99 (ms)" "$(fmt "$(value "$S" .chat_ack_p99_ms)" 1)" "$(fmt "$(value "$C" .chat_ack_p99_ms)" 1)"
    line "" "server CPU in the window (% of a core)" "$(fmt "$(value "$S" .server_cpu_percent)")" "$(fmt "$(value "$C" .server1_cpu_percent)") + $(fmt "$(value "$C" .server2_cpu_percent)")"
    line "" "server CPU per delivered event (ns)" "$(fmt "$(value "$S" .server_ns_per_event)")" "$(fmt "$(value "$C" .server_ns_per_event)") (both nodes)"
    line "" "tool CPU in the window (% of a core)" "$(fmt "$(value "$S" .window_tool_cpu_percent)")" "$(fmt "$(value "$C" .window_tool_cpu_percent)")"
    line "" "bytes to clients per event, both nodes' /metrics (whole run)" "" "$(fmt "$(value "$RESULTS/chat-5000.clients.json" .bytes_per_event)" 1)"
    line "" "connections on node a / node b (sockets, everyone present)" "" "$(fmt "$(value "$RESULTS/chat-5000.spread.json" .a)") / $(fmt "$(value "$RESULTS/chat-5000.spread.json" .b)")"
    line "" "checks" "$(checks "$S")" "$(checks "$C")"
fi
S=$RESULTS/votes-5000.single.json C=$RESULTS/votes-5000.cluster.json
if [ -f "$S" ] || [ -f "$C" ]; then
    line "votes-5000" "next to last durable ack (s)" "$(fmt "$(value "$S" .next_to_last_ack_s)" 3)" "$(fmt "$(value "$C" .next_to_last_ack_s)" 3)"
    line "" "vote to ack p50 / p99 (ms)" "$(fmt "$(value "$S" .ack_p50_ms)" 1) / $(fmt "$(value "$S" .ack_p99_ms)" 1)" "$(fmt "$(value "$C" .ack_p50_ms)" 1) / $(fmt "$(value "$C" .ack_p99_ms)" 1)"
    line "" "votes acknowledged" "$(fmt "$(value "$S" .votes_acked)")" "$(fmt "$(value "$C" .votes_acked)")"
    line "" "connections on node a / node b (sockets, everyone present)" "" "$(fmt "$(value "$RESULTS/votes-5000.spread.json" .a)") / $(fmt "$(value "$RESULTS/votes-5000.spread.json" .b)")"
    line "" "server CPU in the window (% of a core)" "$(fmt "$(value "$S" .server_cpu_percent)")" "$(fmt "$(value "$C" .server1_cpu_percent)") + $(fmt "$(value "$C" .server2_cpu_percent)")"
    line "" "checks" "$(checks "$S")" "$(checks "$C")"
fi
S=$RESULTS/join-10000.single.json
if [ -f "$S" ]; then
    line "join-10000 (one node)" "first connect to last welcome (s)" "$(fmt "$(value "$S" .join_all_s)" 2)" ""
    line "" "server memory per participant (KiB)" "$(fmt "$(value "$S" .server_kib_per_participant)" 2)" ""
    line "" "checks" "$(checks "$S")" ""
fi
N=$RESULTS/join-30000.nodes.json
if [ -f "$N" ]; then
    A=$RESULTS/join-30000.a.json B=$RESULTS/join-30000.b.json
    echo
    if [ -n "$REUSE" ]; then
        line "join-30000 (one shared port, two tool processes of 15,000)" "tool 1 / node a" "tool 2 / node b"
    else
        line "join-30000 (15,000 per node, one tool process each)" "node a" "node b"
    fi
    line "---" "---" "---"
    line "participants welcomed (by its tool)" "$(fmt "$(value "$A" .welcomed)")" "$(fmt "$(value "$B" .welcomed)")"
    line "first connect to last welcome (s)" "$(fmt "$(value "$A" .join_all_s)" 2)" "$(fmt "$(value "$B" .join_all_s)" 2)"
    line "connect to welcome p50 / p99 (ms)" "$(fmt "$(value "$A" .join_p50_ms)") / $(fmt "$(value "$A" .join_p99_ms)")" "$(fmt "$(value "$B" .join_p50_ms)") / $(fmt "$(value "$B" .join_p99_ms)")"
    line "still connected after the ${HOLD} s hold" "$(fmt "$(value "$A" .held)")" "$(fmt "$(value "$B" .held)")"
    line "connections open (its sockets, everyone joined)" "$(fmt "$(value "$N" .conn_a)")" "$(fmt "$(value "$N" .conn_b)")"
    line "participants present (its room: both nodes')" "$(fmt "$(value "$N" .present_a)")" "$(fmt "$(value "$N" .present_b)")"
    line "memory before / with everyone joined (MiB)" "$(fmt "$(value "$N" '.rss_a0_b / 1048576')" 1) / $(fmt "$(value "$N" '.rss_a_b / 1048576')" 1)" "$(fmt "$(value "$N" '.rss_b0_b / 1048576')" 1) / $(fmt "$(value "$N" '.rss_b_b / 1048576')" 1)"
    line "memory per participant in the event (KiB, of 30,000)" "$(fmt "$(value "$N" .kib_per_participant_a)" 2)" "$(fmt "$(value "$N" .kib_per_participant_b)" 2)"
    line "memory per connection it holds (KiB)" "$(fmt "$(value "$N" .kib_per_connection_a)" 2)" "$(fmt "$(value "$N" .kib_per_connection_b)" 2)"
    line "CPU for the joins (s)" "$(fmt "$(value "$N" .cpu_a_s)" 2)" "$(fmt "$(value "$N" .cpu_b_s)" 2)"
    line "checks" "$(checks "$A")" "$(checks "$B")"
    echo
    echo "all 30,000 connected $(value "$N" .all_connected_s) s after the first tool started"
fi
echo
echo "The counters cover the window in the first line; the stream and append-only-file lines the whole stream (the joins, the traffic, the closes)."
echo
line "Redis during the row" "chat-5000" "votes-5000" "join-30000"
line "---" "---" "---" "---"
rline() { local label=$1 key=$2 digits=${3:-0} cells=() row; for row in chat-5000 votes-5000 join-30000; do cells+=("$(fmt "$(value "$RESULTS/$row.redis.json" "$key")" "$digits")"); done; line "$label" "${cells[@]}"; }
rline "seconds measured (chat, votes: everyone present to the first leave; join: first connect to all connected)" .seconds 1
rline "Redis CPU (s)" .cpu_s 2
rline "commands" .commands
rline "commands a second" .ops_per_s
rline "XADD (one per batch)" .xadd
rline "XREAD" .xread
rline "bytes into Redis" .net_in_b
rline "bytes out of Redis" .net_out_b
rline "stream length (XLEN, batches)" .xlen
rline "stream memory (MEMORY USAGE, B)" .stream_memory_b
rline "entries in the stream's batches (AOF)" .entries
rline "entries per batch (mean)" .entries_per_batch 1
rline "largest batch (entries)" .largest_batch
rline "batch payload bytes, all" .payload_b
rline "payload bytes per entry" .payload_b_per_entry 1
rline "append-only file (B)" .aof_b
rline "request-only batches (chat, votes, next, close)" .request_batches
rline "requests in them" .request_entries
rline "requests per such batch" .request_entries_per_batch 1
rline "payload bytes per request" .request_payload_b_per_entry 1
rline "first to last request-only batch (ms, stream ids)" .request_span_ms
rline "request-only batches a second per node over that span" .request_batches_per_s_per_node 1
echo
echo "before: $UPTIME_BEFORE"
echo "after:  $UPTIME_AFTER"
echo "hard open-file limit: $(ulimit -Hn); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r), $(redis-server --version | cut -d' ' -f1-3)"
if [ -n "${CLUSTER_KEEP:-}" ]; then echo "JSON lines and logs: $WORK"; fi
