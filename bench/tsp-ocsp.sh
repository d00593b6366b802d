#!/usr/bin/env bash
# Timestamps and revocation against the reference tools, same inputs and services in one run
# (a test TSA behind `openssl ts -reply`, `openssl ocsp` as responder, all on 127.0.0.1):
#   - `qoltanba cert status` vs `openssl ocsp -issuer … -cert … -url …` (one OCSP round trip,
#     signature and nonce checked, whole processes)
#   - `qoltanba verify cms` of a CAdES-T (signature + timestamp token + chains) vs
#     `openssl cms -verify` of the same file (signature and chain only)
#   - `qoltanba sign cms --tsa` vs `qoltanba sign cms` (the cost of the TSA round trip)
# Usage: bench/tsp-ocsp.sh   (release builds; a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
cargo build --release -q -p qoltanba -p qoltanba-testkit --bin qoltanba --bin testsvc
work=$(mktemp -d)
mkfifo "$work/hold"
$T/release/testsvc "$work/pki" <"$work/hold" >"$work/svc" &
svc=$!
exec 3>"$work/hold"
trap 'exec 3>&-; kill $svc 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q '^OCSP ' "$work/svc"; do sleep 0.05; done
get() { awk -v k="$1" '$1 == k {print $2}' "$work/svc"; }
KEY=$(get KEY); CERT=$(get CERT); CA=$(get CA); NCA=$(get NCA); TSA=$(get TSA); OCSP=$(get OCSP)
q=$T/release/qoltanba
export QPW=Qwerty12
head -c 4096 /dev/urandom >"$work/doc"
avg() { # avg N command... → mean wall-clock ms per run
  local n=$1; shift
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; done
  end=$(date +%s%N)
  echo $(( (end - start) / n / 1000 ))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
N=20
a=$(avg $N $q cert status "$CERT" --trust "$CA")
b=$(avg $N openssl ocsp -issuer "$NCA" -cert "$CERT" -url "$OCSP" -CAfile "$CA")
echo "OCSP status: qoltanba $((a / 1000)).$(( (a % 1000) / 100 )) ms, openssl $((b / 1000)).$(( (b % 1000) / 100 )) ms, ratio $(ratio "$a" "$b")"
$q sign cms --key "$KEY" --password-env QPW --tsa "$TSA" --tsa-trust "$CA" --attached "$work/doc" -o "$work/t.p7s"
a=$(avg $N $q verify cms "$work/t.p7s" --trust "$CA")
b=$(avg $N openssl cms -verify -binary -inform DER -in "$work/t.p7s" -CAfile "$CA" -purpose any -out /dev/null)
echo "verify CAdES-T (with its token) vs openssl cms -verify (signature only): qoltanba $((a / 1000)) ms, openssl $((b / 1000)) ms, ratio $(ratio "$a" "$b")"
a=$(avg $N $q sign cms --key "$KEY" --password-env QPW --tsa "$TSA" --tsa-trust "$CA" --attached "$work/doc" -o "$work/t2.p7s")
b=$(avg $N $q sign cms --key "$KEY" --password-env QPW --attached "$work/doc" -o "$work/b.p7s")
echo "sign CAdES-T vs CAdES-BES (the TSA round trip, openssl ts -reply per request): $((a / 1000)) ms vs $((b / 1000)) ms"
