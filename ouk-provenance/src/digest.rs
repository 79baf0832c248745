//! Validated hex digests and a hasher that yields every digest our documents need.

use serde::{Deserialize, Serialize};
use sha1::Digest as _;

/// Why a hex digest string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// Wrong number of characters for the algorithm.
    #[error("digest must be {expected} lowercase hex characters, got {found}")]
    Length {
        /// Required length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// A character other than `0-9a-f`.
    #[error("digest must be lowercase hex")]
    NotLowerHex,
}

fn check_lower_hex(s: &str, expected: usize) -> Result<(), DigestError> {
    if s.len() != expected {
        return Err(DigestError::Length {
            expected,
            found: s.len(),
        });
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(DigestError::NotLowerHex);
    }
    Ok(())
}

/// A SHA-256 digest as 64 lowercase hex characters. Why a newtype: digests are compared as strings in
/// statements and SBOMs, so one canonical spelling (lowercase) is enforced at construction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// Parses a lowercase hex SHA-256 digest.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        check_lower_hex(s, 64)?;
        Ok(Sha256Hex(s.to_owned()))
    }
    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256Hex(hex::encode(bytes))
    }
    /// Hashes `data` in one go (convenience for small inputs and tests).
    pub fn digest(data: &[u8]) -> Self {
        Self::from_bytes(sha2::Sha256::digest(data).into())
    }
    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = DigestError;
    fn try_from(s: String) -> Result<Self, DigestError> {
        check_lower_hex(&s, 64)?;
        Ok(Sha256Hex(s))
    }
}
impl From<Sha256Hex> for String {
    fn from(d: Sha256Hex) -> String {
        d.0
    }
}
impl std::fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SHA-1 digest as 40 lowercase hex characters. Why it exists at all: SPDX 2.3 makes a SHA1 checksum
/// mandatory on every file (and its package verification code is SHA1-based). SHA-256 remains the digest
/// every security decision uses; SHA-1 is carried only so the SBOM is valid SPDX.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha1Hex(String);

impl Sha1Hex {
    /// Parses a lowercase hex SHA-1 digest.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        check_lower_hex(s, 40)?;
        Ok(Sha1Hex(s.to_owned()))
    }
    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 20]) -> Self {
        Sha1Hex(hex::encode(bytes))
    }
    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Both digests of one member's uncompressed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// SHA-256 (authoritative; matches the manifest and the provenance subject).
    pub sha256: Sha256Hex,
    /// SHA-1 (only for SPDX's mandatory file checksum).
    pub sha1: Sha1Hex,
}

/// Incremental hasher computing SHA-256 and SHA-1 in one pass. Why: the builder already streams each
/// member once to hash it for the manifest; feeding the same chunks here gives the SPDX SHA1 without a
/// second read. No I/O: the caller pushes bytes.
#[derive(Debug, Clone, Default)]
pub struct FileDigester {
    sha256: sha2::Sha256,
    sha1: sha1::Sha1,
}

impl FileDigester {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }
    /// Feeds a chunk of uncompressed content.
    pub fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        self.sha1.update(chunk);
    }
    /// Finishes both digests.
    pub fn finish(self) -> FileDigests {
        FileDigests {
            sha256: Sha256Hex::from_bytes(self.sha256.finalize().into()),
            sha1: Sha1Hex::from_bytes(self.sha1.finalize().into()),
        }
    }
}

/// One attested artefact: a payload member's path and the SHA-256 of its uncompressed content. The
/// builder passes one per payload member; the importer passes the verified manifest's members as the
/// expected set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    /// Member path inside the kit, exactly as in the manifest.
    pub name: String,
    /// SHA-256 of the uncompressed member content.
    pub sha256: Sha256Hex,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_upper_and_short() {
        let upper = "A".repeat(64);
        assert_eq!(Sha256Hex::parse(&upper), Err(DigestError::NotLowerHex));
        assert_eq!(
            Sha256Hex::parse("ab"),
            Err(DigestError::Length {
                expected: 64,
                found: 2
            })
        );
        assert!(Sha1Hex::parse(&"0".repeat(64)).is_err());
    }

    #[test]
    fn digester_matches_known_vectors() {
        // FIPS 180 "abc" test vectors, independent of this code.
        let mut d = FileDigester::new();
        d.update(b"a");
        d.update(b"bc");
        let out = d.finish();
        assert_eq!(
            out.sha256.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            out.sha1.as_str(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
