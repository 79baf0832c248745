#!/usr/bin/env python3
"""Validate CycloneDX JSON documents against the official schema with cyclonedx-python-lib.

An independent check of the SBOMs our Rust code accepts or refuses (ouk_provenance::validate_sbom).

Usage: validate_cyclonedx.py --expect valid|invalid FILE...
Exit 0 only if every file's outcome matches --expect; each file's result is printed.
Files that are not CycloneDX JSON at all count as invalid.
"""
import argparse
import json
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

VERSIONS = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}


def check(path):
    """Return None if valid, else a short reason."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        doc = json.loads(text)
    except (OSError, ValueError) as e:
        return f"unreadable JSON: {e}"
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        return "not a CycloneDX document"
    version = VERSIONS.get(doc.get("specVersion"))
    if version is None:
        return f"unsupported specVersion {doc.get('specVersion')!r} (only 1.5, 1.6, 1.7)"
    err = JsonStrictValidator(version).validate_str(text)
    return None if err is None else "schema: " + " ".join(str(err.data).split())[:200]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", choices=["valid", "invalid"], required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    ok = True
    for path in args.files:
        reason = check(path)
        got = "valid" if reason is None else "invalid"
        mark = "ok " if got == args.expect else "BAD"
        print(f"{mark} {got:7} {path}" + (f"  ({reason})" if reason else ""))
        ok &= got == args.expect
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
