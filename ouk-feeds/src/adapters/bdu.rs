//! FSTEC BDU `vulxml` export adapter (enrichment): `<vulnerabilities><vul>`.
//! Taken: `identifier` (BDU:YYYY-NNNNN), `name`, `description`, `identify_date`
//! (DD.MM.YYYY, published), `last_upd_date` if present (modified), `severity`
//! (text starting Критический/Высокий/Средний/Низкий), `cvss/vector` (CVSS_V2),
//! `cvss3/vector` (CVSS_V3; the export omits the `CVSS:3.x/` prefix, so
//! `CVSS:3.0/` is added), `identifiers/identifier[@type="CVE"]` (aliases),
//! `cwes/cwe/identifier` (CWE), `sources` (whitespace-separated URLs).
//! No real BDU record was available when this was written: the layout follows the
//! published export format and is tested on constructed fixtures only.

use std::io::BufRead;

use super::regional::{add_cve, add_url, date, finish};
use super::xml::{parse_records, El};
use super::{Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::{Severity, SourceRecord};
use crate::source::SourceKind;

const K: SourceKind = SourceKind::Bdu;

fn rating(s: &str) -> Option<&'static str> {
    let l = s.trim().to_lowercase();
    Some(if l.starts_with("критич") {
        "CRITICAL"
    } else if l.starts_with("высок") {
        "HIGH"
    } else if l.starts_with("средн") {
        "MEDIUM"
    } else if l.starts_with("низк") {
        "LOW"
    } else {
        return None;
    })
}

fn one(out: &mut Parsed, file: &str, e: El, max_id: usize) {
    let raw = e.text_of("identifier");
    let Some(id) = raw
        .as_deref()
        .and_then(|i| normalize_id(i, max_id))
        .filter(|i| i.starts_with("BDU:"))
    else {
        out.reject(K, file, raw, "missing or invalid BDU identifier");
        return;
    };
    let mut r = SourceRecord::new(K, file.to_string(), id);
    r.summary = e.text_of("name");
    r.details = e.text_of("description");
    r.published = date(&mut r, e.text_of("identify_date").as_deref());
    r.modified = date(&mut r, e.text_of("last_upd_date").as_deref());
    r.rating = e
        .text_of("severity")
        .and_then(|s| rating(&s).map(str::to_string));
    if let Some(v) = e.path(&["cvss", "vector"]).and_then(El::trimmed) {
        r.severity.push(Severity {
            kind: "CVSS_V2".into(),
            score: v,
        });
    }
    if let Some(v) = e.path(&["cvss3", "vector"]).and_then(El::trimmed) {
        let v = if v.starts_with("CVSS:") {
            v
        } else {
            format!("CVSS:3.0/{v}")
        };
        r.severity.push(Severity {
            kind: "CVSS_V3".into(),
            score: v,
        });
    }
    if let Some(ids) = e.child("identifiers") {
        for i in ids.all("identifier") {
            if i.attr("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("CVE"))
            {
                add_cve(&mut r, &i.text, max_id);
            }
        }
    }
    if let Some(c) = e.child("cwes") {
        for cw in c.all("cwe") {
            if let Some(v) = cw.text_of("identifier").filter(|v| v.starts_with("CWE-")) {
                r.cwe_ids.push(v);
            }
        }
    }
    if let Some(src) = e.text_of("sources") {
        for u in src.split_whitespace() {
            add_url(&mut r, u);
        }
    }
    finish(&mut r);
    out.records.push(r);
}

/// Parse one BDU export XML document, record by record as it is read (FSTEC's full export is
/// hundreds of megabytes; see [`super::xml_file`]).
pub(crate) fn parse(file: &str, src: impl BufRead, opts: &ReadOptions<'_>) -> Parsed {
    parse_records(K, file, src, "vul", opts, one)
}
