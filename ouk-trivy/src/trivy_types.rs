//! The JSON values Trivy reads from its DB, with Trivy's Go field names and field order
//! (`pkg/types` in trivy-db). Empty fields are omitted as Go's `omitempty` does.

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) use crate::buckets::DATA_SOURCE_ID;

/// Value in the `data-source` bucket.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DataSource {
    #[serde(rename = "ID")]
    pub id: &'static str,
    pub name: String,
    #[serde(rename = "URL", skip_serializing_if = "str::is_empty")]
    pub url: &'static str,
}

/// Value under `<ecosystem>::<source>` / `<package>` / `<vulnerability id>` (language
/// ecosystems: version constraints) or `<family> <release>` / `<source package>` /
/// `<vulnerability id>` (distributions: `FixedVersion`, empty when unfixed).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Advisory {
    #[serde(rename = "VendorIDs", skip_serializing_if = "Vec::is_empty")]
    pub vendor_ids: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fixed_version: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vulnerable_versions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patched_versions: Vec<String>,
}

/// CVSS vectors and scores for one source.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Cvss {
    #[serde(rename = "V3Vector", skip_serializing_if = "String::is_empty")]
    pub v3_vector: String,
    #[serde(rename = "V40Vector", skip_serializing_if = "String::is_empty")]
    pub v40_vector: String,
    #[serde(rename = "V3Score", skip_serializing_if = "is_zero")]
    pub v3_score: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Value in the `vulnerability` bucket.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Vulnerability {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub severity: String,
    #[serde(rename = "CweIDs", skip_serializing_if = "Vec::is_empty")]
    pub cwe_ids: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vendor_severity: BTreeMap<&'static str, u8>,
    #[serde(rename = "CVSS", skip_serializing_if = "BTreeMap::is_empty")]
    pub cvss: BTreeMap<&'static str, Cvss>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<String>,
}

/// Trivy's severity names, indexed by its integer severity.
pub(crate) const SEVERITY_NAMES: [&str; 5] = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
