#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/) for a bounded time each (FUZZ_SECONDS, default 20),
# seeded from the public vectors in ../shared/kz-pki-vectors and from the tests' own outputs
# (the protocol transcripts, a fresh test PKI, signatures the CLI makes). Built on the pinned
# stable toolchain without a sanitizer (`-s none`; coverage instrumentation works on stable);
# a crash, a leak of time past -timeout, or a failed assertion fails the run and leaves the
# input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
SECS="${FUZZ_SECONDS:-20}"
TARGETS=(frame pkcs12 ber cms_verify xml_verify xml_c14n revocation_tsp)
corpus=fuzz/corpus
seeds="$T/fuzz-seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
for t in "${TARGETS[@]}"; do mkdir -p "$corpus/$t"; done

# The tests' own outputs: a test PKI in NCA's layout, and signatures made with it.
# (qoltanba and mkpki from the host build the tests use: fresh when scripts/test.sh runs this)
host_build
"$T/debug/mkpki" "$seeds/pki" >/dev/null
key=$(ls "$seeds"/pki/individual/RSA256_*.p12 | head -n1)
printf '11\n' >"$seeds/content.txt"
printf '<form xmlns:b="urn:b"><b:iin>123456789011</b:iin><!--c--><t>Сәлем</t></form>' >"$seeds/form.xml"
QOLTANBA_SEED_PW=Qwerty12 "$T"/debug/qoltanba sign cms --key "$key" --password-env QOLTANBA_SEED_PW \
  "$seeds/content.txt" -o "$seeds/detached.cms"
QOLTANBA_SEED_PW=Qwerty12 "$T"/debug/qoltanba sign cms --key "$key" --password-env QOLTANBA_SEED_PW \
  --attached "$seeds/content.txt" -o "$seeds/attached.cms"
QOLTANBA_SEED_PW=Qwerty12 "$T"/debug/qoltanba sign xml --key "$key" --password-env QOLTANBA_SEED_PW \
  "$seeds/form.xml" -o "$seeds/signed.xml"
cp "$seeds"/pki/*.p12 "$seeds"/pki/*/*.p12 "$corpus/pkcs12/"
cp "$seeds"/pki/*/*.p12 "$seeds"/pki/*.cer "$seeds"/*.cms "$corpus/ber/"
cp "$seeds"/*.cms "$corpus/cms_verify/"
cp "$seeds"/*.cms "$seeds"/pki/*.cer "$corpus/revocation_tsp/"
cp "$seeds/signed.xml" "$corpus/xml_verify/"
cp "$seeds/signed.xml" "$seeds/form.xml" "$corpus/xml_c14n/"
# Every request of the protocol transcripts.
python3 - "$corpus/frame" tests/transcripts <<'PY'
import json, pathlib, sys
out, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for i, f in enumerate(sorted(root.rglob("*.json"))):
    (out / f"transcript-{i}").write_text(json.loads(f.read_text())["request"])
PY

# The public vectors (NCA's own files), when they are beside the repository.
vectors=../shared/kz-pki-vectors
if [ -d "$vectors" ]; then
  cp "$vectors"/p12-test/*.p12 "$corpus/pkcs12/"
  cp "$vectors"/p12-test/*.p12 "$vectors"/ocsp-tsp-crl/* "$vectors"/leaf-test/* "$corpus/ber/"
  cp "$vectors"/signed/*.cms "$vectors"/signed/*.b64 "$vectors"/ocsp-tsp-crl/tsp_token.bin "$corpus/cms_verify/"
  cp "$vectors"/signed/*.xml "$corpus/xml_verify/"
  cp "$vectors"/signed/*.xml "$corpus/xml_c14n/"
  cp "$vectors"/ocsp-tsp-crl/* "$vectors"/signed/*.cms "$corpus/revocation_tsp/"
fi

echo "fuzz: building ${#TARGETS[@]} targets"
# Its own target directory: the instrumentation flags differ from every other build's.
fuzz_target="$T/fuzz"
cargo fuzz build -s none -O --target-dir "$fuzz_target"
bin_dir="$fuzz_target/$(rustc -vV | sed -n 's/^host: //p')/release"
rm -rf fuzz/artifacts
# Two targets at a time (libFuzzer runs on one core; the machine has two), each with the
# options `cargo fuzz run` passes and a log of its own.
run_one() { # TARGET
  local t=$1
  mkdir -p "fuzz/artifacts/$t"
  "$bin_dir/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -print_final_stats=1 "$corpus/$t" >"$T/fuzz-$t.log" 2>&1
}
report_one() { # TARGET STATUS
  local t=$1 log="$T/fuzz-$1.log"
  if [ "$2" != 0 ]; then
    tail -n 40 "$log" >&2
    echo "FAIL: fuzz target $t (input kept in fuzz/artifacts/$t/)" >&2
    return 1
  fi
  echo "fuzz: $t for ${SECS}s ($(ls "$corpus/$t" | wc -l) inputs in its corpus): $(grep -E \
    '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | tr '\n' ' ')"
}
failed=0
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
  pair=("${TARGETS[@]:i:2}")
  pids=()
  for t in "${pair[@]}"; do run_one "$t" & pids+=($!); done
  for j in "${!pair[@]}"; do
    status=0
    wait "${pids[$j]}" || status=$?
    report_one "${pair[$j]}" "$status" || failed=1
  done
done
[ "$failed" = 0 ] || exit 1
echo "fuzz: no crash in ${#TARGETS[@]} targets"
