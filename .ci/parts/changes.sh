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
#   - diff.json, every generation's .ouk/changes.json and the re-scan reports validate against
#     spec/schemas/{changes,rescan}.schema.json, and broken copies of them are REJECTED.
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
echo "== the documents above against their schemas (spec/schemas, OUK-FORMAT.md section 16)"
VENV=${SPEC_VENV:-target/ci-venv-spec}
if [ ! -x "$VENV/bin/check-jsonschema" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    'check-jsonschema>=0.29,<1' 'zstandard>=0.22' 'cryptography>=42'
fi
CJ="$VENV/bin/check-jsonschema"
CS=spec/schemas/changes.schema.json
RS=spec/schemas/rescan.schema.json
"$CJ" --check-metaschema "$CS" "$RS"
"$CJ" --schemafile "$CS" "$W/diff.json" "$S/current/.ouk/changes.json" "$S"/generations/*/.ouk/changes.json
"$CJ" --schemafile "$RS" "$W"/rescan-own.json "$W"/rescan-trivy.json "$S/reports/rescan.json"
rm -rf "$W/schema-cases" && mkdir -p "$W/schema-cases"
python3 - "$W" <<'PY'
import copy, json, os, sys
w = sys.argv[1]
out = os.path.join(w, "schema-cases")
diff = json.load(open(os.path.join(w, "diff.json")))
resc = json.load(open(os.path.join(w, "rescan-own.json")))
def put(schema, verdict, name, base, f):
    d = copy.deepcopy(base); f(d)
    json.dump(d, open(os.path.join(out, f"{schema}.{verdict}.{name}.json"), "w"))
entry = lambda d: d["advisories"]["entries"][0]
hit = lambda r: [x for x in r["sboms"] if x["newly_affected"]][0]
def incomplete(d):  # what the writer produces when a snapshot cannot be compared
    d.update(complete=False, error="after snapshot line 2: not sorted")
    d["advisories"] = {"entries": [], "summary": {"records_before": 0, "records_after": 0, "unchanged": 0,
                    "totals": {"added": 0, "changed": 0, "withdrawn": 0, "removed": 0},
                    "by_ecosystem": {}, "by_severity": {},
                    "after": {"advisories": 0, "by_ecosystem": {}, "by_severity": {}}}}
def changed(fields):
    def f(d):
        entry(d).update(kind="changed", fields=fields)
    return f
# Documents the writer can produce and the real runs above did not: must be ACCEPTED.
put("changes", "good", "incomplete", diff, incomplete)
put("changes", "good", "changed_modified_only", diff, changed(["modified"]))
put("changes", "good", "changed_two_fields", diff, changed(["summary", "affected"]))
put("changes", "good", "unreadable_sbom", diff, lambda d: d["sboms"].__setitem__("unreadable", ["a.json: bad"]))
put("rescan", "good", "no_previous", resc, lambda r: [r.update(previous=None)] +
    [x.update(previous_findings=0, newly_affected=False, resolved=[]) for x in r["sboms"]])
# Broken copies: must be REJECTED.
put("changes", "bad", "extra_top_level_field", diff, lambda d: d.__setitem__("extra", 1))
put("changes", "bad", "entry_extra_field", diff, lambda d: entry(d).__setitem__("cvss", 5))
put("changes", "bad", "kind_unknown", diff, lambda d: entry(d).__setitem__("kind", "modified"))
put("changes", "bad", "severity_moderate", diff, lambda d: entry(d).__setitem__("severity", "MODERATE"))
put("changes", "bad", "count_negative", diff, lambda d: d["advisories"]["summary"]["totals"].__setitem__("added", -1))
put("changes", "bad", "count_not_integer", diff, lambda d: d["advisories"]["summary"].__setitem__("unchanged", 1.5))
put("changes", "bad", "to_missing", diff, lambda d: d.pop("to"))
put("changes", "bad", "format_v2", diff, lambda d: d.__setitem__("format", "ouk-changes/2"))
put("changes", "bad", "incomplete_without_error", diff, lambda d: [incomplete(d), d.pop("error")])
put("changes", "bad", "incomplete_with_entries", diff, lambda d: [incomplete(d),
    d["advisories"].__setitem__("entries", diff["advisories"]["entries"])])
put("changes", "bad", "complete_with_error", diff, lambda d: d.__setitem__("error", "x"))
put("changes", "bad", "changed_without_fields", diff, lambda d: entry(d).__setitem__("kind", "changed"))
put("changes", "bad", "added_with_fields", diff, lambda d: entry(d).__setitem__("fields", ["summary"]))
put("changes", "bad", "modified_beside_other_field", diff, changed(["modified", "summary"]))
put("changes", "bad", "field_not_osv_top_level", diff, changed(["x-vendor"]))
put("changes", "bad", "ecosystems_empty", diff, lambda d: entry(d).__setitem__("ecosystems", []))
put("changes", "bad", "by_severity_unknown_key", diff,
    lambda d: d["advisories"]["summary"]["after"]["by_severity"].__setitem__("SEVERE", 1))
put("changes", "bad", "generation_name", diff, lambda d: d["to"].__setitem__("generation", "current"))
put("rescan", "good", "unchecked_components", resc,
    lambda r: r["sboms"][0].__setitem__("unchecked", {"rpm/redhat": 212, "conan": 1}))
put("rescan", "bad", "unchecked_zero", resc,
    lambda r: r["sboms"][0].__setitem__("unchecked", {"rpm/redhat": 0}))
put("rescan", "bad", "extra_top_level_field", resc, lambda r: r.__setitem__("extra", 1))
put("rescan", "bad", "finding_extra_field", resc, lambda r: hit(r)["new"][0].__setitem__("cvss", 5))
put("rescan", "bad", "format_v2", resc, lambda r: r.__setitem__("format", "ouk-rescan/2"))
put("rescan", "bad", "at_with_offset", resc, lambda r: r.__setitem__("at", "2026-01-01T00:00:00+00:00"))
put("rescan", "bad", "at_fraction", resc, lambda r: r.__setitem__("at", "2026-01-01T00:00:00.5Z"))
put("rescan", "bad", "count_negative", resc, lambda r: r.__setitem__("sboms_scanned", -1))
put("rescan", "bad", "generation_missing", resc, lambda r: r.pop("generation"))
put("rescan", "bad", "severity_lower_case", resc, lambda r: hit(r)["new"][0].__setitem__("severity", "medium"))
put("rescan", "bad", "newly_affected_with_previous_findings", resc,
    lambda r: hit(r).__setitem__("previous_findings", 1))
put("rescan", "bad", "newly_affected_without_previous", resc, lambda r: r.__setitem__("previous", None))
put("rescan", "bad", "engine_unknown", resc, lambda r: r.__setitem__("engine", "grype"))
PY
fail=0
for f in "$W"/schema-cases/*.json; do
  name=$(basename "$f" .json); schema=${name%%.*}; verdict=${name#*.}; verdict=${verdict%%.*}
  if "$CJ" --schemafile "spec/schemas/$schema.schema.json" "$f" >/dev/null 2>&1; then got=good; else got=bad; fi
  if [ "$got" = "$verdict" ]; then
    [ "$got" = bad ] && echo "rejected: $name" || echo "accepted: $name"
  else
    echo "WRONG: $name should be $verdict, schema says $got"; fail=1
  fi
done
[ "$fail" = 0 ] || { echo "a schema disagrees with what the importer writes"; exit 1; }
echo "== hostile snapshots in validly signed kits: they import, in bounded memory"
# A compromised builder signs a snapshot built to blow up a JSON tree, one with a line over the
# 8 MiB cap, one out of order (ouk-hostile/examples/hostile_snapshots.rs). The change report must
# not be a way to exhaust the importer, nor a reason to refuse a verified kit.
cargo build -q -p ouk-hostile --example rss_probe --example hostile_snapshots
HS="$W/hostile-snapshots"
"$TGT/debug/examples/hostile_snapshots" "$HS" >/dev/null
for case in blowup:True long-line:False unsorted:False; do
  name=${case%%:*} want=${case##*:}
  rc=0
  "$TGT/debug/examples/rss_probe" "$HS/$name.rss" "$I" import "$HS/$name.ouk" \
    --trust-root "$HS/trust-root.json" --store "$HS/store-$name" --quiet || rc=$?
  kib=$(cat "$HS/$name.rss")
  got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["complete"])' \
    "$HS/store-$name/current/.ouk/changes.json")
  echo "$name: exit $rc, peak RSS $((kib / 1024)) MiB, report complete: $got"
  [ "$rc" -eq 0 ] || { echo "$name: the import failed"; exit 1; }
  [ "$kib" -lt $((64 * 1024)) ] || { echo "$name: importer peak RSS over 64 MiB"; exit 1; }
  [ "$got" = "$want" ] || { echo "$name: report complete=$got, expected $want"; exit 1; }
done
# The re-scan streams the same hostile snapshot: bounded too.
rc=0
"$TGT/debug/examples/rss_probe" "$HS/rescan.rss" "$I" rescan --sboms "$SBOM_DIR" \
  --store "$HS/store-blowup" --no-record --quiet || rc=$?
kib=$(cat "$HS/rescan.rss")
echo "rescan of the blowup snapshot: exit $rc, peak RSS $((kib / 1024)) MiB"
[ "$rc" -eq 0 ] && [ "$kib" -lt $((64 * 1024)) ] || { echo "rescan not bounded"; exit 1; }
echo "changes part OK (screenshot: $ART/status.png)"
