#!/usr/bin/env bash
# Times `xmlsec1 --sign` / `--verify` and `qoltanba sign xml` / `verify xml` (whole processes)
# on a 10 KiB and a 10 MiB form, with the ratios, and the peak memory of both on the 10 MiB form;
# the in-process figures are `cargo bench -p qoltanba-sign --bench xml`.
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
export QPW=Qwerty12

make_form() { # size file
  python3 - "$1" "$2" <<'PY'
import sys
size, out = int(sys.argv[1]), sys.argv[2]
parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<form xmlns="urn:egov:form">\n']
n, i = len(parts[0].encode()), 0
while n < size:
    line = f'  <field n="{i}" kind="text">Өтініш беруші / Заявитель №{i}: Тестов Тест</field>\n'
    parts.append(line); n += len(line.encode()); i += 1
parts.append('</form>\n')
open(out, 'w', encoding='utf-8').write(''.join(parts))
PY
}
template() { # form → xmlsec template with an empty Kalkan-shaped signature
  python3 - "$1" "$2" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
t = open(src, encoding='utf-8').read()
sig = ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
 '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
 '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
 '<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
 '<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"/></ds:Transforms>'
 '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
 '<ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>')
i = t.rindex('</form>')
open(out, 'w', encoding='utf-8').write(t[:i] + sig + t[i:])
PY
}
avg() { local n=$1; shift; local s e; s=$(date +%s.%N); for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done; e=$(date +%s.%N); echo "scale=4; ($e - $s) / $n" | bc; }

ratio() { echo "scale=2; $1 / $2" | bc; }
printf '%-12s %11s %11s %6s   %11s %11s %6s\n' "form" "xmlsec sign" "qoltanba" "ratio" "xmlsec vfy" "qoltanba" "ratio"
for size in 10240 10485760; do
  make_form $size "$work/f.xml"; template "$work/f.xml" "$work/t.xml"
  n=20; [ $size -gt 1000000 ] && n=5
  xs=$(avg $n xmlsec1 --sign --privkey-pem "$work/key.pem,$work/cert.pem" --output "$work/x.xml" "$work/t.xml")
  qs=$(avg $n $T/release/qoltanba sign xml --key "$key" --password-env QPW "$work/f.xml" -o "$work/q.xml")
  xmlsec1 --verify --insecure "$work/q.xml" >/dev/null 2>&1 || { echo "xmlsec1 rejected qoltanba's signature"; exit 1; }
  xv=$(avg $n xmlsec1 --verify --insecure "$work/x.xml")
  qv=$(avg $n $T/release/qoltanba verify xml "$work/x.xml")
  printf '%-12s %11s %11s %5sx   %11s %11s %5sx\n' "$size B" "$xs" "$qs" "$(ratio "$qs" "$xs")" "$xv" "$qv" "$(ratio "$qv" "$xv")"
done

# Peak memory on the 10 MiB form (the last one made), as a multiple of the document's size.
doc_kib=$(( $(stat -c %s "$work/f.xml") / 1024 ))
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
echo
printf '%-28s %10s %8s\n' "peak RSS, 10 MiB form" "KiB" "× doc"
for row in "xmlsec1 --sign|xmlsec1 --sign --privkey-pem $work/key.pem,$work/cert.pem --output $work/x.xml $work/t.xml" \
           "qoltanba sign xml|$T/release/qoltanba sign xml --key $key --password-env QPW $work/f.xml -o $work/q.xml" \
           "xmlsec1 --verify|xmlsec1 --verify --insecure $work/x.xml" \
           "qoltanba verify xml|$T/release/qoltanba verify xml $work/x.xml"; do
  name=${row%%|*}; cmd=${row#*|}
  # shellcheck disable=SC2086 # the command is split into words on purpose
  kib=$(peak $cmd)
  printf '%-28s %10s %8s\n' "$name" "$kib" "$(echo "scale=1; $kib / $doc_kib" | bc)"
done
