//! Timestamps as the documents spell them: RFC 3339, UTC, whole seconds (`YYYY-MM-DDTHH:MM:SSZ`).
//!
//! Callers pass Unix seconds (e.g. from `SOURCE_DATE_EPOCH`); this crate never reads the clock.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`; `None` if out of range (before year 0 / after 9999).
pub(crate) fn format_unix(secs: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(secs).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    t.format(&Rfc3339).ok()
}

/// Parses an RFC 3339 timestamp to Unix seconds (any offset, fractional seconds dropped).
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        // 1700000000 is 2023-11-14T22:13:20Z (checked with `date -u -d @1700000000`).
        assert_eq!(
            format_unix(1_700_000_000).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2023-11-14 22:13:20"), None);
        assert_eq!(format_unix(i64::MAX), None);
    }
}
