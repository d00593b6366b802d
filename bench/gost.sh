#!/usr/bin/env bash
# GOST signing against OpenSSL's gost engine (Debian's libengine-gost-openssl) on the same curve,
# key and digest, in one run: GOST 34.310-2004 on CryptoPro-A (the engine's gost2001, paramset A)
# and GOST R 34.10-2015 512-bit on TC26-512-A (gost2012_512, paramset A). Both sides sign a
# digest in a loop inside one process (bench/gost-engine.c; crates/gost/examples/speed.rs), so
# this compares the signature alone; whole-process figures are in bench/openssl-cms.sh.
# Usage: bench/gost.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
iterations=${1:-5000}
cargo build --release -q -p qoltanba-gost --example speed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/gost-engine" bench/gost-engine.c -lcrypto
min() { echo "if ($1 < $2) $1 else $2" | sed 's/1e9/1000000000/g' | bc; }
printf '%-34s %12s %12s %8s\n' "sign (µs per signature)" "gost engine" "qoltanba" "ratio"
for case in "gost2001 256 32 GOST 34.310-2004, CryptoPro-A" "gost2012_512 512 64 GOST R 34.10-2015, TC26-512-A"; do
  read -r algorithm bits digest name <<<"$case"
  openssl genpkey -engine gost -algorithm "$algorithm" -pkeyopt paramset:A -out "$work/k.pem" 2>/dev/null
  d=$(openssl pkey -engine gost -in "$work/k.pem" -text -noout 2>/dev/null | sed -n 's/^Private key: *//p')
  # Alternate the two, three times, and keep each side's best run.
  best_e=1e9 best_q=1e9
  for _ in 1 2 3; do
    best_e=$(min "$best_e" "$("$work/gost-engine" "$work/k.pem" "$digest" "$iterations")")
    best_q=$(min "$best_q" "$($T/release/examples/speed "$bits" "$d" "$iterations")")
  done
  printf '%-34s %12s %12s %7.2fx\n' "$name" "$best_e" "$best_q" "$(echo "$best_q / $best_e" | bc -l)"
done
