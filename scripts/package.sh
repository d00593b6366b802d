#!/usr/bin/env bash
# Builds the packages into dist/ from the sources in installer/:
#   dist/qoltanba_<version>_amd64.deb    (dpkg-deb; Depends from dpkg-shlibdeps)
#   dist/qoltanba-<version>-x64.msi      (wixl from msitools, WiX v3 source; mingw build)
# Usage: scripts/package.sh [deb|msi|all]   (default all)
#   VERSION=0.1.1 scripts/package.sh msi    another version of the same build (upgrade tests)
# Needs what scripts/setup.sh installs (dpkg-dev, wixl, mingw, the Windows target).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
VERSION="${VERSION:-$(cargo metadata --no-deps --format-version 1 \
  | sed -n 's/.*"name":"qoltanba","version":"\([^"]*\)".*/\1/p')}"
[ -n "$VERSION" ] || { echo "package: no version" >&2; exit 1; }
mkdir -p dist

deb() {
  echo "== deb $VERSION"
  cargo build --release --locked -q -p qoltanba -p qoltanba-desktop
  local stage="$T/package/deb" root
  root="$stage/root"
  rm -rf "$stage"
  mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/etc/xdg/autostart" "$root/etc/qoltanba" "$root/usr/share/doc/qoltanba" \
    "$root/usr/share/man/man1"
  for b in qoltanba qoltanba-desktop; do
    install -m 0755 "$T/release/$b" "$root/usr/bin/$b"
    strip --strip-unneeded -R .comment "$root/usr/bin/$b"
    gzip -9n <"installer/linux/$b.1" >"$root/usr/share/man/man1/$b.1.gz"
    chmod 0644 "$root/usr/share/man/man1/$b.1.gz"
  done
  install -m 0644 installer/linux/qoltanba.desktop "$root/usr/share/applications/qoltanba.desktop"
  install -m 0644 installer/linux/Qoltanba-autostart.desktop "$root/etc/xdg/autostart/Qoltanba.desktop"
  install -m 0644 installer/policy.toml "$root/etc/qoltanba/policy.toml"
  for s in 32 128 256; do
    install -D -m 0644 "icons/${s}x${s}.png" "$root/usr/share/icons/hicolor/${s}x${s}/apps/qoltanba.png"
  done
  install -D -m 0644 icons/qoltanba.svg "$root/usr/share/icons/hicolor/scalable/apps/qoltanba.svg"
  install -m 0644 installer/deb/copyright "$root/usr/share/doc/qoltanba/copyright"
  sed "s/@VERSION@/$VERSION/" installer/deb/changelog | gzip -9n >"$root/usr/share/doc/qoltanba/changelog.gz"
  chmod 0644 "$root/usr/share/doc/qoltanba/changelog.gz"
  install -m 0644 installer/deb/conffiles "$root/DEBIAN/conffiles"
  install -m 0755 installer/deb/postrm "$root/DEBIAN/postrm"
  # Depends from the libraries the binaries link (dpkg-shlibdeps reads a debian/control).
  mkdir -p "$stage/src/debian"
  printf 'Source: qoltanba\n\nPackage: qoltanba\nArchitecture: amd64\n' >"$stage/src/debian/control"
  local depends
  depends=$(cd "$stage/src" && dpkg-shlibdeps -O "../root/usr/bin/qoltanba" "../root/usr/bin/qoltanba-desktop" \
    2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  [ -n "$depends" ] || { echo "package: dpkg-shlibdeps found nothing" >&2; exit 1; }
  # Opened at run time, not linked: the tray's AppIndicator library, NSS's softokn (the OS store).
  depends="$depends, libayatana-appindicator3-1, libnss3"
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    installer/deb/control.in >"$root/DEBIAN/control"
  (cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"
  find "$root" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Zxz --build "$root" "dist/qoltanba_${VERSION}_amd64.deb" >/dev/null
  ls -l "dist/qoltanba_${VERSION}_amd64.deb"
}

msi() {
  echo "== msi $VERSION"
  cargo build --release --locked -q --target "$WIN" -p qoltanba -p qoltanba-desktop
  local stage="$T/package/msi"
  rm -rf "$stage"
  mkdir -p "$stage"
  for b in qoltanba qoltanba-desktop; do
    x86_64-w64-mingw32-strip -o "$stage/$b.exe" "$T/$WIN/release/$b.exe"
  done
  cp "$T/$WIN/release/WebView2Loader.dll" icons/icon.ico "$stage/"
  sed 's/$/\r/' installer/policy.toml >"$stage/policy.toml"
  sed 's/$/\r/' installer/README.txt >"$stage/README.txt"
  # wixl takes the source folder only as a relative path.
  wixl -a x64 -D Version="$VERSION" -D SourceDir="$(realpath --relative-to=. "$stage")" \
    -o "dist/qoltanba-${VERSION}-x64.msi" installer/msi/qoltanba.wxs
  ls -l "dist/qoltanba-${VERSION}-x64.msi"
}

case "${1:-all}" in
  deb) deb ;;
  msi) msi ;;
  all) deb; msi ;;
  *) echo "usage: $0 [deb|msi|all]" >&2; exit 2 ;;
esac
