//! Builder errors: each names the file or input it is about, so a release engineer reading a CI
//! log knows what to fix.

use std::path::PathBuf;

/// Everything that can stop a build or a key/trust command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A kit-format rule was broken (bad member path, signing failure...).
    #[error(transparent)]
    Format(#[from] ouk_format::Error),
    /// Compressing one member into the build's work directory failed (a full disk, most often:
    /// the work directory sits beside `--out`, so the path says which disk).
    #[error("compressing member {member} into {blob}: {source}")]
    Pack {
        /// The member being compressed.
        member: String,
        /// The work file it was compressed into.
        blob: PathBuf,
        /// What failed.
        source: ouk_format::Error,
    },
    /// Reading or writing a local file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A key file could not be used.
    #[error("key {path}: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A payload directory holds something that cannot go into a kit.
    #[error("payload {path}: {reason}")]
    Payload {
        /// The offending file.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// Feed ingest or merge failed.
    #[error(transparent)]
    Feeds(#[from] ouk_feeds::FeedError),
    /// SBOM generation or validation failed.
    #[error("SBOM {path}: {source}")]
    Sbom {
        /// The SBOM file or member.
        path: String,
        /// Why.
        source: ouk_provenance::SbomError,
    },
    /// Provenance generation failed.
    #[error(transparent)]
    Provenance(#[from] ouk_provenance::ProvenanceError),
    /// A delta kit cannot be built (bad base, unsorted snapshot, unsupported option).
    #[error("delta: {0}")]
    Delta(String),
    /// Trivy DB export or validation failed.
    #[error(transparent)]
    Trivy(#[from] ouk_trivy::TrivyError),
    /// Publishing over OCI (registry push, layout export) failed.
    #[error(transparent)]
    Oci(#[from] ouk_oci::Error),
}

impl BuildError {
    /// Attach a path to an I/O error.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.into();
        move |source| BuildError::Io { path, source }
    }
}
