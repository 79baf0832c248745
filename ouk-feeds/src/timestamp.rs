//! Timestamps from the many upstream date formats, normalised to RFC 3339 UTC.
//!
//! Hand-written dispatch over a handful of `time` format descriptions, because
//! each feed uses its own layout (NVD omits the zone, EUVD uses "Jul 6, 2026,
//! 12:00:00 AM", CNVD/CNNVD plain dates, BDU `DD.MM.YYYY`).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// A parsed instant in UTC. Ordered, cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(OffsetDateTime);

/// Result of reading a date field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsParse {
    /// A real instant.
    Real(Ts),
    /// A placeholder such as Go's `0001-01-01T00:00:00Z` (any year before 1970):
    /// treated as "unknown".
    Placeholder,
}

impl Ts {
    /// Render as RFC 3339 with a `Z` zone (fractional seconds only when present).
    pub fn to_rfc3339(self) -> String {
        // Rfc3339 formatting of a UTC value cannot fail for years 0..=9999.
        self.0
            .format(&Rfc3339)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
    }

    /// `(unix seconds, nanoseconds)`: exact and offset-free (every `Ts` is UTC),
    /// for the merge's spill file.
    pub(crate) fn to_parts(self) -> (i64, u32) {
        (self.0.unix_timestamp(), self.0.nanosecond())
    }

    /// Inverse of [`Ts::to_parts`]; `None` when out of range.
    pub(crate) fn from_parts(secs: i64, nanos: u32) -> Option<Ts> {
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()?
            .replace_nanosecond(nanos)
            .ok()
            .map(Ts)
    }

    /// The Unix epoch, used as the last-resort `modified`.
    pub fn epoch() -> Ts {
        Ts(OffsetDateTime::UNIX_EPOCH)
    }

    /// From Unix seconds (used for SOURCE_DATE_EPOCH-style fallbacks).
    pub fn from_unix(secs: i64) -> Option<Ts> {
        OffsetDateTime::from_unix_timestamp(secs).ok().map(Ts)
    }
}

fn classify(dt: OffsetDateTime) -> TsParse {
    let utc = dt.to_offset(UtcOffset::UTC);
    if utc.year() < 1970 {
        TsParse::Placeholder
    } else {
        TsParse::Real(Ts(utc))
    }
}

/// Parse a date in any of the supported layouts; `None` if unrecognised.
pub fn parse(raw: &str) -> Option<TsParse> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(classify(dt));
    }
    // RFC 3339 with lower-case separators or a space instead of `T`.
    let upper = s.replacen(' ', "T", 1).to_ascii_uppercase();
    if let Ok(dt) = OffsetDateTime::parse(&upper, &Rfc3339) {
        return Some(classify(dt));
    }
    // No zone (NVD API `2021-07-07T20:15:08.750`, CNNVD `2022-12-08 00:00:00`): UTC.
    let with_z = format!("{upper}Z");
    if let Ok(dt) = OffsetDateTime::parse(&with_z, &Rfc3339) {
        return Some(classify(dt));
    }
    // Minutes only, with zone (`2022-12-15T17:41+09:00`).
    let fd_min_off = format_description!(
        "[year]-[month]-[day]T[hour]:[minute][offset_hour sign:mandatory]:[offset_minute]"
    );
    if let Ok(dt) = OffsetDateTime::parse(&upper, fd_min_off) {
        return Some(classify(dt));
    }
    let fd_date = format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(s, fd_date) {
        return Some(classify(d.midnight().assume_utc()));
    }
    let fd_ru = format_description!("[day].[month].[year]");
    if let Ok(d) = Date::parse(s, fd_ru) {
        return Some(classify(d.midnight().assume_utc()));
    }
    // EUVD: `Jul 6, 2026, 12:00:00 AM` (no zone given; read as UTC).
    let fd_euvd = format_description!(
        "[month repr:short] [day padding:none], [year], [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    if let Ok(p) = PrimitiveDateTime::parse(s, fd_euvd) {
        return Some(classify(p.assume_utc()));
    }
    None
}

/// Parse and keep only real instants.
pub fn parse_real(raw: &str) -> Option<Ts> {
    match parse(raw) {
        Some(TsParse::Real(t)) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        parse_real(s).unwrap().to_rfc3339()
    }

    #[test]
    fn layouts() {
        assert_eq!(
            r("2023-10-10T14:28:19.389317Z"),
            "2023-10-10T14:28:19.389317Z"
        );
        assert_eq!(r("2021-07-07T20:15:08.750"), "2021-07-07T20:15:08.75Z");
        assert_eq!(r("2022-12-15T12:04:51+09:00"), "2022-12-15T03:04:51Z");
        assert_eq!(r("2017-01-11"), "2017-01-11T00:00:00Z");
        assert_eq!(r("2022-12-08 00:00:00"), "2022-12-08T00:00:00Z");
        assert_eq!(r("Jul 6, 2026, 12:00:00 AM"), "2026-07-06T00:00:00Z");
        assert_eq!(r("Sep 16, 2024, 5:24:01 PM"), "2024-09-16T17:24:01Z");
        assert_eq!(r("24.05.2015"), "2015-05-24T00:00:00Z");
        assert_eq!(parse("0001-01-01T00:00:00Z"), Some(TsParse::Placeholder));
        assert_eq!(parse("yesterday"), None);
    }
}
