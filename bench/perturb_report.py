#!/usr/bin/env python3
"""Derives day 2's merge report from day 1's (`merge-report.json`, serde_json's pretty output) for
bench/delta.sh, at the rates perturb_snapshot.py applies to records ("a realistic day"):

  * CHANGED (0.5 %) of the elements of every top-level array whose elements are objects with an
    `id` (clusters, conflicts, duplicates, ...): a new alias appended to `ids` (clusters) or a
    new value to `values` (conflicts), else the element's first string field gets " (updated)";
  * ADDED (0.2 %): a copy of an element inserted after it, its `id` + "0";
  * REMOVED (0.01 %): the element is dropped;
  * `counts.multi_record_clusters` follows the cluster count.

Untouched elements keep their bytes: the output is re-serialised as serde_json pretty-prints
(indent 2, ", " and ": " separators, UTF-8 unescaped), which is checked first by re-serialising
day 1 unchanged and comparing it with the input byte for byte (the script refuses to run
otherwise: a patch measured against a reformatted report would measure the reformatting).
Same input and seed => same output. Holds the report in memory (~1 GB at 500 k records).

  perturb_report.py A/merge-report.json B/merge-report.json [--seed N]
"""

import json
import random
import sys

P_CHANGED = 0.005
P_ADDED = 0.002
P_REMOVED = 0.0001


def pretty(obj) -> bytes:
    return json.dumps(obj, indent=2, ensure_ascii=False).encode() + b"\n"


def change(el, rng) -> None:
    if isinstance(el.get("ids"), list):
        el["ids"] = sorted(el["ids"] + ["CVE-2026-9%05d" % rng.randrange(100000)])
    elif isinstance(el.get("values"), list):
        el["values"] = sorted(el["values"] + ["osv:%s => UPDATED" % el["id"]])
    else:
        for k, v in el.items():
            if k != "id" and isinstance(v, str):
                el[k] = v + " (updated)"
                return


def main() -> int:
    args = sys.argv[1:]
    seed = 20260102
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = args
    raw = open(src, "rb").read()
    report = json.loads(raw)
    if pretty(report) != raw:
        print(f"{src}: re-serialising it does not give the same bytes; refusing", file=sys.stderr)
        return 1
    del raw
    rng = random.Random(seed)
    counts = {"changed": 0, "added": 0, "removed": 0}
    for key, value in report.items():
        if not (isinstance(value, list) and value and isinstance(value[0], dict) and "id" in value[0]):
            continue
        out = []
        for el in value:
            r = rng.random()
            if r < P_REMOVED:
                counts["removed"] += 1
                continue
            if r < P_REMOVED + P_CHANGED:
                change(el, rng)
                counts["changed"] += 1
            out.append(el)
            if rng.random() < P_ADDED:
                new = json.loads(json.dumps(el))
                new["id"] = el["id"] + "0"
                out.append(new)
                counts["added"] += 1
        report[key] = out
    if isinstance(report.get("counts"), dict) and "clusters" in report:
        report["counts"]["multi_record_clusters"] = len(report["clusters"])
    with open(dst, "wb") as f:
        f.write(pretty(report))
    print(" ".join(f"report_{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
