#!/usr/bin/env bash
# CI part for issue 13 with the REAL binaries on REAL data: kit N from ../shared/feeds, kit N+1
# from the same plus one real advisory (testdata/changes/next-day: GHSA-jjg7-2v4v-x38h, idna < 3.7)
# that affects a component of a real SBOM of ../shared/feeds/sbom. Both are imported; then
#   - `diff` must list exactly that advisory as added;
#   - `rescan` must name exactly that SBOM as newly affected, with the built-in matcher AND with
#     the real Trivy 0.59.1 (installed by the trivy part) on the generations' Trivy DBs, exit 4;
#   - the post-import hook (`rescan --config`) works and is a no-op without its settings file;
#   - `report --html` writes a page that a real headless Chromium renders with no console error
#     and no network request, showing the finding; the screenshot is kept as a CI artifact
#     in $TGT/ci-artifacts/status.png.
set -euo pipefail
cd "$(dirname "$0")/../.."

SHARED="${SHARED:-../shared}"
F="$SHARED/feeds"
TGT="${CARGO_TARGET_DIR:-target}"
W="$TGT/ci-changes"
ART="$TGT/ci-artifacts"
SBOM_DIR="$F/sbom"
AFFECTED="cyclonedx-1.5/cyclonedx-python_requirements_file_with-comments_1.5.json"
rm -rf "$W" && mkdir -p "$W" "$ART"

cargo build --release -q -p ouk-builder
cargo build --release -q -p ouk-importer
B="$TGT/release/ouk-builder"
I="$TGT/release/ouk-importer"

common=(--source "ghsa=$F/ghsa" --source "osv=$F/go" --source "osv=$F/pysec" --source "osv=$F/rustsec"
  --source "nvd=$F/nvd" --sbom "$SBOM_DIR/$AFFECTED"
  --key keys/dev/kit.key --attestation-key keys/dev/attestation.key --expires 30d
  --builder-id https://ouk.dev/builders/dev --quiet)
"$B" build "${common[@]}" --sequence 1 --out "$W/day-1.ouk"
"$B" build "${common[@]}" --source ghsa=testdata/changes/next-day --sequence 2 --out "$W/day-2.ouk"

S="$W/store"
"$I" import "$W/day-1.ouk" --trust-root keys/dev/trust-root.json --store "$S"
"$I" import "$W/day-2.ouk" --trust-root keys/dev/trust-root.json --store "$S"

echo "== diff"
"$I" diff --store "$S" | tee "$W/diff.txt"
"$I" diff --store "$S" --json > "$W/diff.json"
python3 - "$W/diff.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["advisories"]["entries"]
assert len(e) == 1 and e[0]["kind"] == "added", e
assert "GHSA-jjg7-2v4v-x38h" in [e[0]["id"]] + e[0].get("aliases", []), e
assert e[0]["ecosystems"] == ["PyPI"] and e[0]["severity"] == "MEDIUM", e
assert d["complete"] is True
print("diff: exactly GHSA-jjg7-2v4v-x38h added, as it must")
PY

check_rescan() { # check_rescan LABEL ARGS...: exit 4, exactly the one SBOM and the one finding
  local label="$1" rc=0
  shift
  "$I" rescan --sboms "$SBOM_DIR" --store "$S" --json "$@" > "$W/rescan-$label.json" || rc=$?
  [ "$rc" -eq 4 ] || { cat "$W/rescan-$label.json"; echo "rescan ($label) exited $rc, expected 4"; exit 1; }
  python3 - "$W/rescan-$label.json" "$AFFECTED" <<'PY'
import json, sys
r, affected = json.load(open(sys.argv[1])), sys.argv[2]
assert r["with_new_findings"] == [affected], r["with_new_findings"]
hit = [s for s in r["sboms"] if s["sbom"] == affected][0]
assert hit["newly_affected"] and len(hit["new"]) == 1, hit
f = hit["new"][0]
ids = [f["advisory"]] + f.get("aliases", [])
assert ("GHSA-jjg7-2v4v-x38h" in ids or "CVE-2024-3651" in ids), f
assert (f["package"], f["installed"], f.get("fixed")) == ("idna", "2.10", "3.7"), f
print(f"rescan ({r['engine']}): {affected} newly affected by {f['advisory']} on idna 2.10, as it must")
PY
}
echo "== rescan, built-in matcher"
check_rescan own
echo "== rescan, real Trivy 0.59.1 offline on the generations' DBs"
TRIVY="$TGT/ci-trivy/trivy-0.59.1"
[ -x "$TRIVY" ] || bash .ci/parts/trivy.sh >/dev/null
listing() { find "$S/generations" -printf '%p %s %T@\n' | sort; }
listing > "$W/generations-before.txt"
check_rescan trivy --trivy "$TRIVY"
# Trivy must not have written into the published generations (it gets a scratch cache dir).
listing > "$W/generations-after.txt"
diff "$W/generations-before.txt" "$W/generations-after.txt" || { echo "trivy changed a generation"; exit 1; }

echo "== post-import hook settings"
"$I" rescan --config "$W/absent.toml" --if-configured --store "$S"
cat > "$W/rescan.toml" <<EOF2
[rescan]
sboms = "$SBOM_DIR"
html = "$W/hook-status.html"
EOF2
rc=0; "$I" rescan --config "$W/rescan.toml" --store "$S" > "$W/hook.txt" || rc=$?
[ "$rc" -eq 4 ] && grep -q "NEWLY AFFECTED $AFFECTED" "$W/hook.txt" && [ -s "$W/hook-status.html" ] \
  || { cat "$W/hook.txt"; echo "hook rescan failed (rc $rc)"; exit 1; }

echo "== status page in a real browser"
"$I" rescan --sboms "$SBOM_DIR" --store "$S" >/dev/null || true
"$I" report --html "$W/status.html" --store "$S"
bash .ci/parts/report-browser.sh "$W/status.html" "$ART/status.png" \
  "$AFFECTED" "idna" "CVE-2024-3651 (GHSA-jjg7-2v4v-x38h)" "stable-2"
echo "changes part OK (screenshot: $ART/status.png)"
