//! Source kinds and `KIND=PATH` specs, as given on the builder's `--source` flag.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FeedError;

/// Which upstream format a source path holds. The kind decides the adapter and
/// the source's rank in the precedence lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// OSV JSON directory, osv.dev `all.zip`, or PyPA-style OSV YAML (ecosystem databases).
    Osv,
    /// github/advisory-database checkout (OSV format, GHSA ids).
    Ghsa,
    /// NVD CVE API 2.0 pages or per-CVE files.
    Nvd,
    /// CNNVD XML export or CNNVD web-API JSON (enrichment only).
    Cnnvd,
    /// CNVD shareData XML (enrichment only).
    Cnvd,
    /// ENISA EU Vulnerability Database API JSON (enrichment only).
    Enisa,
    /// JVN iPedia / MyJVN VULDEF or JVNRSS XML (enrichment only).
    Jvn,
    /// FSTEC BDU `vulxml` export (enrichment only).
    Bdu,
}

impl SourceKind {
    /// All kinds, in a fixed order.
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Osv,
        SourceKind::Ghsa,
        SourceKind::Nvd,
        SourceKind::Cnnvd,
        SourceKind::Cnvd,
        SourceKind::Enisa,
        SourceKind::Jvn,
        SourceKind::Bdu,
    ];

    /// Lower-case name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Osv => "osv",
            SourceKind::Ghsa => "ghsa",
            SourceKind::Nvd => "nvd",
            SourceKind::Cnnvd => "cnnvd",
            SourceKind::Cnvd => "cnvd",
            SourceKind::Enisa => "enisa",
            SourceKind::Jvn => "jvn",
            SourceKind::Bdu => "bdu",
        }
    }

    /// OSV and GHSA are the required backbone of a kit: a build needs at least one.
    pub fn is_required(self) -> bool {
        matches!(self, SourceKind::Osv | SourceKind::Ghsa)
    }

    /// Primary sources form alias clusters and produce output records; the
    /// regional ones only enrich clusters found through their CVE/GHSA aliases.
    pub fn is_primary(self) -> bool {
        matches!(self, SourceKind::Osv | SourceKind::Ghsa | SourceKind::Nvd)
    }

    /// Fixed order used to pick text fields (summary, details, references):
    /// reviewed package advisories first, then NVD.
    pub(crate) fn content_rank(self) -> u8 {
        match self {
            SourceKind::Ghsa => 0,
            SourceKind::Osv => 1,
            SourceKind::Nvd => 2,
            SourceKind::Enisa => 3,
            SourceKind::Jvn => 4,
            SourceKind::Cnnvd => 5,
            SourceKind::Cnvd => 6,
            SourceKind::Bdu => 7,
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = FeedError;

    /// Accepts the lower-case kind names plus `go`, `pypa`, `pysec`, `rustsec`
    /// as aliases of `osv` (those databases publish OSV directly).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "osv" | "go" | "pypa" | "pysec" | "rustsec" => SourceKind::Osv,
            "ghsa" | "github" => SourceKind::Ghsa,
            "nvd" => SourceKind::Nvd,
            "cnnvd" => SourceKind::Cnnvd,
            "cnvd" => SourceKind::Cnvd,
            "enisa" | "euvd" => SourceKind::Enisa,
            "jvn" => SourceKind::Jvn,
            "bdu" | "fstec" => SourceKind::Bdu,
            _ => return Err(FeedError::InvalidSpec {
                spec: s.chars().take(64).collect(),
                reason:
                    "unknown source kind (expected osv, ghsa, nvd, cnnvd, cnvd, enisa, jvn or bdu)",
            }),
        })
    }
}

/// One `--source KIND=PATH`: where a feed lies and which adapter reads it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceSpec {
    /// Adapter to use.
    pub kind: SourceKind,
    /// File or directory (or `all.zip`) to read.
    pub path: PathBuf,
}

impl SourceSpec {
    /// Convenience constructor.
    pub fn new(kind: SourceKind, path: impl Into<PathBuf>) -> Self {
        SourceSpec {
            kind,
            path: path.into(),
        }
    }
}

impl FromStr for SourceSpec {
    type Err = FeedError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, path) = s.split_once('=').ok_or_else(|| FeedError::InvalidSpec {
            spec: s.chars().take(256).collect(),
            reason: "expected KIND=PATH",
        })?;
        if path.is_empty() {
            return Err(FeedError::InvalidSpec {
                spec: s.chars().take(256).collect(),
                reason: "empty PATH",
            });
        }
        Ok(SourceSpec {
            kind: kind.parse()?,
            path: PathBuf::from(path),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_and_aliases() {
        let s: SourceSpec = "ghsa=/x/y".parse().unwrap();
        assert_eq!(s.kind, SourceKind::Ghsa);
        assert_eq!(s.path, PathBuf::from("/x/y"));
        assert_eq!("go".parse::<SourceKind>().unwrap(), SourceKind::Osv);
        assert_eq!("EUVD".parse::<SourceKind>().unwrap(), SourceKind::Enisa);
        assert!("nope=/x".parse::<SourceSpec>().is_err());
        assert!("osv".parse::<SourceSpec>().is_err());
        assert!("osv=".parse::<SourceSpec>().is_err());
        for k in SourceKind::ALL {
            assert_eq!(k.as_str().parse::<SourceKind>().unwrap(), k);
        }
    }
}
