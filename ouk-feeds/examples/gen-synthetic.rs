//! Deterministic generator of realistic synthetic feeds for the merge benchmark.
//!
//! Usage: gen-synthetic --records N --out DIR [--seed S]
//!
//! Writes about N records (≈4 KB each, so 500 000 ≈ 2 GB) in the upstream layouts:
//! `ghsa/advisories/github-reviewed/YYYY/MM/ID/ID.json`, `osv/<Ecosystem>/ID.json`,
//! `nvd/page-NNNNN.json` (API 2.0 pages of 2 000). Alias overlap is realistic: a
//! vulnerability has a CVE; ~60% have a GHSA record, ~35% an ecosystem-database
//! record aliasing the CVE and (usually) the GHSA, ~70% an NVD record.
//! The PRNG is a hand-written splitmix64 so the output never depends on a crate's
//! algorithm changing between versions.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

const WORDS: &[&str] = &[
    "attacker",
    "remote",
    "crafted",
    "request",
    "allows",
    "denial",
    "service",
    "memory",
    "buffer",
    "overflow",
    "parser",
    "header",
    "input",
    "validation",
    "improper",
    "leads",
    "arbitrary",
    "code",
    "execution",
    "via",
    "the",
    "a",
    "of",
    "in",
    "before",
    "version",
    "library",
    "function",
    "when",
    "processing",
    "untrusted",
    "data",
    "may",
    "cause",
];
const ECOS: &[(&str, &str)] = &[
    ("PyPI", "PYSEC"),
    ("Go", "GO"),
    ("crates.io", "RUSTSEC"),
    ("npm", "OSV"),
    ("Maven", "OSV"),
    ("RubyGems", "OSV"),
];
const B32: &[u8] = b"23456789cfghjmpqrvwx";

fn text(r: &mut Rng, words: usize) -> String {
    let mut s = String::with_capacity(words * 7);
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[r.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn ghsa_id(k: u64) -> String {
    let mut x = k.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5bd1_e995;
    let mut parts = Vec::new();
    for _ in 0..3 {
        let mut p = String::new();
        for _ in 0..4 {
            p.push(B32[(x % 20) as usize] as char);
            x /= 20;
            if x == 0 {
                x = k.wrapping_add(0x9E37) ^ 0xabcdef;
            }
        }
        parts.push(p);
    }
    // The index keeps ids unique whatever the hash does.
    format!("GHSA-{}-{}-{}{}", parts[0], parts[1], parts[2], k)
}

fn pkg(r: &mut Rng, eco: &str, k: u64) -> String {
    let n = k % 20_000;
    match eco {
        "Go" => format!("github.com/org{}/mod{}", n % 500, n),
        "Maven" => format!("org.example{}:artifact-{}", n % 300, n),
        "PyPI" => {
            if r.chance(20) {
                format!("Py_Package.{n}")
            } else {
                format!("py-package-{n}")
            }
        }
        _ => format!("package-{n}"),
    }
}

fn versions(r: &mut Rng) -> (String, String, Vec<String>) {
    let major = r.below(5);
    let minor = r.below(20);
    let fixed = format!("{major}.{minor}.{}", 1 + r.below(9));
    let vs = (0..20)
        .map(|i| format!("{major}.{}.{}", minor.saturating_sub(i / 5), i % 5))
        .collect();
    ("0".into(), fixed, vs)
}

fn write_json(path: &Path, v: &serde_json::Value) -> std::io::Result<()> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p)?;
    }
    let mut w = BufWriter::new(fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut w, v)?;
    w.write_all(b"\n")?;
    w.flush()
}

fn date(k: u64, off: u64) -> String {
    let d = (k + off) % 28 + 1;
    let m = (k / 28) % 12 + 1;
    let y = 2015 + (k / 336) % 10;
    format!("{y}-{m:02}-{d:02}T{:02}:{:02}:00Z", k % 24, (k * 7) % 60)
}

fn run(records: u64, out: &Path, seed: u64) -> std::io::Result<u64> {
    let mut r = Rng(seed);
    let mut written = 0u64;
    let mut nvd_page: Vec<serde_json::Value> = Vec::new();
    let mut page_no = 0u32;
    let flush_nvd = |page: &mut Vec<serde_json::Value>, no: &mut u32| -> std::io::Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        let n = page.len();
        let doc = json!({"resultsPerPage": n, "startIndex": *no as usize * 2000, "totalResults": n, "format": "NVD_CVE",
            "version": "2.0", "timestamp": "2099-01-01T00:00:00.000", "vulnerabilities": std::mem::take(page)});
        write_json(&out.join(format!("nvd/page-{:05}.json", *no)), &doc)?;
        *no += 1;
        Ok(())
    };
    let mut k = 0u64;
    while written < records {
        k += 1;
        let cve = format!("CVE-{}-{:05}", 2015 + k % 10, 10_000 + k);
        let (eco, prefix) = ECOS[r.below(ECOS.len() as u64) as usize];
        let name = pkg(&mut r, eco, k);
        let (intro, fixed, vs) = versions(&mut r);
        let details = text(&mut r, 230);
        let vector = if r.chance(50) {
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        } else {
            "CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:L/A:N"
        };
        let refs: Vec<_> = (0..6).map(|i| json!({"type": if i == 0 {"ADVISORY"} else {"WEB"}, "url": format!("https://example.org/{k}/ref{i}")})).collect();
        let has_ghsa = r.chance(60);
        let gid = ghsa_id(k);
        if has_ghsa && written < records {
            let v = json!({"schema_version": "1.4.0", "id": gid, "modified": date(k, 3), "published": date(k, 0), "aliases": [cve],
                "summary": text(&mut r, 8), "details": details, "severity": [{"type": "CVSS_V3", "score": vector}],
                "affected": [{"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": intro}, {"fixed": fixed}]}], "versions": vs}],
                "references": refs, "database_specific": {"cwe_ids": ["CWE-79"], "severity": "HIGH", "github_reviewed": true}});
            let (y, m) = (2015 + k % 10, k % 12 + 1);
            write_json(
                &out.join(format!(
                    "ghsa/advisories/github-reviewed/{y}/{m:02}/{gid}/{gid}.json"
                )),
                &v,
            )?;
            written += 1;
        }
        if r.chance(35) && written < records {
            let id = format!("{prefix}-{}-{k}", 2015 + k % 10);
            let mut aliases = vec![cve.clone()];
            if has_ghsa && r.chance(90) {
                aliases.push(gid.clone());
            }
            let placeholder = eco == "Go";
            let v = json!({"schema_version": "1.6.0", "id": id,
                "modified": if placeholder { "0001-01-01T00:00:00Z".to_string() } else { date(k, 5) },
                "published": date(k, 1), "aliases": aliases, "details": details,
                "affected": [{"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": "SEMVER", "events": [{"introduced": intro}, {"fixed": fixed}]}], "versions": vs}],
                "references": refs});
            write_json(&out.join(format!("osv/{eco}/{id}.json")), &v)?;
            written += 1;
        }
        if r.chance(70) && written < records {
            nvd_page.push(json!({"cve": {"id": cve, "sourceIdentifier": "cna@example.org", "published": "2020-01-01T00:00:00.000",
                "lastModified": format!("{}.000", &date(k, 7)[..19]), "vulnStatus": "Analyzed",
                "descriptions": [{"lang": "en", "value": details}],
                "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1", "vectorString": vector, "baseScore": 7.5, "baseSeverity": "HIGH"}}]},
                "weaknesses": [{"source": "nvd@nist.gov", "type": "Primary", "description": [{"lang": "en", "value": "CWE-79"}]}],
                "references": (0..4).map(|i| json!({"url": format!("https://example.org/{k}/nvd{i}"), "source": "cna@example.org", "tags": ["Patch"]})).collect::<Vec<_>>()}}));
            written += 1;
            if nvd_page.len() == 2000 {
                flush_nvd(&mut nvd_page, &mut page_no)?;
            }
        }
    }
    flush_nvd(&mut nvd_page, &mut page_no)?;
    Ok(written)
}

fn main() -> ExitCode {
    let mut records = 10_000u64;
    let mut out: Option<PathBuf> = None;
    let mut seed = 42u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next();
        match (a.as_str(), v) {
            ("--records", Some(v)) => records = v.parse().unwrap_or(records),
            ("--seed", Some(v)) => seed = v.parse().unwrap_or(seed),
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            _ => {
                eprintln!("usage: gen-synthetic --records N --out DIR [--seed S]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("usage: gen-synthetic --records N --out DIR [--seed S]");
        return ExitCode::from(2);
    };
    match run(records, &out, seed) {
        Ok(n) => {
            eprintln!("wrote {n} records under {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
