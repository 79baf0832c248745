//! First pass over a statement payload: strict JSON (duplicate keys at every level, depth, value,
//! object-key and array-length caps) with nothing built, plus the two top-level type strings.
//!
//! Why a separate pass: the typed parse that follows (`statement_in`) must never see a document whose
//! collections are attacker-sized, and the type checks must run before any layout error so an old or
//! foreign statement is reported as such. This pass holds only the keys of the objects currently open
//! (as fingerprints); the subject list is cut at the caller's cap while it streams.

use crate::error::ProvenanceError;
use crate::json_walk::{Caps, KeySeed, KeySet, NodeSeed, Walk, WalkError};
use crate::limits::Limits;
use crate::text::bounded;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

/// A top-level string field as found by the scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Field {
    /// Absent.
    #[default]
    Missing,
    /// Present, not a string.
    NotString,
    /// Present; the text, cut to a bounded length when it is long (the accepted values are short, so a
    /// cut text can never match one).
    Str(String),
}

/// What the scan learnt.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The payload is a JSON object.
    pub is_object: bool,
    /// `_type`.
    pub typ: Field,
    /// `predicateType`.
    pub predicate_type: Field,
}

/// Longest string or key accepted anywhere in a statement, as a multiple of `max_string_bytes`. Why:
/// every string the checks read is at most `max_string_bytes` (or a 64-hex digest), so a far longer one
/// can only be an attack; refusing it while parsing keeps the typed parse from allocating it. The
/// multiple leaves room for strings the checks only compare or report bounded (the types).
const STRING_CAP_FACTOR: usize = 16;

/// Longest type string kept verbatim.
const KEEP_VERBATIM: usize = 1024;

/// Scans `payload`; `subject_cap` is the most subjects accepted. Arrays other than `subject` are
/// capped at the larger of `subject_cap` and `limits.max_dependencies` (resolvedDependencies is the
/// longest legitimate one).
pub(crate) fn scan(
    payload: &[u8],
    limits: &Limits,
    subject_cap: usize,
) -> Result<Scan, ProvenanceError> {
    let walk = Walk::new(Caps {
        max_depth: limits.max_json_depth,
        max_values: limits.max_json_values,
        max_object_keys: limits.max_json_object_keys,
        max_array_len: subject_cap.max(limits.max_dependencies),
        element_values: limits.max_json_values,
        element_bytes: limits.max_statement_bytes,
        max_string: limits.max_string_bytes.saturating_mul(STRING_CAP_FACTOR),
    });
    let too_many_subjects = Cell::new(false);
    let mut out = Scan::default();
    let mut de = serde_json::Deserializer::from_slice(payload);
    let r = Root {
        walk: &walk,
        out: &mut out,
        subject_cap,
        too_many_subjects: &too_many_subjects,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match r {
        Ok(()) => Ok(out),
        Err(_) if too_many_subjects.get() => Err(ProvenanceError::TooManySubjects {
            count: subject_cap.saturating_add(1),
            limit: subject_cap,
        }),
        Err(e) => Err(match walk.take_abort() {
            Some(WalkError::DuplicateKey(key)) => ProvenanceError::DuplicateKey { key },
            Some(WalkError::StringTooLong(limit)) => ProvenanceError::StringTooLong {
                field: "any string",
                limit,
            },
            Some(w) => match w.limit() {
                Some((what, limit)) => ProvenanceError::JsonLimit { what, limit },
                None => ProvenanceError::Json(bounded(&e.to_string())),
            },
            None => ProvenanceError::Json(bounded(&e.to_string())),
        }),
    }
}

struct Root<'a> {
    walk: &'a Walk,
    out: &'a mut Scan,
    subject_cap: usize,
    too_many_subjects: &'a Cell<bool>,
}

impl Root<'_> {
    fn skip(&self) -> NodeSeed<'_> {
        NodeSeed {
            walk: self.walk,
            depth: 0,
            keep: false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a statement")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.walk.take_value(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.walk.take_value(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.walk.take_value(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.walk.take_value(false)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.walk.take_value(false)?;
        self.walk.check_string(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.walk.take_value(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.skip().visit_seq(seq).map(drop)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.walk.take_value(false)?;
        self.walk.check_depth(0)?;
        self.out.is_object = true;
        let mut seen = KeySet::default();
        while let Some(key) = map.next_key_seed(KeySeed {
            walk: self.walk,
            seen: &mut seen,
            keep: true,
        })? {
            let child = NodeSeed {
                walk: self.walk,
                depth: 1,
                keep: false,
            };
            match &*key {
                "_type" => self.out.typ = map.next_value_seed(Capture(child))?,
                "predicateType" => self.out.predicate_type = map.next_value_seed(Capture(child))?,
                "subject" => map.next_value_seed(Subjects {
                    child,
                    cap: self.subject_cap,
                    flag: self.too_many_subjects,
                })?,
                _ => drop(map.next_value_seed(child)?),
            }
        }
        Ok(())
    }
}

/// Captures a top-level string; any other value is only counted.
struct Capture<'a>(NodeSeed<'a>);

impl<'de> DeserializeSeed<'de> for Capture<'_> {
    type Value = Field;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capture<'_> {
    type Value = Field;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        self.0.walk.take_value(false)?;
        self.0.walk.check_string(v)?;
        Ok(Field::Str(if v.len() > KEEP_VERBATIM {
            bounded(v)
        } else {
            v.to_owned()
        }))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field, E> {
        self.0.walk.take_value(false).map(|()| Field::NotString)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Field, E> {
        self.0.walk.take_value(false).map(|()| Field::NotString)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Field, E> {
        self.0.walk.take_value(false).map(|()| Field::NotString)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Field, E> {
        self.0.walk.take_value(false).map(|()| Field::NotString)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
        self.0.walk.take_value(false).map(|()| Field::NotString)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field, A::Error> {
        self.0.visit_seq(seq).map(|_| Field::NotString)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field, A::Error> {
        self.0.visit_map(map).map(|_| Field::NotString)
    }
}

/// The subject list, cut at its cap while it streams (anything but an array is left to the typed
/// parse to refuse).
struct Subjects<'a> {
    child: NodeSeed<'a>,
    cap: usize,
    flag: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Subjects<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Subjects<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the subject list")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.child.visit_bool(v).map(drop)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.child.visit_i64(v).map(drop)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.child.visit_u64(v).map(drop)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.child.visit_f64(v).map(drop)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.child.visit_str(v).map(drop)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.child.visit_unit().map(drop)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.child.visit_map(map).map(drop)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let walk = self.child.walk;
        walk.take_value(false)?;
        walk.check_depth(1)?;
        let element = NodeSeed {
            walk,
            depth: 2,
            keep: false,
        };
        let mut count = 0usize;
        while seq.next_element_seed(element)?.is_some() {
            count += 1;
            if count > self.cap {
                self.flag.set(true);
                return Err(de::Error::custom("too many subjects"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str, cap: usize) -> Result<Scan, ProvenanceError> {
        scan(json.as_bytes(), &Limits::default(), cap)
    }

    #[test]
    fn captures_types_and_caps_subjects() {
        let s = run(r#"{"_type":"t","predicateType":7,"subject":[{},{}]}"#, 2).unwrap();
        assert!(s.is_object);
        assert_eq!(s.typ, Field::Str("t".into()));
        assert_eq!(s.predicate_type, Field::NotString);
        assert_eq!(
            run(r#"{"subject":[{},{},{}]}"#, 2).unwrap_err(),
            ProvenanceError::TooManySubjects { count: 3, limit: 2 }
        );
        assert!(!run("[1]", 2).unwrap().is_object);
        assert_eq!(
            run(r#"{"predicate":{"a":{"b":1,"b":2}}}"#, 2).unwrap_err(),
            ProvenanceError::DuplicateKey { key: "b".into() }
        );
    }

    #[test]
    fn strings_are_capped_while_parsing() {
        let cap = Limits::default().max_string_bytes * STRING_CAP_FACTOR;
        let long = format!(r#"{{"predicate":{{"{}":1}}}}"#, "k".repeat(cap + 1));
        let want = ProvenanceError::StringTooLong {
            field: "any string",
            limit: cap,
        };
        assert_eq!(run(&long, 2).unwrap_err(), want);
        let long = format!(r#"{{"_type":"{}"}}"#, "t".repeat(cap + 1));
        assert_eq!(run(&long, 2).unwrap_err(), want);
        let fits = format!(r#"{{"_type":"{}"}}"#, "t".repeat(cap));
        assert!(run(&fits, 2).is_ok());
    }

    #[test]
    fn other_arrays_are_capped_too() {
        let l = Limits {
            max_dependencies: 3,
            ..Limits::default()
        };
        assert_eq!(
            scan(br#"{"predicate":{"x":[1,2,3,4]}}"#, &l, 2).unwrap_err(),
            ProvenanceError::JsonLimit {
                what: "array elements",
                limit: 3
            }
        );
    }
}
