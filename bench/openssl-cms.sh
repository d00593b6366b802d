#!/usr/bin/env bash
# Compares qoltanba with OpenSSL on the same inputs, whole processes included:
#   - openssl speed rsa2048 (the private-key operation alone; compare with the criterion
#     bench rsa2048_sign_sha256_raw)
#   - `openssl cms -sign` vs `qoltanba sign cms`, detached 1 KiB / 1 MiB / 100 MiB, attached
#     100 MiB against `openssl cms -sign -stream`, with the ratios
#   - peak memory (max RSS) of both for attached 100 MiB: qoltanba streams, so its RSS should
#     stay far below the input size.
# Usage: bench/openssl-cms.sh   (builds release binaries; writes into a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
cargo build --release -q -p qoltanba -p qoltanba-testkit --bin qoltanba --bin mkpki
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$T/release/mkpki "$work/pki" Qwerty12 >/dev/null
key=$(ls "$work"/pki/individual/RSA256_*.p12)
openssl pkcs12 -legacy -in "$key" -passin pass:Qwerty12 -nodes -nocerts -out "$work/key.pem" 2>/dev/null
openssl pkcs12 -legacy -in "$key" -passin pass:Qwerty12 -nokeys -clcerts -out "$work/cert.pem" 2>/dev/null
head -c 1024 /dev/urandom >"$work/1KiB"
head -c $((1 << 20)) /dev/urandom >"$work/1MiB"
head -c $((100 << 20)) /dev/urandom >"$work/100MiB"
export QPW=Qwerty12

avg() { # avg N command... → mean wall-clock seconds per run
  local n=$1; shift
  local start end
  start=$(date +%s.%N)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done
  end=$(date +%s.%N)
  echo "scale=4; ($end - $start) / $n" | bc
}

echo "== openssl speed rsa2048 (sign/s, 1 core)"
openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E '^rsa +2048' || true
ratio() { echo "scale=2; $1 / $2" | bc; }
printf '\n%-22s %12s %12s %7s\n' "case (whole process)" "openssl s" "qoltanba s" "ratio"
for size in 1KiB 1MiB 100MiB; do
  n=40; [ "$size" = 100MiB ] && n=5
  o=$(avg $n openssl cms -sign -binary -md sha256 -outform DER -in "$work/$size" -signer "$work/cert.pem" -inkey "$work/key.pem" -out "$work/o.p7s")
  q=$(avg $n $T/release/qoltanba sign cms --key "$key" --password-env QPW "$work/$size" -o "$work/q.p7s")
  printf '%-22s %12s %12s %6sx\n' "detached $size" "$o" "$q" "$(ratio "$q" "$o")"
done
# Attached: openssl's streaming mode (-stream: indefinite-length BER, the content is not held),
# which is what qoltanba does.
o=$(avg 5 openssl cms -sign -nodetach -stream -binary -md sha256 -outform DER -in "$work/100MiB" -signer "$work/cert.pem" -inkey "$work/key.pem" -out "$work/o.p7s")
q=$(avg 5 $T/release/qoltanba sign cms --attached --key "$key" --password-env QPW "$work/100MiB" -o "$work/q.p7s")
printf '%-22s %12s %12s %6sx\n' "attached 100MiB" "$o" "$q" "$(ratio "$q" "$o")"

echo
echo "== peak RSS, attached 100 MiB (KiB)"
/usr/bin/time -f "openssl -stream %M" openssl cms -sign -nodetach -stream -binary -md sha256 -outform DER -in "$work/100MiB" -signer "$work/cert.pem" -inkey "$work/key.pem" -out "$work/o.p7s"
/usr/bin/time -f "qoltanba %M" $T/release/qoltanba sign cms --attached --key "$key" --password-env QPW "$work/100MiB" -o "$work/q.p7s"
openssl cms -verify -binary -inform DER -in "$work/q.p7s" -CAfile "$work/pki/ca.pem" -purpose any -out /dev/null
