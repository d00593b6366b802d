#!/usr/bin/env bash
# Cross builds (run by scripts/test.sh; targets and mingw/wine/nasm come from scripts/setup.sh):
#   scripts/cross.sh windows  build for x86_64-pc-windows-gnu with mingw, linted by clippy as it
#                             compiles (scripts/lib.sh, with_clippy): the CLI (with the
#                             test-only unattended prompter, for the Wine test of `serve`), the
#                             pfx_import test tool, and every other target of the CLI and
#                             osstore crates. In the release profile, after scripts/package.sh
#                             msi: its dependencies are the MSI's, already built (its qoltanba.exe
#                             is replaced by this one, the MSI holds its own stripped copy)
#   scripts/cross.sh macos    type-check and lint the workspace (libraries, CLI, desktop app, tests) for
#                             x86_64-apple-darwin
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

windows() {
  echo "== Windows build ($WIN, mingw)"
  # One build for the lint and the Wine test's executables (a check first and a build after
  # would compile every dependency twice), on the dependencies of the MSI's release build.
  with_clippy cargo build --release --locked --target "$WIN" -p qoltanba-osstore -p qoltanba \
    --all-targets --features qoltanba/unattended
  ls -l "$T/$WIN/release/qoltanba.exe" "$T/$WIN/release/examples/pfx_import.exe"
  # The desktop app's Windows build is the MSI's release build (scripts/package.sh msi).
}

macos() {
  echo "== macOS type check ($MAC)"
  # No Apple SDK here, so C cannot be compiled for macOS; a type check links nothing, so the C
  # that build scripts compile (aws-lc-sys, ring) goes through scripts/cross/fake-cc, which
  # writes empty objects. Every Rust crate is checked for real, the Keychain code included.
  CC_x86_64_apple_darwin="$PWD/scripts/cross/fake-cc" \
  CXX_x86_64_apple_darwin="$PWD/scripts/cross/fake-cc" \
  AR_x86_64_apple_darwin=ar \
    cargo clippy --locked --target "$MAC" --workspace --all-targets --features qoltanba/unattended -- -D warnings
}

case "${1:-}" in
  windows) windows ;;
  macos) macos ;;
  *) echo "usage: $0 windows|macos" >&2; exit 2 ;;
esac
