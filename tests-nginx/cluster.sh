#!/usr/bin/env bash
# Real nginx in front of two cluster nodes (issue 16), configured with the block between the
# "stelling-nginx-cluster" marker comments in docs/DEPLOYMENT.md ("Several nodes behind nginx"),
# so the document cannot drift from what is tested. Only the listen line, the ssl_ lines and
# the upstream's servers change: plain HTTP on loopback, the two nodes' ports. A real Redis
# (appendonly yes, appendfsync always) and nginx run in a temporary folder. Shows:
#   1. nginx accepts the block, and pages and /healthz come through it;
#   2. 200 participants joined and held through nginx are spread over both nodes (least_conn);
#   3. after kill -9 of one node, 100 more participants joining through nginx are all welcomed:
#      no sticky sessions, nginx sends them to the node that lives.
# Usage: STELLING_BIN=.build/debug/stelling bash tests-nginx/cluster.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests-nginx/lib.sh"
bin=${STELLING_BIN:-$root/.build/debug/stelling}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
redis_bin=$(command -v redis-server || echo /usr/bin/redis-server)
[ -x "$bin" ] || { echo "tests-nginx cluster: no stelling binary at $bin (swift build first)" >&2; exit 2; }
[ -x "$nginx_bin" ] || { echo "tests-nginx cluster: nginx is not installed (make deps installs it)" >&2; exit 2; }
[ -x "$redis_bin" ] || { echo "tests-nginx cluster: redis-server is not installed (make deps installs it)" >&2; exit 2; }

work=$(mktemp -d /tmp/stelling-nginx-cluster.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  nginx_pid=$(cat "$work/nginx.pid" 2>/dev/null || true)
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "tests-nginx cluster: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "tests-nginx cluster: FAIL: $*" >&2
  for log in node-a.log node-b.log logs/error.log redis.log; do echo "--- $log (tail)"; tail -15 "$work/$log" >&2 || true; done
  exit 1
}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
redis_port=$(free_port)
port_a=$(free_port)
port_b=$(free_port)
front=$(free_port)
key="nginx-cluster-moderator-key-$RANDOM$RANDOM"

"$redis_bin" --port "$redis_port" --bind 127.0.0.1 --dir "$work" --appendonly yes --appendfsync always --save "" \
  --daemonize no --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] || fail "redis-server did not answer"

for node in a b; do
  port=$port_a
  [ "$node" = b ] && port=$port_b
  cat >"$work/node-$node.yaml" <<YAML
title: Twee knooppunten achter nginx
host: 127.0.0.1
port: $port
database: data/node-$node.sqlite
trusted_proxies: [127.0.0.1]
statements:
  - id: s1
    text: Een
limits:
  join_burst: 1000
  join_burst_total: 2000
cluster:
  redis: redis://127.0.0.1:$redis_port/0
  event: nginx-test
  node: $node
YAML
  STELLING_MODERATOR_KEY="$key" "$bin" serve --config "$work/node-$node.yaml" >"$work/node-$node.log" 2>&1 &
  pids+=($!)
  [ "$node" = a ] && pid_a=$! || pid_b=$!
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || fail "node $node did not start"
done

# The block from the document: the listen line for plain HTTP on loopback, no ssl_ lines, the
# upstream's first two servers on the nodes' ports, the third left out.
sed -n '/^# stelling-nginx-cluster-begin$/,/^# stelling-nginx-cluster-end$/p' "$root/docs/DEPLOYMENT.md" \
  | sed -e "s/listen 443 ssl http2;/listen 127.0.0.1:$front;/" -e '/^ *ssl_/d' \
        -e "s/server 10\.0\.0\.11:8080/server 127.0.0.1:$port_a/" -e "s/server 10\.0\.0\.12:8080/server 127.0.0.1:$port_b/" \
        -e '/server 10\.0\.0\.13:8080/d' \
  >"$work/stelling.conf"
grep -q "listen 127.0.0.1:$front;" "$work/stelling.conf" || fail "docs/DEPLOYMENT.md has no cluster block with 'listen 443 ssl http2;' between the markers"
grep -q "server 127.0.0.1:$port_a" "$work/stelling.conf" && grep -q "server 127.0.0.1:$port_b" "$work/stelling.conf" \
  || fail "the cluster block's upstream servers changed"
[ "$(grep -c 'proxy_pass http://stelling_nodes;' "$work/stelling.conf")" = 2 ] || fail "the cluster block's proxy_pass lines changed"
! grep -q '10\.0\.0\.' "$work/stelling.conf" || fail "the cluster block has more upstream servers than the test replaces"

write_nginx_conf "$work"
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>>"$work/logs/error.log" || fail "nginx -t refused the cluster block"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>>"$work/logs/error.log" &
pids+=($!)
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$front/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$front/healthz" >/dev/null || fail "no /healthz through nginx"
page=$(curl -fs "http://127.0.0.1:$front/") || fail "no participant page through nginx"
[[ "$page" == *participant.js* ]] || fail "the participant page is not served through nginx"
echo "tests-nginx cluster: nginx accepted the cluster block; pages and /healthz through it"

figure() { python3 -c 'import json, sys; print(int(json.load(sys.stdin)[sys.argv[1]]))' "$1"; }
connections() { curl -fs "http://127.0.0.1:$1/metrics" | awk '$1 == "stelling_connections" { print int($2) }'; }

# 2. 200 participants held through nginx: both nodes hold some of them.
"$bin" load join --url "ws://127.0.0.1:$front/ws" --clients 200 --retry-joins page --hold 6 --timeout 60 --json --quiet \
  >"$work/spread.json" 2>&1 &
load=$!
a=0
b=0
for _ in $(seq 1 50); do
  sleep 0.2
  a=$(connections "$port_a")
  b=$(connections "$port_b")
  [ $((a + b)) -ge 200 ] && break
done
wait "$load" || fail "200 joins through nginx: $(cat "$work/spread.json")"
[ "$(figure welcomed <"$work/spread.json")" = 200 ] || fail "200 joins through nginx: $(cat "$work/spread.json")"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] || fail "the connections were not spread over both nodes: node a $a, node b $b"
echo "tests-nginx cluster: 200 participants through nginx, held by node a ($a) and node b ($b)"

# 3. Node b dies; new joins through nginx all reach node a.
{ kill -9 "$pid_b"; wait "$pid_b"; } 2>/dev/null || true  # (no "Killed" line from the shell)
three=$("$bin" load join --url "ws://127.0.0.1:$front/ws" --clients 100 --retry-joins page --hold 1 --timeout 60 --json --quiet) \
  || fail "100 joins after node b died: $three"
[ "$(echo "$three" | figure welcomed)" = 100 ] || fail "100 joins after node b died: $three"
curl -fs "http://127.0.0.1:$front/healthz" >/dev/null || fail "no /healthz through nginx with node b dead"
echo "tests-nginx cluster: after kill -9 of node b, 100 participants joined through nginx on node a"
echo "tests-nginx cluster: passed"
