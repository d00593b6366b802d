#!/usr/bin/env bash
# Installs what building and testing Qoltanba needs on Debian/Ubuntu. Idempotent: installs only
# what is missing. Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail

# Debian packages the tests use as independent verifiers and tools.
APT_PACKAGES=(
  openssl        # `openssl cms -verify` / `pkcs12`: the independent CMS and PKCS#12 checker
  xmlsec1        # `xmlsec1 --verify` / `--sign`: the independent XMLDSig checker
  libxml2-utils  # `xmllint --c14n`: the reference canonicalization our C14N is compared with
  pkg-config
  build-essential
  ca-certificates
  bc             # bench/ scripts
  time           # bench/ scripts: peak RSS
  libnss3-tools  # certutil: `qoltanba trust install` (and its test)
  chromium       # headless browser end-to-end test
  softhsm2       # a PKCS#11 token for the token tests
  opensc         # pkcs11-tool: writes keys to the test token, and the benchmark's comparison
  tmux           # a real terminal for the terminal-prompter test
  # The desktop app (Tauri v2 on WebKitGTK) and its window tests under Xvfb.
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libssl-dev file
  xvfb xauth webkit2gtk-driver   # a display for the real window; WebKitWebDriver drives it
  x11-utils      # xwininfo: bench/desktop.sh sees the prompt window appear
  xdotool        # drives the system file chooser in the window test
  # The Windows build (x86_64-pc-windows-gnu) and its tests under Wine (scripts/cross.sh windows).
  gcc-mingw-w64-x86-64   # the linker and C compiler (aws-lc-sys) for the Windows target
  nasm           # aws-lc-sys's assembly for Windows targets
  wine wine64    # runs the Windows CLI and its OS-store code in the tests
  # Packages (scripts/package.sh) and their tests (scripts/package-test.sh).
  wixl msitools  # builds the MSI from installer/msi (WiX v3 source); msiinfo reads its tables
  lintian desktop-file-utils   # the deb's checks
  curl           # the installed servers' /status in the package tests
  libengine-gost-openssl   # bench/gost.sh: OpenSSL's gost engine, the GOST reference
)
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)   # the real ncalayer-js-client runs in Node
CARGO_DENY_VERSION=0.20.2

# Cargo tools the test script runs (from crates.io, pinned): the fuzzer driver, the dependency
# checker and the WebDriver proxy of the window test; and the crates the builds need. Compiled (about 3.5 minutes on 2 cores)
# while apt-get downloads and unpacks, when a C compiler is already there to link them.
# (Each in a temporary target directory of its own, whatever CARGO_TARGET_DIR says.)
install_cargo_tools() {
  local install=(env -u CARGO_TARGET_DIR cargo install -q --locked) fetch
  # The crates of the workspace and of the fuzz targets, downloaded meanwhile rather than by
  # the first build (which would wait for them with the cores idle).
  (cargo fetch -q --locked && cd fuzz && cargo fetch -q --locked) &
  fetch=$!
  command -v cargo-fuzz >/dev/null 2>&1 || "${install[@]}" cargo-fuzz --version 0.13.2
  command -v cargo-deny >/dev/null 2>&1 || "${install[@]}" cargo-deny --version "$CARGO_DENY_VERSION"
  command -v tauri-driver >/dev/null 2>&1 || "${install[@]}" tauri-driver --version 2.1.0
  wait "$fetch"
}

# The pinned toolchain (rust-toolchain.toml) with rustfmt and clippy.
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install rustup first (https://rustup.rs)" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
# Cross targets: the Windows build (run under Wine) and the macOS type check.
installed_targets="$(rustup target list --installed)"
for t in x86_64-pc-windows-gnu x86_64-apple-darwin; do
  grep -qx "$t" <<<"$installed_targets" || rustup target add "$t"
done

tools_pid=""
tools_log=$(mktemp)
trap 'rm -f "$tools_log"' EXIT
if command -v cc >/dev/null 2>&1; then
  install_cargo_tools >"$tools_log" 2>&1 &
  tools_pid=$!
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -n "$tools_pid" ]; then
  if ! wait "$tools_pid"; then
    cat "$tools_log" >&2
    echo "setup: cargo install failed" >&2
    exit 1
  fi
else
  install_cargo_tools
fi

# npm packages of the end-to-end tests (pinned by package-lock.json).
if [ ! -f tests/e2e/js-client/node_modules/ncalayer-js-client/package.json ]; then
  echo "setup: npm ci in tests/e2e/js-client"
  (cd tests/e2e/js-client && npm ci --no-audit --no-fund --loglevel=error)
fi
