#!/usr/bin/env bash
# make soak: one release server (pinned to core 0) under mixed load for SOAK_MINUTES (default
# 30): back-to-back `stelling load event` runs of SOAK_ROUND seconds (default 120) with
# SOAK_CLIENTS participants (default 1000) each — joins, chat, five statements with vote
# bursts, reveals, late joiners and leavers — so clients keep coming and going against the
# same server and database. Prints per round the checks, lost messages and the server's
# memory, and at the end memory at start and end, errors and everything lost.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=.build/release/stelling
PORT=${SOAK_PORT:-18095}
MINUTES=${SOAK_MINUTES:-30}
ROUND=${SOAK_ROUND:-120}
CLIENTS=${SOAK_CLIENTS:-1000}
export STELLING_MODERATOR_KEY=soak-moderator-key-0123456789
WORK=$(mktemp -d /tmp/stelling-soak.XXXXXX)
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; [ -n "${SOAK_KEEP:-}" ] || rm -rf "$WORK"' EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cp bench/bench.yaml "$WORK/soak.yaml"
taskset -c 0 "$BIN" serve --config "$WORK/soak.yaml" --port "$PORT" --host 127.0.0.1 --log-level warning \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

rss() { awk '/VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }
metric() { curl -fs "http://127.0.0.1:$PORT/metrics" | awk -v name="$1" '$1 == name { printf "%d", $2 }'; }

start_rss=$(rss)
end_time=$(( $(date +%s) + MINUTES * 60 ))
rounds=0; failed=0; lost_total=0
echo "soak: ${MINUTES} min of ${ROUND}-second events with ${CLIENTS} participants; server pid $SERVER_PID, ${start_rss} KiB at start"
echo "| round | checks | chat lost | votes acknowledged | server RSS (KiB) |"
echo "|---|---|---|---|---|"
while [ "$(date +%s)" -lt "$end_time" ]; do
    rounds=$((rounds + 1))
    taskset -c 1 "$BIN" load --url "ws://127.0.0.1:$PORT/ws" event --clients "$CLIENTS" --duration "$ROUND" \
        --timeout $((ROUND * 3)) --json --quiet >"$WORK/round-$rounds.json" 2>"$WORK/round-$rounds.err"
    status=$?
    if [ $status -gt 1 ] || ! jq -e . "$WORK/round-$rounds.json" >/dev/null 2>&1; then
        failed=$((failed + 1))
        echo "| $rounds | FAILED: $(tr '\n|' '  ' <"$WORK/round-$rounds.err" | cut -c1-120) | | | $(rss) |"
        continue
    fi
    checks=$(jq -r 'if .passed then "all passed" else ([.checks[] | select(.passed | not) | .name] | join(", ") | "FAILED: " + .) end' "$WORK/round-$rounds.json")
    [ "$checks" = "all passed" ] || failed=$((failed + 1))
    lost=$(jq -r '.lost // 0 | floor' "$WORK/round-$rounds.json")
    lost_total=$((lost_total + lost))
    acked=$(jq -r '.votes_acked // "—"' "$WORK/round-$rounds.json")
    echo "| $rounds | $checks | $lost | $acked | $(rss) |"
done
sleep 2  # let the last leavers go
end_rss=$(rss)
errors=$(curl -fs "http://127.0.0.1:$PORT/metrics" | awk '$1 ~ /^stelling_errors_total/ && $2 > 0 { print $1 "=" $2 }' | tr '\n' ' ')
echo
echo "soak: $rounds rounds, $failed with a failed check; chat deliveries lost: $lost_total"
echo "soak: server memory ${start_rss} KiB at start, ${end_rss} KiB at the end (connections now: $(metric stelling_connections))"
echo "soak: store: $(metric stelling_store_records_total) records in $(metric stelling_store_transactions_total) transactions, $(metric stelling_store_failed_writes_total) failed writes"
echo "soak: error events sent: ${errors:-none}"
[ "$failed" -eq 0 ] && [ "$lost_total" -eq 0 ]
