//! SBOMs: generate the kit's own SPDX 2.3 document, and structurally validate SPDX 2.3/2.2 and
//! CycloneDX 1.5/1.6/1.7 JSON documents (user-supplied on the builder side, every SBOM member on the importer side).
//!
//! The Rust checks here are structural (required fields, versions, identifier uniqueness and references,
//! hash formats). Full JSON-schema validation is done by outside tools in CI (`pyspdxtools`,
//! `cyclonedx-python-lib`); see `.ci/parts/provenance.sh`.

mod cyclonedx;
mod error;
pub(crate) mod generate;
mod guard;
mod push;
mod spdx;
mod stream;
mod verdict;
mod walk;

pub use error::SbomError;
pub use generate::{generate_kit_spdx, KitSbomInput, SbomFeed, SbomFile, SbomTool};
pub use push::SbomStreamValidator;

use crate::limits::Limits;
use serde::Serialize;
use std::io::Read;

/// Which SBOM standard and version a document follows. Why an enum: the importer records it, and the
/// set of accepted versions is a policy decision kept in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum SbomFormat {
    /// SPDX 2.3, JSON serialization.
    #[serde(rename = "spdx-2.3")]
    Spdx23,
    /// SPDX 2.2, JSON serialization (Microsoft's sbom-tool writes it).
    #[serde(rename = "spdx-2.2")]
    Spdx22,
    /// CycloneDX 1.5, JSON serialization.
    #[serde(rename = "cyclonedx-1.5")]
    CycloneDx15,
    /// CycloneDX 1.6, JSON serialization.
    #[serde(rename = "cyclonedx-1.6")]
    CycloneDx16,
    /// CycloneDX 1.7, JSON serialization (cdxgen 12 writes it by default).
    #[serde(rename = "cyclonedx-1.7")]
    CycloneDx17,
}

impl SbomFormat {
    /// The media type to record for this SBOM in the kit manifest.
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::Spdx23 | SbomFormat::Spdx22 => "application/spdx+json",
            SbomFormat::CycloneDx15 => "application/vnd.cyclonedx+json; version=1.5",
            SbomFormat::CycloneDx16 => "application/vnd.cyclonedx+json; version=1.6",
            SbomFormat::CycloneDx17 => "application/vnd.cyclonedx+json; version=1.7",
        }
    }
}

/// Detects whether `bytes` is SPDX 2.3/2.2 JSON or CycloneDX 1.5/1.6/1.7 JSON and checks its structure: a
/// thin wrapper over [`validate_sbom_reader`] (same verdicts), kept for callers that hold the bytes.
/// An over-size document is refused before parsing, with its exact size.
pub fn validate_sbom(bytes: &[u8], limits: &Limits) -> Result<SbomFormat, SbomError> {
    if bytes.len() > limits.max_sbom_bytes {
        return Err(SbomError::TooLarge {
            size: bytes.len(),
            limit: limits.max_sbom_bytes,
        });
    }
    validate_sbom_reader(bytes, limits)
}

/// Streaming form of [`validate_sbom`]: reads the SBOM from `reader` once, in bounded memory whatever
/// its size. Why: an SBOM member of a validly signed kit can come from a compromised builder, and a
/// whole-document parse tree of 64 MiB of tiny values costs ~300 MiB. Here memory is bounded by the
/// `max_sbom_*` fields of [`Limits`] (one element's tree, identifier fingerprints, parked forward
/// references), not by the input.
///
/// Refuses, with the same variants as before: over `max_sbom_bytes` (`TooLarge`, `size` then being the
/// bytes read before the cut), duplicate keys at any level, JSON depth/value caps, then the format's
/// structural checks. The format is told by the top-level `spdxVersion` / `bomFormat` key wherever it
/// sits; the refusal reported is the first in the specified check order, whatever the key order.
/// Reader errors are reported as [`SbomError::Read`].
pub fn validate_sbom_reader<R: Read>(reader: R, limits: &Limits) -> Result<SbomFormat, SbomError> {
    stream::validate(reader, limits)
}

#[cfg(test)]
mod tests;
