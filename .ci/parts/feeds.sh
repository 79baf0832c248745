#!/usr/bin/env bash
# CI part for ouk-feeds: merge the real shared feeds and testdata/feeds, then
# validate every merged record against the OSV schema with check-jsonschema.
set -euo pipefail

SHARED="${SHARED:-../shared}"
FEEDS="$SHARED/feeds"
REG="$FEEDS/regional"
TGT="${CARGO_TARGET_DIR:-target}"
VENV="$TGT/ci-venv-feeds"
OUT="$TGT/ci-feeds-out"

if [ ! -x "$VENV/bin/check-jsonschema" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'check-jsonschema==0.33.0'
fi

cargo build --release -q -p ouk-feeds --example merge
MERGE="$TGT/release/examples/merge"

rm -rf "$OUT"
"$MERGE" --out "$OUT/shared" \
  ghsa="$FEEDS/ghsa" osv="$FEEDS/go" osv="$FEEDS/pysec" osv="$FEEDS/rustsec" \
  osv="$FEEDS/osv-schema-testdata" nvd="$FEEDS/nvd" \
  cnnvd="$REG/cnnvd" cnvd="$REG/cnvd" enisa="$REG/euvd" jvn="$REG/jvn"

TD=testdata/feeds
"$MERGE" --include-unreviewed --out "$OUT/testdata" \
  osv="$TD/osv" osv="$TD/osv-zip/all.zip" osv="$TD/pypa" ghsa="$TD/ghsa" nvd="$TD/nvd" \
  cnnvd="$TD/cnnvd" cnvd="$TD/cnvd" enisa="$TD/enisa" jvn="$TD/jvn" bdu="$TD/bdu"

# check-jsonschema wants one document per file: split the NDJSON.
validate() {
  local nd="$1" dir="$1.split"
  mkdir -p "$dir"
  python3 - "$nd" "$dir" <<'PY'
import json, sys
nd, d = sys.argv[1], sys.argv[2]
n = 0
with open(nd, encoding="utf-8") as f:
    for i, line in enumerate(f):
        json.loads(line)
        with open(f"{d}/{i:07d}.json", "w", encoding="utf-8") as o:
            o.write(line)
        n += 1
if n == 0:
    sys.exit(f"{nd}: no records")
print(f"{nd}: {n} records")
PY
  "$VENV/bin/check-jsonschema" --schemafile "$FEEDS/osv-schema.json" "$dir"/*.json
}
validate "$OUT/shared/advisories.ndjson"
validate "$OUT/testdata/advisories.ndjson"
echo "feeds: schema validation passed"
