//! Errors of statement building and checking. Every refusal has its own variant naming the member or
//! field at fault; attacker-supplied text in variants is cut to a bounded length.

/// Why a provenance statement could not be built or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    // ---- malformed input -------------------------------------------------------------------------
    /// The payload is larger than `Limits::max_statement_bytes`.
    #[error("provenance statement is {size} bytes, limit is {limit}")]
    PayloadTooLarge {
        /// Payload size.
        size: usize,
        /// Limit in force.
        limit: usize,
    },
    /// Not well-formed JSON.
    #[error("provenance statement is not valid JSON: {0}")]
    Json(String),
    /// A JSON object repeats a key (two verifiers could read it differently).
    #[error("provenance statement repeats the JSON key {key:?}")]
    DuplicateKey {
        /// The repeated key (bounded).
        key: String,
    },
    /// Nesting deeper than `Limits::max_json_depth`, or more values than `Limits::max_json_values`.
    #[error("provenance statement exceeds the JSON {what} limit of {limit}")]
    JsonLimit {
        /// `depth` or `values`.
        what: &'static str,
        /// Limit in force.
        limit: usize,
    },
    /// Well-formed JSON that does not have the statement layout of `spec/provenance.md`.
    #[error("provenance statement is malformed: {0}")]
    Malformed(String),
    /// A string field is longer than `Limits::max_string_bytes`.
    #[error("provenance field {field} is longer than {limit} bytes")]
    StringTooLong {
        /// Which field.
        field: &'static str,
        /// Limit in force.
        limit: usize,
    },
    /// A timestamp is not RFC 3339, or finishedOn precedes startedOn.
    #[error("provenance timestamp {field} is invalid")]
    BadTimestamp {
        /// `startedOn`, `finishedOn` or `finishedOn<startedOn`.
        field: &'static str,
    },

    // ---- types -----------------------------------------------------------------------------------
    /// `_type` is not `https://in-toto.io/Statement/v1`.
    #[error("statement _type is {found:?}, expected https://in-toto.io/Statement/v1")]
    WrongStatementType {
        /// Value found (bounded).
        found: String,
    },
    /// `predicateType` is not `https://slsa.dev/provenance/v1`.
    #[error("predicateType is {found:?}, expected https://slsa.dev/provenance/v1")]
    WrongPredicateType {
        /// Value found (bounded).
        found: String,
    },
    /// `buildDefinition.buildType` is not the OUK kit build type.
    #[error("buildType is {found:?}, expected {expected}")]
    WrongBuildType {
        /// Value found (bounded).
        found: String,
        /// The build type this crate understands.
        expected: &'static str,
    },

    // ---- subjects --------------------------------------------------------------------------------
    /// A payload member of the manifest has no subject in the statement.
    #[error("payload member {name:?} is not attested (no subject in the provenance statement)")]
    SubjectMissing {
        /// Member path.
        name: String,
    },
    /// The statement attests something that is not a payload member of the manifest.
    #[error("provenance subject {name:?} is not a payload member of the kit")]
    SubjectExtra {
        /// Subject name (bounded).
        name: String,
    },
    /// Subject and manifest disagree on a member's SHA-256.
    #[error(
        "payload member {name:?}: provenance says sha256 {attested}, manifest says {expected}"
    )]
    SubjectDigestMismatch {
        /// Member path.
        name: String,
        /// Digest from the manifest (expected set).
        expected: String,
        /// Digest attested by the statement.
        attested: String,
    },
    /// Two subjects carry the same name.
    #[error("provenance subject {name:?} appears more than once")]
    SubjectDuplicate {
        /// Subject name (bounded).
        name: String,
    },
    /// A subject lacks a name or its digest set is not exactly one lowercase-hex sha256.
    #[error("provenance subject #{index} is invalid: {reason}")]
    SubjectInvalid {
        /// Position in the subject list.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More subjects than `Limits::max_subjects`.
    #[error("provenance statement has {count} subjects, limit is {limit}")]
    TooManySubjects {
        /// Count found.
        count: usize,
        /// Limit in force.
        limit: usize,
    },

    // ---- dependencies / builder ------------------------------------------------------------------
    /// A resolvedDependencies entry does not follow the buildType's layout.
    #[error("resolvedDependencies #{index} is invalid: {reason}")]
    DependencyInvalid {
        /// Position in the list.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More resolvedDependencies than `Limits::max_dependencies`.
    #[error("provenance statement has {count} resolvedDependencies, limit is {limit}")]
    TooManyDependencies {
        /// Count found.
        count: usize,
        /// Limit in force.
        limit: usize,
    },
    /// `runDetails.builder.id` is not among the trust root's allowed builders.
    #[error("builder id {id:?} is not among the allowed builders")]
    UnknownBuilder {
        /// Builder id found (bounded).
        id: String,
    },

    // ---- caller errors (never caused by kit data) ------------------------------------------------
    /// The caller's input cannot produce a valid statement (builder side), or the expected set passed
    /// to the checker is itself inconsistent. Never caused by kit content.
    #[error("invalid provenance input: {field}: {reason}")]
    InvalidInput {
        /// Which input field.
        field: &'static str,
        /// What is wrong (may name the caller's own value).
        reason: String,
    },
    /// An option in externalParameters has a name that looks like a secret; the build request must never
    /// carry secrets into a signed, shipped document.
    #[error("build option {key:?} looks like a secret and must not be recorded in provenance")]
    SecretLikeParameter {
        /// Option name.
        key: String,
    },
}
