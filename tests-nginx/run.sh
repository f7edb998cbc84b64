#!/usr/bin/env bash
# Real nginx in front of Stelling, configured with the block between the marker comments in
# docs/DEPLOYMENT.md (so the document cannot drift from what is tested). Only the listen
# line, the ssl_ lines and the ports change: plain HTTP on loopback ports. nginx runs with
# its own prefix, pid, temp paths and error log in a temporary folder (no system nginx, no
# root needed). Shows (issue 11):
#   1. 1,000 participants from five source addresses (127.0.0.2-6) all welcomed through nginx;
#   2. the per-address connection cap applies to the forwarded address (301 from one address
#      through nginx: 300 welcomed, one refused with 429);
#   3. a direct client's forged X-Forwarded-For is ignored (wrong export keys counted on its
#      own address), and through nginx a forged one counts on the address nginx saw;
#   4. the server logs wrong keys with the client's network (truncated, docs/PRIVACY.md).
# Usage: STELLING_BIN=.build/debug/stelling bash tests-nginx/run.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests-nginx/lib.sh"
bin=${STELLING_BIN:-$root/.build/debug/stelling}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$bin" ] || { echo "tests-nginx: no stelling binary at $bin (swift build first)" >&2; exit 2; }
[ -x "$nginx_bin" ] || { echo "tests-nginx: nginx is not installed (make deps installs it)" >&2; exit 2; }

work=$(mktemp -d /tmp/stelling-nginx.XXXXXX)
chmod 755 "$work"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  if [ "${KEEP:-0}" = 1 ]; then echo "tests-nginx: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "tests-nginx: FAIL: $*" >&2; echo "--- server log (tail)"; tail -20 "$work/server.log" >&2 || true; echo "--- nginx error log (tail)"; tail -20 "$work/logs/error.log" >&2 || true; exit 1; }

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
upstream=$(free_port)
front=$(free_port)
key="nginx-test-moderator-key-$RANDOM$RANDOM"

cat >"$work/event.yaml" <<YAML
title: Achter nginx
host: 127.0.0.1
port: $upstream
database: data/event.sqlite
trusted_proxies: [127.0.0.1]
statements:
  - id: s1
    text: Een
limits:
  max_connections_per_address: 300
YAML
STELLING_MODERATOR_KEY="$key" "$bin" serve --config "$work/event.yaml" >"$work/server.log" 2>&1 &
server_pid=$!

# The block from the document, for plain HTTP on loopback ports.
sed -n '/^# stelling-nginx-begin$/,/^# stelling-nginx-end$/p' "$root/docs/DEPLOYMENT.md" \
  | sed -e "s/listen 443 ssl http2;/listen 127.0.0.1:$front;/" -e '/^ *ssl_/d' -e "s/127\.0\.0\.1:8080/127.0.0.1:$upstream/g" \
  >"$work/stelling.conf"
grep -q "listen 127.0.0.1:$front;" "$work/stelling.conf" || fail "docs/DEPLOYMENT.md has no nginx block with 'listen 443 ssl http2;' between the markers"
[ "$(grep -c "proxy_pass http://127.0.0.1:$upstream;" "$work/stelling.conf")" = 2 ] || fail "the block's proxy_pass lines changed"
grep -q 'X-Forwarded-For $proxy_add_x_forwarded_for' "$work/stelling.conf" || fail "the block does not set X-Forwarded-For"

write_nginx_conf "$work"
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>>"$work/logs/error.log" || fail "nginx -t refused the configuration"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>>"$work/logs/error.log" &

for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$front/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fs "http://127.0.0.1:$front/healthz" >/dev/null || fail "no /healthz through nginx"
page=$(curl -fs "http://127.0.0.1:$front/") || fail "no participant page through nginx"
[[ "$page" == *participant.js* ]] || fail "the participant page is not served through nginx"

figure() { python3 -c 'import json, sys; print(int(json.load(sys.stdin)[sys.argv[1]]))' "$1"; }

# 1. A thousand participants from five addresses, all welcomed.
one=$("$bin" load join --url "ws://127.0.0.1:$front/ws" --clients 1000 --source-addresses 127.0.0.2-127.0.0.6 \
  --retry-joins page --hold 1 --timeout 90 --json --quiet) || fail "1,000 through nginx: $one"
[ "$(echo "$one" | figure welcomed)" = 1000 ] || fail "1,000 through nginx: $one"
echo "tests-nginx: 1,000 participants from 127.0.0.2-6 welcomed through nginx"

# 2. The cap of 300 connections per address, on the forwarded address: 301 from one address.
set +e
two=$("$bin" load join --url "ws://127.0.0.1:$front/ws" --clients 301 --source-addresses 127.0.0.7 \
  --retry-joins page --hold 1 --timeout 60 --json --quiet)
set -e
[ "$(echo "$two" | figure welcomed)" = 300 ] && [ "$(echo "$two" | figure failed)" = 1 ] \
  || fail "the per-address cap through nginx: $two"
[[ "$two" == *429* ]] || fail "the refusal over the cap was not a 429: $two"
echo "tests-nginx: the per-address cap (300) applied to the forwarded address 127.0.0.7"

# 3. Wrong export keys: 10 per address, then 429. Direct with forged headers: all on 127.0.0.8.
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
for i in $(seq 1 10); do
  got=$(status --interface 127.0.0.8 -H "X-Forwarded-For: 203.0.113.$i" -H "Authorization: Bearer wrong-key-wrong-key" \
    "http://127.0.0.1:$upstream/export/votes.csv")
  [ "$got" = 401 ] || fail "direct wrong key $i: $got"
done
got=$(status --interface 127.0.0.8 -H "X-Forwarded-For: 203.0.113.99" -H "Authorization: Bearer $key" "http://127.0.0.1:$upstream/export/votes.csv")
[ "$got" = 429 ] || fail "a forged X-Forwarded-For sent straight to the server escaped the limit: $got"
echo "tests-nginx: a direct client's forged X-Forwarded-For was ignored"
for i in $(seq 1 10); do
  got=$(status --interface 127.0.0.9 -H "X-Forwarded-For: 198.51.100.$i" -H "Authorization: Bearer wrong-key-wrong-key" \
    "http://127.0.0.1:$front/export/votes.csv")
  [ "$got" = 401 ] || fail "wrong key $i through nginx: $got"
done
got=$(status --interface 127.0.0.9 -H "X-Forwarded-For: 198.51.100.99" -H "Authorization: Bearer $key" "http://127.0.0.1:$front/export/votes.csv")
[ "$got" = 429 ] || fail "a forged X-Forwarded-For through nginx escaped the limit: $got"
got=$(status --interface 127.0.0.10 -H "Authorization: Bearer $key" "http://127.0.0.1:$front/export/votes.csv")
[ "$got" = 200 ] || fail "another address through nginx was limited too: $got"
echo "tests-nginx: through nginx a forged X-Forwarded-For counted on the address nginx saw"

# 4. Wrong keys are logged with the client's network (truncated to its /24: docs/PRIVACY.md).
refusals=$(grep 'export key refused' "$work/server.log" || true)
[[ "$refusals" == *client.address=127.0.0.0/24* ]] || fail "the log does not name the client's network"
echo "tests-nginx: passed"
