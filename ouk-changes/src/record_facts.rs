//! What the change report needs from one snapshot line, read in bounded memory.
//!
//! A snapshot comes from a verified kit, but a compromised builder can sign anything, and
//! parsing a line into a `serde_json::Value` costs up to ~16× its size (`[0,0,0,…]`: 2 bytes of
//! input, 32 bytes of `Value`). So nothing here builds a DOM: top-level values are borrowed as
//! raw slices of the line and hashed per field (so two records can be compared field by field),
//! and only the few facts a report shows are extracted, with caps (first aliases, distinct
//! ecosystems, first CVSS vectors). Memory is the line buffer plus a few small strings.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeSet;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// Aliases kept per record.
pub const MAX_ALIASES: usize = 8;
/// Distinct ecosystems kept per record (the rest are not reported).
pub const MAX_ECOSYSTEMS: usize = 32;

/// The top-level OSV fields a change is reported by; anything else is `other`.
pub const FIELDS: [&str; 16] = [
    "schema_version",
    "id",
    "modified",
    "published",
    "withdrawn",
    "aliases",
    "related",
    "upstream",
    "summary",
    "details",
    "severity",
    "affected",
    "references",
    "credits",
    "database_specific",
    "other",
];
const OTHER: usize = FIELDS.len() - 1;

/// The facts of one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFacts {
    /// `id` (empty when missing or not a string).
    pub id: String,
    /// `withdrawn` is a non-empty string.
    pub withdrawn: bool,
    /// The first [`MAX_ALIASES`] aliases.
    pub aliases: Vec<String>,
    /// Ecosystems of `affected[].package` (the part before `:`), at most [`MAX_ECOSYSTEMS`].
    pub ecosystems: BTreeSet<String>,
    /// `database_specific.severity`, when a string.
    pub label: Option<String>,
    /// First CVSS v3 and v4 vectors and Ubuntu priority (record level first, then per package).
    pub vectors: Vec<(String, String)>,
    /// A hash of each top-level field's raw JSON (0 = absent), in [`FIELDS`] order; unknown keys
    /// are summed into `other`, so top-level key order does not matter.
    pub field_hashes: [u64; FIELDS.len()],
}

impl RecordFacts {
    /// The qualitative severity, by the crate's one rule.
    pub fn severity(&self) -> &'static str {
        crate::severity::rate(
            self.label.as_deref(),
            self.vectors.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or("UNKNOWN")
    }

    /// Names of the top-level fields whose raw JSON differs.
    pub fn changed_fields(&self, other: &RecordFacts) -> Vec<String> {
        FIELDS
            .iter()
            .zip(self.field_hashes.iter().zip(other.field_hashes.iter()))
            .filter(|(_, (a, b))| a != b)
            .map(|(name, _)| (*name).to_owned())
            .collect()
    }
}

/// Reads the facts of one NDJSON line (an OSV record).
pub fn read_facts(line: &[u8]) -> Result<RecordFacts, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let facts = TopLevel.deserialize(&mut de)?;
    de.end()?;
    Ok(facts)
}

fn hash_of(parts: &[&[u8]]) -> u64 {
    let mut h = DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    // 0 means "absent".
    h.finish().max(1)
}

struct TopLevel;

impl<'de> DeserializeSeed<'de> for TopLevel {
    type Value = RecordFacts;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RecordFacts, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel {
    type Value = RecordFacts;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OSV record (a JSON object)")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RecordFacts, M::Error> {
        use serde::de::Error;
        let mut facts = RecordFacts::default();
        while let Some(key) = map.next_key::<Key>()? {
            let raw: &RawValue = map.next_value()?;
            let bytes = raw.get().as_bytes();
            let parse = |e: serde_json::Error| M::Error::custom(e);
            match key.0 {
                Some(i) => {
                    facts.field_hashes[i] = hash_of(&[bytes]);
                    match FIELDS[i] {
                        "id" => {
                            facts.id = serde_json::from_str::<StrOrIgnore>(raw.get())
                                .map_err(parse)?
                                .0
                                .unwrap_or_default()
                        }
                        "withdrawn" => {
                            facts.withdrawn = serde_json::from_str::<StrOrIgnore>(raw.get())
                                .map_err(parse)?
                                .0
                                .is_some_and(|s| !s.is_empty())
                        }
                        "aliases" => {
                            facts.aliases = serde_json::from_str::<FirstStrings>(raw.get())
                                .map_err(parse)?
                                .0
                        }
                        "database_specific" => {
                            facts.label = serde_json::from_str::<DatabaseSpecific>(raw.get())
                                .map_err(parse)?
                                .severity
                                .and_then(|s| s.0)
                        }
                        "severity" => {
                            let v = serde_json::from_str::<Vectors>(raw.get()).map_err(parse)?;
                            facts.vectors.splice(0..0, v.0);
                        }
                        "affected" => {
                            let mut de = serde_json::Deserializer::from_str(raw.get());
                            AffectedSeq(&mut facts)
                                .deserialize(&mut de)
                                .map_err(parse)?;
                        }
                        _ => {}
                    }
                }
                None => {
                    let h = hash_of(&[key.1.to_le_bytes().as_slice(), bytes]);
                    facts.field_hashes[OTHER] = facts.field_hashes[OTHER].wrapping_add(h);
                }
            }
        }
        Ok(facts)
    }
}

/// A top-level key: its index in [`FIELDS`], or the hash of an unknown key's name.
struct Key(Option<usize>, u64);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(match FIELDS[..OTHER].iter().position(|f| *f == s) {
                    Some(i) => Key(Some(i), 0),
                    None => Key(None, hash_of(&[s.as_bytes()])),
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// A string, or anything else ignored (`None`) without being kept.
pub struct StrOrIgnore(pub Option<String>);

impl<'de> Deserialize<'de> for StrOrIgnore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrIgnore;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, s: &str) -> Result<StrOrIgnore, E> {
                Ok(StrOrIgnore(Some(s.to_owned())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StrOrIgnore, E> {
                Ok(StrOrIgnore(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StrOrIgnore, E> {
                Ok(StrOrIgnore(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StrOrIgnore, E> {
                Ok(StrOrIgnore(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StrOrIgnore, E> {
                Ok(StrOrIgnore(None))
            }
            fn visit_unit<E>(self) -> Result<StrOrIgnore, E> {
                Ok(StrOrIgnore(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<StrOrIgnore, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StrOrIgnore(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<StrOrIgnore, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StrOrIgnore(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The first [`MAX_ALIASES`] strings of an array; the rest skipped.
struct FirstStrings(Vec<String>);

impl<'de> Deserialize<'de> for FirstStrings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FirstStrings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<FirstStrings, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = s.next_element::<StrOrIgnore>()? {
                    if let Some(v) = item.0.filter(|_| out.len() < MAX_ALIASES) {
                        out.push(v);
                    }
                }
                Ok(FirstStrings(out))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
struct DatabaseSpecific {
    severity: Option<StrOrIgnore>,
}

/// The first CVSS_V3 and first CVSS_V4 vector of a `severity` array.
struct Vectors(Vec<(String, String)>);

#[derive(Deserialize)]
struct SeverityEntry {
    #[serde(rename = "type")]
    kind: Option<StrOrIgnore>,
    score: Option<StrOrIgnore>,
}

impl<'de> Deserialize<'de> for Vectors {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vectors;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of severities")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Vectors, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some(e) = s.next_element::<SeverityEntry>()? {
                    let (Some(kind), Some(score)) =
                        (e.kind.and_then(|k| k.0), e.score.and_then(|s| s.0))
                    else {
                        continue;
                    };
                    let wanted = kind == "CVSS_V3" || kind == "CVSS_V4" || kind == "Ubuntu";
                    if wanted && !out.iter().any(|(k, _)| *k == kind) {
                        out.push((kind, score));
                    }
                }
                Ok(Vectors(out))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
struct PackageFacts {
    ecosystem: Option<StrOrIgnore>,
}

#[derive(Deserialize)]
struct AffectedFacts {
    package: Option<PackageFacts>,
    severity: Option<Vectors>,
}

/// `affected[]`, one element at a time, folded into the record's facts.
struct AffectedSeq<'a>(&'a mut RecordFacts);

impl<'de> DeserializeSeed<'de> for AffectedSeq<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AffectedSeq<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of affected packages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        let mut package_vectors: Vec<(String, String)> = Vec::new();
        while let Some(a) = s.next_element::<AffectedFacts>()? {
            if let Some(eco) = a.package.and_then(|p| p.ecosystem).and_then(|e| e.0) {
                let base = eco.split(':').next().unwrap_or(&eco).to_owned();
                if self.0.ecosystems.len() < MAX_ECOSYSTEMS || self.0.ecosystems.contains(&base) {
                    self.0.ecosystems.insert(base);
                }
            }
            for (kind, score) in a.severity.map(|v| v.0).unwrap_or_default() {
                if !package_vectors.iter().any(|(k, _)| *k == kind) {
                    package_vectors.push((kind, score));
                }
            }
        }
        // Record-level vectors come first (they may be read before or after `affected`).
        self.0.vectors.extend(package_vectors);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_reported_facts() {
        let f = read_facts(
            br#"{"id":"GHSA-x","aliases":["CVE-1","CVE-2"],"withdrawn":"2024-01-01T00:00:00Z",
                "affected":[{"package":{"ecosystem":"Debian:12","name":"a"}},
                            {"package":{"ecosystem":"PyPI","name":"b"},
                             "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}],
                "x-extra":{"nested":[1,2,3]}}"#,
        )
        .unwrap();
        assert_eq!(f.id, "GHSA-x");
        assert!(f.withdrawn);
        assert_eq!(f.aliases, ["CVE-1", "CVE-2"]);
        assert_eq!(f.ecosystems.iter().collect::<Vec<_>>(), ["Debian", "PyPI"]);
        assert_eq!(f.severity(), "CRITICAL");
        assert_ne!(f.field_hashes[OTHER], 0);
    }

    #[test]
    fn record_level_vectors_win_over_package_ones_in_either_key_order() {
        let v3 = |c: &str| format!("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:{c}/I:N/A:N");
        for line in [
            format!(
                r#"{{"severity":[{{"type":"CVSS_V3","score":"{}"}}],"affected":[{{"severity":[{{"type":"CVSS_V3","score":"{}"}}]}}]}}"#,
                v3("L"),
                v3("H")
            ),
            format!(
                r#"{{"affected":[{{"severity":[{{"type":"CVSS_V3","score":"{}"}}]}}],"severity":[{{"type":"CVSS_V3","score":"{}"}}]}}"#,
                v3("H"),
                v3("L")
            ),
        ] {
            assert_eq!(
                read_facts(line.as_bytes()).unwrap().severity(),
                "MEDIUM",
                "{line}"
            );
        }
    }

    #[test]
    fn field_hashes_ignore_top_level_order_and_name_what_changed() {
        let a = read_facts(br#"{"id":"A","summary":"s","zz":1,"yy":2}"#).unwrap();
        let b = read_facts(br#"{"yy":2,"summary":"s","id":"A","zz":1}"#).unwrap();
        assert_eq!(a, b);
        let c = read_facts(br#"{"id":"A","summary":"t","zz":1,"yy":3}"#).unwrap();
        assert_eq!(a.changed_fields(&c), ["summary", "other"]);
        let d = read_facts(br#"{"id":"A","zz":1,"yy":2}"#).unwrap();
        assert_eq!(a.changed_fields(&d), ["summary"]);
    }

    #[test]
    fn caps_hold_and_odd_types_are_ignored_not_kept() {
        let aliases: Vec<String> = (0..1000).map(|i| format!("\"A-{i}\"")).collect();
        let ecos: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"package":{{"ecosystem":"E{i}"}}}}"#))
            .collect();
        let line = format!(
            r#"{{"id":"X","aliases":[{}],"affected":[{}],"withdrawn":[1,2],"database_specific":{{"severity":{{"a":1}}}}}}"#,
            aliases.join(","),
            ecos.join(",")
        );
        let f = read_facts(line.as_bytes()).unwrap();
        assert_eq!(f.aliases.len(), MAX_ALIASES);
        assert_eq!(f.ecosystems.len(), MAX_ECOSYSTEMS);
        assert!(!f.withdrawn);
        assert_eq!(f.label, None);
        assert_eq!(f.severity(), "UNKNOWN");
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(read_facts(b"[1,2]").is_err());
        assert!(read_facts(b"{\"id\":\"A\"} trailing").is_err());
        assert!(read_facts(b"{\"affected\":{}}").is_err());
        // Deep nesting is skipped without recursion (serde_json's ignore is iterative), inside
        // unknown fields and inside the ones facts are read from: never a stack overflow.
        let deep = |key: &str| {
            format!(
                "{{\"id\":\"A\",\"{key}\":[{{\"x\":{}{}}}]}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
        };
        assert_eq!(read_facts(deep("x-vendor").as_bytes()).unwrap().id, "A");
        assert_eq!(read_facts(deep("affected").as_bytes()).unwrap().id, "A");
    }
}
