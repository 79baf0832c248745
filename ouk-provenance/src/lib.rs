//! Provenance and SBOMs for Offline Update Kits (OUK).
//!
//! Why this crate exists: the security policy promises an SPDX SBOM on every artefact and an in-toto SLSA
//! attestation that is checked at import. This crate produces and checks the *payload bytes* of those
//! documents; it signs nothing and does no I/O (the DSSE envelope, keys and trust roots live in
//! `ouk-format`). The layout it emits and the checks it applies are specified in `spec/provenance.md`.
//!
//! - Builder side: [`build_statement`] (in-toto Statement v1 + SLSA provenance v1) and
//!   [`generate_kit_spdx`] (SPDX 2.3 JSON describing the kit).
//! - Importer side: [`check_statement`] (types, exact subject set, builder allow-list, limits) returning a
//!   [`ProvenanceSummary`], [`render_statement`] for `inspect --provenance`, and [`validate_sbom_reader`]
//!   / [`validate_sbom`] / [`SbomStreamValidator`] (SPDX 2.3 / CycloneDX 1.5–1.6 JSON structural
//!   checks, streaming, bounded memory).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod build;
mod check;
mod digest;
mod error;
mod json_walk;
mod limits;
mod render;
pub mod sbom;
mod statement;
mod statement_scan;
mod text;
mod timefmt;

pub use build::{
    build_statement, Dependency, DependencyKind, ExternalParameters, ProvenanceInput,
    RequestedSource,
};
pub use check::{check_statement, ProvenanceSummary, SourceSummary, SUBJECT_SLACK};
pub use digest::{DigestError, FileDigester, FileDigests, Sha1Hex, Sha256Hex, Subject};
pub use error::ProvenanceError;
pub use limits::Limits;
pub use render::render_statement;
pub use sbom::{
    generate_kit_spdx, validate_sbom, validate_sbom_reader, KitSbomInput, SbomError, SbomFeed,
    SbomFile, SbomFormat, SbomStreamValidator, SbomTool,
};
pub use statement::{
    BUILD_TYPE_KIT_V1, PAYLOAD_TYPE_IN_TOTO, PREDICATE_TYPE_SLSA_PROVENANCE_V1, STATEMENT_TYPE_V1,
};

#[cfg(test)]
mod tests;
