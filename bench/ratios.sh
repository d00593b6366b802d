#!/usr/bin/env bash
# Runs every comparison with a reference tool (openssl, xmlsec1, OpenSSL's gost engine,
# openssl speed) and prints the table of issue 14 at the end: each figure is a ratio of ours to
# the reference's, measured in this one run on this machine.
#   bench/openssl-cms.sh   sign cms 1 KiB / 100 MiB detached, 100 MiB attached (-stream), RSS
#   bench/xmlsec-xml.sh    sign xml / verify xml 10 MiB, peak RSS
#   bench/gost.sh          GOST 2004 and 2015-512 signatures
#   server bench           1 and 16 connections, RSS across 1,000 requests of 1 MiB
# Usage: bench/ratios.sh   (about 4 minutes; nothing else should run meanwhile)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
  # /usr/bin/time reports on stderr.
  bash bench/openssl-cms.sh 2>&1
  bash bench/xmlsec-xml.sh 2>&1
  bash bench/gost.sh
  cargo bench -q -p qoltanba --features unattended --bench server 2>/dev/null
} | tee "$out"

row() { printf '%-58s %s\n' "$1" "$2"; }
field() { awk -v k="$1" -v n="$2" 'index($0, k) == 1 { print $n; exit }' "$out"; }
echo
echo "== ratios (ours / reference; lower is faster)"
row "sign cms 1 KiB detached, whole process, vs openssl cms -sign" "$(field 'detached 1KiB' 5)"
row "sign cms 100 MiB detached vs openssl" "$(field 'detached 100MiB' 5)"
row "sign cms 100 MiB attached vs openssl cms -stream" "$(field 'attached 100MiB' 5)"
row "  peak RSS (KiB): openssl -stream / qoltanba" "$(field 'openssl -stream ' 3) / $(field 'qoltanba ' 2)"
row "sign xml 10 MiB vs xmlsec1 --sign" "$(field '10485760 B' 5)"
row "  peak RSS (x the document)" "$(field 'qoltanba sign xml' 5)"
row "verify xml 10 MiB vs xmlsec1 --verify" "$(field '10485760 B' 8)"
row "GOST R 34.10-2015 512 sign vs the gost engine" "$(field 'GOST R 34.10-2015' 7)"
row "GOST 34.310-2004 sign vs the gost engine" "$(field 'GOST 34.310-2004' 6)"
row "server 1 connection p50 vs openssl raw RSA-2048 sign" "$(awk '/^1 connection p50/ { print $NF }' "$out")"
row "server 16 connections vs openssl speed -multi" "$(awk '/^16 connections/ { print $(NF-1), $NF }' "$out")"
