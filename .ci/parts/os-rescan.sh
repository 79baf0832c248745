#!/usr/bin/env bash
# CI part: distribution packages through `ouk-importer rescan` (both engines) on a real store.
#
#   .ci/parts/os-rescan.sh STORE
#
# STORE holds an imported kit built with testdata/trivy/os/osv (scripts/demo.sh's store). Trivy
# 0.59.1 (installed by the trivy part) writes CycloneDX and SPDX SBOMs of the root file systems in
# testdata/trivy/os/rootfs; `rescan` with the built-in matcher and with `--trivy` must report, per
# SBOM, exactly the advisories of testdata/trivy/os/expected-findings.json (the built-in matcher
# also its `builtin_only` ones), for both formats.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORE="$1"
TGT="${CARGO_TARGET_DIR:-target}"
W="$TGT/ci-os-rescan"
TD=testdata/trivy/os
source .ci/parts/rescan-lib.sh
rm -rf "$W" && mkdir -p "$W/sboms"
bash "$TD/make-rpmdb.sh" >/dev/null

for root in "$TD"/rootfs/*/; do
  label=$(basename "$root")
  for fmt in cyclonedx:cdx spdx-json:spdx; do
    "${OFFLINE[@]}" "$TRIVY" rootfs --quiet --skip-db-update --offline-scan --cache-dir "$W/cache" \
      --format "${fmt%%:*}" -o "$W/sboms/$label.${fmt#*:}.json" "$root"
  done
done

rescan_both "$W/sboms" "$STORE" "$W/rescan"

python3 - "$TD/expected-findings.json" "$W/rescan-own.json" "$W/rescan-trivy.json" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
ok = True
for path in sys.argv[2:]:
    report = json.load(open(path))
    builtin = report["engine"] == "ouk"
    labels = set()
    for s in report["sboms"]:
        label = s["sbom"].removesuffix(".json").removesuffix(".cdx").removesuffix(".spdx")
        labels.add(label)
        want = {f["id"] for f in exp["findings"] if f["sbom"] == label}
        if builtin:
            want |= {f["id"] for f in exp.get("builtin_only", []) if f["sbom"] == label}
        got = {f["advisory"] for f in s["new"]}
        status = "ok" if got == want else "MISMATCH"
        if got != want:
            ok = False
        print(f'{report["engine"]:>13} {s["sbom"]:<24} {status}: {sorted(got)}'
              + ("" if got == want else f" (want {sorted(want)})"))
    expected_labels = {f["sbom"] for f in exp["findings"]}
    if labels != expected_labels:
        print(f"{path}: scanned {sorted(labels)}, expected {sorted(expected_labels)}"); ok = False
sys.exit(0 if ok else 1)
PY
echo "os-rescan: built-in matcher and Trivy report the expected distribution advisories"

# The same SBOMs with the `distro` qualifier taken off every purl (some SBOM tools omit it): the
# built-in matcher must take each package's release from the SBOM's operating-system component
# (CycloneDX) or OPERATING-SYSTEM package (SPDX), as Trivy does, and report the same advisories.
mkdir -p "$W/sboms-no-distro"
python3 - "$W/sboms" "$W/sboms-no-distro" <<'PY'
import json, pathlib, sys
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def strip(purl):
    base, q, rest = purl.partition("?")
    if not q:
        return purl
    quals, h, sub = rest.partition("#")
    kept = [x for x in quals.split("&") if not x.startswith("distro=")]
    return base + ("?" + "&".join(kept) if kept else "") + h + sub
def walk(v):
    if isinstance(v, dict):
        return {k: (strip(x) if k in ("purl", "referenceLocator") and isinstance(x, str)
                    and x.startswith("pkg:") else walk(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x) for x in v]
    return v
stripped = 0
for p in sorted(src.glob("*.json")):
    text = json.dumps(walk(json.load(open(p))))
    stripped += p.read_text().count("distro=") - text.count("distro=")
    (dst / p.name).write_text(text)
print(f"took {stripped} distro qualifiers off")
assert stripped > 0
PY
rc=0
"$I" rescan --sboms "$W/sboms-no-distro" --store "$STORE" --json --no-record \
  > "$W/rescan-no-distro.json" || rc=$?
[ "$rc" -eq 4 ] || { echo "rescan (no distro) exited $rc, expected 4"; exit 1; }
python3 - "$W/rescan-own.json" "$W/rescan-no-distro.json" <<'PY'
import json, sys
def by(path):
    return {s["sbom"]: sorted(f["advisory"] for f in s["new"]) for s in json.load(open(path))["sboms"]}
with_distro, without = by(sys.argv[1]), by(sys.argv[2])
for name in sorted(with_distro):
    status = "ok" if without.get(name) == with_distro[name] else "MISMATCH"
    print(f"{name:<24} {status}: {without.get(name)} (with distro: {with_distro[name]})")
sys.exit(0 if with_distro == without else 1)
PY
echo "os-rescan: without distro qualifiers the release comes from the SBOM's operating system"
