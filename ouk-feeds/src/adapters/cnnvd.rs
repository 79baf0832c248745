//! CNNVD adapter (enrichment). Two shapes:
//! - the legacy XML export `<cnnvd><entry>`: `vuln-id`, `name`, `vuln-descript`,
//!   `severity` (超危/高危/中危/低危), `published`, `modified`, `other-id/cve-id`,
//!   `refs/ref/ref-url`;
//! - the post-2022 web API JSON (`cnnvdDetail` object, a bare list item, a JSON
//!   array, or `data.records[]`): `cnnvdCode`, `cveCode`, `vulName`, `vulDesc`,
//!   `hazardLevel` (1..4), `publishTime`, `updateTime`, `referUrl` (`链接:` lines).

use std::io::BufRead;

use serde_json::Value;

use super::regional::{add_cve, add_url, date, finish};
use super::xml::{parse_records, El};
use super::{Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::SourceRecord;
use crate::source::SourceKind;

const K: SourceKind = SourceKind::Cnnvd;

fn rating_text(s: &str) -> Option<&'static str> {
    Some(match s.trim() {
        "超危" => "CRITICAL",
        "高危" => "HIGH",
        "中危" => "MEDIUM",
        "低危" => "LOW",
        _ => return None,
    })
}

fn rating_level(n: i64) -> Option<&'static str> {
    Some(match n {
        1 => "CRITICAL",
        2 => "HIGH",
        3 => "MEDIUM",
        4 => "LOW",
        _ => return None,
    })
}

fn new_rec(
    out: &mut Parsed,
    file: &str,
    raw_id: Option<String>,
    max_id: usize,
) -> Option<SourceRecord> {
    match raw_id
        .as_deref()
        .and_then(|i| normalize_id(i, max_id))
        .filter(|i| i.starts_with("CNNVD-"))
    {
        Some(id) => Some(SourceRecord::new(K, file.to_string(), id)),
        None => {
            out.reject(K, file, raw_id, "missing or invalid CNNVD id");
            None
        }
    }
}

fn from_xml(out: &mut Parsed, file: &str, e: El, max_id: usize) {
    let Some(mut r) = new_rec(out, file, e.text_of("vuln-id"), max_id) else {
        return;
    };
    r.summary = e.text_of("name");
    r.details = e.text_of("vuln-descript");
    r.rating = e
        .text_of("severity")
        .and_then(|s| rating_text(&s).map(str::to_string));
    r.published = date(&mut r, e.text_of("published").as_deref());
    r.modified = date(&mut r, e.text_of("modified").as_deref());
    for o in e.all("other-id") {
        for c in o.all("cve-id") {
            add_cve(&mut r, &c.text, max_id);
        }
    }
    if let Some(refs) = e.child("refs") {
        for rf in refs.all("ref") {
            if let Some(u) = rf.text_of("ref-url") {
                add_url(&mut r, &u);
            }
        }
    }
    finish(&mut r);
    out.records.push(r);
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
}

fn from_json_obj(out: &mut Parsed, file: &str, v: &Value, max_id: usize) {
    let Some(mut r) = new_rec(out, file, s(v, "cnnvdCode"), max_id) else {
        return;
    };
    r.summary = s(v, "vulName");
    r.details = s(v, "vulDesc");
    r.rating = v
        .get("hazardLevel")
        .and_then(Value::as_i64)
        .and_then(rating_level)
        .map(str::to_string);
    r.published = date(&mut r, s(v, "publishTime").as_deref());
    r.modified = date(&mut r, s(v, "updateTime").as_deref());
    if let Some(c) = s(v, "cveCode") {
        add_cve(&mut r, &c, max_id);
    }
    if let Some(refs) = s(v, "referUrl") {
        for line in refs.lines() {
            if let Some(u) = line.trim().strip_prefix("链接:") {
                add_url(&mut r, u);
            }
        }
    }
    finish(&mut r);
    out.records.push(r);
}

/// Parse one CNNVD XML export (`<cnnvd><entry>`), record by record as it is read.
pub(crate) fn parse_xml(file: &str, src: impl BufRead, opts: &ReadOptions<'_>) -> Parsed {
    parse_records(K, file, src, "entry", opts, from_xml)
}

/// Parse one CNNVD XML or JSON file.
pub(crate) fn parse_file(file: &str, bytes: &[u8], json: bool, opts: &ReadOptions<'_>) -> Parsed {
    if !json {
        return parse_xml(file, bytes, opts);
    }
    let mut out = Parsed::default();
    let max_id = opts.limits.max_id_len;
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            out.reject(K, file, None, format!("invalid JSON: {e}"));
            return out;
        }
    };
    let items: Vec<&Value> = if let Some(d) = v.get("cnnvdDetail") {
        vec![d]
    } else if let Some(Value::Array(a)) = v.pointer("/data/records") {
        a.iter().collect()
    } else if let Value::Array(a) = &v {
        a.iter().collect()
    } else {
        vec![&v]
    };
    for it in items {
        from_json_obj(&mut out, file, it, max_id);
    }
    out
}
