#!/usr/bin/env bash
# Tests the packages scripts/package.sh built (run by scripts/test.sh after it):
#   deb  lintian (no error or warning), apt-get install, the installed commands and entries,
#        `trust install --system` and `admin browser-policy`, then purge: nothing left
#   msi  its tables (msiinfo), then under Wine: silent install with the admin properties, the
#        installed qoltanba.exe (--version, a signature openssl verifies, /status reading the
#        admin's sites), a major upgrade to a newer build, silent uninstall: nothing left
# Both: package sizes against the limits (deb ≤ 15 MiB, MSI ≤ 20 MiB).
# Usage: scripts/package-test.sh [deb|msi|all]   (as root, or with sudo for the deb part)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
VERSION="${VERSION:-$(cargo metadata --no-deps --format-version 1 \
  | sed -n 's/.*"name":"qoltanba","version":"\([^"]*\)".*/\1/p')}"
DEB="dist/qoltanba_${VERSION}_amd64.deb"
MSI="dist/qoltanba-${VERSION}-x64.msi"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
size_check() { # file limit-MiB
  local bytes
  bytes=$(stat -c %s "$1")
  echo "$1: $(awk -v b="$bytes" 'BEGIN {printf "%.1f MiB", b / 1048576}') (limit $2 MiB)"
  [ "$bytes" -le $(($2 * 1048576)) ] || fail "$1 is larger than $2 MiB"
}
# A test key file and its CA (the NCA layout, password Qwerty12).
# (mkpki from the host build that the tests use: fresh when scripts/test.sh runs this)
host_build
"$T/debug/mkpki" "$work/pki" >/dev/null
KEY=$(ls "$work"/pki/individual/RSA256_*.p12)

deb_test() {
  echo "== deb: $DEB"
  size_check "$DEB" 15
  lintian --fail-on error,warning "$DEB" \
    || fail "lintian reported errors or warnings"
  echo "lintian: no errors, no warnings"
  local opt_before=no
  [ -e /etc/opt ] && opt_before=yes
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$DEB" >/dev/null
  local files
  files=$(dpkg -L qoltanba)
  [ "$(/usr/bin/qoltanba --version)" = "qoltanba $VERSION" ] || fail "qoltanba --version"
  /usr/bin/qoltanba-desktop --version | grep -qx "qoltanba-desktop $VERSION" || fail "qoltanba-desktop --version"
  for f in /usr/share/applications/qoltanba.desktop /etc/xdg/autostart/Qoltanba.desktop; do
    grep -q '^Exec=qoltanba-desktop' "$f" || fail "$f has no Exec line"
    if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$f" || fail "$f"; fi
  done
  grep -q -- '--minimized' /etc/xdg/autostart/Qoltanba.desktop || fail "autostart is not minimized"
  dpkg-query -W -f='${Conffiles}\n' qoltanba | grep -q /etc/qoltanba/policy.toml || fail "policy.toml is not a conffile"
  # Nothing shared was made at install: no CA, no key anywhere but in the package's files.
  [ ! -e /usr/local/share/ca-certificates/qoltanba-local-ca.crt ] || fail "a CA was installed by the package"
  # The installed server, with the shipped (all-comments) policy in force.
  local home="$work/home"
  mkdir -p "$home"
  HOME="$home" /usr/bin/qoltanba serve --listen 127.0.0.1:0 --tls off --data-dir "$home/data" \
    >"$work/serve.out" 2>"$work/serve.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q LISTENING "$work/serve.out" && break; sleep 0.1; done
  local url
  url=$(sed -n 's/^LISTENING ws:\/\///p' "$work/serve.out")
  [ -n "$url" ] || { cat "$work/serve.err" >&2; fail "the installed qoltanba serve did not listen"; }
  curl -sf -H 'Origin: https://portal.example' "http://$url/status" | grep -q '"product":"Qoltanba"' \
    || fail "/status of the installed server"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "installed: qoltanba $VERSION, qoltanba-desktop, desktop and autostart entries, serve answers /status"
  # What purge must also take away: the system trust and the browser policies.
  HOME="$home" $SUDO /usr/bin/qoltanba trust install --system --data-dir "$home/data" >/dev/null
  [ -e /usr/local/share/ca-certificates/qoltanba-local-ca.crt ] || fail "trust install --system"
  $SUDO /usr/bin/qoltanba admin browser-policy allow 'https://*.egov.kz' >/dev/null
  [ -e /etc/chromium/policies/managed/qoltanba.json ] || fail "admin browser-policy allow"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq qoltanba >/dev/null
  dpkg-query -W qoltanba >/dev/null 2>&1 && fail "still known to dpkg after purge"
  local left=0
  while read -r f; do
    [ -f "$f" ] || [ -L "$f" ] && { echo "left: $f" >&2; left=1; }
  done <<<"$files"
  for f in /etc/qoltanba /usr/share/doc/qoltanba /usr/local/share/ca-certificates/qoltanba-local-ca.crt \
           /etc/ssl/certs/qoltanba-local-ca.pem /etc/chromium/policies /etc/opt/chrome /etc/opt/edge; do
    [ -e "$f" ] && { echo "left: $f" >&2; left=1; }
  done
  [ "$opt_before" = no ] && [ -e /etc/opt ] && { echo "left: /etc/opt" >&2; left=1; }
  grep -q "qoltanba" /etc/ssl/certs/ca-certificates.crt 2>/dev/null && { echo "left: in the CA bundle" >&2; left=1; }
  [ "$left" = 0 ] || fail "purge left files behind"
  echo "purged: nothing left ($(wc -l <<<"$files") package paths, the system CA, the browser policies)"
}

msi_test() {
  echo "== msi: $MSI"
  size_check "$MSI" 20
  # Each table read whole first (grep -q on a pipe would cut msiinfo off under pipefail).
  table() { msiinfo export "$MSI" "$1"; }
  has() { grep -q -- "$2" <<<"$1"; }
  has "$(msiinfo suminfo "$MSI")" 'x64;1033' || fail "not an x64 package"
  local props
  props=$(table Property)
  has "$props" $'^ALLUSERS\t1' || fail "not per-machine"
  has "$props" $'^UpgradeCode\t{5E7B2C4A-9D1F-4B6E-A3C8-0F2D6E9A1B47}' || fail "UpgradeCode"
  has "$(table Upgrade)" WIX_UPGRADE_DETECTED || fail "no major upgrade"
  has "$(table LaunchCondition)" 'NOT WIX_DOWNGRADE_DETECTED' || fail "downgrades are not refused"
  has "$(table InstallExecuteSequence)" $'^RemoveExistingProducts\t\t6601' \
    || fail "RemoveExistingProducts is not after InstallFinalize"
  has "$(table Registry)" 'CurrentVersion\\Run' || fail "no autostart"
  has "$(table Shortcut)" StartMenuShortcut || fail "no Start-menu shortcut"
  has "$(table Directory)" $'^INSTALLDIR\tProgramFiles64Folder' || fail "not under Program Files"
  has "$(table Directory)" $'^POLICYDIR\tCommonAppDataFolder' || fail "no ProgramData policy"
  echo "tables: x64, per-machine, UpgradeCode, major upgrade, no downgrade, autostart, shortcut, ProgramData"

  # A newer build of the same binaries, for the upgrade.
  local next="${VERSION%.*}.$(( ${VERSION##*.} + 1 ))"
  VERSION="$next" ./scripts/package.sh msi >/dev/null
  local newer="dist/qoltanba-${next}-x64.msi"
  export WINEPREFIX="$work/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  local W=/usr/lib/wine/wine64
  [ -x "$W" ] || W=wine64
  $W wineboot -i >/dev/null 2>&1
  # Wine 8 lacks bcryptprimitives.dll (Rust's std needs ProcessPrng): the test shim, in the
  # test prefix's system32 (never in the MSI).
  x86_64-w64-mingw32-gcc -O2 -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    scripts/wine/bcryptprimitives.c -ladvapi32
  reg() { $W reg query "$@" 2>/dev/null | tr -d '\r'; }
  reg_exists() { $W reg query "$1" >/dev/null 2>&1; }
  local pf="$WINEPREFIX/drive_c/Program Files/Qoltanba" pd="$WINEPREFIX/drive_c/ProgramData/Qoltanba"
  $W msiexec /i "$MSI" /qn ALLOWEDSITES="https://*.egov.kz https://*.gov.kz" BROWSERSITES="https://*.egov.kz" \
    >/dev/null || fail "msiexec /i /qn"
  for f in qoltanba.exe qoltanba-desktop.exe WebView2Loader.dll README.txt; do
    [ -f "$pf/$f" ] || fail "not installed: $f"
  done
  [ -f "$pd/policy.toml" ] || fail "no policy under ProgramData"
  reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v Qoltanba | grep -q 'qoltanba-desktop.exe" --minimized' \
    || fail "no autostart for every user"
  reg 'HKLM\Software\Policies\Qoltanba' /v AllowedOrigins | grep -q 'https://\*.egov.kz https://\*.gov.kz' \
    || fail "ALLOWEDSITES not written"
  reg 'HKLM\Software\Policies\Google\Chrome\LocalNetworkAccessAllowedForUrls' /v 1 | grep -q 'https://\*.egov.kz' \
    || fail "BROWSERSITES not written for Chrome"
  reg 'HKLM\Software\Policies\Microsoft\Edge\LocalNetworkAccessAllowedForUrls' /v 1 | grep -q 'https://\*.egov.kz' \
    || fail "BROWSERSITES not written for Edge"
  local exe='C:\Program Files\Qoltanba\qoltanba.exe'
  [ "$($W "$exe" --version | tr -d '\r')" = "qoltanba $VERSION" ] || fail "installed qoltanba.exe --version"
  local z="Z:${work//\//\\}"
  printf 'signed by the installed exe\n' >"$work/doc"
  QPW=Qwerty12 $W "$exe" sign cms --key "Z:${KEY//\//\\}" --password-env QPW "$z\\doc" -o "$z\\doc.p7s" \
    || fail "installed qoltanba.exe sign cms"
  openssl cms -verify -binary -inform DER -in "$work/doc.p7s" -content "$work/doc" \
    -CAfile "$work/pki/ca.pem" -purpose any -out /dev/null 2>/dev/null || fail "openssl rejected its signature"
  # The installed server reads the admin's sites from the registry.
  $W "$exe" serve --listen 127.0.0.1:0 --tls off >"$work/wserve.out" 2>/dev/null &
  local pid=$!
  for _ in $(seq 150); do grep -q LISTENING "$work/wserve.out" && break; sleep 0.1; done
  local url
  url=$(tr -d '\r' <"$work/wserve.out" | sed -n 's/^LISTENING ws:\/\///p')
  [ -n "$url" ] || fail "the installed qoltanba.exe serve did not listen"
  curl -sf -H 'Origin: https://portal.egov.kz' "http://$url/status" | grep -q '"origin_policy":"allowed"' \
    || fail "ALLOWEDSITES not in force"
  curl -sf -H 'Origin: https://elsewhere.example' "http://$url/status" | grep -q '"origin_policy":"ask"' \
    || fail "a site not allowed is not asked about"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "installed: files, ProgramData policy, autostart, the admin's sites in force, browser policy, a verified signature"
  # Major upgrade in place.
  $W msiexec /i "$newer" /qn >/dev/null || fail "msiexec /i newer /qn"
  local products
  products=$(reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' | grep -c '{' || true)
  [ "$products" = 1 ] || fail "$products products registered after the upgrade"
  [ "$($W "$exe" --version | tr -d '\r')" = "qoltanba $VERSION" ] || fail "the upgrade lost the exe"
  local key
  key=$(reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' | grep '{')
  reg "$key" /v DisplayVersion | grep -q "$next" || fail "the upgrade did not register $next"
  echo "upgraded: $VERSION → $next in place (one product registered)"
  $W msiexec /x "$newer" /qn >/dev/null || fail "msiexec /x /qn"
  local left
  left=$(find "$WINEPREFIX/drive_c" -iname '*qoltanba*' | head -5)
  [ -z "$left" ] || fail "uninstall left: $left"
  for k in 'HKLM\Software\Qoltanba' 'HKLM\Software\Policies\Qoltanba' \
           'HKLM\Software\Policies\Google' 'HKLM\Software\Policies\Chromium' \
           'HKLM\Software\Policies\Microsoft\Edge'; do
    reg_exists "$k" && { reg "$k" /s >&2; fail "uninstall left $k"; }
  done
  reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' | grep -q Qoltanba && fail "uninstall left the autostart"
  [ -z "$(reg 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' | grep '{')" ] || fail "still registered"
  /usr/lib/wine/wineserver -k 2>/dev/null || true
  echo "uninstalled: nothing left (files, registry, browser policy, autostart)"
}

case "${1:-all}" in
  deb) deb_test ;;
  msi) msi_test ;;
  all) deb_test; msi_test ;;
  *) echo "usage: $0 [deb|msi|all]" >&2; exit 2 ;;
esac
