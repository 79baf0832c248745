//! The signed part index of a split kit (`KIT.parts.json`, spec §17).
//!
//! A kit too large for one file on the medium (FAT32 stops at 4 GiB − 1 bytes) is cut into
//! parts `KIT.001`, `KIT.002`, … holding the kit file's bytes unchanged and in order. The index
//! is a DSSE envelope of type [`PARTS_PAYLOAD_TYPE`], signed by the `kit` role like the manifest,
//! whose payload names every part with its size and sha256 and the whole kit's size and sha256.
//! An importer authenticates the index before it opens any part, then streams the parts through
//! the ordinary kit reader, checking each part's size and digest as its last byte passes.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::dsse::Envelope;
use crate::error::{Document, Error, Name};
use crate::keys::Signer;
use crate::limits::Limits;
use crate::media_types::{PARTS_FORMAT, PARTS_PAYLOAD_TYPE};
use crate::trust_root::{RoleName, TrustRoot};
use crate::verified::Verified;

/// Largest index file read (before anything is authenticated).
pub const MAX_INDEX_BYTES: u64 = 1 << 20;
/// Smallest part size a builder writes (smaller parts only multiply files on the stick).
pub const MIN_PART_SIZE: u64 = 1 << 20;
/// Largest part size: FAT32's file size limit, 4 GiB − 1 bytes.
pub const MAX_PART_SIZE: u64 = (4 << 30) - 1;
/// Most parts an index may list.
pub const MAX_PARTS: usize = 100_000;
/// Longest part file name (FAT32/VFAT long names are at most 255 characters).
pub const MAX_NAME_BYTES: usize = 255;

/// One part file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// File name (no directory), next to the index.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// sha256 of the part's bytes.
    pub sha256: Sha256,
}

/// The payload of a part index. Field order is the serialisation order (canonical JSON: compact,
/// fixed order, no floats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartsIndex {
    /// Always [`PARTS_FORMAT`].
    pub format: String,
    /// The kit's `kit_id` (as in its manifest).
    pub kit_id: String,
    /// The kit's channel.
    pub channel: String,
    /// The kit's sequence.
    pub sequence: u64,
    /// sha256 of the whole kit file.
    pub kit_sha256: Sha256,
    /// Size of the whole kit file.
    pub kit_size: u64,
    /// Size of every part but the last (which may be shorter).
    pub part_size: u64,
    /// The parts, in kit order.
    pub parts: Vec<Part>,
}

fn invalid(reason: &str) -> Error {
    Error::InvalidDocument {
        document: Document::PartsIndex,
        reason: Name::new(reason),
    }
}

/// Whether `name` is a plain file name an index may list.
pub fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || c == ':')
}

impl PartsIndex {
    /// Canonical payload bytes.
    pub fn to_payload(&self) -> Vec<u8> {
        // Plain data into a Vec: cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parse and validate payload bytes.
    pub fn from_payload(bytes: &[u8]) -> Result<PartsIndex, Error> {
        let index: PartsIndex =
            serde_json::from_slice(bytes).map_err(|e| invalid(&e.to_string()))?;
        index.validate()?;
        Ok(index)
    }

    /// Structural rules: format, plain unique names (also case-insensitively, as FAT32 compares
    /// them), part sizes consistent with `part_size`, and sizes summing to `kit_size`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.format != PARTS_FORMAT {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&self.format),
            });
        }
        if self.parts.is_empty() || self.parts.len() > MAX_PARTS {
            return Err(invalid("an index lists 1 to 100000 parts"));
        }
        if self.part_size == 0 {
            return Err(invalid("part_size is zero"));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut total = 0u64;
        let last = self.parts.len() - 1;
        for (i, p) in self.parts.iter().enumerate() {
            if !name_ok(&p.name) {
                return Err(invalid("a part name is not a plain file name"));
            }
            if !seen.insert(p.name.to_lowercase()) {
                return Err(invalid(
                    "two part names are equal (ignoring case, as FAT32 does)",
                ));
            }
            let size_ok = if i < last {
                p.size == self.part_size
            } else {
                p.size > 0 && p.size <= self.part_size
            };
            if !size_ok {
                return Err(invalid(
                    "every part but the last has part_size bytes, the last 1 to part_size",
                ));
            }
            total = total
                .checked_add(p.size)
                .ok_or_else(|| invalid("part sizes overflow"))?;
        }
        if total != self.kit_size {
            return Err(invalid("part sizes do not add up to kit_size"));
        }
        Ok(())
    }

    /// Sign the index with the kit keys: the envelope's JSON bytes.
    pub fn sign(&self, signers: &[&dyn Signer]) -> Result<Vec<u8>, Error> {
        self.validate()?;
        Ok(Envelope::sign(PARTS_PAYLOAD_TYPE, self.to_payload(), signers)?.to_json())
    }
}

/// Authenticate an index envelope against the `kit` role of `trust` (threshold of distinct
/// keys, payload type [`PARTS_PAYLOAD_TYPE`]) and validate its payload. The caller has read at
/// most [`MAX_INDEX_BYTES`] (this refuses more).
pub fn verify_index(
    bytes: &[u8],
    trust: &Verified<TrustRoot>,
    limits: &Limits,
) -> Result<Verified<PartsIndex>, Error> {
    if bytes.len() as u64 > MAX_INDEX_BYTES {
        return Err(Error::LimitExceeded {
            what: "part index size",
            limit: MAX_INDEX_BYTES,
        });
    }
    let envelope = Envelope::parse(bytes, Document::PartsIndex, limits)?;
    let payload = envelope.verify(
        PARTS_PAYLOAD_TYPE,
        Document::PartsIndex,
        RoleName::Kit.as_str(),
        &trust.role_keys(RoleName::Kit),
        trust.roles.kit.threshold as usize,
    )?;
    Ok(Verified::new(PartsIndex::from_payload(payload)?))
}

/// The index payload, NOT authenticated, for one purpose only: a split kit whose index is signed
/// by `kit` keys that a trust root carried inside the kit introduces (a rotation). The index is
/// needed to find the first part, where that chain is; the caller reads no more than the chain
/// and the signed envelope through it (the staged reader's caps), then MUST authenticate these
/// same bytes with [`verify_index`] against the root the chain led to before using the index for
/// anything else. Size cap, envelope form, payload type and structure are still checked.
pub fn provisional_index(bytes: &[u8], limits: &Limits) -> Result<PartsIndex, Error> {
    if bytes.len() as u64 > MAX_INDEX_BYTES {
        return Err(Error::LimitExceeded {
            what: "part index size",
            limit: MAX_INDEX_BYTES,
        });
    }
    let envelope = Envelope::parse(bytes, Document::PartsIndex, limits)?;
    if envelope.payload_type() != PARTS_PAYLOAD_TYPE {
        return Err(invalid("the envelope is not a part index (payloadType)"));
    }
    PartsIndex::from_payload(envelope.unverified_payload())
}

/// Part file names for a kit named `kit_name` cut into `count` parts: `kit_name.001`, … (three
/// digits, more when there are more than 999 parts).
pub fn part_names(kit_name: &str, count: usize) -> Vec<String> {
    let width = count.to_string().len().max(3);
    (1..=count)
        .map(|i| format!("{kit_name}.{i:0width$}"))
        .collect()
}

/// The index file name for a kit named `kit_name`.
pub fn index_name(kit_name: &str) -> String {
    format!("{kit_name}.parts.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PartsIndex {
        PartsIndex {
            format: PARTS_FORMAT.into(),
            kit_id: "k".into(),
            channel: "stable".into(),
            sequence: 1,
            kit_sha256: Sha256::of(b"x"),
            kit_size: 5,
            part_size: 2,
            parts: part_names("k.ouk", 3)
                .into_iter()
                .zip([2, 2, 1])
                .map(|(name, size)| Part {
                    name,
                    size,
                    sha256: Sha256::of(b"p"),
                })
                .collect(),
        }
    }

    #[test]
    fn validates_and_round_trips() {
        let i = sample();
        i.validate().unwrap();
        assert_eq!(PartsIndex::from_payload(&i.to_payload()).unwrap(), i);
        assert!(String::from_utf8(i.to_payload())
            .unwrap()
            .starts_with(r#"{"format":"ouk/parts/1","kit_id":"k","channel":"stable""#));
    }

    #[test]
    fn refuses_inconsistent_indexes() {
        let mut i = sample();
        i.kit_size = 6;
        assert!(i.validate().is_err());
        let mut i = sample();
        i.parts[1].name = "K.OUK.001".into();
        assert!(i.validate().is_err(), "case-insensitive duplicate");
        let mut i = sample();
        i.parts[0].name = "../x".into();
        assert!(i.validate().is_err());
        let mut i = sample();
        i.parts[0].size = 1;
        i.parts[2].size = 2;
        assert!(i.validate().is_err());
        let mut i = sample();
        i.format = "ouk/parts/2".into();
        assert!(i.validate().is_err());
        assert!(PartsIndex::from_payload(br#"{"format":"ouk/parts/1","extra":1}"#).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(part_names("a.ouk", 2), ["a.ouk.001", "a.ouk.002"]);
        assert_eq!(part_names("a", 1000)[999], "a.1000");
        assert_eq!(index_name("a.ouk"), "a.ouk.parts.json");
    }
}
