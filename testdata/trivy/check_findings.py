#!/usr/bin/env python3
"""Compare a `trivy sbom --format json` report with expected-findings.json.

usage: check_findings.py EXPECTED.json TRIVY_VERSION REPORT.json [SBOM_LABEL]
Exits 1 on any missing or extra finding. Prints which ecosystems matched. With SBOM_LABEL, only
the findings and clean entries whose "sbom" is that label are expected (os/expected-findings.json
covers one SBOM per distribution).
"""
import json
import sys


def main() -> int:
    expected_path, version, report_path = sys.argv[1:4]
    label = sys.argv[4] if len(sys.argv) > 4 else None
    exp = json.load(open(expected_path))
    if label is not None:
        exp["findings"] = [f for f in exp["findings"] if f.get("sbom") == label]
        exp["clean"] = [c for c in exp["clean"] if c.get("sbom") == label]
    rep = json.load(open(report_path))
    reported = set()
    for result in rep.get("Results") or []:
        for v in result.get("Vulnerabilities") or []:
            reported.add((v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v.get("FixedVersion", "")))
    want = {}
    for f in exp["findings"]:
        if "trivy" in f and version not in f["trivy"]:
            continue
        want[(f["id"], f["pkg"], f["installed"], f["fixed"])] = f["ecosystem"]
    missing = sorted(set(want) - reported)
    extra = sorted(reported - set(want))
    ok = True
    for m in missing:
        print(f"  MISSING  {m}")
        ok = False
    for e in extra:
        print(f"  EXTRA    {e}")
        ok = False
    for c in exp["clean"]:
        hits = [r for r in reported if r[1] == c["pkg"] and r[2] == c["installed"]]
        if hits:
            print(f"  NOT CLEAN {c['pkg']} {c['installed']} ({c['why']}): {hits}")
            ok = False
    matched = sorted({eco for k, eco in want.items() if k in reported})
    skipped = sorted({f["ecosystem"] for f in exp["findings"] if "trivy" in f and version not in f["trivy"]})
    print(f"  trivy {version}: {len(want) - len(missing)}/{len(want)} expected findings, "
          f"{len(extra)} unexpected, {len(exp['clean'])} clean components checked")
    print(f"  ecosystems matched: {', '.join(matched)}" + (f"; not testable on this version: {', '.join(skipped)}" if skipped else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
