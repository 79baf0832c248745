#!/usr/bin/env python3
"""Independent Python check of an OUK provenance statement payload (spec/provenance.md).

Not a signature check (the DSSE envelope is verified with securesystemslib by the lead's CI part); this
re-checks the statement layout and the exact subject set without any of our Rust code.

Usage: verify_statement.py STATEMENT.json SUBJECTS.json BUILDER_ID [--tamper]
SUBJECTS.json is a list of {"name": ..., "sha256": ...}. With --tamper the script also changes one subject
digest in memory and requires the check to FAIL (so the check itself is shown to be able to fail).
Exit 0 on success.
"""
import copy
import json
import re
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def no_dup_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate JSON key in {keys}")
    return dict(pairs)


def check(st, expected, builder_id):
    """Return a list of problems (empty = ok)."""
    errs = []
    if st.get("_type") != "https://in-toto.io/Statement/v1":
        errs.append(f"_type is {st.get('_type')!r}")
    if st.get("predicateType") != "https://slsa.dev/provenance/v1":
        errs.append(f"predicateType is {st.get('predicateType')!r}")
    pred = st.get("predicate") or {}
    bd = pred.get("buildDefinition") or {}
    rd = pred.get("runDetails") or {}
    if bd.get("buildType") != "https://ouk.dev/buildtypes/kit/v1":
        errs.append(f"buildType is {bd.get('buildType')!r}")
    if not isinstance(bd.get("externalParameters"), dict):
        errs.append("externalParameters missing")
    if (rd.get("builder") or {}).get("id") != builder_id:
        errs.append(f"builder.id is {(rd.get('builder') or {}).get('id')!r}")
    md = rd.get("metadata") or {}
    for k in ("invocationId", "startedOn", "finishedOn"):
        if not isinstance(md.get(k), str) or not md[k]:
            errs.append(f"metadata.{k} missing")
    attested = {}
    for s in st.get("subject") or []:
        name, digest = s.get("name"), s.get("digest") or {}
        if name in attested:
            errs.append(f"duplicate subject {name!r}")
        if set(digest) != {"sha256"} or not HEX64.match(digest.get("sha256", "")):
            errs.append(f"subject {name!r} digest is not exactly one lowercase sha256")
        attested[name] = digest.get("sha256")
    want = {s["name"]: s["sha256"] for s in expected}
    for n in sorted(set(want) - set(attested)):
        errs.append(f"missing subject {n!r}")
    for n in sorted(set(attested) - set(want)):
        errs.append(f"extra subject {n!r}")
    for n in sorted(set(want) & set(attested)):
        if want[n] != attested[n]:
            errs.append(f"subject {n!r} digest mismatch")
    for i, dep in enumerate(bd.get("resolvedDependencies") or []):
        if (dep.get("annotations") or {}).get("kind") not in ("feed", "sbom"):
            errs.append(f"resolvedDependencies[{i}] kind")
        if not HEX64.match((dep.get("digest") or {}).get("sha256", "")):
            errs.append(f"resolvedDependencies[{i}] digest")
    return errs


def main():
    args = [a for a in sys.argv[1:] if a != "--tamper"]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        st = json.load(f, object_pairs_hook=no_dup_keys)
    with open(args[1], encoding="utf-8") as f:
        expected = json.load(f)
    errs = check(st, expected, args[2])
    for e in errs:
        print(f"FAIL {args[0]}: {e}")
    if errs:
        return 1
    print(f"ok   {args[0]}: {len(expected)} subjects match, types and builder as expected")
    if "--tamper" in sys.argv:
        bad = copy.deepcopy(st)
        bad["subject"][0]["digest"]["sha256"] = "0" * 64
        if not check(bad, expected, args[2]):
            print("FAIL tampered statement was accepted")
            return 1
        print("ok   tampered statement (one subject digest changed) is refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
