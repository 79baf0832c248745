//! JSON parsing that refuses duplicate object keys and enforces depth/value-count caps.
//!
//! Why hand-written: `serde_json::Value` (and serde's maps) keep the *last* of two duplicate keys without
//! a word, so `{"_type": "ok", "_type": "evil"}` could be read differently by two verifiers. No maintained
//! crate offers a duplicate-rejecting `Value`; a `DeserializeSeed` over serde_json's own parser is ~100
//! lines and keeps serde_json doing the actual parsing.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

/// Why a document was refused before any typed check ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StrictJsonError {
    /// Not well-formed JSON (serde_json's message, bounded).
    Syntax(String),
    /// An object repeats a key.
    DuplicateKey(String),
    /// Nesting deeper than the limit.
    TooDeep(usize),
    /// More values than the limit.
    TooManyValues(usize),
}

/// Cuts attacker-controlled text to a bounded length for error messages, replacing control characters.
pub(crate) fn bounded(s: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = s
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out
}

struct Budget {
    values_left: Cell<usize>,
    max_values: usize,
    max_depth: usize,
}

struct Seed<'a> {
    budget: &'a Budget,
    depth: usize,
}

const DUP_TAG: &str = "\u{0}ouk-duplicate-key:";
const DEEP_TAG: &str = "\u{0}ouk-too-deep";
const MANY_TAG: &str = "\u{0}ouk-too-many";

impl Seed<'_> {
    fn take_one<E: de::Error>(&self) -> Result<(), E> {
        let left = self.budget.values_left.get();
        if left == 0 {
            return Err(E::custom(MANY_TAG));
        }
        self.budget.values_left.set(left - 1);
        Ok(())
    }
    fn child(&self) -> Seed<'_> {
        Seed {
            budget: self.budget,
            depth: self.depth + 1,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.take_one()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.take_one()?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.take_one()?;
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.take_one()?;
        Ok(serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.take_one()?;
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.take_one()?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.take_one()?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.take_one()?;
        if self.depth >= self.budget.max_depth {
            return Err(de::Error::custom(DEEP_TAG));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.take_one()?;
        if self.depth >= self.budget.max_depth {
            return Err(de::Error::custom(DEEP_TAG));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUP_TAG}{}", bounded(&key))));
            }
            let v = map.next_value_seed(self.child())?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses `bytes` as one JSON value with no trailing data, rejecting duplicate keys, nesting deeper than
/// `max_depth` and more than `max_values` values.
pub(crate) fn parse(
    bytes: &[u8],
    max_depth: usize,
    max_values: usize,
) -> Result<Value, StrictJsonError> {
    let budget = Budget {
        values_left: Cell::new(max_values),
        max_values,
        max_depth,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Seed {
        budget: &budget,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    result.map_err(|e| {
        let msg = e.to_string();
        if let Some(rest) = msg.strip_prefix(DUP_TAG) {
            // serde_json appends " at line X column Y"; keep only the key.
            let key = rest
                .rsplit_once(" at line ")
                .map(|(k, _)| k)
                .unwrap_or(rest);
            StrictJsonError::DuplicateKey(key.to_owned())
        } else if msg.starts_with(DEEP_TAG) {
            StrictJsonError::TooDeep(budget.max_depth)
        } else if msg.starts_with(MANY_TAG) {
            StrictJsonError::TooManyValues(budget.max_values)
        } else {
            StrictJsonError::Syntax(bounded(&msg))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_json() {
        let v = parse(br#"{"a":[1,2,{"b":null}],"c":"x"}"#, 8, 100).unwrap();
        assert_eq!(v["a"][2]["b"], Value::Null);
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#, 8, 100),
            Err(StrictJsonError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse(br#"{"x":[{"k":1,"k":1}]}"#, 8, 100),
            Err(StrictJsonError::DuplicateKey("k".into()))
        );
    }

    #[test]
    fn enforces_depth_and_count() {
        assert_eq!(
            parse(b"[[[[1]]]]", 3, 100),
            Err(StrictJsonError::TooDeep(3))
        );
        assert!(parse(b"[[[1]]]", 3, 100).is_ok());
        assert_eq!(
            parse(b"[1,2,3,4]", 8, 4),
            Err(StrictJsonError::TooManyValues(4))
        );
        assert!(parse(b"[1,2,3]", 8, 4).is_ok());
    }

    #[test]
    fn rejects_trailing_data_and_garbage() {
        assert!(matches!(
            parse(b"{} {}", 8, 100),
            Err(StrictJsonError::Syntax(_))
        ));
        assert!(matches!(
            parse(b"\xff", 8, 100),
            Err(StrictJsonError::Syntax(_))
        ));
    }
}
