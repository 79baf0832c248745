#!/usr/bin/env python3
"""Derives snapshot B from a merged snapshot A (`advisories.ndjson`, one OSV record per line,
sorted by id) as "a realistic day" of feed changes, for bench/diff.sh:

  * CHANGED  (0.5 %): `modified` bumped, plus one of: a `fixed` event version, the severity
    label (`database_specific.severity`), the `summary` (or `details`), or nothing else;
  * ADDED    (0.2 %): a new record right after an existing one, id = that id + one digit (so the
    file stays sorted by id in byte order; skipped when the next id would not stay above it);
  * WITHDRAWN (0.05 %): a `withdrawn` timestamp added (and `modified` bumped);
  * REMOVED  (0.01 %, "a few"): the line is dropped.

Streams line by line (A is ~900 MB at 500 000 feed records); untouched lines are copied byte for
byte, touched ones re-serialised compactly. Same input and seed => byte-identical output. Checks
that the output is strictly sorted by id (byte order) and prints the counts as key=value.

  perturb_snapshot.py A.ndjson B.ndjson [--seed N]
"""

import json
import random
import re
import sys

P_CHANGED = 0.005
P_ADDED = 0.002
P_WITHDRAWN = 0.0005
P_REMOVED = 0.0001
DAY = "2026-01-02T03:04:05Z"

ID_AT_START = re.compile(rb'^\{(?:"schema_version":"[^"\\]*",)?"id":"([^"\\]*)"')


def id_of(line: bytes) -> bytes:
    m = ID_AT_START.match(line)
    if m:
        return m.group(1)
    return json.loads(line)["id"].encode()


def dump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def bump_version(v: str) -> str:
    parts = v.split(".")
    if parts and parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return v + ".1"


def change(obj, rng) -> None:
    obj["modified"] = DAY
    what = rng.randrange(4)
    if what == 0:
        for a in obj.get("affected", []):
            for r in a.get("ranges", []):
                for e in r.get("events", []):
                    if "fixed" in e:
                        e["fixed"] = bump_version(e["fixed"])
                        return
        what = 2  # no fixed event: alter the text instead
    if what == 1:
        ds = obj.setdefault("database_specific", {})
        old = ds.get("severity") if isinstance(ds, dict) else None
        labels = [s for s in ("LOW", "MODERATE", "HIGH", "CRITICAL") if s != old]
        if isinstance(ds, dict):
            ds["severity"] = rng.choice(labels)
            return
        what = 2
    if what == 2:
        key = "summary" if "summary" in obj else "details"
        obj[key] = (obj.get(key) or "") + " (updated)"
    # what == 3: `modified` only


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
    rng = random.Random(seed)
    counts = dict(lines_in=0, lines_out=0, changed=0, added=0, withdrawn=0, removed=0,
                  added_skipped=0)
    last = None

    def emit(out, line: bytes, rid: bytes) -> None:
        nonlocal last
        if last is not None and rid <= last:
            raise SystemExit(f"not sorted: {rid!r} after {last!r}")
        last = rid
        out.write(line)
        counts["lines_out"] += 1

    with open(src, "rb", buffering=1 << 20) as inp, open(dst, "wb", buffering=1 << 20) as out:
        pending_new = None  # (line, id) to insert after the current record, once sort-checked
        for line in inp:
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                line += b"\n"
            counts["lines_in"] += 1
            rid = id_of(line)
            if pending_new is not None:
                nline, nid = pending_new
                pending_new = None
                if nid < rid:
                    emit(out, nline, nid)
                    counts["added"] += 1
                else:
                    counts["added_skipped"] += 1
            r = rng.random()
            if r < P_REMOVED:
                counts["removed"] += 1
                continue
            r -= P_REMOVED
            if r < P_WITHDRAWN:
                obj = json.loads(line)
                obj["modified"] = DAY
                obj["withdrawn"] = DAY
                emit(out, dump(obj), rid)
                counts["withdrawn"] += 1
                continue
            r -= P_WITHDRAWN
            if r < P_CHANGED:
                obj = json.loads(line)
                change(obj, rng)
                emit(out, dump(obj), rid)
                counts["changed"] += 1
            else:
                emit(out, line, rid)
            r -= P_CHANGED
            if 0 <= r < P_ADDED:
                obj = json.loads(line)
                obj.pop("withdrawn", None)
                nid = rid.decode() + str(rng.randrange(10))
                obj["id"] = nid
                obj["aliases"] = [a + "-N" for a in obj.get("aliases", [])]
                obj["published"] = DAY
                obj["modified"] = DAY
                pending_new = (dump(obj), nid.encode())
        if pending_new is not None:
            emit(out, pending_new[0], pending_new[1])
            counts["added"] += 1
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
