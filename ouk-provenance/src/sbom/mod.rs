//! SBOMs: generate the kit's own SPDX 2.3 document, and structurally validate SPDX 2.3 and CycloneDX
//! 1.5/1.6 JSON documents (user-supplied on the builder side, every SBOM member on the importer side).
//!
//! The Rust checks here are structural (required fields, versions, identifier uniqueness and references,
//! hash formats). Full JSON-schema validation is done by outside tools in CI (`pyspdxtools`,
//! `cyclonedx-python-lib`); see `.ci/parts/provenance.sh`.

mod cyclonedx;
mod error;
pub(crate) mod generate;
mod spdx;
mod walk;

pub use error::SbomError;
pub use generate::{generate_kit_spdx, KitSbomInput, SbomFeed, SbomFile, SbomTool};

use crate::limits::Limits;
use crate::strict_json::{self, StrictJsonError};
use serde::Serialize;
use serde_json::Value;

/// Which SBOM standard and version a document follows. Why an enum: the importer records it, and the
/// set of accepted versions is a policy decision kept in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum SbomFormat {
    /// SPDX 2.3, JSON serialization.
    #[serde(rename = "spdx-2.3")]
    Spdx23,
    /// CycloneDX 1.5, JSON serialization.
    #[serde(rename = "cyclonedx-1.5")]
    CycloneDx15,
    /// CycloneDX 1.6, JSON serialization.
    #[serde(rename = "cyclonedx-1.6")]
    CycloneDx16,
}

impl SbomFormat {
    /// The media type to record for this SBOM in the kit manifest.
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::Spdx23 => "application/spdx+json",
            SbomFormat::CycloneDx15 => "application/vnd.cyclonedx+json; version=1.5",
            SbomFormat::CycloneDx16 => "application/vnd.cyclonedx+json; version=1.6",
        }
    }
}

/// Detects whether `bytes` is SPDX 2.3 JSON or CycloneDX 1.5/1.6 JSON and checks its structure.
/// Refuses documents over `limits.max_sbom_bytes`, with duplicate JSON keys, or over the JSON depth and
/// value-count limits. The caller adds which member/file it was.
pub fn validate_sbom(bytes: &[u8], limits: &Limits) -> Result<SbomFormat, SbomError> {
    if bytes.len() > limits.max_sbom_bytes {
        return Err(SbomError::TooLarge {
            size: bytes.len(),
            limit: limits.max_sbom_bytes,
        });
    }
    let doc =
        strict_json::parse(bytes, limits.max_json_depth, limits.max_json_values).map_err(|e| {
            match e {
                StrictJsonError::Syntax(m) => SbomError::Json(m),
                StrictJsonError::DuplicateKey(key) => SbomError::DuplicateKey { key },
                StrictJsonError::TooDeep(limit) => SbomError::JsonLimit {
                    what: "depth",
                    limit,
                },
                StrictJsonError::TooManyValues(limit) => SbomError::JsonLimit {
                    what: "values",
                    limit,
                },
            }
        })?;
    let Value::Object(map) = &doc else {
        return Err(SbomError::WrongType {
            path: String::new(),
            expected: "object",
        });
    };
    match (
        map.contains_key("spdxVersion"),
        map.contains_key("bomFormat"),
    ) {
        (true, false) => spdx::check(map, limits).map(|()| SbomFormat::Spdx23),
        (false, true) => cyclonedx::check(map, limits),
        _ => Err(SbomError::UnknownFormat),
    }
}

#[cfg(test)]
mod tests;
