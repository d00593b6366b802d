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
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "== cargo deny (licences, duplicate crates, sources; advisories need the RustSec git database, unreachable here)"
cargo deny --all-features --locked --exclude qoltanba-desktop check licenses bans sources
cargo deny --all-features --locked check licenses sources
# Cross builds: Windows executables for the Wine test (crates/cli/tests/wine.rs), the macOS
# type check.
./scripts/cross.sh windows
./scripts/cross.sh macos
# The packages (release builds for Linux and Windows): the Wine test runs the Windows desktop
# exe from them, and scripts/package-test.sh installs them below.
./scripts/package.sh all
echo "== cargo test (with the test-only unattended prompter compiled in for the e2e suite)"
cargo test --workspace --all-features --locked
echo "== the normal build has no unattended mode"
cargo build --release --locked -q -p qoltanba
if ./target/release/qoltanba serve --help | grep -qi unattended \
   || grep -q "UNATTENDED TEST MODE" ./target/release/qoltanba; then
  echo "FAIL: the release binary contains the test-only unattended prompter" >&2
  exit 1
fi
echo "release binary: no unattended prompter (ok)"
echo "== packages: install, upgrade, remove (scripts/package-test.sh)"
./scripts/package-test.sh all
echo "== fuzz targets, ${FUZZ_SECONDS:-20}s each (scripts/fuzz.sh)"
./scripts/fuzz.sh
