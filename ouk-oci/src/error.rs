//! Errors of the OCI transport. Each names what it is about (reference, digest, file), because an
//! operator at a registry or a stick must know which object to look at.

use std::path::PathBuf;

/// Why an OCI push, pull, export or layout read failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `oci://` reference is not of the accepted form.
    #[error("bad OCI reference {reference:?}: {reason}")]
    BadReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest or index is not the artifact we publish, or breaks a rule we enforce.
    #[error("OCI manifest {digest}: {reason}")]
    BadManifest {
        /// Digest (or tag) the document was fetched by.
        digest: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A manifest or index larger than the cap, refused before it was parsed.
    #[error("OCI manifest {digest} is larger than {limit} bytes")]
    ManifestTooLarge {
        /// Digest (or tag) the document was fetched by.
        digest: String,
        /// The cap.
        limit: u64,
    },
    /// Downloaded or stored content does not have the digest or size its descriptor names.
    #[error("OCI blob {expected}: {what}")]
    BlobMismatch {
        /// The digest the descriptor names.
        expected: String,
        /// What was found instead.
        what: String,
    },
    /// A layer (the kit) larger than the configured cap.
    #[error("OCI layer {digest} has {size} bytes, more than the limit of {limit}")]
    LayerTooLarge {
        /// Layer digest.
        digest: String,
        /// Declared size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The transfer broke; what was verified so far is kept for the next attempt.
    #[error("download of {digest} interrupted at {offset} of {size} bytes ({reason}); run the pull again to resume")]
    Interrupted {
        /// Blob digest.
        digest: String,
        /// Bytes kept in the partial file.
        offset: u64,
        /// Blob size.
        size: u64,
        /// The last transport error.
        reason: String,
    },
    /// The registry refused or failed a request.
    #[error("registry {registry}: {operation}: {reason}")]
    Registry {
        /// host[:port].
        registry: String,
        /// What we were doing.
        operation: String,
        /// The registry's or the client's message.
        reason: String,
    },
    /// The registry refused the credentials or the token (HTTP 401/403), or wants credentials
    /// that were not given: a configuration problem, not a network one.
    #[error("registry {registry}: {operation}: {reason}")]
    Auth {
        /// host[:port].
        registry: String,
        /// What we were doing.
        operation: String,
        /// The registry's answer.
        reason: String,
    },
    /// The registry's TLS certificate was not accepted (unknown issuer — a missing `--ca-cert` —
    /// wrong name, expired): possibly an interception, never retried silently.
    #[error("registry {registry}: {operation}: {reason}")]
    Tls {
        /// host[:port].
        registry: String,
        /// What we were doing.
        operation: String,
        /// The TLS error.
        reason: String,
    },
    /// An OCI image layout on disk is not one we can read safely.
    #[error("OCI layout {path}: {reason}")]
    BadLayout {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The layout holds no kit by that tag, or several and no tag was given: the operator chooses.
    #[error("OCI layout {path}: {reason}")]
    LayoutChoice {
        /// The layout directory.
        path: PathBuf,
        /// What to choose from.
        reason: String,
    },
    /// A site CA or credentials file could not be used.
    #[error("{what} {path}: {reason}")]
    Config {
        /// Which setting.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn manifest(digest: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadManifest {
            digest: digest.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn layout(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::BadLayout {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// A short, stable name for reports and exit-code mapping.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadReference { .. } => "oci_reference",
            Error::BadManifest { .. } => "oci_manifest",
            Error::ManifestTooLarge { .. } => "oci_manifest_size",
            Error::BlobMismatch { .. } => "oci_blob_digest",
            Error::LayerTooLarge { .. } => "oci_layer_size",
            Error::Interrupted { .. } => "oci_interrupted",
            Error::Registry { .. } => "oci_registry",
            Error::Auth { .. } => "oci_auth",
            Error::Tls { .. } => "oci_tls",
            Error::BadLayout { .. } => "oci_layout",
            Error::LayoutChoice { .. } => "oci_layout_choice",
            Error::Config { .. } => "oci_config",
            Error::Io { .. } => "io",
        }
    }
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
