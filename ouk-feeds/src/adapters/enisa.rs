//! ENISA EUVD API JSON adapter (enrichment). Accepts `/api/search` pages
//! (`{"items": [...]}`), `/api/lastvulnerabilities` (bare array) and
//! `/api/enisaid` (one object). Taken per item: `id` (EUVD-…), `aliases`
//! (newline-joined; every well-formed id is kept, e.g. CVE, GHSA, PYSEC),
//! `description`, `baseScoreVersion` + `baseScoreVector` (CVSS_V3 / CVSS_V4),
//! `baseScore` (rating), `datePublished`, `dateUpdated`, `references`
//! (newline-joined), `epss` and `exploitedSince` (kept as extra data).

use serde_json::{Map, Value};

use super::regional::{add_id, add_url, date, finish, rating_for_score};
use super::{Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::{Severity, SourceRecord};
use crate::source::SourceKind;

const K: SourceKind = SourceKind::Enisa;

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|x| !x.is_empty())
}

fn one(out: &mut Parsed, file: &str, v: &Value, max_id: usize) {
    let raw = s(v, "id").map(str::to_string);
    let Some(id) = raw
        .as_deref()
        .and_then(|i| normalize_id(i, max_id))
        .filter(|i| i.starts_with("EUVD-"))
    else {
        out.reject(K, file, raw, "missing or invalid EUVD id");
        return;
    };
    let mut r = SourceRecord::new(K, file.to_string(), id);
    r.details = s(v, "description").map(str::to_string);
    if let Some(a) = s(v, "aliases") {
        for line in a.lines() {
            add_id(&mut r, line, max_id);
        }
    }
    if let (Some(ver), Some(vec)) = (s(v, "baseScoreVersion"), s(v, "baseScoreVector")) {
        let kind = if ver.starts_with('4') {
            "CVSS_V4"
        } else if ver.starts_with('3') {
            "CVSS_V3"
        } else {
            "CVSS_V2"
        };
        r.severity.push(Severity {
            kind: kind.into(),
            score: vec.to_string(),
        });
    }
    r.rating = v
        .get("baseScore")
        .and_then(Value::as_f64)
        .filter(|x| *x > 0.0)
        .and_then(rating_for_score)
        .map(str::to_string);
    r.published = date(&mut r, s(v, "datePublished"));
    r.modified = date(&mut r, s(v, "dateUpdated"));
    if let Some(refs) = s(v, "references") {
        for line in refs.lines() {
            add_url(&mut r, line);
        }
    }
    let mut ds = Map::new();
    if let Some(e) = v.get("epss").filter(|e| e.is_number()) {
        ds.insert("epss".into(), e.clone());
    }
    if let Some(x) = s(v, "exploitedSince") {
        ds.insert("exploited_since".into(), Value::String(x.to_string()));
    }
    r.database_specific = (!ds.is_empty()).then_some(ds);
    finish(&mut r);
    out.records.push(r);
}

/// Parse one EUVD API response file.
pub(crate) fn parse_file(file: &str, bytes: &[u8], opts: &ReadOptions<'_>) -> Parsed {
    let mut out = Parsed::default();
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            out.reject(K, file, None, format!("invalid JSON: {e}"));
            return out;
        }
    };
    let items: Vec<&Value> = match &v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![&v],
        },
        _ => {
            out.reject(K, file, None, "expected a JSON object or array");
            return out;
        }
    };
    for it in items {
        one(&mut out, file, it, opts.limits.max_id_len);
    }
    out
}
