//! Timestamps as the format writes them: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! One spelling only, so signed documents have one canonical form and TUF tooling can read our
//! trust root expiry unchanged. The representable range is closed on both sides
//! ([`Timestamp::MIN`] … [`Timestamp::MAX`]) so that every value this type can hold prints as a
//! string that parses back to the same value: a store that writes a timestamp it read from a kit
//! must always be able to read it again (a negative year once bricked a store for good).

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Name};

/// A UTC instant with whole-second precision, always within [`Timestamp::MIN`]..=[`Timestamp::MAX`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Length of the one accepted spelling.
const LEN: usize = 20;

impl Timestamp {
    /// `0001-01-01T00:00:00Z`: year 0000 is refused because it is a matter of "mutual agreement"
    /// in ISO 8601 and common verifier languages (Python's `datetime`) cannot represent it.
    pub const MIN: Timestamp = Timestamp(-62_135_596_800);
    /// `9999-12-31T23:59:59Z`: the last instant with a four-digit year.
    pub const MAX: Timestamp = Timestamp(253_402_300_799);

    /// From seconds since the Unix epoch, saturating into [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    ///
    /// Saturating (not failing) because callers pass clocks and durations, where "year 10000" and
    /// "9999-12-31" mean the same thing; use [`Timestamp::try_from_unix`] to refuse instead.
    pub fn from_unix(secs: i64) -> Timestamp {
        Timestamp(secs.clamp(Self::MIN.0, Self::MAX.0))
    }

    /// From seconds since the Unix epoch, or `None` outside the representable range (for values
    /// that must be taken exactly, such as `SOURCE_DATE_EPOCH`).
    pub fn try_from_unix(secs: i64) -> Option<Timestamp> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&secs)
            .then_some(Timestamp(secs))
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0
    }

    /// Parse the strict `YYYY-MM-DDTHH:MM:SSZ` form: exactly 20 ASCII bytes, year 0001–9999, a
    /// valid calendar date, hours 00–23, minutes and seconds 00–59 (no leap second `60`, so one
    /// instant has one spelling). The byte shape is checked by hand before any date arithmetic,
    /// because chrono's `%Y` accepts signs and more than four digits.
    pub fn parse(s: &str) -> Result<Timestamp, Error> {
        parse_strict(s.as_bytes()).ok_or_else(|| Error::InvalidTimestamp {
            value: Name::new(s),
        })
    }

    /// Add seconds, saturating into [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    pub fn plus_secs(&self, secs: i64) -> Timestamp {
        Timestamp::from_unix(self.0.saturating_add(secs))
    }
}

/// The digits at `b[at..at + n]` as a number, or `None` if any byte is not an ASCII digit.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    b.get(at..at + n)?.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn parse_strict(b: &[u8]) -> Option<Timestamp> {
    if b.len() != LEN {
        return None;
    }
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ];
    if separators.iter().any(|&(at, c)| b.get(at) != Some(&c)) {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let (month, day) = (digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (hour, minute, second) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if year == 0 || second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    Timestamp::try_from_unix(date.and_time(time).and_utc().timestamp())
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always in range (every constructor clamps or refuses), so this is the four-digit form.
        match DateTime::from_timestamp(self.0, 0) {
            Some(dt) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                dt.year(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            ),
            None => Err(fmt::Error),
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

    fn invalid(s: &str) -> bool {
        matches!(Timestamp::parse(s), Err(Error::InvalidTimestamp { .. }))
    }

    #[test]
    fn strict_round_trip() {
        let t = Timestamp::parse("2026-11-25T17:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T17:00:00Z");
        assert_eq!(t.unix(), 1_795_626_000);
    }

    #[test]
    fn refuses_every_other_spelling() {
        for bad in [
            "2026-11-25T17:00:00+00:00",
            "2026-11-25T17:00:00.5Z",
            "2026-11-25 17:00:00Z",
            "2026-11-25t17:00:00Z",
            "2026-11-25T17:00:00z",
            // Issue 11 item 2: signed and over-long years (chrono's %Y takes them).
            "-001-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "+999-01-01T00:00:00Z",
            "+9999-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            // Second 60 is refused: one instant, one spelling.
            "2016-12-31T23:59:60Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-1-01T00:00:00Z ",
            "2026-01-01T00:00:0\u{0}Z",
            "२०२६-01-01T00:00:00Z",
            "",
        ] {
            assert!(invalid(bad), "{bad:?} must be refused");
        }
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn range_ends_are_exact() {
        assert_eq!(Timestamp::MIN.to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(
            Timestamp::parse("0001-01-01T00:00:00Z").unwrap(),
            Timestamp::MIN
        );
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59Z").unwrap(),
            Timestamp::MAX
        );
        assert_eq!(Timestamp::from_unix(i64::MIN), Timestamp::MIN);
        assert_eq!(Timestamp::from_unix(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::MAX.plus_secs(1), Timestamp::MAX);
        assert_eq!(Timestamp::MIN.plus_secs(-1), Timestamp::MIN);
        assert_eq!(Timestamp::MAX.plus_secs(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::try_from_unix(Timestamp::MAX.unix() + 1), None);
        assert_eq!(Timestamp::try_from_unix(Timestamp::MIN.unix() - 1), None);
        assert_eq!(Timestamp::try_from_unix(0).map(|t| t.unix()), Some(0));
    }

    /// Property: for many instants spread over the whole range and beyond it, whatever a
    /// constructor gives prints as a string that parses back to the same value.
    #[test]
    fn display_always_parses_back() {
        // A fixed-seed xorshift walk: deterministic, covers the range, no extra dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut samples = vec![
            i64::MIN,
            i64::MAX,
            0,
            -1,
            Timestamp::MIN.unix(),
            Timestamp::MAX.unix(),
            Timestamp::MIN.unix() - 1,
            Timestamp::MAX.unix() + 1,
        ];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = (Timestamp::MAX.unix() - Timestamp::MIN.unix()) as u64 + 2 * 86_400;
            samples.push(Timestamp::MIN.unix() - 86_400 + (x % span) as i64);
            samples.push(x as i64);
        }
        for secs in samples {
            for t in [
                Timestamp::from_unix(secs),
                Timestamp::from_unix(0).plus_secs(secs),
            ] {
                let text = t.to_string();
                assert_eq!(text.len(), LEN, "{secs}");
                assert_eq!(Timestamp::parse(&text), Ok(t), "{secs} -> {text}");
            }
            if let Some(t) = Timestamp::try_from_unix(secs) {
                assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
            }
        }
    }
}
