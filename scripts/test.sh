#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run):
#   scripts/test.sh          everything: installs what the tests need, then format, clippy
#                            (host, Windows, macOS), cargo deny, the packages, the Windows build,
#                            every test, the release-binary check, the package tests, fuzzing
#   scripts/test.sh quick    for development: format, host clippy, and the unit and integration
#                            tests that need no desktop, Windows build, package or fuzzing
# Each phase's duration is printed at the end (also when a phase fails). Tests that read
# ../shared/kz-pki-vectors skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
MODE="${1:-full}"
case "$MODE" in full | quick) ;; *) echo "usage: $0 [quick]" >&2; exit 2 ;; esac

PHASES=()
START=$SECONDS
CURRENT=""
phase() { # NAME COMMAND…: runs COMMAND, remembers how long it took
  local name=$1 t0=$SECONDS
  shift
  echo "== $name"
  CURRENT="$name|$t0"
  "$@"
  CURRENT=""
  PHASES+=("$name|$((SECONDS - t0))")
}
report() {
  local rc=$? row
  # The phase that failed, with the time it ran.
  [ -n "$CURRENT" ] && PHASES+=("${CURRENT%|*} (FAILED)|$((SECONDS - ${CURRENT#*|}))")
  echo
  echo "== phases ($MODE run, exit $rc)"
  for row in "${PHASES[@]}"; do
    printf '  %-44s %4d:%02d\n' "${row%|*}" $((${row#*|} / 60)) $((${row#*|} % 60))
  done
  printf '  %-44s %4d:%02d\n' total $(((SECONDS - START) / 60)) $(((SECONDS - START) % 60))
}
trap report EXIT

deny() {
  cargo deny --all-features --locked --exclude qoltanba-desktop check licenses bans sources
  cargo deny --all-features --locked check licenses sources
}

# The integration tests that need neither a desktop (Xvfb, WebDriver) nor the Windows build.
quick_tests() {
  local targets
  targets=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
slow = {"window", "launch", "wine"}   # the real window, the app under Xvfb, Wine
names = {t["name"] for p in json.load(sys.stdin)["packages"] for t in p["targets"]
         if t["kind"] == ["test"] and t["name"] not in slow}
print(" ".join("--test " + n for n in sorted(names)))')
  # shellcheck disable=SC2086 # one word per flag
  host_test --lib --bins $targets
  host_test --doc
}

# The shipped binaries (the deb's release build) have no unattended prompter in them.
release_check() {
  local b
  for b in qoltanba qoltanba-desktop; do
    if grep -q "UNATTENDED TEST MODE" "$T/release/$b"; then
      echo "FAIL: the release $b contains the test-only unattended prompter" >&2
      exit 1
    fi
  done
  if "$T/release/qoltanba" serve --help | grep -qi unattended; then
    echo "FAIL: the release qoltanba serve offers an unattended mode" >&2
    exit 1
  fi
  echo "release binaries: no unattended prompter (ok)"
}

# Two commands at once, each with its own log, shown when it ends; fails if either fails.
both() {
  local logs pids=() rc=0 i
  logs=$(mktemp -d)
  for i in 1 2; do
    bash -c "${!i}" >"$logs/$i" 2>&1 &
    pids+=($!)
  done
  for i in 1 2; do
    wait "${pids[$((i - 1))]}" || rc=1
    cat "$logs/$i"
  done
  rm -rf "$logs"
  return "$rc"
}

if [ "$MODE" = quick ]; then
  phase "cargo fmt --check" cargo fmt --all -- --check
  phase "clippy + build (host, all targets)" host_build
  phase "cargo test (no desktop, no Windows)" quick_tests
  exit 0
fi

phase "setup" ./scripts/setup.sh
phase "cargo fmt --check" cargo fmt --all -- --check
phase "clippy + build (host, all targets)" host_build
# Licences, duplicate crates, sources (advisories need the RustSec git database, unreachable here).
phase "cargo deny" deny
# The packages (release builds for Linux and Windows; the Wine test runs the Windows desktop
# exe from the MSI's build, and the package tests install them below), then the Windows build of
# the Wine test's executables, on the MSI's dependencies. One build at a time: two side by side
# were slower here than one after the other (2026-12-03: Windows build | deb 16 min at once).
phase "deb (release build)" ./scripts/package.sh deb
phase "MSI (Windows release build)" ./scripts/package.sh msi
phase "Windows: clippy + build for Wine (on the MSI's)" ./scripts/cross.sh windows
phase "macOS: clippy (type check)" ./scripts/cross.sh macos
phase "cargo test" host_test
phase "release binaries: no unattended mode" release_check
phase "package tests (deb and MSI at once)" both "./scripts/package-test.sh deb" "./scripts/package-test.sh msi"
phase "fuzz (${FUZZ_SECONDS:-20}s a target)" ./scripts/fuzz.sh
