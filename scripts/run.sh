#!/usr/bin/env bash
# The README's run command: builds and runs the signing server (`qoltanba serve`, prompting on
# this terminal) — or, with arguments, the `qoltanba` command line with those arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --locked -q -p qoltanba
if [ $# -eq 0 ]; then set -- serve; fi
exec ./target/release/qoltanba "$@"
