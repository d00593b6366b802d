#!/usr/bin/env bash
# The README's run command: with no arguments, the desktop app (`qoltanba-desktop`, the tray app
# with its prompt windows) when there is a display, else the signing server `qoltanba serve`
# prompting on this terminal; with arguments, the `qoltanba` command line with those arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
./scripts/setup.sh >/dev/null
if [ $# -eq 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  cargo build --release --locked -q -p qoltanba-desktop
  exec "$T"/release/qoltanba-desktop
fi
cargo build --release --locked -q -p qoltanba
if [ $# -eq 0 ]; then set -- serve; fi
exec "$T"/release/qoltanba "$@"
