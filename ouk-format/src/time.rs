//! Timestamps as the format writes them: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! One spelling only, so signed documents have one canonical form and TUF tooling can read our
//! trust root expiry unchanged.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Name};

/// A UTC instant with whole-second precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

impl Timestamp {
    /// From seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Timestamp {
        Timestamp(secs)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0
    }

    /// Parse the strict `YYYY-MM-DDTHH:MM:SSZ` form.
    pub fn parse(s: &str) -> Result<Timestamp, Error> {
        NaiveDateTime::parse_from_str(s, FORMAT)
            .ok()
            .filter(|_| s.len() == 20)
            .map(|dt| Timestamp(dt.and_utc().timestamp()))
            .ok_or_else(|| Error::InvalidTimestamp {
                value: Name::new(s),
            })
    }

    /// Add seconds, saturating.
    pub fn plus_secs(&self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp(self.0, 0) {
            Some(dt) => write!(f, "{}", dt.format(FORMAT)),
            None => write!(f, "@{}", self.0),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_round_trip() {
        let t = Timestamp::parse("2026-11-25T17:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T17:00:00Z");
        assert!(Timestamp::parse("2026-11-25T17:00:00+00:00").is_err());
        assert!(Timestamp::parse("2026-11-25T17:00:00.5Z").is_err());
        assert!(Timestamp::parse("2026-11-25 17:00:00Z").is_err());
    }
}
