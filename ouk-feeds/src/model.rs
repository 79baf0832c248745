//! Wire types for OSV records (input and output) and the normalised
//! [`SourceRecord`] every adapter produces.
//!
//! Input types are lenient (unknown fields ignored, `null` lists accepted) because
//! upstream feeds differ; structural problems still fail the record.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::source::SourceKind;
use crate::timestamp::Ts;

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// OSV `severity[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Severity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Vector or rating.
    pub score: String,
}

/// OSV `references[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// Reference type (`ADVISORY`, `FIX`, `WEB`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// URL.
    pub url: String,
}

/// OSV `affected[].package`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Ecosystem, possibly with a `:suffix`.
    pub ecosystem: String,
    /// Package name in the ecosystem's spelling.
    pub name: String,
    /// Optional package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// One OSV range event; exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventIn {
    /// `introduced`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// `fixed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// `last_affected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A validated event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// Start of an affected interval.
    Introduced(String),
    /// First unaffected version.
    Fixed(String),
    /// Last affected version.
    LastAffected(String),
    /// Upper limit of a range (GIT ranges).
    Limit(String),
}

impl Event {
    pub(crate) fn from_in(e: &EventIn) -> Option<Event> {
        let set = [&e.introduced, &e.fixed, &e.last_affected, &e.limit]
            .iter()
            .filter(|x| x.is_some())
            .count();
        if set != 1 {
            return None;
        }
        Some(if let Some(v) = &e.introduced {
            Event::Introduced(v.clone())
        } else if let Some(v) = &e.fixed {
            Event::Fixed(v.clone())
        } else if let Some(v) = &e.last_affected {
            Event::LastAffected(v.clone())
        } else {
            Event::Limit(e.limit.clone()?)
        })
    }

    pub(crate) fn to_out(&self) -> EventIn {
        let mut e = EventIn::default();
        match self {
            Event::Introduced(v) => e.introduced = Some(v.clone()),
            Event::Fixed(v) => e.fixed = Some(v.clone()),
            Event::LastAffected(v) => e.last_affected = Some(v.clone()),
            Event::Limit(v) => e.limit = Some(v.clone()),
        }
        e
    }
}

/// OSV `affected[].ranges[]` as read.
#[derive(Debug, Clone, Deserialize)]
pub struct RangeIn {
    /// `GIT`, `SEMVER` or `ECOSYSTEM`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Repository for GIT ranges.
    #[serde(default)]
    pub repo: Option<String>,
    /// Events.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<EventIn>,
    /// Range-level extra data.
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// OSV `affected[]` as read.
#[derive(Debug, Clone, Deserialize)]
pub struct AffectedIn {
    /// Package (absent for GIT-only entries).
    #[serde(default)]
    pub package: Option<Package>,
    /// Per-package severity.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<Severity>,
    /// Ranges.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ranges: Vec<RangeIn>,
    /// Enumerated versions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<String>,
    /// Ecosystem-specific data.
    #[serde(default)]
    pub ecosystem_specific: Option<Value>,
    /// Database-specific data (GHSA puts `last_known_affected_version_range` here).
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// An OSV record as read from OSV/GHSA sources.
#[derive(Debug, Clone, Deserialize)]
pub struct OsvIn {
    /// Record id.
    pub id: String,
    /// Last modification.
    #[serde(default)]
    pub modified: Option<String>,
    /// Publication.
    #[serde(default)]
    pub published: Option<String>,
    /// Withdrawal.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Aliases.
    #[serde(default, deserialize_with = "null_as_default")]
    pub aliases: Vec<String>,
    /// Related (never used for clustering).
    #[serde(default, deserialize_with = "null_as_default")]
    pub related: Vec<String>,
    /// Upstream ids.
    #[serde(default, deserialize_with = "null_as_default")]
    pub upstream: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Long description.
    #[serde(default)]
    pub details: Option<String>,
    /// Severity vectors.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<Severity>,
    /// Affected packages.
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected: Vec<AffectedIn>,
    /// References.
    #[serde(default, deserialize_with = "null_as_default")]
    pub references: Vec<Reference>,
    /// Credits, passed through.
    #[serde(default, deserialize_with = "null_as_default")]
    pub credits: Vec<Value>,
    /// Database-specific data.
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// A validated range.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// `GIT`, `SEMVER` or `ECOSYSTEM`.
    pub kind: String,
    /// Repository (GIT).
    pub repo: Option<String>,
    /// Events in upstream order.
    pub events: Vec<Event>,
    /// Range-level extra data.
    pub database_specific: Option<Value>,
}

/// A validated affected entry (package already normalised).
#[derive(Debug, Clone, PartialEq)]
pub struct Affected {
    /// Normalised package.
    pub package: Option<Package>,
    /// Per-package severity.
    pub severity: Vec<Severity>,
    /// Ranges.
    pub ranges: Vec<Range>,
    /// Versions.
    pub versions: Vec<String>,
    /// Ecosystem-specific data.
    pub ecosystem_specific: Option<Value>,
    /// Database-specific data.
    pub database_specific: Option<Map<String, Value>>,
}

/// One advisory from one source after its adapter ran: the unit the merge works on.
/// It holds parsed fields only, never the raw text.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// Source kind.
    pub source: SourceKind,
    /// File (and zip entry) it came from, for reports.
    pub file: String,
    /// Upstream id.
    pub id: String,
    /// Valid aliases (already filtered).
    pub aliases: Vec<String>,
    /// Valid upstream ids.
    pub upstream: Vec<String>,
    /// Valid related ids.
    pub related: Vec<String>,
    /// `modified`, if real.
    pub modified: Option<Ts>,
    /// `published`, if real.
    pub published: Option<Ts>,
    /// `withdrawn`, if real.
    pub withdrawn: Option<Ts>,
    /// True when a date field held a placeholder such as `0001-01-01T00:00:00Z`.
    pub placeholder_dates: bool,
    /// Summary / title.
    pub summary: Option<String>,
    /// Details / description.
    pub details: Option<String>,
    /// Severity vectors as the source gave them.
    pub severity: Vec<Severity>,
    /// Qualitative rating (GHSA `database_specific.severity`, NVD `baseSeverity`, regional text).
    pub rating: Option<String>,
    /// Affected packages.
    pub affected: Vec<Affected>,
    /// References.
    pub references: Vec<Reference>,
    /// Credits.
    pub credits: Vec<Value>,
    /// Record-level `database_specific` (object only).
    pub database_specific: Option<Map<String, Value>>,
    /// CWE ids named by the source.
    pub cwe_ids: Vec<String>,
    /// Aliases that were ignored because they are not identifiers (e.g. CNVD's bare BID numbers).
    pub ignored_aliases: Vec<String>,
}

impl SourceRecord {
    /// An empty record of the given source and id.
    pub fn new(source: SourceKind, file: String, id: String) -> Self {
        SourceRecord {
            source,
            file,
            id,
            aliases: Vec::new(),
            upstream: Vec::new(),
            related: Vec::new(),
            modified: None,
            published: None,
            withdrawn: None,
            placeholder_dates: false,
            summary: None,
            details: None,
            severity: Vec::new(),
            rating: None,
            affected: Vec::new(),
            references: Vec::new(),
            credits: Vec::new(),
            database_specific: None,
            cwe_ids: Vec::new(),
            ignored_aliases: Vec::new(),
        }
    }
}
