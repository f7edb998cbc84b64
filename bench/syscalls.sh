#!/usr/bin/env bash
# bench/syscalls.sh stelling|reference poll|libev|libuv: the system calls one server makes during a
# 500-client chat run (20 messages a second for 5 s: 50,000 deliveries), counted by `strace -f -c`.
# strace slows every call, so absolute times mean nothing; the counts per delivery do.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: bench/syscalls.sh stelling|reference poll|libev|libuv" >&2; exit 2; }
export STELLING_MODERATOR_KEY=bench-moderator-key-0123456789
T=$1; L=$2; PORT=${BENCH_PORT:-18396}
D=$(mktemp -d /tmp/stelling-syscalls.XXXXXX); OUT=$D/strace.txt; cp bench/bench.yaml $D/
[ $T = reference ] && make --no-print-directory -s reference
[ "$L" = poll ] || echo "event_loop: $L" >> $D/bench.yaml
if [ $T = reference ]; then CMD=(.build-reference/stelling-reference --port $PORT --event-loop $L); else CMD=(.build/release/stelling serve --config $D/bench.yaml --port $PORT --host 127.0.0.1 --log-level error); fi
strace -f -c -o $OUT "${CMD[@]}" > $D/log 2>&1 &
for i in $(seq 50); do curl -fs http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
.build/release/stelling load --url ws://127.0.0.1:$PORT/ws chat --clients 500 --rate 20 --duration 5 --quiet 2>&1 | grep -E 'deliveries received|lost|p99' | head -3
P=$(pgrep -f -- "--port $PORT" | while read p; do [ "$(cat /proc/$p/comm)" != strace ] && echo $p; done | head -1)
kill -TERM $P; sleep 3; kill -TERM $P 2>/dev/null; sleep 1
head -16 $OUT
echo "strace output: $OUT"
