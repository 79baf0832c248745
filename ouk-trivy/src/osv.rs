//! The subset of an OSV (schema 1.6) record that the Trivy export reads. Unknown fields are
//! ignored on purpose: the merged snapshot is validated against the OSV schema upstream of us,
//! and Trivy has no place for the rest.

use serde::Deserialize;
use serde_json::Value;

/// One OSV record.
#[derive(Debug, Deserialize)]
pub(crate) struct Record {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub upstream: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// `severity[]` (record level or per affected entry).
#[derive(Debug, Deserialize)]
pub(crate) struct Severity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// `affected[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Affected {
    pub package: Option<Package>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// `affected[].package`.
#[derive(Debug, Deserialize)]
pub(crate) struct Package {
    pub ecosystem: String,
    pub name: String,
    #[serde(default)]
    pub purl: Option<String>,
}

/// `affected[].ranges[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One event; OSV allows exactly one of these keys per event object.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    #[serde(default)]
    pub introduced: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub last_affected: Option<String>,
    // `limit` is not read: trivy-db ignores it too.
}

/// `references[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Reference {
    #[serde(default)]
    pub url: Option<String>,
}
