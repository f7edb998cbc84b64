#!/usr/bin/env bash
# Profiles the server during one load run: bench/profile.sh chat --clients 5000 --rate 20 --duration 10
# Server on core 0 under `perf record` (software cpu-clock when the VM has no hardware counters),
# load tool on core 1; prints where the server's time went: kernel or user, by library, top symbols.
# PROFILE_TARGET=reference profiles the plain-C reference server instead; BENCH_EVENT_LOOP=libev|libuv
# runs the server on that event library.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${STELLING_BIN:-.build/release/stelling}
PORT=${BENCH_PORT:-18092}
export STELLING_MODERATOR_KEY=bench-moderator-key-0123456789
WORK=$(mktemp -d /tmp/stelling-profile.XXXXXX)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
EVENT_LOOP=${BENCH_EVENT_LOOP:-poll}
if [ "${PROFILE_TARGET:-stelling}" = reference ]; then
    make --no-print-directory -s reference || exit 1
    taskset -c 0 .build-reference/stelling-reference --port "$PORT" --host 127.0.0.1 --keepalive 120 \
        --event-loop "$EVENT_LOOP" >"$WORK/server.log" 2>&1 &
else
    cp bench/bench.yaml "$WORK/bench.yaml"
    [ "$EVENT_LOOP" = poll ] || echo "event_loop: $EVENT_LOOP" >>"$WORK/bench.yaml"
    taskset -c 0 "$BIN" serve --config "$WORK/bench.yaml" --port "$PORT" --host 127.0.0.1 --log-level error >"$WORK/server.log" 2>&1 &
fi
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
perf record -F 1999 -g -p "$SERVER" -o "$WORK/perf.data" 2>"$WORK/perf.log" &
PERF=$!
sleep 0.5
taskset -c 1 "$BIN" load --url "ws://127.0.0.1:$PORT/ws" --server-pid "$SERVER" --quiet "$@" | grep -E "p50|p99|per event|CPU|lost|welcome|acknowledged|held"
kill -INT $PERF; wait $PERF
echo "--- server time by where it ran (perf, $(grep -o '[0-9]* samples' "$WORK/perf.log" | head -1))"
perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -8
echo "--- top symbols"
perf report -i "$WORK/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep '%' | head -25
echo "--- poll(2) and its callees (inclusive)"
perf report -i "$WORK/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -E ' (do_sys_poll|__x64_sys_poll|__sys_sendto|__x64_sys_sendto|tcp_sendmsg|__sys_recvfrom|__x64_sys_recvfrom|lws_service_fd_tsi|_lws_plat_service_forced_tsi|lws_plat_service_tsi)$' | head -12
echo "perf data: $WORK/perf.data"
