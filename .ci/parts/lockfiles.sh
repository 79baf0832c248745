#!/usr/bin/env bash
# CI part: the re-scan on real scanner input (testdata/lockfiles/README.md). Trivy 0.59.1 writes
# CycloneDX and SPDX JSON SBOMs from the lockfiles in testdata/lockfiles (offline); a kit built
# from the real feed samples in ../shared/feeds is imported into a fresh store; then
# `ouk-importer rescan` with the built-in matcher and with `--trivy` must both report exactly
# testdata/lockfiles/expected-findings.json for both SBOMs, and none of its clean components.
set -euo pipefail
cd "$(dirname "$0")/../.."

TGT="${CARGO_TARGET_DIR:-target}"
W="$TGT/ci-lockfiles"
LF=testdata/lockfiles
rm -rf "$W" && mkdir -p "$W/sboms" "$W/trivy-cache"

source .ci/parts/rescan-lib.sh

echo "== lockfiles: Trivy writes the SBOMs"
for fmt in cyclonedx:cdx spdx-json:spdx; do
  "${OFFLINE[@]}" "$TRIVY" fs --quiet --skip-db-update --offline-scan --cache-dir "$W/trivy-cache" \
    --format "${fmt%%:*}" -o "$W/sboms/lockfiles.${fmt#*:}.json" "$LF"
done

echo "== lockfiles: kit from the real feed samples, imported into a fresh store"
feeds_kit "$W"

echo "== lockfiles: rescan, built-in matcher and Trivy"
rescan_both "$W/sboms" "$W/store" "$W/rescan"

python3 - "$LF/expected-findings.json" "$W/rescan-own.json" "$W/rescan-trivy.json" <<'PY'
import json, sys
expected = json.load(open(sys.argv[1]))
want = {(f["advisory"], f["package"], f["installed"]) for f in expected["findings"]}
clean = {(c["package"], c["installed"]) for c in expected["clean"]}
ok = True
for path in sys.argv[2:]:
    report = json.load(open(path))
    names = sorted(s["sbom"] for s in report["sboms"])
    if names != ["lockfiles.cdx.json", "lockfiles.spdx.json"]:
        print(f"{path}: scanned {names}, expected the CycloneDX and the SPDX SBOM"); ok = False
    for s in report["sboms"]:
        got = {(f["advisory"], f["package"], f["installed"]) for f in s["new"]}
        label = f'{report["engine"]} on {s["sbom"]}'
        for miss in sorted(want - got):
            print(f"{label}: MISSING {miss}"); ok = False
        for extra in sorted(got - want):
            print(f"{label}: UNEXPECTED {extra}"); ok = False
        for hit in sorted(g for g in got if (g[1], g[2]) in clean):
            print(f"{label}: reported a clean component {hit}"); ok = False
        print(f"{label}: {len(got)} findings ({s['components']} components)")
sys.exit(0 if ok else 1)
PY
echo "lockfiles: built-in matcher and Trivy agree with expected-findings.json"
