#!/usr/bin/env bash
# Browser tests: installs what is missing (chromium, chromium-driver, python3-selenium),
# builds the server, starts it on a free loopback port with a temporary copy of the seminar
# configuration (database in a temporary folder, a known moderator key), waits for /healthz,
# runs tests-browser/test_browser.py, and stops the server whatever happens.
#
# Environment: STELLING_BIN (use this server binary, skip the build), CONFIG (default
# config/seminar.yaml), TEST_OUTPUT (default test-output; screenshots in its screenshots/).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

packages=(chromium chromium-driver python3-selenium)
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

if [ -z "${STELLING_BIN:-}" ]; then
  swift build
  STELLING_BIN="$root/.build/debug/stelling"
fi

out="${TEST_OUTPUT:-$root/test-output}"
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
  echo "0 passed, 1 failed"
  exit 1
fi

status=0
STELLING_URL="$base" STELLING_KEY="$key" TEST_OUTPUT="$out" "$python" "$here/test_browser.py" || status=$?
echo "screenshots: $out/screenshots"
exit "$status"
