#!/usr/bin/env bash
# Browser tests: installs what is missing (chromium, chromium-driver, python3-selenium,
# python3-venv, zbar-tools, nodejs, redis-server for test_cluster.py's node; axe-selenium-python from PyPI into a venv under
# TEST_OUTPUT), runs the session reducer's Node tests (tests-browser/*.test.mjs), builds the
# server, starts it on a free loopback port with a temporary copy of the seminar
# configuration (database in a temporary folder, a known moderator key), waits for /healthz,
# runs EVERY tests-browser/test_*.py in turn against that one server with the same
# environment, and stops the server whatever happens. The closing line adds up all of
# them: "N passed, N failed"; the status is non-zero when anything failed.
#
# Environment: STELLING_BIN (use this server binary, skip the build), ONLY (run only these
# test_*.py files, space-separated), CONFIG (default
# config/seminar.yaml), TEST_OUTPUT (default test-output; screenshots in its screenshots/).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

packages=(chromium chromium-driver python3-selenium python3-venv zbar-tools nodejs redis-server)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# Debian's python3 has python3-selenium; a python3 earlier on PATH (pyenv, venv) may not.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

out="${TEST_OUTPUT:-$root/test-output}"
mkdir -p "$out"

# axe-core for the accessibility scan comes from PyPI: selenium-axe-python 2.2.0 ships
# axe-core 4.9.1 (axe-selenium-python runs on Debian 12's Python 3.11 only up to 2.1.6, whose
# axe-core 3.1.1 does not know the WCAG 2.1 rules; docs/DECISIONS.md). A venv that sees
# Debian's packages (selenium) keeps the system python untouched; made once, then reused.
venv="$out/venv"
if ! "$venv/bin/python" -c 'import selenium_axe_python, selenium' >/dev/null 2>&1; then
  rm -rf "$venv"
  "$python" -m venv --system-site-packages "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'selenium-axe-python==2.2.0'
fi
python="$venv/bin/python"

passed=0
failed=0
count() { # adds the closing "N passed, N failed" line of a test run's output file
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1 || true)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
  failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}

# The session reducer, in Node (no browser, no server).
status=0
for file in "$here"/*.test.mjs; do
  [ -e "$file" ] || continue
  log="$out/$(basename "$file").log"
  node --test --test-reporter=tap "$file" >"$log" 2>&1 || status=1
  node_pass=$(grep -E '^# pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
  node_fail=$(grep -E '^# fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
  if [ -z "$node_pass" ]; then cat "$log"; failed=$((failed + 1)); status=1; continue; fi
  passed=$((passed + node_pass))
  failed=$((failed + ${node_fail:-0}))
  echo "$(basename "$file"): $node_pass passed, ${node_fail:-0} failed"
  [ "${node_fail:-0}" = 0 ] || grep -E '^not ok' "$log" || true
done

if [ -z "${STELLING_BIN:-}" ]; then
  swift build
  STELLING_BIN="$root/.build/debug/stelling"
fi

mkdir -p "$out/screenshots"
rm -f "$out"/screenshots/*.png
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

config="${CONFIG:-config/seminar.yaml}"
"$python" - "$config" "$work/seminar.yaml" "$work/stelling.sqlite" "$root/web" <<'PY'
import re, sys
source, target, database, web = sys.argv[1:5]
text = open(source, encoding='utf-8').read()
def put(key, value, text):
    line = '%s: %s' % (key, value)
    if re.search(r'(?m)^%s:' % key, text):
        return re.sub(r'(?m)^%s:.*$' % key, lambda _: line, text)
    return text.rstrip('\n') + '\n' + line + '\n'
text = put('database', database, text)
text = put('web_root', web, text)
text = re.sub(r'(?m)^moderator_key:.*$', '', text)
open(target, 'w', encoding='utf-8').write(text)
PY

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
key="browser-test-key-$RANDOM$RANDOM$RANDOM"
STELLING_MODERATOR_KEY="$key" "$STELLING_BIN" serve --config "$work/seminar.yaml" --host 127.0.0.1 --port "$port" \
  >"$out/browser-server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
if ! "$python" - "$base/healthz" <<'PY'
import sys, time, urllib.request
deadline = time.time() + 30
while time.time() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
PY
then
  echo "the server did not answer $base/healthz within 30 s; its log:" >&2
  cat "$out/browser-server.log" >&2
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
fi

for file in "$here"/test_*.py; do
  [ -e "$file" ] || continue
  # ONLY=test_panel.py (a space-separated list) runs just those files, for work on one.
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $(basename "$file") "* ]]; then continue; fi
  echo "== $(basename "$file")"
  log="$out/$(basename "$file" .py).log"
  # pipefail (set above) makes the pipeline fail when the test run fails.
  if ! STELLING_URL="$base" STELLING_KEY="$key" TEST_OUTPUT="$out" "$python" "$file" 2>&1 | tee "$log"; then status=1; fi
  count "$log"
done
echo "screenshots: $out/screenshots"
[ "$failed" = 0 ] || status=1
echo "$passed passed, $failed failed"
exit "$status"
