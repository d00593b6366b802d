#!/usr/bin/env bash
# The README's run command: builds and runs the `qoltanba` command line with the given
# arguments (`--help` when none). Until the signing server lands, this is the product's face.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --locked -q -p qoltanba
if [ $# -eq 0 ]; then set -- --help; fi
exec ./target/release/qoltanba "$@"
