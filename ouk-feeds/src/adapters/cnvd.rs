//! CNVD shareData XML adapter (enrichment): `<vulnerabilitys><vulnerability>`.
//! Taken: `number`, `title`, `description`, `serverity` (sic; 高/中/低),
//! `cves/cve/cveNumber` (CVE ids only: bare BID numbers are ignored and reported),
//! `openTime` (published), `referenceLink`.

use std::io::BufRead;

use super::regional::{add_cve, add_url, date, finish};
use super::xml::{parse_records, El};
use super::{Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::SourceRecord;
use crate::source::SourceKind;

const K: SourceKind = SourceKind::Cnvd;

fn rating(s: &str) -> Option<&'static str> {
    Some(match s.trim() {
        "高" => "HIGH",
        "中" => "MEDIUM",
        "低" => "LOW",
        _ => return None,
    })
}

fn one(out: &mut Parsed, file: &str, e: El, max_id: usize) {
    let raw = e.text_of("number");
    let Some(id) = raw
        .as_deref()
        .and_then(|i| normalize_id(i, max_id))
        .filter(|i| i.starts_with("CNVD-"))
    else {
        out.reject(K, file, raw, "missing or invalid CNVD number");
        return;
    };
    let mut r = SourceRecord::new(K, file.to_string(), id);
    r.summary = e.text_of("title");
    r.details = e.text_of("description");
    r.rating = e
        .text_of("serverity")
        .and_then(|s| rating(&s).map(str::to_string));
    r.published = date(&mut r, e.text_of("openTime").as_deref());
    if let Some(cves) = e.child("cves") {
        for c in cves.all("cve") {
            if let Some(n) = c.text_of("cveNumber") {
                add_cve(&mut r, &n, max_id);
            }
        }
    }
    if let Some(u) = e.text_of("referenceLink") {
        for part in u.split_whitespace() {
            add_url(&mut r, part);
        }
    }
    finish(&mut r);
    out.records.push(r);
}

/// Parse one CNVD shareData XML file.
pub(crate) fn parse(file: &str, src: impl BufRead, opts: &ReadOptions<'_>) -> Parsed {
    parse_records(K, file, src, "vulnerability", opts, one)
}
