//! Bounded JSON primitives for every parser of untrusted format documents (envelope, manifest,
//! trust root).
//!
//! serde's derived deserializers grow vectors and maps until the input ends and only then let us
//! count; these seeds count, bound and refuse *while* parsing, so no intermediate value can be
//! larger than a limit allows. They live beside the envelope parser because the envelope is the
//! first untrusted document read. serde_json's error type cannot carry our typed [`Error`], so a
//! limit hit inside a visitor is parked in a [`Stash`] and takes precedence over the parser's text.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Document, Error, Name};
use crate::limits::{MAX_JSON_DEPTH, MAX_JSON_INTEGER};

/// Carries the first typed error raised inside a serde visitor out of `serde_json`.
#[derive(Default)]
pub(crate) struct Stash(RefCell<Option<Error>>);

impl Stash {
    /// Record `err` (the first one wins) and give serde an error that stops the parse.
    pub(crate) fn fail<E: de::Error>(&self, err: Error) -> E {
        let msg = err.to_string();
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
        E::custom(msg)
    }

    fn take(&self) -> Option<Error> {
        self.0.borrow_mut().take()
    }
}

/// Parse all of `bytes` with `seed` (trailing non-whitespace refused), mapping a parked typed error
/// first and anything else to `invalid_document` for `document`.
pub(crate) fn from_slice_seed<'de, S: DeserializeSeed<'de>>(
    bytes: &'de [u8],
    seed: S,
    stash: &Stash,
    document: Document,
) -> Result<S::Value, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| stash.take().unwrap_or_else(|| Error::invalid(document, e)))
}

/// An object member name matched against a fixed list without allocating: the index in the list,
/// `None` for an unknown name when unknown names are allowed, else an error naming it (bounded).
pub(crate) struct Field {
    pub(crate) names: &'static [&'static str],
    pub(crate) allow_unknown: bool,
}

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Field {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match self.names.iter().position(|n| *n == v) {
            Some(i) => Ok(Some(i)),
            None if self.allow_unknown => Ok(None),
            None => Err(E::custom(format_args!("unknown field `{}`", Name::new(v)))),
        }
    }
}

/// Store a member's value, refusing a member given twice (serde_json would silently keep one).
pub(crate) fn set_once<T, E: de::Error>(
    slot: &mut Option<T>,
    name: &'static str,
    value: T,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// A required member, or serde's "missing field" error.
pub(crate) fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

/// A string of at most `max` bytes, borrowed from the input when it has no escapes; a longer one
/// is refused before it is copied.
pub(crate) struct Text<'s> {
    pub(crate) max: usize,
    pub(crate) what: &'static str,
    pub(crate) stash: &'s Stash,
}

impl<'de> DeserializeSeed<'de> for Text<'_> {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Text<'_> {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.check(v)?;
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.check(v)?;
        Ok(Cow::Owned(v.to_owned()))
    }
}

impl Text<'_> {
    fn check<E: de::Error>(&self, v: &str) -> Result<(), E> {
        if v.len() > self.max {
            return Err(self.stash.fail(Error::LimitExceeded {
                what: self.what,
                limit: self.max as u64,
            }));
        }
        Ok(())
    }
}

/// Skip any JSON value (an ignored envelope member) without building it, refusing containers
/// nested deeper than [`MAX_JSON_DEPTH`]. `level` is the nesting level of the value skipped.
pub(crate) struct Skip<'s> {
    pub(crate) level: usize,
    pub(crate) stash: &'s Stash,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// The error for a container at a level deeper than [`MAX_JSON_DEPTH`].
pub(crate) fn too_deep<E: de::Error>(stash: &Stash) -> E {
    stash.fail(Error::LimitExceeded {
        what: "JSON nesting depth",
        limit: MAX_JSON_DEPTH as u64,
    })
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.level > MAX_JSON_DEPTH {
            return Err(too_deep(self.stash));
        }
        let inner = || Skip {
            level: self.level + 1,
            stash: self.stash,
        };
        while seq.next_element_seed(inner())?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.level > MAX_JSON_DEPTH {
            return Err(too_deep(self.stash));
        }
        while map.next_key::<de::IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip {
                level: self.level + 1,
                stash: self.stash,
            })?;
        }
        Ok(())
    }
}

/// A JSON integer in 0 ..= [`MAX_JSON_INTEGER`]: the one integer type of the format documents.
pub(crate) fn json_integer<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = <u64 as serde::Deserialize>::deserialize(d)?;
    if v > MAX_JSON_INTEGER {
        return Err(de::Error::custom("integer above 2^53-1"));
    }
    Ok(v)
}

/// A JSON integer of the format, wrapped so it can be used with `next_value`.
pub(crate) struct JsonInt(pub(crate) u64);

impl<'de> serde::Deserialize<'de> for JsonInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        json_integer(d).map(JsonInt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(bytes: &[u8]) -> Result<(), Error> {
        let stash = Stash::default();
        from_slice_seed(
            bytes,
            Skip {
                level: 1,
                stash: &stash,
            },
            &stash,
            Document::Manifest,
        )
    }

    fn nested(levels: usize) -> Vec<u8> {
        let mut v = vec![b'['; levels];
        v.extend(std::iter::repeat_n(b']', levels));
        v
    }

    #[test]
    fn depth_boundary_is_exact() {
        assert_eq!(skip(&nested(MAX_JSON_DEPTH)), Ok(()));
        assert_eq!(
            skip(&nested(MAX_JSON_DEPTH + 1)),
            Err(Error::LimitExceeded {
                what: "JSON nesting depth",
                limit: MAX_JSON_DEPTH as u64
            })
        );
        // Far deeper than serde_json's own limit: ours trips first, with our kind.
        assert!(matches!(
            skip(&nested(100_000)),
            Err(Error::LimitExceeded {
                what: "JSON nesting depth",
                ..
            })
        ));
    }

    #[test]
    fn integers_stop_at_2_pow_53_minus_1() {
        let max = format!("{MAX_JSON_INTEGER}");
        assert_eq!(
            serde_json::from_str::<JsonInt>(&max).unwrap().0,
            MAX_JSON_INTEGER
        );
        let over = format!("{}", MAX_JSON_INTEGER + 1);
        assert!(serde_json::from_str::<JsonInt>(&over).is_err());
        assert!(serde_json::from_str::<JsonInt>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<JsonInt>("-1").is_err());
        assert!(serde_json::from_str::<JsonInt>("1.0").is_err());
    }
}
