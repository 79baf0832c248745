//! One error type for everything that can go wrong reading, verifying or writing a kit.
//!
//! Variants are grouped by who is at fault (malformed input, failed authentication, broken trust,
//! exceeded limit, local I/O) so a caller maps them to exit codes with one table
//! ([`ErrorKind::class`]). Attacker-controlled text is only ever carried through [`Name`], which
//! bounds and escapes it.

use std::fmt;

/// A bounded, escaped rendering of an attacker-controlled name (member path, payload type, id).
///
/// Keeping kit-supplied text out of error messages unescaped stops log and terminal injection;
/// bounding it stops a megabyte "name" from flooding the audit log.
#[derive(Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    const MAX_CHARS: usize = 160;

    /// Escape and bound raw bytes from a kit.
    pub fn from_bytes(raw: &[u8]) -> Name {
        Name::new(&String::from_utf8_lossy(raw))
    }

    /// Escape and bound a string from a kit.
    pub fn new(raw: &str) -> Name {
        let mut out = String::new();
        for (count, c) in raw.chars().enumerate() {
            if count >= Self::MAX_CHARS {
                out.push('…');
                break;
            }
            out.extend(c.escape_debug());
        }
        Name(out)
    }

    /// The escaped text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Which signed document a signature or trust error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The kit manifest envelope.
    Manifest,
    /// The trust root envelope.
    TrustRoot,
    /// The provenance attestation envelope.
    Attestation,
    /// The signed part index of a split kit (`KIT.parts.json`).
    PartsIndex,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Document::Manifest => "manifest",
            Document::TrustRoot => "trust root",
            Document::Attestation => "attestation",
            Document::PartsIndex => "part index",
        })
    }
}

/// Everything that can go wrong; see the module docs for the grouping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- malformed input -------------------------------------------------------------------
    /// The outer container is not a well-formed ustar stream (bad checksum, bad number field...).
    #[error("malformed tar container: {reason}")]
    TarFormat {
        /// What the tar parser reported.
        reason: Name,
    },
    /// The container ended in the middle of a structure.
    #[error("kit is truncated: {during}")]
    Truncated {
        /// The structure being read when the data ran out.
        during: Name,
    },
    /// A tar entry is not a plain regular file (link, device, FIFO, directory, PAX/GNU extension header, sparse file).
    #[error("tar entry {path} has forbidden type {entry_type:?}")]
    ForbiddenEntryType {
        /// The entry's raw name.
        path: Name,
        /// The raw type flag byte.
        entry_type: u8,
    },
    /// The first member is not the manifest envelope.
    #[error("first member must be the manifest envelope, found {found}")]
    ManifestNotFirst {
        /// What was found instead.
        found: Name,
    },
    /// A JSON document failed to parse or had unknown/missing fields.
    #[error("{document} is not valid: {reason}")]
    InvalidDocument {
        /// Which document.
        document: Document,
        /// The parser's explanation.
        reason: Name,
    },
    /// A base64 field could not be decoded with either the standard or URL-safe alphabet.
    #[error("field {field} is not valid base64")]
    Base64 {
        /// The field.
        field: &'static str,
    },
    /// The manifest's format version is not one this implementation reads.
    #[error("unsupported format version {found}")]
    UnsupportedFormat {
        /// The version found.
        found: Name,
    },
    /// A member path breaks the path rules (absolute, `..`, bad characters, too long...).
    #[error("unsafe member path {path}: {reason}")]
    UnsafePath {
        /// The offending path.
        path: Name,
        /// The rule it broke.
        reason: &'static str,
    },
    /// Two manifest entries name the same path (also case-insensitively), or one is a directory of the other.
    #[error("duplicate or conflicting member path {path}")]
    DuplicatePath {
        /// The offending path.
        path: Name,
    },
    /// The manifest is internally inconsistent (chunk count, link to a missing SBOM...).
    #[error("inconsistent manifest at {path}: {reason}")]
    InconsistentManifest {
        /// The member (or field) concerned.
        path: Name,
        /// What is inconsistent.
        reason: &'static str,
    },
    /// A container entry that the manifest does not list at this position.
    #[error("unexpected member {path}: {reason}")]
    UnexpectedMember {
        /// The entry name.
        path: Name,
        /// "not in manifest", "out of order" or "after last member".
        reason: &'static str,
    },
    /// A member listed in the manifest is absent from the container.
    #[error("member {path} listed in the manifest is missing")]
    MissingMember {
        /// The missing member.
        path: Name,
    },
    /// Non-zero bytes (or too many bytes) after the end-of-archive marker.
    #[error("trailing data after the end of the kit")]
    TrailingData,
    /// The zstd stream of a member is corrupt (after it was authenticated, this means the builder wrote garbage).
    #[error("member {path} does not decompress: {reason}")]
    Decompression {
        /// The member.
        path: Name,
        /// The decoder's explanation.
        reason: Name,
    },
    /// A key is not usable (bad encoding, unknown type).
    #[error("invalid key {key}: {reason}")]
    InvalidKey {
        /// Key id or label.
        key: Name,
        /// What is wrong.
        reason: &'static str,
    },
    /// A timestamp is not RFC 3339 `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("invalid timestamp {value}")]
    InvalidTimestamp {
        /// The value found.
        value: Name,
    },

    // ---- authentication ----------------------------------------------------------------------
    /// The envelope's payloadType is not the one expected for this document.
    #[error("{document} has payload type {found}, expected {expected}")]
    PayloadType {
        /// Which document.
        document: Document,
        /// Expected type.
        expected: &'static str,
        /// Found type.
        found: Name,
    },
    /// Fewer unique trusted keys produced valid signatures than the role's threshold.
    #[error("{document} signature threshold not met: {valid} of {threshold} required keys of role {role}")]
    ThresholdNotMet {
        /// Which document.
        document: Document,
        /// The role whose keys were counted.
        role: &'static str,
        /// Unique keys with a valid signature.
        valid: usize,
        /// Required.
        threshold: usize,
    },
    /// A chunk of a member's compressed data does not match its signed digest.
    #[error("member {path}: chunk {chunk} does not match its signed digest")]
    ChunkDigestMismatch {
        /// The member.
        path: Name,
        /// Zero-based chunk index.
        chunk: u64,
    },
    /// The whole compressed member does not match its signed digest.
    #[error("member {path}: compressed sha256 does not match the manifest")]
    CompressedDigestMismatch {
        /// The member.
        path: Name,
    },
    /// The compressed size in the container differs from the manifest.
    #[error("member {path}: compressed size {actual} differs from the manifest's {expected}")]
    CompressedSizeMismatch {
        /// The member.
        path: Name,
        /// Signed size.
        expected: u64,
        /// Size in the container.
        actual: u64,
    },
    /// Decompression produced a different number of bytes than declared (more is cut off at once).
    #[error("member {path}: uncompressed size differs from the declared {expected} bytes")]
    UncompressedSizeMismatch {
        /// The member.
        path: Name,
        /// Declared size.
        expected: u64,
    },
    /// The uncompressed content does not match its signed digest.
    #[error("member {path}: uncompressed sha256 does not match the manifest")]
    UncompressedDigestMismatch {
        /// The member.
        path: Name,
    },

    // ---- trust and time ------------------------------------------------------------------------
    /// The trust root lacks a role or a role is unusable (threshold 0, more than its keys, unknown keyid).
    #[error("trust root role {role} is invalid: {reason}")]
    InvalidRole {
        /// The role.
        role: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A key's listed keyid is not the sha256 of its canonical form, or a key appears twice.
    #[error("trust root key {keyid}: {reason}")]
    KeyIdMismatch {
        /// The listed keyid.
        keyid: Name,
        /// What is wrong.
        reason: &'static str,
    },
    /// The trust root's expiry has passed.
    #[error("trust root expired at {expires}")]
    TrustRootExpired {
        /// When it expired.
        expires: String,
    },
    /// A trust root offered as the successor of root N does not have version N + 1 (a skipped,
    /// repeated or older version: TUF walks the chain one version at a time).
    #[error("trust root version {found} cannot follow version {trusted}: expected {expected}")]
    TrustRootVersion {
        /// The version currently trusted.
        trusted: u64,
        /// The only acceptable next version.
        expected: u64,
        /// The version offered.
        found: u64,
    },
    /// The only valid signatures on a document are by a key that a later trust root removed
    /// from the role: revocation outranks whatever the document claims about its own age.
    #[error("{document} is signed by key {keyid}, removed from role {role} in trust root version {revoked_in}")]
    RevokedKey {
        /// Which document.
        document: Document,
        /// The role the key was removed from.
        role: &'static str,
        /// The revoked key's id.
        keyid: Name,
        /// The first trust root version without it.
        revoked_in: u64,
    },
    /// The kit's `expires_at` has passed (freeze attack).
    #[error("kit expired at {expires}")]
    KitExpired {
        /// When it expired.
        expires: String,
    },
    /// The kit claims to be created in the future beyond the allowed clock skew.
    #[error("kit created at {created}, which is in the future")]
    CreatedInFuture {
        /// The claimed creation time.
        created: String,
    },
    /// The builder identity is not among the trust root's allowed builders.
    #[error("builder {builder} is not allowed by the trust root")]
    BuilderNotAllowed {
        /// The builder id found.
        builder: Name,
    },

    // ---- limits ------------------------------------------------------------------------------
    /// A size or count limit was exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was measured.
        what: &'static str,
        /// The limit.
        limit: u64,
    },

    // ---- local I/O ----------------------------------------------------------------------------
    /// Reading or writing failed for reasons outside the kit (disk full, permissions...).
    #[error("I/O error while {during}: {kind}")]
    Io {
        /// What we were doing.
        during: &'static str,
        /// The OS error class.
        kind: std::io::ErrorKind,
    },
    /// Signing failed (key unusable for signing).
    #[error("signing failed: {reason}")]
    Signing {
        /// Why.
        reason: Name,
    },
}

/// The coarse class of an error, used for exit codes and audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Kit or document malformed, or its authentication failed.
    Verification,
    /// The trust root itself is unusable (expired, under-signed, invalid).
    Trust,
    /// Verified content that policy refuses (expired kit, unknown builder).
    Policy,
    /// A limit was exceeded.
    Limit,
    /// Local I/O failure.
    Io,
}

/// A stable, machine-readable name for each error variant (used in JSON output and audit logs).
pub type ErrorKind = &'static str;

impl Error {
    /// Stable snake_case name of this error, documented in the spec's error table.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::TarFormat { .. } => "tar_format",
            Error::Truncated { .. } => "truncated",
            Error::ForbiddenEntryType { .. } => "forbidden_entry_type",
            Error::ManifestNotFirst { .. } => "manifest_not_first",
            Error::InvalidDocument { .. } => "invalid_document",
            Error::Base64 { .. } => "base64",
            Error::UnsupportedFormat { .. } => "unsupported_format",
            Error::UnsafePath { .. } => "unsafe_path",
            Error::DuplicatePath { .. } => "duplicate_path",
            Error::InconsistentManifest { .. } => "inconsistent_manifest",
            Error::UnexpectedMember { .. } => "unexpected_member",
            Error::MissingMember { .. } => "missing_member",
            Error::TrailingData => "trailing_data",
            Error::Decompression { .. } => "decompression",
            Error::InvalidKey { .. } => "invalid_key",
            Error::InvalidTimestamp { .. } => "invalid_timestamp",
            Error::PayloadType { .. } => "payload_type",
            Error::ThresholdNotMet { .. } => "threshold_not_met",
            Error::ChunkDigestMismatch { .. } => "chunk_digest_mismatch",
            Error::CompressedDigestMismatch { .. } => "compressed_digest_mismatch",
            Error::CompressedSizeMismatch { .. } => "compressed_size_mismatch",
            Error::UncompressedSizeMismatch { .. } => "uncompressed_size_mismatch",
            Error::UncompressedDigestMismatch { .. } => "uncompressed_digest_mismatch",
            Error::InvalidRole { .. } => "invalid_role",
            Error::KeyIdMismatch { .. } => "keyid_mismatch",
            Error::TrustRootExpired { .. } => "trust_root_expired",
            Error::TrustRootVersion { .. } => "trust_root_version",
            Error::RevokedKey { .. } => "revoked_key",
            Error::KitExpired { .. } => "kit_expired",
            Error::CreatedInFuture { .. } => "created_in_future",
            Error::BuilderNotAllowed { .. } => "builder_not_allowed",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::Io { .. } => "io",
            Error::Signing { .. } => "signing",
        }
    }

    /// The class that decides the exit code.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::TrustRootExpired { .. }
            | Error::TrustRootVersion { .. }
            | Error::InvalidRole { .. }
            | Error::KeyIdMismatch { .. } => ErrorClass::Trust,
            Error::ThresholdNotMet {
                document: Document::TrustRoot,
                ..
            }
            | Error::PayloadType {
                document: Document::TrustRoot,
                ..
            }
            | Error::InvalidDocument {
                document: Document::TrustRoot,
                ..
            } => ErrorClass::Trust,
            Error::KitExpired { .. }
            | Error::CreatedInFuture { .. }
            | Error::BuilderNotAllowed { .. } => ErrorClass::Policy,
            Error::LimitExceeded { .. } => ErrorClass::Limit,
            Error::Io { .. } | Error::Signing { .. } => ErrorClass::Io,
            _ => ErrorClass::Verification,
        }
    }

    /// Wrap a local I/O failure.
    pub fn io(during: &'static str, err: &std::io::Error) -> Error {
        Error::Io {
            during,
            kind: err.kind(),
        }
    }

    pub(crate) fn invalid(document: Document, err: impl fmt::Display) -> Error {
        Error::InvalidDocument {
            document,
            reason: Name::new(&err.to_string()),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
