#!/usr/bin/env python3
"""Deterministic generator of OSV-like advisory data for the kit benchmark (bench/kit.sh).

Writes about SIZE MiB of NDJSON files (one compact OSV record per line, the shape of the merged
feed `feeds/advisories.ndjson`) under OUT/<ecosystem>/osv-<ecosystem>-NNNN.ndjson.

Why synthetic: the real feeds in ../shared/feeds are a few hundred KiB; a benchmark needs about
1 GiB. Field shapes follow real OSV/GHSA/PyPI/RustSec records (schema_version, id, modified,
published, aliases, summary, markdown details, severity with CVSS vectors, affected[] with
package/purl/ranges/events/versions, references, database_specific, credits). Repetition comes
from the same places as in real feeds: a bounded set of packages, JSON keys, version lists,
URLs and prose vocabulary; entropy from ids, commit hashes, dates and word order. kit.sh prints
the zstd -3 ratio of the generated set next to that of the real sample (about 7x on ../shared).

Same arguments => byte-identical output (random.Random seeded per file, no clock, no hash order).

Usage: gen_osv_like.py --out DIR --size-mib 1024 [--file-mib 8] [--seed 1] [--jobs 2]
"""

import argparse
import json
import os
import random
import sys
from multiprocessing import Pool

ECOSYSTEMS = [
    # (name, purl type, weight, version style)
    ("PyPI", "pypi", 18, "semver"),
    ("npm", "npm", 22, "semver"),
    ("Maven", "maven", 14, "maven"),
    ("Go", "golang", 10, "go"),
    ("crates.io", "cargo", 5, "semver"),
    ("RubyGems", "gem", 5, "semver"),
    ("Packagist", "composer", 6, "semver"),
    ("NuGet", "nuget", 5, "semver"),
    ("Debian:12", "deb", 8, "deb"),
    ("Alpine:v3.19", "apk", 4, "deb"),
    ("Ubuntu:22.04:LTS", "deb", 3, "deb"),
]

WORDS = (
    "a an the of in on to for with by from when via into before after allows attacker remote "
    "local unauthenticated authenticated user users malicious crafted specially request requests "
    "response header headers cookie cookies path paths file files directory traversal injection "
    "command sql cross site scripting xss csrf forgery server side ssrf denial service dos memory "
    "corruption buffer overflow heap stack out bounds read write use after free null pointer "
    "dereference integer underflow race condition deserialization untrusted data arbitrary code "
    "execution privilege escalation information disclosure sensitive leak exposure bypass "
    "authentication authorization access control validation input improper missing insufficient "
    "verification signature certificate tls redirect open url parser parsing regular expression "
    "redos resource consumption exhaustion infinite loop recursion uncontrolled allocation "
    "version versions prior fixed patched upgrade users should affected package library module "
    "function method handler middleware template rendering archive extraction zip slip symlink "
    "configuration default option setting environment variable token secret key password "
    "credentials logging log injection newline character encoding unicode normalization "
    "vulnerability issue problem this that which could can may might be is are was were has have "
    "been it its their there as or and not no only also however therefore because"
).split()

SYLLABLES = (
    "ac al an ar as at ba be bo ca ce ch co da de di do el en er es fa fe fi fo ga ge go ha he "
    "hi ho in io ja jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu ob od ol om on "
    "op or os pa pe pi po pu qu ra re ri ro ru sa se si so st su ta te ti to tu ur va ve vi vo "
    "wa we xa yo za ze zo"
).split()

SUFFIXES = ["", "", "", "-core", "-utils", "-js", "-parser", "-client", "-server", "-http",
            "-cli", "-common", "-api", "-sdk", "-plugin", "-loader", "-auth"]

CWES = ["CWE-20", "CWE-22", "CWE-78", "CWE-79", "CWE-89", "CWE-94", "CWE-119", "CWE-125",
        "CWE-200", "CWE-287", "CWE-352", "CWE-400", "CWE-416", "CWE-434", "CWE-476", "CWE-502",
        "CWE-601", "CWE-611", "CWE-787", "CWE-918", "CWE-1321", "CWE-1333"]

SENTENCE_POOL = 2000

HOSTS = ["github.com", "gitlab.com", "bitbucket.org"]
GHSA_ALPHABET = "23456789cfghjmpqrvwx"


def pick_weighted(rng, items):
    total = sum(i[2] for i in items)
    x = rng.randrange(total)
    for it in items:
        x -= it[2]
        if x < 0:
            return it
    return items[-1]


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def sentence(rng):
    s = words(rng, rng.randint(8, 22))
    return s[0].upper() + s[1:] + "."


# Real advisory prose repeats a lot (the same CVE text is copied into GHSA, NVD, Debian, Ubuntu
# and Alpine records; boilerplate such as "Users should upgrade to ..." recurs), so paragraphs are
# drawn from a bounded pool of sentences rather than from fresh random words.
SENTENCES = [sentence(random.Random("sentence/%d" % i)) for i in range(SENTENCE_POOL)]


def paragraph(rng):
    return " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 5)))


def date(rng, year_lo=2015, year_hi=2025):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (
        rng.randint(year_lo, year_hi), rng.randint(1, 12), rng.randint(1, 28),
        rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))


def hexstr(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def ghsa_id(rng):
    return "GHSA-" + "-".join("".join(rng.choice(GHSA_ALPHABET) for _ in range(4)) for _ in range(3))


def package_pool(rng, eco, purl_type, count):
    """A bounded set of package names per ecosystem (real feeds repeat packages a lot)."""
    pool = []
    for _ in range(count):
        base = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        name = base + rng.choice(SUFFIXES)
        if purl_type == "maven":
            name = "org.%s.%s:%s" % (rng.choice(SYLLABLES) + rng.choice(SYLLABLES), base, name)
        elif purl_type == "golang":
            name = "%s/%s/%s" % (rng.choice(HOSTS), base, name)
        elif purl_type == "npm" and rng.random() < 0.3:
            name = "@%s/%s" % (rng.choice(SYLLABLES) + rng.choice(SYLLABLES), name)
        elif purl_type == "composer":
            name = "%s/%s" % (base, name)
        pool.append(name)
    return pool


def version_list(rng, style, n):
    major = rng.randint(0, 9)
    out = []
    minor, patch = 0, 0
    for _ in range(n):
        if rng.random() < 0.25:
            minor += 1
            patch = 0
        else:
            patch += 1
        if style == "go":
            out.append("v%d.%d.%d" % (major, minor, patch))
        elif style == "deb":
            out.append("%d.%d.%d-%d" % (major, minor, patch, rng.randint(1, 3)))
        elif style == "maven":
            out.append("%d.%d.%d" % (major, minor, patch) + (".Final" if rng.random() < 0.1 else ""))
        else:
            out.append("%d.%d.%d" % (major, minor, patch))
    return out


def cvss(rng):
    pick = lambda opts: rng.choice(opts)
    return "CVSS:3.1/AV:%s/AC:%s/PR:%s/UI:%s/S:%s/C:%s/I:%s/A:%s" % (
        pick("NALP"), pick("LH"), pick("NLH"), pick("NR"), pick("UC"),
        pick("NLH"), pick("NLH"), pick("NLH"))


def record(rng, eco, purl_type, style, pkgs, serial):
    year = rng.randint(2015, 2025)
    cve = "CVE-%d-%d" % (year, rng.randint(1000, 49999))
    ident = ghsa_id(rng) if rng.random() < 0.6 else "OSV-%d-%06d" % (year, serial)
    name = rng.choice(pkgs)
    repo = "https://%s/%s/%s" % (rng.choice(HOSTS), name.split("/")[-1].split(":")[0],
                                 name.split("/")[-1].split(":")[-1])
    affected = []
    for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 3)):
        vers = version_list(rng, style, rng.randint(0, 60) if rng.random() < 0.7 else 0)
        events = [{"introduced": "0" if rng.random() < 0.5 or not vers else vers[0]}]
        fixed = "%d.%d.%d" % (rng.randint(0, 12), rng.randint(0, 30), rng.randint(0, 20))
        events.append({"fixed": fixed})
        entry = {
            "package": {"ecosystem": eco, "name": name,
                        "purl": "pkg:%s/%s" % (purl_type, name.replace(":", "/"))},
            "ranges": [{"type": "ECOSYSTEM" if style != "go" else "SEMVER", "events": events}],
        }
        if rng.random() < 0.2:
            entry["ranges"].append({"type": "GIT", "repo": repo,
                                    "events": [{"introduced": "0"}, {"fixed": hexstr(rng, 40)}]})
        if vers:
            entry["versions"] = vers
        if rng.random() < 0.4:
            entry["database_specific"] = {"source": "https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/%d/%02d/%s/%s.json" % (year, rng.randint(1, 12), ident, ident)}
        if style == "go" and rng.random() < 0.7:
            entry["ecosystem_specific"] = {"imports": [{"path": name, "symbols": [
                "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
                for _ in range(rng.randint(1, 6))]}]}
        affected.append(entry)
    details = "### Impact\n\n%s\n\n### Patches\n\n%s\n\n### Workarounds\n\n%s\n" % (
        "\n\n".join(paragraph(rng) for _ in range(rng.randint(1, 3))),
        paragraph(rng), paragraph(rng))
    if rng.random() < 0.5:
        details += "\n### References\n\n* %s/issues/%d\n* %s/pull/%d\n" % (
            repo, rng.randint(1, 9999), repo, rng.randint(1, 9999))
    refs = [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/%s" % cve}]
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["WEB", "FIX", "PACKAGE", "REPORT", "ARTICLE"])
        if kind == "FIX":
            url = "%s/commit/%s" % (repo, hexstr(rng, 40))
        elif kind == "REPORT":
            url = "%s/issues/%d" % (repo, rng.randint(1, 9999))
        elif kind == "PACKAGE":
            url = repo
        else:
            url = "https://%s/%s/%s" % (rng.choice(["security.example.org", "blog.example.com",
                                                    "www.openwall.com/lists/oss-security"]),
                                        year, hexstr(rng, 8))
        refs.append({"type": kind, "url": url})
    rec = {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": date(rng, year, 2025),
        "published": date(rng, year, year),
        "aliases": [cve] + ([ghsa_id(rng)] if rng.random() < 0.2 else []),
        "summary": sentence(rng)[:120],
        "details": details,
        "severity": [{"type": "CVSS_V3", "score": cvss(rng)}],
        "affected": affected,
        "references": refs,
        "database_specific": {
            "cwe_ids": sorted(rng.sample(CWES, rng.randint(0, 3))),
            "severity": rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"]),
            "github_reviewed": rng.random() < 0.8,
            "github_reviewed_at": date(rng, year, 2025),
            "nvd_published_at": date(rng, year, year),
        },
    }
    if rng.random() < 0.3:
        rec["credits"] = [{"name": "".join(rng.choice(SYLLABLES) for _ in range(3)),
                           "type": rng.choice(["FINDER", "REPORTER", "REMEDIATION_DEVELOPER"])}]
    return rec


def write_file(job):
    out, seed, index, eco_i, nbytes = job
    eco, purl_type, _, style = ECOSYSTEMS[eco_i]
    # The package pool depends only on (seed, ecosystem): packages repeat across files.
    pkgs = package_pool(random.Random("%d/pkgs/%s" % (seed, eco)), eco, purl_type, 3000)
    rng = random.Random("%d/file/%d" % (seed, index))
    safe = eco.split(":")[0].lower().replace(".", "-")
    path = os.path.join(out, safe, "osv-%s-%04d.ndjson" % (safe, index))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    written = 0
    serial = index * 1_000_000
    chunks = []
    while written < nbytes:
        line = json.dumps(record(rng, eco, purl_type, style, pkgs, serial),
                          separators=(",", ":"), ensure_ascii=False) + "\n"
        serial += 1
        b = line.encode("utf-8")
        chunks.append(b)
        written += len(b)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"".join(chunks))
    os.replace(tmp, path)
    return written


def plan(size_mib, file_mib, seed):
    """File list: sizes vary between half and 1.5x file_mib, ecosystems by weight."""
    rng = random.Random("%d/plan" % seed)
    total = size_mib << 20
    jobs, acc, i = [], 0, 0
    while acc < total:
        n = min(total - acc, int((file_mib << 20) * rng.uniform(0.5, 1.5)))
        eco = pick_weighted(rng, ECOSYSTEMS)
        jobs.append((i, ECOSYSTEMS.index(eco), n))
        acc += n
        i += 1
    return jobs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--file-mib", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    if a.size_mib < 1 or a.file_mib < 1:
        sys.exit("sizes must be >= 1 MiB")
    jobs = [(a.out, a.seed, i, e, n) for (i, e, n) in plan(a.size_mib, a.file_mib, a.seed)]
    with Pool(max(1, a.jobs)) as pool:
        total = sum(pool.map(write_file, jobs, chunksize=1))
    print("generated %d files, %d bytes in %s" % (len(jobs), total, a.out))


if __name__ == "__main__":
    main()
