#!/usr/bin/env bash
# The two-node event on one machine (README, "More than one node"; docs/SCALING.md), for the
# Makefile's `node`, `redis` and `redis-stop` targets:
#
#   scripts/cluster.sh redis             a local Redis for the event on 127.0.0.1:6380, unless one
#                                        answers there already: appendonly yes, appendfsync always,
#                                        files in data/redis/, daemonized, log data/redis/redis.log
#   scripts/cluster.sh node NAME BINARY  the Redis above, then `BINARY serve` on
#                                        config/cluster-NAME.yaml with the event's moderator key
#                                        (data/cluster.moderator-key, made once, mode 0600)
#   scripts/cluster.sh redis-stop        stops the Redis that `redis` started (and no other)
#
# Two `make node` started at the same moment do not race: the Redis start and the key's making
# hold a lock (flock on data/redis/start.lock).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# CLUSTER_DATA and CLUSTER_REDIS_PORT move the folder and the port, for the tests
# (Tests/StellingServerTests/ClusterScriptTests.swift); config/cluster-*.yaml know only the defaults.
data="${CLUSTER_DATA:-$root/data}"
redis_dir="$data/redis"
pid_file="$redis_dir/redis.pid"
key_file="$data/cluster.moderator-key"
# config/cluster-a.yaml and config/cluster-b.yaml name redis://127.0.0.1:6380/0: not Redis' usual
# 6379, where Debian's own redis-server service answers once the package is installed, without
# the append-only file a cluster needs (docs/DECISIONS.md, "The two-node example's Redis").
host=127.0.0.1
port="${CLUSTER_REDIS_PORT:-6380}"

fail() {
  echo "stelling cluster: $*" >&2
  exit 1
}

# What Redis on host:port says to PING: PONG, an error (e.g. NOAUTH), or nothing when none listens.
ping_answer() {
  redis-cli -h "$host" -p "$port" ping 2>/dev/null || true
}

# The value of one Redis setting (CONFIG GET), empty when it cannot be read.
setting() {
  redis-cli -h "$host" -p "$port" config get "$1" 2>/dev/null | sed -n 2p || true
}

start_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    fail "redis-server is not installed: run make deps (or apt-get install redis-server)"
  mkdir -p "$redis_dir"
  exec 9>"$redis_dir/start.lock"
  flock 9 # (redis-server is started without descriptor 9, else the daemon would hold the lock)
  local answer
  answer=$(ping_answer)
  if [ "$answer" = PONG ]; then
    local appendonly appendfsync
    appendonly=$(setting appendonly)
    appendfsync=$(setting appendfsync)
    if [ -z "$appendonly" ] || [ -z "$appendfsync" ]; then
      echo "Redis answers on $host:$port: using it (its settings could not be read; the node checks them at start)"
    elif [ "$appendonly" = yes ] && [ "$appendfsync" = always ]; then
      echo "Redis answers on $host:$port (appendonly yes, appendfsync always): using it"
    else
      fail "a Redis on $host:$port runs with appendonly $appendonly, appendfsync $appendfsync: it could lose acknowledged votes, so a node refuses it.
  Either stop it and run this again, which starts a Redis of its own in data/redis/,
  or make it durable: redis-cli -p $port config set appendonly yes && redis-cli -p $port config set appendfsync always"
    fi
  elif [ -n "$answer" ]; then
    fail "something answers on $host:$port but not as an open Redis ($answer); config/cluster-*.yaml name redis://$host:$port/0 without a password: stop it or change cluster.redis in both files"
  else
    # The daemon keeps none of its starter's descriptors above 2 (the lock on 9, make's jobserver
    # pipes, a parent's own pipes or sockets, which would otherwise stay open as long as Redis runs).
    (
      for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-"
      done
      exec redis-server --bind "$host" --port "$port" --dir "$redis_dir" \
        --appendonly yes --appendfsync always --save "" \
        --daemonize yes --pidfile "$pid_file" --logfile "$redis_dir/redis.log"
    ) ||
      fail "redis-server did not start; see $redis_dir/redis.log"
    local tries=0
    until [ "$(ping_answer)" = PONG ]; do
      tries=$((tries + 1))
      if [ "$tries" -gt 100 ]; then
        tail -n 20 "$redis_dir/redis.log" >&2 || true
        fail "the Redis started in $redis_dir does not answer on $host:$port within 10 s (its log is above)"
      fi
      sleep 0.1
    done
    echo "Redis started on $host:$port (pid $(cat "$pid_file" 2>/dev/null || echo '?')): appendonly yes, appendfsync always, files in data/redis/, log data/redis/redis.log; stop it with make redis-stop"
  fi
  # The event's moderator key, the same for every node: made once, readable by its owner only.
  if [ ! -s "$key_file" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$key_file")
    echo "moderator key made: data/cluster.moderator-key (mode 0600)"
  fi
  chmod 600 "$key_file"
  exec 9>&-
}

run_node() {
  local name=$1 binary=$2
  local config="config/cluster-$name.yaml"
  [ -f "$root/$config" ] ||
    fail "there is no $config: NODE is a or b (or copy one of them to $config with its own cluster.node and database)"
  [ -x "$binary" ] || fail "no stelling binary at $binary: run make release"
  start_redis
  local key
  key=$(tr -d '\n' <"$key_file")
  [ "${#key}" -ge 16 ] || fail "the moderator key in data/cluster.moderator-key is shorter than 16 characters: write a longer one, or delete the file to get a new one"
  echo "node $name on $config: participants http://localhost:8080/ and the screen http://localhost:8080/screen"
  if [ -t 1 ]; then
    echo "moderator console (on either node): http://localhost:8080/moderator#key=$key"
  else
    echo "moderator console: http://localhost:8080/moderator#key=<the key in data/cluster.moderator-key>"
  fi
  echo "stop this node with Ctrl-C; the event goes on on the other one"
  cd "$root"
  STELLING_MODERATOR_KEY="$key" exec "$binary" serve --config "$config"
}

stop_redis() {
  local pid=""
  [ -f "$pid_file" ] && pid=$(cat "$pid_file")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null || ! grep -q redis "/proc/$pid/comm" 2>/dev/null; then
    if [ "$(ping_answer)" = PONG ]; then
      echo "the Redis on $host:$port was not started by make node (no live data/redis/redis.pid): left alone"
    else
      echo "no Redis started by make node is running"
    fi
    return 0
  fi
  # SHUTDOWN: Redis writes and fsyncs its append-only file and exits. (Not SIGTERM: a Redis
  # started from a process that blocks SIGTERM, as a test thread may, inherits the block.)
  redis-cli -h "$host" -p "$port" shutdown >/dev/null 2>&1 || kill -TERM "$pid"
  local tries=0
  while kill -0 "$pid" 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || fail "Redis (pid $pid) did not stop within 10 s"
    sleep 0.1
  done
  echo "Redis (pid $pid) stopped; the event stays in data/redis/ for the next start"
}

case "${1:-}" in
  redis) start_redis ;;
  node)
    [ $# -eq 3 ] || fail "usage: scripts/cluster.sh node NAME BINARY"
    run_node "$2" "$3"
    ;;
  redis-stop) stop_redis ;;
  *) fail "usage: scripts/cluster.sh redis | node NAME BINARY | redis-stop" ;;
esac
