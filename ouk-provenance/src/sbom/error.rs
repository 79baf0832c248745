//! Errors of SBOM generation and validation.

/// Why an SBOM was refused (or could not be generated). Paths are JSON pointers built by the checker
/// from field names and indices; identifiers copied from the document are cut to a bounded length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// Larger than `Limits::max_sbom_bytes`.
    #[error("SBOM is {size} bytes, limit is {limit}")]
    TooLarge {
        /// Size found.
        size: usize,
        /// Limit in force.
        limit: usize,
    },
    /// Not well-formed JSON.
    #[error("SBOM is not valid JSON: {0}")]
    Json(String),
    /// A JSON object repeats a key.
    #[error("SBOM repeats the JSON key {key:?}")]
    DuplicateKey {
        /// The key (bounded).
        key: String,
    },
    /// Nesting, value count, object keys, one element's values or bytes, one token's bytes, or one
    /// array's elements over its limit.
    #[error("SBOM exceeds the JSON {what} limit of {limit}")]
    JsonLimit {
        /// `depth` or `values`.
        what: &'static str,
        /// Limit in force.
        limit: usize,
    },
    /// More identifiers, forward references or other counted items than a `Limits::max_sbom_*` cap.
    #[error("SBOM has more {what} than the limit of {limit}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// Limit in force.
        limit: usize,
    },
    /// The reader the SBOM was streamed from failed (not caused by the SBOM's content itself).
    #[error("reading the SBOM failed: {0}")]
    Read(String),
    /// Neither SPDX (`spdxVersion`) nor CycloneDX (`bomFormat`), or both at once.
    #[error("SBOM is neither SPDX JSON nor CycloneDX JSON")]
    UnknownFormat,
    /// SPDX, but neither version 2.3 nor 2.2.
    #[error("SPDX version {found:?} is not supported (only SPDX-2.3 and SPDX-2.2)")]
    UnsupportedSpdxVersion {
        /// Version found (bounded).
        found: String,
    },
    /// CycloneDX, but not spec version 1.5 or 1.6.
    #[error("CycloneDX specVersion {found:?} is not supported (only 1.5, 1.6 and 1.7)")]
    UnsupportedCycloneDxVersion {
        /// Version found (bounded).
        found: String,
    },
    /// A required field is absent.
    #[error("SBOM field {path} is missing")]
    MissingField {
        /// JSON pointer of the missing field.
        path: String,
    },
    /// A field has the wrong JSON type.
    #[error("SBOM field {path} must be {expected}")]
    WrongType {
        /// JSON pointer.
        path: String,
        /// Expected JSON type.
        expected: &'static str,
    },
    /// A field has a value the standard does not allow.
    #[error("SBOM field {path} is invalid: {reason}")]
    InvalidValue {
        /// JSON pointer.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A checksum/hash has an unknown algorithm or a value that is not hex of the right length.
    #[error("SBOM hash at {path} is invalid: {reason}")]
    InvalidHash {
        /// JSON pointer of the hash object.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two SPDX elements share an SPDXID.
    #[error("SPDXID {id:?} is used more than once")]
    DuplicateSpdxId {
        /// The identifier (bounded).
        id: String,
    },
    /// Two CycloneDX objects share a bom-ref.
    #[error("bom-ref {bom_ref:?} is used more than once")]
    DuplicateBomRef {
        /// The reference (bounded).
        bom_ref: String,
    },
    /// A relationship/dependency points at an identifier the document does not define.
    #[error("SBOM field {path} refers to undefined identifier {id:?}")]
    UnknownReference {
        /// JSON pointer of the reference.
        path: String,
        /// The identifier (bounded).
        id: String,
    },
    /// A bug of ours (the validator thread could not start or panicked); never caused by SBOM data.
    #[error("internal error of the SBOM validator: {0}")]
    Internal(&'static str),
    /// The generator's input cannot make a valid document (caller error, never caused by kit data).
    #[error("invalid SBOM input: {field}: {reason}")]
    InvalidInput {
        /// Which input field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}
