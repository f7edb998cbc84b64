#!/usr/bin/env bash
# make bench: the standard sizes against a release build, the server pinned to core 0 and the
# load tool to core 1, a fresh server (and database folder) per run; prints one Markdown table.
# Every row runs against Stelling AND the plain-C reference server (bench/reference/), each
# BENCH_RUNS times (default 3, alternating), and the table shows the medians and Stelling / reference.
#   BENCH_ONLY="chat-2000 votes-5000" runs only those rows; BENCH_KEEP=1 keeps the JSON lines;
#   LOAD_ARGS="--nap 0" adds options to every load run; BENCH_RUNS=1 runs each target once;
#   BENCH_TARGETS=stelling (or reference) runs one server only; BENCH_EVENT_LOOP=libev (or libuv)
#   runs both servers on that lws event library instead of poll(2) (Stelling: `event_loop:`).
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=${STELLING_BIN:-.build/release/stelling}
REFERENCE=.build-reference/stelling-reference
PORT=${BENCH_PORT:-18090}
RUNS=${BENCH_RUNS:-3}
TARGETS=${BENCH_TARGETS:-stelling reference}
EVENT_LOOP=${BENCH_EVENT_LOOP:-poll}
export STELLING_MODERATOR_KEY=bench-moderator-key-0123456789
WORK=$(mktemp -d /tmp/stelling-bench.XXXXXX)
RESULTS=$WORK/results
mkdir -p "$RESULTS"
SERVER_PID=""

if [[ " $TARGETS " == *" reference "* ]]; then
    make --no-print-directory -s reference || { echo "bench: cannot build the reference server" >&2; exit 1; }
fi

# The server raises its own soft limit to the hard one; 20,000 connections need more than the
# usual hard limit of 20,000 on each side, which root may raise.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
trap 'stop_server; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT

# start_server DIRNAME TARGET [CONFIG]: Stelling on a fresh copy of CONFIG (default
# bench/bench.yaml), or the reference.
start_server() {
    local dir=$WORK/server-$1 target=$2
    mkdir -p "$dir"
    if [ "$target" = reference ]; then
        taskset -c 0 "$REFERENCE" --port "$PORT" --host 127.0.0.1 --keepalive 120 --event-loop "$EVENT_LOOP" \
            >"$dir/server.log" 2>&1 &
    else
        cp "${3:-bench/bench.yaml}" "$dir/bench.yaml"
        [ "$EVENT_LOOP" = poll ] || echo "event_loop: $EVENT_LOOP" >>"$dir/bench.yaml"
        taskset -c 0 "$BIN" serve --config "$dir/bench.yaml" --port "$PORT" --host 127.0.0.1 --log-level error \
            >"$dir/server.log" 2>&1 &
    fi
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: the $target server did not start; see $dir/server.log" >&2
    return 1
}

# run_once NAME TARGET N SCENARIO ARGS...: one fresh server, one load run, its JSON line in
# $RESULTS/NAME.TARGET.N.json.
run_once() {
    local name=$1 target=$2 n=$3 scenario=$4
    shift 4
    local out=$RESULTS/$name.$target.$n
    echo "bench: $name on $target ($n of $RUNS)" >&2
    if start_server "$name.$target.$n" "$target"; then
        sleep 0.5   # idle memory settles
        taskset -c 1 "$BIN" load --url "ws://127.0.0.1:$PORT/ws" "$scenario" --server-pid "$SERVER_PID" \
            --json --quiet ${LOAD_ARGS:-} "$@" >"$out.json" 2>"$out.err"
        local status=$?
        [ $status -le 1 ] || echo "{\"error\":$(jq -Rs . <"$out.err")}" >"$out.json"
    else
        echo "{\"error\":\"the $target server did not start\"}" >"$out.json"
    fi
    stop_server
}

# The median of each figure over a target's runs (a failed check in any run fails the row).
median() {
    local files=("$@")
    [ -f "${files[0]}" ] || return 0
    jq -s '
        (map(select(.error == null))) as $ok
        | if ($ok | length) == 0 then {error: .[0].error}
          else (reduce ($ok[0] | keys[]) as $k ({};
                    . + {($k): ([$ok[][$k]] as $v
                         | if ($v | all(type == "number")) then ($v | sort | .[((length - 1) / 2 | floor)]) else $v[0] end)}))
               + {passed: ((length == ($ok | length)) and ($ok | all(.passed))),
                  checks: ((map(select(.error == null and (.passed | not))) + $ok)[0].checks),
                  runs: length, runs_failed: (length - ($ok | length))}
          end' "${files[@]}"
}

# run NAME SCENARIO ARGS...: every target RUNS times, alternating; the medians in $RESULTS/NAME.json
# (Stelling) and $RESULTS/NAME.reference.json.
run() {
    local name=$1 scenario=$2
    shift 2
    if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then return; fi
    local n target
    for n in $(seq "$RUNS"); do
        for target in $TARGETS; do run_once "$name" "$target" "$n" "$scenario" "$@"; done
    done
    for target in $TARGETS; do
        local files=()
        for n in $(seq "$RUNS"); do files+=("$RESULTS/$name.$target.$n.json"); done
        if [ "$target" = stelling ]; then
            median "${files[@]}" >"$RESULTS/$name.json"
        else
            median "${files[@]}" >"$RESULTS/$name.$target.json"
        fi
    done
}

# pair NAME CONFIG "ARGS A" DELAY "ARGS B": one fresh server (CONFIG), two load runs at once
# (B starts DELAY seconds after A), their JSON lines in $RESULTS/NAME-a.json and NAME-b.json.
pair() {
    local name=$1 config=$2 first=$3 delay=$4 second=$5
    if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then return; fi
    [[ " $TARGETS " == *" stelling "* ]] || return 0   # Stelling's own admission rule; no reference
    echo "bench: $name" >&2
    start_server "$name" stelling "$config" || return
    sleep 0.5
    # shellcheck disable=SC2086
    taskset -c 1 "$BIN" load --url "ws://127.0.0.1:$PORT/ws" join --server-pid "$SERVER_PID" --json --quiet \
        ${LOAD_ARGS:-} $first >"$RESULTS/$name-a.json" 2>"$RESULTS/$name-a.err" &
    local a=$!
    sleep "$delay"
    # shellcheck disable=SC2086
    taskset -c 1 "$BIN" load --url "ws://127.0.0.1:$PORT/ws" join --server-pid "$SERVER_PID" --json --quiet \
        ${LOAD_ARGS:-} $second >"$RESULTS/$name-b.json" 2>"$RESULTS/$name-b.err"
    wait $a
    for part in a b; do
        [ -s "$RESULTS/$name-$part.json" ] || echo "{\"error\":$(jq -Rs . <"$RESULTS/$name-$part.err")}" >"$RESULTS/$name-$part.json"
    done
    stop_server
}

# The rush at the hour (issue 11) with the default join limits (bench/rush.yaml): 2,000 from 40
# addresses over 10 s, 400 of them from one office address (A), 1,600 from 39 others (B).
pair rush-2000 bench/rush.yaml "--clients 400 --source-addresses 127.0.0.50 --spread 10 --retry-joins page --hold 1 --timeout 60" 0 \
    "--clients 1600 --source-addresses 127.0.0.51-127.0.0.89 --spread 10 --retry-joins page --hold 1 --timeout 60"
# The same 2,000 all at once: the office's 400 get 200 at once and wait for the rest.
pair rush-burst bench/rush.yaml "--clients 400 --source-addresses 127.0.0.50 --retry-joins page --hold 1 --timeout 60" 0 \
    "--clients 1600 --source-addresses 127.0.0.51-127.0.0.89 --retry-joins page --hold 1 --timeout 60"
# One address sends joins as fast as it can (A: 490 connections retrying at once) while 500
# participants from ten other addresses join (B, all at once, the page's backoff).
pair flood-500 bench/rush.yaml "--clients 490 --source-addresses 127.0.0.100 --retry-joins immediate --hold 1 --timeout 60" 0.5 \
    "--clients 500 --source-addresses 127.0.0.101-127.0.0.110 --retry-joins page --hold 1 --timeout 60"

run join-10000  join  --clients 10000
# The hard open-file limit (ulimit -Hn) caps each process; 20,000 needs it above 20,000 (see docs/BENCHMARKS.md).
HELD=$(( $(ulimit -Hn) >= 20100 ? 20000 : $(ulimit -Hn) - 100 ))
run join-20000  join  --clients "$HELD" --source-addresses 127.0.0.1-127.0.0.4 --hold 5
run chat-2000   chat  --clients 2000 --rate 20 --duration 10
run chat-5000   chat  --clients 5000 --rate 20 --duration 10
run chat-5000x50 chat --clients 5000 --rate 50 --duration 10
run chat-overload chat --clients 5000 --rate 100 --senders 500 --duration 5
run votes-5000  votes --clients 5000
run votes-10000 votes --clients 10000
run event-2000  event --clients 2000 --rate 20 --duration 30
# Issue 12's full house: as many participants as the open-file limit allows, 60 s, chat at 20/s, a vote burst per statement.
run event-full  event --clients "$HELD" --rate 20 --duration 60 --source-addresses 127.0.0.1-127.0.0.4

# row NAME SIZE LABEL KEY OP TARGET: one line of the table; OP is <= or >= (or - for no target).
# The target is checked against Stelling's median; the reference's median and the ratio are beside it.
row() {
    local name=$1 size=$2 label=$3 key=$4 op=$5 target=$6 file=$RESULTS/$1.json ref=$RESULTS/$1.reference.json
    [ -f "$file" ] || [ -f "$ref" ] || return 0
    local value refvalue ratio ns refns nsratio tool checks met
    value=$(figure "$file" ".$key")
    refvalue=$(figure "$ref" ".$key")
    ratio=$(ratio_of "$value" "$refvalue")
    ns=$(figure "$file" '.server_ns_per_event // empty | floor')
    refns=$(figure "$ref" '.server_ns_per_event // empty | floor')
    nsratio=$(ratio_of "$ns" "$refns")
    tool=$(figure "$file" '(.window_tool_cpu_percent // .tool_cpu_percent) // empty | . * 10 | floor / 10')
    checks="$(checks_of "$file" Stelling)"
    if [ -f "$ref" ]; then
        local refchecks
        refchecks="$(checks_of "$ref" reference)"
        if [ "$checks" = "all passed" ] && [ "$refchecks" = "all passed" ]; then checks="all passed"
        elif [ "$refchecks" != "all passed" ]; then checks="$checks; $refchecks"
        fi
    fi
    if [ "$op" = "-" ]; then
        met="—"
    elif [ "$value" = "—" ]; then
        met="no"
    else
        met=$(awk -v v="$value" -v t="$target" -v op="$op" 'BEGIN { ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "yes" : "**no**" }')
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%% |\n' "$name" "$size" "$label" \
        "$(short "$value")" "$(short "$refvalue")" "$ratio" "${op/-/}${target/-/}" "$met" "$checks" \
        "${ns:-—}" "${refns:-—}" "$nsratio" "${tool:-—}"
}

# figure FILE JQ: a value of a median file, or — (missing file, error, missing key).
figure() {
    [ -f "$1" ] || { echo "—"; return; }
    jq -r "if .error then \"—\" else ($2) // \"—\" end" "$1" 2>/dev/null | head -1 | sed 's/^$/—/'
}

checks_of() {
    local file=$1 who=$2
    [ -f "$file" ] || { echo "$who: no run"; return; }
    jq -r --arg who "$who" '
        if .error then "\($who) no: " + (.error | tostring | gsub("[\n|]"; " ") | .[0:120])
        elif .passed then "all passed"
        else "\($who) FAILED: " + ([.checks[]? | select(.passed | not) | .name] | join(", "))
             + (if (.runs_failed // 0) > 0 then " (\(.runs_failed) of \(.runs) runs did not finish)" else "" end)
        end' "$file"
}

ratio_of() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "—" || b == "—" || a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'
}

short() {
    awk -v v="$1" 'BEGIN { if (v == "—" || v == "") print "—"; else if (v == int(v)) printf "%d", v; else printf "%.3g", v }'
}

echo
echo "medians of $RUNS run(s) per target; event loop: $EVENT_LOOP; targets: $TARGETS"
echo
echo "| run | size | figure | Stelling | reference | Stelling / reference | target | met | checks | server CPU / event, Stelling (ns) | reference (ns) | Stelling / reference | tool CPU (window, Stelling) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
row join-10000 10,000 "first connect to last welcome (s)" join_all_s "<=" 2.5
row join-10000 10,000 "server memory per participant (KiB)" server_kib_per_participant "<=" 8
row join-20000 "$HELD" "participants held" held ">=" 20000
row join-20000 "$HELD" "server memory per participant (KiB)" server_kib_per_participant "<=" 8
row chat-2000 "2,000 @ 20/s" "deliveries lost" lost "<=" 0
row chat-2000 "2,000 @ 20/s" "delivery p99 (ms)" latency_p99_ms "<=" 50
row chat-5000 "5,000 @ 20/s" "deliveries lost" lost "<=" 0
row chat-5000 "5,000 @ 20/s" "delivery p99 (ms)" latency_p99_ms "<=" 100
row chat-5000 "5,000 @ 20/s" "deliveries a second" deliveries_per_s ">=" 95000
row chat-5000x50 "5,000 @ 50/s" "deliveries lost" lost "<=" 0
row chat-5000x50 "5,000 @ 50/s" "delivery p99 (ms)" latency_p99_ms "<=" 120
row chat-5000x50 "5,000 @ 50/s" "deliveries a second" deliveries_per_s "-" "-"
row chat-overload "5,000 @ 100/s" "events per server CPU-second" events_per_server_cpu_s ">=" 1000000
row chat-overload "5,000 @ 100/s" "deliveries a second" deliveries_per_s "-" "-"
row chat-overload "5,000 @ 100/s" "delivery p99 (ms)" latency_p99_ms "-" "-"
row votes-5000 5,000 "next to last durable ack (s)" next_to_last_ack_s "<=" 0.4
row votes-5000 5,000 "vote to ack p99 (ms)" ack_p99_ms "-" "-"
row votes-5000 5,000 "store transactions for the burst" store_transactions "-" "-"
row votes-5000 5,000 "store records for the burst" store_records "-" "-"
row votes-10000 10,000 "next to last durable ack (s)" next_to_last_ack_s "<=" 1
row votes-10000 10,000 "vote to ack p99 (ms)" ack_p99_ms "-" "-"
row event-2000 "2,000, 30 s" "delivery p99 (ms)" latency_p99_ms "-" "-"
row event-2000 "2,000, 30 s" "vote to ack p99 (ms)" ack_p99_ms "-" "-"
row event-full "$HELD, 60 s" "chat deliveries lost" lost "<=" 0
row event-full "$HELD, 60 s" "delivery p99 (ms)" latency_p99_ms "<=" 150
row event-full "$HELD, 60 s" "next to last durable ack (s)" next_to_last_ack_s "<=" 1
row rush-2000-a "400 of 2,000, one address" "first connect to last welcome (s)" join_all_s "<=" 20
row rush-2000-a "400 of 2,000, one address" "joins retried after rate_limited" join_retries "-" "-"
row rush-2000-b "1,600 of 2,000, 39 addresses" "first connect to last welcome (s)" join_all_s "<=" 20
row rush-2000-b "1,600 of 2,000, 39 addresses" "joins retried after rate_limited" join_retries "-" "-"
row rush-burst-a "400 of 2,000 at once, one address" "first connect to last welcome (s)" join_all_s "<=" 20
row rush-burst-a "400 of 2,000 at once, one address" "joins retried after rate_limited" join_retries "-" "-"
row rush-burst-b "1,600 of 2,000 at once, 39 addresses" "first connect to last welcome (s)" join_all_s "<=" 20
row flood-500-a "490, one address, flooding" "joins retried after rate_limited" join_retries "-" "-"
row flood-500-b "500, ten addresses" "first connect to last welcome (s)" join_all_s "<=" 10
row flood-500-b "500, ten addresses" "participants welcomed" welcomed ">=" 500
echo
echo "hard open-file limit: $(ulimit -Hn); ephemeral ports: $(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
if [ -n "${BENCH_KEEP:-}" ]; then echo "JSON lines: $RESULTS"; fi
