//! JVN iPedia / MyJVN adapter (enrichment), API version 3.2 XML. Two shapes:
//! - VULDEF (`getVulnDetailInfo`, data feeds): `Vulinfo/VulinfoID`,
//!   `VulinfoData/Title`, `VulinfoDescription/Overview`, `Impact/Cvss`
//!   (`@version`, `Vector`, `Severity`), `Related/RelatedItem` (`@type="advisory"`
//!   `VulinfoID` CVE ids => aliases, `URL` => references; `@type="cwe"` => CWE),
//!   `DateFirstPublished`, `DateLastUpdated`;
//! - JVNRSS (`getVulnOverviewList`): `item` with `sec:identifier`, `title`,
//!   `description`, `sec:references` (`@id` CVE => alias, text => URL, `@id` CWE-…
//!   => CWE), `sec:cvss` (`@version`, `@vector`, `@severity`), `dcterms:issued`,
//!   `dcterms:modified`.

use super::regional::{add_cve, add_url, date, finish};
use super::xml::{for_each_record, El};
use super::{Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::{Severity, SourceRecord};
use crate::source::SourceKind;

const K: SourceKind = SourceKind::Jvn;

fn new_rec(
    out: &mut Parsed,
    file: &str,
    raw: Option<String>,
    max_id: usize,
) -> Option<SourceRecord> {
    match raw
        .as_deref()
        .and_then(|i| normalize_id(i, max_id))
        .filter(|i| i.starts_with("JVNDB-"))
    {
        Some(id) => Some(SourceRecord::new(K, file.to_string(), id)),
        None => {
            out.reject(K, file, raw, "missing or invalid JVNDB id");
            None
        }
    }
}

fn cvss(r: &mut SourceRecord, version: &str, vector: &str, severity: Option<String>) {
    let kind = if version.starts_with('4') {
        "CVSS_V4"
    } else if version.starts_with('3') {
        "CVSS_V3"
    } else {
        "CVSS_V2"
    };
    let v = vector.trim();
    if v.is_empty() {
        return;
    }
    r.severity.push(Severity {
        kind: kind.into(),
        score: v.to_string(),
    });
    // Highest version wins the rating: vectors come in ascending version order.
    if let Some(s) = severity {
        r.rating = Some(s.to_ascii_uppercase());
    }
}

fn vuldef(out: &mut Parsed, file: &str, e: El, max_id: usize) {
    let Some(mut r) = new_rec(out, file, e.text_of("VulinfoID"), max_id) else {
        return;
    };
    if let Some(d) = e.child("VulinfoData") {
        r.summary = d.text_of("Title");
        r.details = d
            .path(&["VulinfoDescription", "Overview"])
            .and_then(El::trimmed);
        if let Some(imp) = d.child("Impact") {
            for c in imp.all("Cvss") {
                if let Some(vec) = c.text_of("Vector") {
                    cvss(
                        &mut r,
                        c.attr("version").unwrap_or(""),
                        &vec,
                        c.text_of("Severity"),
                    );
                }
            }
        }
        if let Some(rel) = d.child("Related") {
            for it in rel.all("RelatedItem") {
                match it.attr("type") {
                    Some("advisory") => {
                        if let Some(v) = it.text_of("VulinfoID") {
                            if v.to_ascii_uppercase().starts_with("CVE-") {
                                add_cve(&mut r, &v, max_id);
                            }
                        }
                        if let Some(u) = it.text_of("URL") {
                            add_url(&mut r, &u);
                        }
                    }
                    Some("cwe") => {
                        if let Some(v) = it.text_of("VulinfoID").filter(|v| v.starts_with("CWE-")) {
                            r.cwe_ids.push(v);
                        }
                    }
                    _ => {
                        if let Some(u) = it.text_of("URL") {
                            add_url(&mut r, &u);
                        }
                    }
                }
            }
        }
        r.published = date(&mut r, d.text_of("DateFirstPublished").as_deref());
        r.modified = date(&mut r, d.text_of("DateLastUpdated").as_deref());
    }
    finish(&mut r);
    out.records.push(r);
}

fn rss_item(out: &mut Parsed, file: &str, e: El, max_id: usize) {
    let Some(mut r) = new_rec(out, file, e.text_of("identifier"), max_id) else {
        return;
    };
    r.summary = e.text_of("title");
    r.details = e.text_of("description");
    for rf in e.all("references") {
        let id = rf.attr("id").unwrap_or("").trim().to_string();
        if id.to_ascii_uppercase().starts_with("CVE-") {
            add_cve(&mut r, &id, max_id);
        } else if id.starts_with("CWE-") {
            r.cwe_ids.push(id.clone());
        }
        if let Some(u) = rf.trimmed() {
            add_url(&mut r, &u);
        }
    }
    for c in e.all("cvss") {
        if let Some(vec) = c.attr("vector") {
            let sev = c.attr("severity").map(str::to_string);
            cvss(&mut r, c.attr("version").unwrap_or(""), vec, sev);
        }
    }
    r.published = date(&mut r, e.text_of("issued").as_deref());
    r.modified = date(&mut r, e.text_of("modified").as_deref());
    finish(&mut r);
    out.records.push(r);
}

/// Parse one JVN XML document (VULDEF or JVNRSS).
pub(crate) fn parse_file(file: &str, bytes: &[u8], opts: &ReadOptions<'_>) -> Parsed {
    let mut out = Parsed::default();
    let max_id = opts.limits.max_id_len;
    let mut vul = Vec::new();
    let max = opts.limits.max_file_bytes;
    if let Err(e) = for_each_record(bytes, "Vulinfo", max, |e| vul.push(e)) {
        out.reject(K, file, None, e);
        return out;
    }
    if !vul.is_empty() {
        for e in vul {
            vuldef(&mut out, file, e, max_id);
        }
        return out;
    }
    let mut items = Vec::new();
    if let Err(e) = for_each_record(bytes, "item", max, |e| items.push(e)) {
        out.reject(K, file, None, e);
    }
    for e in items {
        rss_item(&mut out, file, e, max_id);
    }
    out
}
