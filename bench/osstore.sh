#!/usr/bin/env bash
# The OS store on Linux against NSS's own tools, on the same NSS database and key in one run:
#   - `qoltanba sign cms --os-key` (softokn opened read-only, CMS made by us, signed inside
#     NSS) vs NSS's `cmsutil -S` (the same key, NSS's own CMS signer), 4 KiB detached
#   - the same through a key file (`sign cms --key`) and `openssl cms -sign` with a PEM key,
#     for scale
#   - `qoltanba keys list` of a database holding every key of the test PKI
# Usage: bench/osstore.sh   (release build; a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
cargo build --release -q -p qoltanba -p qoltanba-testkit --bin qoltanba --bin mkpki
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q=$T/release/qoltanba
$T/release/mkpki "$work/pki" >/dev/null
db="$work/nssdb"
mkdir "$db"
certutil -N -d "sql:$db" --empty-password
key=$(ls "$work"/pki/individual/RSA256_*.p12)
# The benchmarked key first: NSS gives later certificates with the same subject its nickname.
nickname=key0
n=0
for f in "$key" $(ls "$work"/pki/*/*.p12 | grep -v "$key"); do
  openssl pkcs12 -legacy -in "$f" -passin pass:Qwerty12 -nodes -out "$work/k.pem" 2>/dev/null
  openssl pkcs12 -export -in "$work/k.pem" -passout pass:x -out "$work/m.p12" -name "key$n"
  pk12util -i "$work/m.p12" -d "sql:$db" -W x >/dev/null
  n=$((n + 1))
done
openssl pkcs12 -legacy -in "$key" -passin pass:Qwerty12 -nodes -out "$work/key.pem" 2>/dev/null
thumb=$(openssl x509 -in "$work/key.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
head -c 4096 /dev/urandom >"$work/doc"
export QPW=Qwerty12
avg() { # avg N command... → mean wall-clock µs per run
  local n=$1; shift
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; done
  end=$(date +%s%N)
  echo $(( (end - start) / n / 1000 ))
}
ms() { awk -v a="$1" 'BEGIN {printf "%.1f ms", a / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
N=20
a=$(avg $N $q sign cms --os-key "$thumb" --nss-db "$db" "$work/doc" -o "$work/a.p7s")
b=$(avg $N cmsutil -S -N "$nickname" -d "sql:$db" -i "$work/doc" -o "$work/b.p7s" -T -Y NONE)
c=$(avg $N $q sign cms --key "$key" --password-env QPW "$work/doc" -o "$work/c.p7s")
d=$(avg $N openssl cms -sign -binary -md sha256 -signer "$work/key.pem" -in "$work/doc" -outform DER -out "$work/d.p7s")
e=$(avg $N $q keys list --nss-db "$db" --json)
openssl cms -verify -binary -inform DER -in "$work/a.p7s" -content "$work/doc" -CAfile "$work/pki/ca.pem" -purpose any -out /dev/null 2>/dev/null \
  || { echo "our NSS signature does not verify" >&2; exit 1; }
echo "keys in the NSS database: $n"
echo "sign cms --os-key (NSS): $(ms "$a"); cmsutil -S (NSS's own): $(ms "$b"); ratio $(ratio "$a" "$b")"
echo "sign cms --key (file):   $(ms "$c"); openssl cms -sign (PEM key): $(ms "$d"); ratio $(ratio "$c" "$d")"
echo "keys list (all sources, $n NSS keys): $(ms "$e")"
