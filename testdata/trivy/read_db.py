#!/usr/bin/env python3
"""Independent reader check of a Trivy DB with PyPI `boltdb` (a pure-Python Bolt reader, not
the bbolt-rs code that wrote the file).

usage: read_db.py DB_DIR        (DB_DIR holds trivy.db and metadata.json)
Checks the layout Trivy needs and a few hand-written values for the fixtures in osv/.
Pass --layout-only for a DB not built from these fixtures (e.g. the lead's kit import).
"""
import json
import re
import shutil
import sys
import tempfile

from boltdb import BoltDB


def walk(bucket):
    """{key: value-bytes or nested dict} for one bucket."""
    out = {}
    for k, v in bucket:
        if v is None:
            out[k.decode()] = walk(bucket.bucket(k))
        else:
            out[k.decode()] = bytes(v)
    return out


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    layout_only = "--layout-only" in sys.argv
    db_dir = args[0]
    md = json.load(open(f"{db_dir}/metadata.json"))
    assert md["Version"] == 2, md
    for f in ("NextUpdate", "UpdatedAt", "DownloadedAt"):
        assert isinstance(md.get(f), str), f
    with tempfile.TemporaryDirectory() as tmp:
        # boltdb opens with O_RDWR; read a copy so the checked file is never touched.
        copy = f"{tmp}/trivy.db"
        shutil.copyfile(f"{db_dir}/trivy.db", copy)
        db = BoltDB(copy, readonly=True)
        with db.view() as tx:
            root = walk(tx.bucket())
        del db
    problems = []
    if "vulnerability" not in root:
        problems.append("no 'vulnerability' bucket")
    # Language buckets are "<eco>::<source>"; distribution buckets "<family> <release>".
    os_bucket = re.compile(r"^(debian [0-9]+|ubuntu [0-9]+\.[0-9]+|alpine [0-9]+\.[0-9]+|wolfi|chainguard|alma [0-9]+|rocky [0-9]+|SUSE Linux Enterprise (Micro )?[0-9]+(\.[0-9]+)?|openSUSE Leap [0-9]+\.[0-9]+|openSUSE Tumbleweed)$")
    advisory_buckets = {k for k in root if "::" in k or os_bucket.match(k)}
    if set(root.get("data-source", {})) != advisory_buckets:
        problems.append(f"data-source keys {sorted(root.get('data-source', {}))} != advisory buckets {sorted(advisory_buckets)}")
    vulns = root.get("vulnerability", {})
    n_adv = 0
    for b in advisory_buckets:
        for pkg, ids in root[b].items():
            if not isinstance(ids, dict):
                problems.append(f"{b}/{pkg} is a value, not a package bucket")
                continue
            for vid, raw in ids.items():
                n_adv += 1
                adv = json.loads(raw)
                if "::" in b:
                    vv = adv.get("VulnerableVersions", [])
                    if not vv or any(not s for s in vv + adv.get("PatchedVersions", [])):
                        problems.append(f"{b}/{pkg}/{vid}: empty version constraint {adv}")
                elif set(adv) - {"VendorIDs", "FixedVersion"} or adv.get("FixedVersion", "x") == "":
                    problems.append(f"{b}/{pkg}/{vid}: not an OS advisory (FixedVersion or unfixed) {adv}")
                if vid not in vulns:
                    problems.append(f"{b}/{pkg}/{vid}: no entry in 'vulnerability'")
    if not layout_only:
        expect = {
            ("npm::OUK merged advisories npm", "semver", "CVE-2099-10002"):
                {"VendorIDs": ["OUKTEST-2024-0002"], "VulnerableVersions": ["<5.7.2", ">=6.0.0, <6.3.1", ">=7.0.0, <7.5.2"],
                 "PatchedVersions": ["5.7.2", "6.3.1", "7.5.2"]},
            ("cargo::OUK merged advisories crates.io", "time", "CVE-2099-10008"):
                {"VendorIDs": ["OUKTEST-2024-0008"], "VulnerableVersions": [">=0.1.0, <0.2"]},
            ("go::OUK merged advisories Go", "github.com/Masterminds/goutils", "OUKTEST-2024-0006"):
                {"VulnerableVersions": ["<1.1.1"], "PatchedVersions": ["1.1.1"]},
            ("pip::OUK merged advisories PyPI", "typing-extensions", "CVE-2099-10004"):
                {"VendorIDs": ["OUKTEST-2024-0004"], "VulnerableVersions": ["=4.6.0", "=4.6.1"]},
        }
        for (b, pkg, vid), want in expect.items():
            got = root.get(b, {}).get(pkg, {}).get(vid)
            if got is None or json.loads(got) != want:
                problems.append(f"{b}/{pkg}/{vid}: got {got!r}, want {want}")
        if "minimist" in root.get("npm::OUK merged advisories npm", {}):
            problems.append("withdrawn advisory for minimist was written")
    for p in problems:
        print("  PROBLEM", p)
    print(f"  boltdb reader: {len(advisory_buckets)} advisory buckets, {n_adv} advisories, {len(vulns)} vulnerabilities, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
