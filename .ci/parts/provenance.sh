#!/usr/bin/env bash
# Outside checks for ouk-provenance (issue 5). Run from the workspace root; ../shared is beside it.
#  1. venv with spdx-tools and cyclonedx-python-lib[json-validation]
#  2. emit a sample kit SPDX document + provenance statement with the crate's `emit` example
#  3. pyspdxtools -i on the generated SPDX, the constructed valid SPDX and the real SPDX example
#  4. cyclonedx-python-lib schema validation of constructed and real CycloneDX inputs
#  5. every invalid fixture in testdata/provenance/sbom-invalid/both must be REJECTED by its tool
#  6. independent Python check of the statement (types, builder, exact subject set, plus a tamper)
#  7. the in-toto Attestation Framework's own bindings (PyPI in-toto-attestation) parse the
#     statement and its SLSA v1 predicate strictly (plus a tamper): the emitted one, and the demo
#     kit's as imported when the demo store is there
# (The securesystemslib check of the signed envelope inside a real kit is done by the lead's CI part.)
set -euo pipefail

ROOT=$(pwd)
SHARED="$ROOT/../shared"
FIX="$ROOT/testdata/provenance"
VENV="$ROOT/target/ci-venv-provenance"
OUT="$ROOT/target/ci-provenance"
TGT="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '[provenance] %s\n' "$*"; }

if [ ! -x "$VENV/bin/pyspdxtools" ] || ! "$VENV/bin/python" -c 'import cyclonedx.validation.json, jsonschema, in_toto_attestation; from cyclonedx.schema import SchemaVersion; SchemaVersion.V1_7' 2>/dev/null; then
  say "creating venv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'spdx-tools>=0.8,<0.9' \
    'cyclonedx-python-lib[json-validation]>=11.12,<12' 'in-toto-attestation==0.9.3'
fi
PY="$VENV/bin/python"

rm -rf "$OUT" && mkdir -p "$OUT"
say "emitting sample SPDX + statement"
CARGO_TARGET_DIR="$TGT" cargo run --quiet -p ouk-provenance --example emit -- "$OUT" >/dev/null

say "pyspdxtools -i: documents that must be valid"
for f in "$OUT/kit.spdx.json" "$FIX/sbom-valid/user-app.spdx.json" "$FIX/sbom-valid/user-app.spdx-2.2.json" "$SHARED/feeds/sbom/spdx-2.3/SPDXJSONExample-v2.3.spdx.json"; do
  "$VENV/bin/pyspdxtools" -i "$f" >"$OUT/pyspdxtools.log" 2>&1 || { cat "$OUT/pyspdxtools.log"; say "FAIL valid SPDX refused: $f"; exit 1; }
  say "ok   valid   $f"
done

say "pyspdxtools -i: invalid fixtures must be refused"
n=0
for f in "$FIX"/sbom-invalid/both/spdx-*.json; do
  if "$VENV/bin/pyspdxtools" -i "$f" >"$OUT/pyspdxtools.log" 2>&1; then
    say "FAIL invalid SPDX accepted by pyspdxtools: $f"; exit 1
  fi
  say "ok   refused $f"; n=$((n + 1))
done
[ "$n" -ge 1 ] || { say "FAIL no invalid SPDX fixtures found"; exit 1; }

say "cyclonedx-python-lib: valid inputs"
"$PY" "$FIX/validate_cyclonedx.py" --expect valid "$FIX"/sbom-valid/*.cdx-*.json "$SHARED"/feeds/sbom/cyclonedx-1.*/*.json
say "cyclonedx-python-lib: invalid fixtures must be refused"
"$PY" "$FIX/validate_cyclonedx.py" --expect invalid "$FIX"/sbom-invalid/both/cdx-*.json

say "independent statement check"
"$PY" "$FIX/verify_statement.py" "$OUT/statement.json" "$OUT/subjects.json" "https://ouk.dev/builders/ci@v1" --tamper

say "in-toto Attestation Framework bindings: Statement v1 and SLSA Provenance v1, strictly"
statements=("$OUT/statement.json")
[ -f "$ROOT/target/demo/store/current/.ouk/statement.json" ] && statements+=("$ROOT/target/demo/store/current/.ouk/statement.json")
"$PY" "$FIX/check_statement_intoto.py" "${statements[@]}"
say "all provenance outside checks passed"
