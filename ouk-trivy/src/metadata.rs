//! `metadata.json`, which Trivy reads beside `trivy.db` and refuses to run without under
//! `--skip-db-update`.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::TrivyError;

/// The Trivy DB schema version this crate writes and accepts (Trivy ≥ 0.23 reads version 2).
pub const SCHEMA_VERSION: u32 = 2;

/// The content of `metadata.json`, with the field names Trivy's Go struct uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    /// Schema version; must be [`SCHEMA_VERSION`].
    pub version: u32,
    /// When Trivy would next look for a new DB (RFC 3339).
    pub next_update: String,
    /// When the DB was built (RFC 3339).
    pub updated_at: String,
    /// When the DB was downloaded (RFC 3339; upstream archives carry the zero time).
    pub downloaded_at: String,
}

impl Metadata {
    /// Builds metadata from Unix seconds (callers pass SOURCE_DATE_EPOCH-derived values; this
    /// crate never reads the clock).
    pub fn from_unix(
        next_update: u64,
        updated_at: u64,
        downloaded_at: u64,
    ) -> Result<Self, TrivyError> {
        Ok(Metadata {
            version: SCHEMA_VERSION,
            next_update: rfc3339(next_update)?,
            updated_at: rfc3339(updated_at)?,
            downloaded_at: rfc3339(downloaded_at)?,
        })
    }

    /// Parses and checks metadata bytes: JSON object, `Version` 2, all three times RFC 3339.
    /// `path` only names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, TrivyError> {
        // serde's messages can quote the input: cut them so a hostile file cannot flood logs.
        let bad = |reason: String| TrivyError::BadMetadata {
            path: path.to_path_buf(),
            reason: reason.chars().take(200).collect(),
        };
        let md: Metadata =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not valid metadata: {e}")))?;
        if md.version != SCHEMA_VERSION {
            return Err(bad(format!(
                "schema version {} (need {SCHEMA_VERSION})",
                md.version
            )));
        }
        for (name, value) in [
            ("NextUpdate", &md.next_update),
            ("UpdatedAt", &md.updated_at),
            ("DownloadedAt", &md.downloaded_at),
        ] {
            DateTime::parse_from_rfc3339(value)
                .map_err(|e| bad(format!("{name} is not RFC 3339: {e}")))?;
        }
        Ok(md)
    }

    /// The exact bytes written to `metadata.json` (compact JSON, Go field order, no newline —
    /// as trivy-db writes it).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing a struct of strings and an integer cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Unix seconds → RFC 3339 UTC with a `Z` suffix (Go's `time.Time` JSON form for UTC).
pub(crate) fn rfc3339(secs: u64) -> Result<String, TrivyError> {
    let secs = i64::try_from(secs).map_err(|_| TrivyError::InvalidOption("time out of range"))?;
    let t = DateTime::<Utc>::from_timestamp(secs, 0)
        .ok_or(TrivyError::InvalidOption("time out of range"))?;
    Ok(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let md = Metadata::from_unix(1_700_086_400, 1_700_000_000, 1_700_000_000).unwrap();
        assert_eq!(
            String::from_utf8(md.to_bytes()).unwrap(),
            r#"{"Version":2,"NextUpdate":"2023-11-15T22:13:20Z","UpdatedAt":"2023-11-14T22:13:20Z","DownloadedAt":"2023-11-14T22:13:20Z"}"#
        );
    }

    #[test]
    fn rejects_wrong_version_and_bad_times() {
        let p = Path::new("m.json");
        let v1 = br#"{"Version":1,"NextUpdate":"2023-11-15T22:13:20Z","UpdatedAt":"2023-11-14T22:13:20Z","DownloadedAt":"0001-01-01T00:00:00Z"}"#;
        assert!(matches!(
            Metadata::parse(v1, p),
            Err(TrivyError::BadMetadata { .. })
        ));
        let bad_time = br#"{"Version":2,"NextUpdate":"tomorrow","UpdatedAt":"2023-11-14T22:13:20Z","DownloadedAt":"0001-01-01T00:00:00Z"}"#;
        assert!(Metadata::parse(bad_time, p).is_err());
        assert!(Metadata::parse(b"[]", p).is_err());
        let long = format!(r#"{{"Version":2,"NextUpdate":"{}"}}"#, "x".repeat(10_000));
        match Metadata::parse(long.as_bytes(), p) {
            Err(TrivyError::BadMetadata { reason, .. }) => assert!(reason.chars().count() <= 200),
            other => panic!("{other:?}"),
        }
        // The upstream form with the zero DownloadedAt and fractional seconds is accepted.
        let upstream = br#"{"Version":2,"NextUpdate":"2024-05-02T06:12:34.08744788Z","UpdatedAt":"2024-05-02T00:12:34.087448181Z","DownloadedAt":"0001-01-01T00:00:00Z"}"#;
        assert_eq!(Metadata::parse(upstream, p).unwrap().version, 2);
    }
}
