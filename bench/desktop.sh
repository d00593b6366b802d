#!/usr/bin/env bash
# The desktop app's figures, on the release build under Xvfb: binary size, time from launch to
# the LISTENING line, memory of the whole process tree (the app and WebKit's processes) at
# idle with no prompt open, and time from a page's request to its prompt window being mapped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
cargo build --release --locked -q -p qoltanba-desktop
bin=$T/release/qoltanba-desktop
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
disp=":$((50 + RANDOM % 40))"
Xvfb "$disp" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
export DISPLAY="$disp"
port=$((20000 + RANDOM % 20000))
echo "binary: $(du -k "$bin" | cut -f1) KiB"
tree_rss() {  # proportional set size (shared pages split between sharers), KiB, of a process tree
  local pids
  pids=$(ps -e -o pid=,ppid= | awk -v root="$1" '{p[$1]=$2} END {for (x in p) {y=x; while (y && y!=root) y=p[y]; if (y==root) print x}}')
  for p in $pids; do awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '{s+=$1} END {print s}'
}
for mode in --minimized ""; do
  start=$(date +%s%N)
  $bin --listen 127.0.0.1:$port --tls off --data-dir "$work/data" $mode >"$work/out" 2>/dev/null &
  app=$!
  until grep -q LISTENING "$work/out"; do sleep 0.005; done
  ready=$(date +%s%N)
  sleep 3
  echo "launch to listening (${mode:-with the status window}): $(( (ready - start) / 1000000 )) ms; idle tree PSS: $(tree_rss $app) KiB"
  if [ -z "$mode" ]; then
    t0=$(date +%s%N)
    python3 - "$port" <<'PY' &
import base64, os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
k = base64.b64encode(os.urandom(16)).decode()
s.send(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {k}\r\nSec-WebSocket-Version: 13\r\nOrigin: https://bench.example\r\n\r\n".encode())
s.recv(4096)
m = b'{"module":"kz.gov.pki.knca.commonUtils","method":"getKeyInfo","args":["PKCS12"]}'
mask = os.urandom(4)
s.send(bytes([0x81, 0x80 | len(m)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(m)))
time.sleep(5)
PY
    until xwininfo -root -tree 2>/dev/null | grep -q "Qoltanba — https://bench.example"; do sleep 0.002; done
    t1=$(date +%s%N)
    echo "request to a mapped prompt window: $(( (t1 - t0) / 1000000 )) ms"
    sleep 1
    echo "tree PSS with a prompt window open: $(tree_rss $app) KiB"
  fi
  kill $app; wait $app 2>/dev/null || true
done
