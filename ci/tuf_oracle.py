#!/usr/bin/env python3
"""python-tuf as the oracle for ouk's trust root rotation chains (issue 12).

Usage: tuf_oracle.py CHAINS_DIR OUK_IMPORTER

For every case directory in CHAINS_DIR (written by `cargo run -p ouk-hostile --example
trust_chains`), walk the chain twice:

* with the TUF reference implementation: python-tuf's TrustedMetadataSet (the ngclient's own
  root-update logic, TUF client workflow 5.3.4-5.3.10: each new root signed by a threshold of
  the trusted root and of itself, version exactly N+1, only the final root's expiry checked);
* with `ouk-importer trust verify-chain --json`.

Both verdicts must equal the case's recorded ones, and they must agree with each other unless
the case names why ouk is stricter (python-tuf does not recompute key ids, keeps the last of two
duplicate JSON members, and the API used bounds neither chain length nor size). Any mismatch
fails the run.
"""

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType
import tuf


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tuf_verdict(anchor, chain, at):
    try:
        trusted = TrustedMetadataSet(anchor, EnvelopeType.METADATA)
        for data in chain:
            trusted.update_root(data)
        # TUF 5.3.10: the final root must not be expired (the ngclient checks this when it
        # loads timestamp metadata, which ouk does not have).
        if trusted.root.is_expired(at):
            return "refused", "final root expired"
        return "accepted", f"root v{trusted.root.version}"
    except Exception as e:  # every python-tuf refusal is an exception
        return "refused", f"{type(e).__name__}: {e}"[:120]


def ouk_verdict(importer, case_dir, case):
    args = [importer, "trust", "verify-chain", "--json", "--at", case["at"],
            "--trust-root", os.path.join(case_dir, case["anchor"])]
    args += [os.path.join(case_dir, c) for c in case["chain"]]
    r = subprocess.run(args, capture_output=True, text=True)
    try:
        out = json.loads(r.stdout)
    except json.JSONDecodeError:
        return f"no JSON (exit {r.returncode}): {r.stderr.strip()[:200]}"
    if r.returncode == 0 and out.get("accepted"):
        return "accepted"
    return out.get("error", {}).get("kind", f"exit {r.returncode}")


def main():
    chains_dir, importer = sys.argv[1], sys.argv[2]
    print(f"python-tuf {tuf.__version__} as the oracle for {chains_dir}")
    failures = 0
    names = sorted(d for d in os.listdir(chains_dir)
                   if os.path.isfile(os.path.join(chains_dir, d, "case.json")))
    if not names:
        print("no cases found")
        return 1
    for name in names:
        case_dir = os.path.join(chains_dir, name)
        case = json.load(open(os.path.join(case_dir, "case.json")))
        at = datetime.strptime(case["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        anchor = read(os.path.join(case_dir, case["anchor"]))
        chain = [read(os.path.join(case_dir, c)) for c in case["chain"]]
        tuf_says, why = tuf_verdict(anchor, chain, at)
        ours = ouk_verdict(importer, case_dir, case)
        problems = []
        if tuf_says != case["tuf"]:
            problems.append(f"python-tuf says {tuf_says}, case records {case['tuf']}")
        if ours != case["ours"]:
            problems.append(f"ouk says {ours}, case records {case['ours']}")
        agree = (ours == "accepted") == (tuf_says == "accepted")
        if case["stricter"]:
            if not (ours != "accepted" and tuf_says == "accepted"):
                problems.append("case claims ouk is stricter, but the verdicts do not show it")
        elif not agree:
            problems.append("ouk and python-tuf disagree")
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {name:42} tuf={tuf_says:8} ouk={ours:20} {why if tuf_says == 'refused' else ''}")
        if case["stricter"]:
            print(f"     stricter: {case['stricter']}")
        for p in problems:
            print(f"     {p}")
        failures += bool(problems)
    print(f"{len(names) - failures} of {len(names)} chain cases: python-tuf and ouk-importer as recorded")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
