//! NVD CVE API 2.0 adapter: API response pages (`vulnerabilities[].cve`) and
//! per-CVE files (one bare `cve` object, or `{"cve": {...}}`); the compressed data
//! feed files (`nvdcve-2.0-*.json.gz|zip`) are streamed by `nvd_feed`.
//!
//! Taken: `id`, `published`, `lastModified`, `vulnStatus` (`Rejected` => withdrawn),
//! `cveTags[].tags`, English `descriptions`, `metrics.cvssMetricV40/V31/V30/V2`
//! (the `Primary` entry of each, else the first), `weaknesses` CWE ids,
//! `references` (url + tags). CPE `configurations` are not OSV packages and are not taken.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::{Reference, Severity, SourceRecord};
use crate::source::SourceKind;
use crate::timestamp::{self, TsParse};

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    vulnerabilities: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    cve: Option<&'a RawValue>,
    #[serde(default)]
    id: Option<String>,
    /// `CVE_RECORD` in CVE JSON 5 (CVEProject/cvelistV5), a different format that is easily
    /// mistaken for NVD's: named in the rejection so the fix is obvious.
    #[serde(default, rename = "dataType")]
    data_type: Option<String>,
}

/// Why a CVE JSON 5 file is refused, and what to give instead.
const CVE5_REASON: &str = "a CVE JSON 5 record (CVEProject/cvelistV5), not NVD 2.0: give NVD API 2.0 pages, per-CVE NVD files or nvdcve-2.0-*.json.gz feed files";

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow)]
    cve: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    vuln_status: Option<String>,
    #[serde(default)]
    cve_tags: Vec<CveTag>,
    #[serde(default)]
    descriptions: Vec<LangString>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    weaknesses: Vec<Weakness>,
    #[serde(default)]
    references: Vec<NvdRef>,
}

#[derive(Deserialize)]
struct CveTag {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct LangString {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    #[serde(default)]
    cvss_metric_v40: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v31: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v30: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v2: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    cvss_data: CvssData,
    #[serde(default)]
    base_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    vector_string: String,
    #[serde(default)]
    base_severity: Option<String>,
}

#[derive(Deserialize)]
struct Weakness {
    #[serde(default)]
    description: Vec<LangString>,
}

#[derive(Deserialize)]
struct NvdRef {
    url: String,
    #[serde(default)]
    tags: Vec<String>,
}

fn pick(list: &[Metric]) -> Option<&Metric> {
    list.iter()
        .find(|m| m.kind.as_deref() == Some("Primary"))
        .or_else(|| list.first())
}

fn ref_type(tags: &[String]) -> &'static str {
    if tags.iter().any(|t| t == "Patch") {
        "FIX"
    } else if tags.iter().any(|t| t.ends_with("Advisory")) {
        "ADVISORY"
    } else if tags.iter().any(|t| t == "Exploit") {
        "EVIDENCE"
    } else if tags.iter().any(|t| t == "Issue Tracking") {
        "REPORT"
    } else {
        "WEB"
    }
}

fn convert(file: &str, c: Cve, max_id: usize) -> Result<SourceRecord, (Option<String>, String)> {
    let id = normalize_id(&c.id, max_id)
        .filter(|i| crate::ids::is_cve(i))
        .ok_or((
            None,
            format!(
                "invalid CVE id {:?}",
                c.id.chars().take(40).collect::<String>()
            ),
        ))?;
    let mut r = SourceRecord::new(SourceKind::Nvd, file.to_string(), id.clone());
    match c.last_modified.as_deref().map(timestamp::parse) {
        Some(Some(TsParse::Real(t))) => r.modified = Some(t),
        Some(Some(TsParse::Placeholder)) => r.placeholder_dates = true,
        _ => return Err((Some(id), "missing or unparseable lastModified".into())),
    }
    r.published = c.published.as_deref().and_then(timestamp::parse_real);
    if c.vuln_status.as_deref() == Some("Rejected") {
        r.withdrawn = r.modified;
    }
    r.details = c
        .descriptions
        .iter()
        .find(|d| d.lang == "en")
        .map(|d| d.value.clone())
        .filter(|s| !s.trim().is_empty());
    let m = &c.metrics;
    if let Some(x) = pick(&m.cvss_metric_v40) {
        r.severity.push(Severity {
            kind: "CVSS_V4".into(),
            score: x.cvss_data.vector_string.clone(),
        });
        r.rating = x.cvss_data.base_severity.clone();
    }
    if let Some(x) = pick(&m.cvss_metric_v31).or_else(|| pick(&m.cvss_metric_v30)) {
        r.severity.push(Severity {
            kind: "CVSS_V3".into(),
            score: x.cvss_data.vector_string.clone(),
        });
        if r.rating.is_none() {
            r.rating = x.cvss_data.base_severity.clone();
        }
    }
    if let Some(x) = pick(&m.cvss_metric_v2) {
        r.severity.push(Severity {
            kind: "CVSS_V2".into(),
            score: x.cvss_data.vector_string.clone(),
        });
        if r.rating.is_none() {
            r.rating = x.base_severity.clone();
        }
    }
    let mut cwes: Vec<String> = c
        .weaknesses
        .iter()
        .flat_map(|w| w.description.iter())
        .map(|d| d.value.clone())
        .filter(|v| v.starts_with("CWE-"))
        .collect();
    cwes.sort();
    cwes.dedup();
    r.cwe_ids = cwes;
    r.references = c
        .references
        .iter()
        .filter(|x| !x.url.trim().is_empty())
        .map(|x| Reference {
            kind: ref_type(&x.tags).into(),
            url: x.url.trim().to_string(),
        })
        .collect();
    let mut ds = Map::new();
    if let Some(s) = c.vuln_status {
        ds.insert("nvd_vuln_status".into(), Value::String(s));
    }
    let mut tags: Vec<String> = c.cve_tags.into_iter().flat_map(|t| t.tags).collect();
    tags.sort();
    tags.dedup();
    if !tags.is_empty() {
        ds.insert("nvd_cve_tags".into(), Value::from(tags));
    }
    r.database_specific = (!ds.is_empty()).then_some(ds);
    Ok(r)
}

/// One `vulnerabilities[i]` element (`{"cve": {...}}`) of an API page or a data feed file.
pub(super) fn one_item(out: &mut Parsed, file: &str, i: usize, raw: &str, max_id: usize) {
    match serde_json::from_str::<Item<'_>>(raw) {
        Ok(it) => one(out, file, it.cve.get(), max_id),
        Err(e) => out.reject(
            SourceKind::Nvd,
            &format!("{file}#vulnerabilities[{i}]"),
            None,
            format!("no cve object: {e}"),
        ),
    }
}

fn one(out: &mut Parsed, file: &str, raw: &str, max_id: usize) {
    match serde_json::from_str::<Cve>(raw) {
        Ok(c) => match convert(file, c, max_id) {
            Ok(r) => out.records.push(r),
            Err((id, reason)) => out.reject(SourceKind::Nvd, file, id, reason),
        },
        Err(e) => out.reject(
            SourceKind::Nvd,
            file,
            None,
            format!("invalid NVD cve object: {e}"),
        ),
    }
}

/// Parse an NVD API page or per-CVE file.
pub(crate) fn parse_file(file: &str, bytes: &[u8], opts: &ReadOptions<'_>) -> Parsed {
    let mut out = Parsed::default();
    let max_id = opts.limits.max_id_len;
    let probe: Probe<'_> = match serde_json::from_slice(bytes) {
        Ok(p) => p,
        Err(e) => {
            out.reject(SourceKind::Nvd, file, None, format!("invalid JSON: {e}"));
            return out;
        }
    };
    if let Some(items) = probe.vulnerabilities {
        for (i, item) in items.iter().enumerate() {
            one_item(&mut out, file, i, item.get(), max_id);
        }
    } else if let Some(cve) = probe.cve {
        one(&mut out, file, cve.get(), max_id);
    } else if probe.id.is_some() {
        match std::str::from_utf8(bytes) {
            Ok(s) => one(&mut out, file, s, max_id),
            Err(_) => out.reject(SourceKind::Nvd, file, None, "not UTF-8"),
        }
    } else if probe.data_type.as_deref() == Some("CVE_RECORD") {
        out.reject(SourceKind::Nvd, file, None, CVE5_REASON);
    } else {
        out.reject(
            SourceKind::Nvd,
            file,
            None,
            "neither an API page (vulnerabilities[]) nor a cve object",
        );
    }
    out
}
