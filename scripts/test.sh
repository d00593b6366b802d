#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs format and lint checks and
# every test in the workspace. Tests that read ../shared/kz-pki-vectors skip with a message when
# it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
