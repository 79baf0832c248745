//! The merged record's `database_specific` object, with the `ouk` provenance
//! block, as borrowed typed structs serialised straight to JSON.
//!
//! Why typed: building this block as `serde_json::Value` maps (cloning every
//! upstream value, one allocation per key and value) and dropping the tree again
//! was about a fifth of the cluster merge's CPU. Field order is alphabetical on
//! purpose: it is the order the earlier `Value` maps (sorted `BTreeMap`s)
//! produced, so the merged bytes are unchanged (spec/feeds.md §4 fixes them).

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::model::Severity;
use crate::source::SourceKind;

/// Key of the provenance block inside `database_specific`.
const OUK_KEY: &str = "ouk";

/// `database_specific`: the members' own keys (first writer wins, `ouk` removed)
/// plus the `ouk` block, in sorted key order.
pub(crate) struct DatabaseSpecific<'a> {
    /// Upstream keys, borrowed from the members; never holds `ouk`.
    pub upstream: BTreeMap<&'a str, &'a Value>,
    /// The provenance block.
    pub ouk: Ouk<'a>,
}

impl<'a> DatabaseSpecific<'a> {
    /// Take the keys of `from` that are not there yet (the first member in
    /// content order wins a key), except `ouk`, which only the merge writes.
    pub(crate) fn add_upstream(&mut self, from: &'a Map<String, Value>) {
        for (k, v) in from {
            if k != OUK_KEY {
                self.upstream.entry(k.as_str()).or_insert(v);
            }
        }
    }
}

impl Serialize for DatabaseSpecific<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.upstream.len() + 1))?;
        let mut ouk_written = false;
        for (k, v) in &self.upstream {
            if !ouk_written && *k > OUK_KEY {
                m.serialize_entry(OUK_KEY, &self.ouk)?;
                ouk_written = true;
            }
            m.serialize_entry(k, v)?;
        }
        if !ouk_written {
            m.serialize_entry(OUK_KEY, &self.ouk)?;
        }
        m.end()
    }
}

/// `database_specific.ouk`: where the merged record came from.
#[derive(Serialize)]
pub(crate) struct Ouk<'a> {
    /// CWE ids of every contributing and enrichment record.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub cwe_ids: BTreeSet<&'a str>,
    /// Regional records attached to the cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enrichment: Vec<EnrichmentOut<'a>>,
    /// Every source's severity, whichever became the top-level one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry<'a>>,
    /// `source:id` of the record whose severity is the top-level one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity_source: Option<String>,
    /// The primary records merged.
    pub sources: Vec<SourceOut<'a>>,
}

/// One primary record of the cluster.
#[derive(Serialize)]
pub(crate) struct SourceOut<'a> {
    pub id: &'a str,
    /// RFC 3339, or `null` when the record had no usable date.
    pub modified: Option<String>,
    pub source: SourceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
}

/// One source's severity list and rating.
#[derive(Serialize)]
pub(crate) struct SeverityEntry<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SortedSeverity<'a>>,
    pub source: SourceKind,
}

/// A severity with its keys in sorted order (`score` before `type`), unlike
/// the top-level `severity[]`, which follows the OSV schema's order.
#[derive(Serialize)]
pub(crate) struct SortedSeverity<'a> {
    score: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

impl<'a> From<&'a Severity> for SortedSeverity<'a> {
    fn from(s: &'a Severity) -> Self {
        SortedSeverity {
            score: &s.score,
            kind: &s.kind,
        }
    }
}

/// One regional record attached to the cluster.
#[derive(Serialize)]
pub(crate) struct EnrichmentOut<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub aliases: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// The regional record's own extra fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<&'a Map<String, Value>>,
    pub id: &'a str,
    /// RFC 3339 or `null`.
    pub modified: Option<String>,
    /// RFC 3339 or `null`.
    pub published: Option<String>,
    /// Reference URLs only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<&'a str>,
    pub source: SourceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ouk() -> Ouk<'static> {
        Ouk {
            cwe_ids: BTreeSet::new(),
            enrichment: Vec::new(),
            severity: Vec::new(),
            severity_source: None,
            sources: vec![SourceOut {
                id: "GHSA-1",
                modified: None,
                source: SourceKind::Ghsa,
                withdrawn: None,
            }],
        }
    }

    /// The block lands where a sorted map would put it, whatever upstream keys
    /// sort before or after it, and an upstream `ouk` never survives.
    #[test]
    fn ouk_key_takes_its_sorted_place() {
        let a = json!({"z": 1, "nvd": "x", "ouk": "forged", "p": [true]});
        let b = json!({"nvd": "second writer loses", "a": null});
        let mut ds = DatabaseSpecific {
            upstream: BTreeMap::new(),
            ouk: ouk(),
        };
        ds.add_upstream(a.as_object().unwrap());
        ds.add_upstream(b.as_object().unwrap());
        let got = serde_json::to_string(&ds).unwrap();
        assert_eq!(
            got,
            r#"{"a":null,"nvd":"x","ouk":{"sources":[{"id":"GHSA-1","modified":null,"source":"ghsa"}]},"p":[true],"z":1}"#
        );
        // Same bytes as the sorted `Value` map it replaces.
        let mut v: Map<String, Value> = serde_json::from_str(&got).unwrap();
        let ouk_v = v.remove("ouk").unwrap();
        v.insert("ouk".into(), ouk_v);
        assert_eq!(serde_json::to_string(&v).unwrap(), got);
    }

    #[test]
    fn ouk_last_and_alone() {
        let only = DatabaseSpecific {
            upstream: BTreeMap::new(),
            ouk: ouk(),
        };
        assert!(serde_json::to_string(&only)
            .unwrap()
            .starts_with(r#"{"ouk":{"#));
        let a = json!({"a": 1});
        let mut before = DatabaseSpecific {
            upstream: BTreeMap::new(),
            ouk: ouk(),
        };
        before.add_upstream(a.as_object().unwrap());
        assert!(serde_json::to_string(&before)
            .unwrap()
            .starts_with(r#"{"a":1,"ouk":{"#));
    }
}
