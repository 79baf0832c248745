#!/usr/bin/env bash
# CI part: SBOMs written by the generators sites use besides Trivy, on the same lockfiles as the
# lockfiles part (testdata/lockfiles). Offline, pinned versions:
#
#   cdxgen 12.8.4 (npm)         CycloneDX 1.7 (its default) and 1.5, and its cdx-convert of the
#                               1.7 SBOM to SPDX 3.0 JSON-LD
#   cyclonedx-bom 7.5.0 (PyPI)  CycloneDX from each requirements.txt
#
# Then:
#  1. the builder takes the cdxgen 1.7 SBOM and a cyclonedx-py SBOM as user SBOMs (`--sbom`) into a
#     kit of ../shared/feeds, and the importer verifies and imports it;
#  2. `rescan` with the built-in matcher reads all of them and reports, per SBOM, exactly the
#     findings of testdata/lockfiles/expected-findings.json whose component that SBOM lists (read
#     here independently of the Rust code), exit 4; and the cdxgen SBOMs list every expected
#     component but the Maven ones (cdxgen needs Gradle itself for gradle.lockfile);
#  3. `rescan --trivy` (Trivy 0.59.1) reports the same for the SBOMs Trivy reads and lists the two
#     it cannot read (CycloneDX 1.7, SPDX 3) as unreadable: exit 5, never "clean".
set -euo pipefail
cd "$(dirname "$0")/../.."

TGT="${CARGO_TARGET_DIR:-target}"
W="$TGT/ci-sbom-generators"
TOOLS="$TGT/ci-sbom-tools"
LF=testdata/lockfiles
rm -rf "$W" && mkdir -p "$W/sboms" "$TOOLS"

source .ci/parts/rescan-lib.sh

echo "== sbom generators: install cdxgen 12.8.4 and cyclonedx-bom 7.5.0"
CDXGEN="$TOOLS/node/node_modules/.bin/cdxgen"
if [ ! -x "$CDXGEN" ]; then
  mkdir -p "$TOOLS/node"
  (cd "$TOOLS/node" && npm install --silent --no-audit --no-fund --no-save \
    @cyclonedx/cdxgen@12.8.4 >/dev/null)
fi
CDXPY="$TOOLS/venv/bin/cyclonedx-py"
if [ ! -x "$CDXPY" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check 'cyclonedx-bom==7.5.0'
fi

echo "== sbom generators: SBOMs of $LF, offline"
# cdxgen reads the directory it is given; a copy keeps anything it might write out of the tree.
cp -r "$LF" "$W/src"
cdxgen() { # cdxgen OUT [ARGS...]
  local out="$1"; shift
  "${OFFLINE[@]}" env CDXGEN_DEBUG_MODE= FETCH_LICENSE=false \
    "$CDXGEN" -r "$W/src" -o "$out" --no-install-deps "$@" > "$out.log" 2>&1 \
    || { cat "$out.log"; echo "cdxgen failed"; exit 1; }
}
cdxgen "$W/sboms/cdxgen-1.7.cdx.json"
cdxgen "$W/sboms/cdxgen-1.5.cdx.json" --spec-version 1.5
rm -f "$W"/sboms/*.log
"$TOOLS/node/node_modules/.bin/cdx-convert" -i "$W/sboms/cdxgen-1.7.cdx.json" \
  -o "$W/sboms/cdxgen.spdx3.json" > "$W/convert.log" 2>&1 || { cat "$W/convert.log"; exit 1; }
"${OFFLINE[@]}" "$CDXPY" requirements "$W/src/requirements.txt" --of JSON \
  -o "$W/sboms/cyclonedx-py.cdx.json"
"${OFFLINE[@]}" "$CDXPY" requirements "$W/src/second/requirements.txt" --of JSON \
  -o "$W/sboms/cyclonedx-py-second.cdx.json"
python3 - "$W/sboms" <<'PY'
import json, sys, pathlib
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    d = json.load(open(p))
    what = d.get("specVersion") or d.get("@context")
    print(f"  {p.name}: {what}")
PY

echo "== sbom generators: the builder takes the cdxgen 1.7 and a cyclonedx-py SBOM (--sbom)"
feeds_kit "$W" --sbom "$W/sboms/cdxgen-1.7.cdx.json" --sbom "$W/sboms/cyclonedx-py.cdx.json"
for s in cdxgen-1.7.cdx.json cyclonedx-py.cdx.json; do
  cmp "$W/sboms/$s" "$W/store/current/sbom/$s"
done
echo "both user SBOMs are in the imported generation, byte for byte"

echo "== sbom generators: rescan, built-in matcher and Trivy"
# Exit 4 (new findings) with the built-in matcher; 5 (incomplete) with Trivy, which cannot read
# two of them.
rescan_both "$W/sboms" "$W/store" "$W/rescan" 4 5

python3 - "$LF/expected-findings.json" "$W/sboms" "$W" <<'PY'
import json, sys, pathlib, urllib.parse
expected = json.load(open(sys.argv[1]))
sboms, w = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])

def package_of(purl):
    """(package, version) as the findings name them, from a purl: npm, Go and Packagist
    names include the namespace ("@babel/core", "guzzlehttp/guzzle"), Maven's is "group:artifact"."""
    if not purl or not purl.startswith("pkg:"):
        return None
    kind, _, rest = purl[4:].split("#", 1)[0].split("?", 1)[0].partition("/")
    path, at, version = urllib.parse.unquote(rest).rpartition("@")
    if not at or "/" in version:  # no version ("@babel/core" alone)
        path, version = urllib.parse.unquote(rest), ""
    ns, _, name = path.rpartition("/")
    if kind == "maven":
        name = f"{ns}:{name}"
    elif ns and kind in ("npm", "golang", "composer"):
        name = f"{ns}/{name}"
    return (name, version)

def listed(path):
    """(package, version) of every component the SBOM lists with a purl, read here without the
    Rust code."""
    d = json.load(open(path))
    purls = []
    if "@graph" in d:
        purls = [e.get("software_packageUrl") for e in d["@graph"] if e.get("type") == "software_Package"]
    else:
        def walk(cs):
            for c in cs or []:
                purls.append(c.get("purl"))
                walk(c.get("components"))
        walk(d.get("components"))
    return {p for p in map(package_of, purls) if p}

findings = {(f["advisory"], f["package"], f["installed"]) for f in expected["findings"]}
clean = {(c["package"], c["installed"]) for c in expected["clean"]}
ok = True
want_by_sbom = {}
for p in sorted(sboms.glob("*.json")):
    have = listed(p)
    want_by_sbom[p.name] = {f for f in findings if (f[1], f[2]) in have}
    if p.name.startswith("cdxgen"):
        missing = {f for f in findings if f not in want_by_sbom[p.name] and ":" not in f[1]}
        if missing:
            print(f"{p.name}: cdxgen did not list {sorted(missing)}"); ok = False
    if not want_by_sbom[p.name]:
        print(f"{p.name}: lists no component of an expected finding"); ok = False

unreadable_by_trivy = {"cdxgen-1.7.cdx.json", "cdxgen.spdx3.json"}
for engine, unreadable in [("own", set()), ("trivy", unreadable_by_trivy)]:
    report = json.load(open(w / f"rescan-{engine}.json"))
    names = {u.split(": ", 1)[0] for u in report["unreadable"]}
    if names != unreadable:
        print(f"{engine}: unreadable {sorted(names)}, expected {sorted(unreadable)}: {report['unreadable']}"); ok = False
    scanned = {s["sbom"] for s in report["sboms"]}
    if scanned != set(want_by_sbom) - unreadable:
        print(f"{engine}: scanned {sorted(scanned)}"); ok = False
    for s in report["sboms"]:
        got = {(f["advisory"], f["package"], f["installed"]) for f in s["new"]}
        want = want_by_sbom[s["sbom"]]
        label = f'{report["engine"]} on {s["sbom"]}'
        for miss in sorted(want - got):
            print(f"{label}: MISSING {miss}"); ok = False
        for extra in sorted(got - want):
            print(f"{label}: UNEXPECTED {extra}"); ok = False
        for hit in sorted(g for g in got if (g[1], g[2]) in clean):
            print(f"{label}: reported a clean component {hit}"); ok = False
        print(f"{label}: {len(got)} findings ({s['components']} components)")
    for u in report["unreadable"]:
        print(f'{report["engine"]}: unreadable {u[:160]}')
sys.exit(0 if ok else 1)
PY
echo "sbom generators: cdxgen and cyclonedx-py SBOMs are taken by the builder and re-scanned by both engines as expected"
