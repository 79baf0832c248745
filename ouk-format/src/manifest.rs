//! The kit manifest: the signed list of everything in a kit.
//!
//! Wire types only: no crypto, no I/O. A manifest from unverified bytes exists only inside the
//! verifier (or as [`Unverified`] for `inspect`); everything else receives
//! [`Verified<Manifest>`](crate::verified::Verified).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::error::{Document, Error, Name};
use crate::limits::Limits;
use crate::media_types::FORMAT_VERSION;
use crate::member_path::MemberPath;
use crate::time::Timestamp;

/// The signed manifest (DSSE payload of the first container member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `ouk/1` for this version of the format.
    pub format: String,
    /// Human-meaningful unique id of the kit (`<channel>-<sequence>` by default).
    pub kit_id: String,
    /// Release channel; sequences are compared within the importer's store.
    pub channel: String,
    /// Strictly increasing per channel: the anti-rollback counter.
    pub sequence: u64,
    /// Build time (from `SOURCE_DATE_EPOCH` for reproducible builds).
    pub created_at: Timestamp,
    /// After this instant the kit is refused (freeze attacks).
    pub expires_at: Timestamp,
    /// Who built it; must be allowed by the trust root.
    pub builder: BuilderIdentity,
    /// sha256 of the previous kit file in the channel, when the builder knows it (audit chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_kit_sha256: Option<Sha256>,
    /// Size of the authenticated chunks of each compressed member (the last chunk may be shorter).
    pub chunk_size: u32,
    /// Members in container order.
    pub members: Vec<Member>,
    /// Signed, structured metadata from later stages (feed snapshot summary, partial-build flag).
    /// Namespaced keys (`ouk.snapshot`, ...). Covered by the signature like everything else.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// The builder identity recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuilderIdentity {
    /// URI-like id, matched exactly against the trust root's `builders`.
    pub id: String,
    /// Tool version that produced the kit.
    pub version: String,
}

/// What a member is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Data the kit exists to deliver (feeds, Trivy DB).
    Payload,
    /// An SBOM describing a payload member or the kit.
    Sbom,
    /// A DSSE envelope with the in-toto provenance statement.
    Attestation,
}

/// One member of the kit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Relative path, also its location once unpacked.
    pub path: MemberPath,
    /// IANA-style media type of the uncompressed content.
    pub media_type: String,
    /// What the member is for.
    pub role: MemberRole,
    /// The SBOM member describing this one, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<MemberPath>,
    /// The zstd-compressed bytes as stored in the container.
    pub compressed: CompressedInfo,
    /// The content after decompression.
    pub uncompressed: ContentInfo,
}

/// Size and digests of a member's compressed form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressedInfo {
    /// Bytes in the container.
    pub size: u64,
    /// sha256 of all of them.
    pub sha256: Sha256,
    /// sha256 of each `chunk_size` slice, so each can be authenticated before it reaches zstd.
    pub chunks: Vec<Sha256>,
}

/// Size and digest of content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentInfo {
    /// Bytes.
    pub size: u64,
    /// sha256.
    pub sha256: Sha256,
}

/// A manifest that has NOT been verified. It can be displayed (`inspect`) but never acted on.
#[derive(Debug, Clone)]
pub struct Unverified<T>(pub T);

impl Manifest {
    /// Parse payload bytes (bounded by the envelope limit upstream) and validate structure.
    pub fn from_payload(bytes: &[u8], limits: &Limits) -> Result<Manifest, Error> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| Error::invalid(Document::Manifest, e))?;
        m.validate(limits)?;
        Ok(m)
    }

    /// Deterministic payload bytes (struct order fixed, maps sorted).
    pub fn to_payload(&self) -> Vec<u8> {
        // Plain data into a Vec: cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The member at `path`.
    pub fn member(&self, path: &MemberPath) -> Option<&Member> {
        self.members.iter().find(|m| &m.path == path)
    }

    /// Every structural rule a manifest must satisfy, independent of keys and time.
    pub fn validate(&self, limits: &Limits) -> Result<(), Error> {
        if self.format != FORMAT_VERSION {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&self.format),
            });
        }
        let inconsistent = |path: &str, reason| Error::InconsistentManifest {
            path: Name::new(path),
            reason,
        };
        if !token_ok(&self.channel, 64, false) {
            return Err(inconsistent(
                "channel",
                "channel must match [a-z0-9._-]{1,64}",
            ));
        }
        if !token_ok(&self.kit_id, 128, true) {
            return Err(inconsistent(
                "kit_id",
                "kit_id must match [A-Za-z0-9._:-]{1,128}",
            ));
        }
        if self.builder.id.is_empty() || self.builder.id.len() > 256 {
            return Err(inconsistent(
                "builder.id",
                "builder id must be 1..=256 bytes",
            ));
        }
        if self.expires_at <= self.created_at {
            return Err(inconsistent(
                "expires_at",
                "expires_at is not after created_at",
            ));
        }
        if self.chunk_size < limits.min_chunk_size || self.chunk_size > limits.max_chunk_size {
            return Err(inconsistent(
                "chunk_size",
                "chunk_size outside the allowed range",
            ));
        }
        if self.members.is_empty() {
            return Err(inconsistent("members", "a kit has at least one member"));
        }
        if self.members.len() > limits.max_members {
            return Err(Error::LimitExceeded {
                what: "number of members",
                limit: limits.max_members as u64,
            });
        }
        let mut keys = BTreeSet::new();
        for m in &self.members {
            if !keys.insert(m.path.collision_key()) {
                return Err(Error::DuplicatePath {
                    path: Name::new(m.path.as_str()),
                });
            }
        }
        // A path that is a directory of another would make unpacking ambiguous.
        for m in &self.members {
            let p = m.path.collision_key();
            for (i, _) in p.match_indices('/') {
                if keys.contains(&p[..i]) {
                    return Err(Error::DuplicatePath {
                        path: Name::new(m.path.as_str()),
                    });
                }
            }
        }
        let mut total: u64 = 0;
        let mut attestations = 0;
        for m in &self.members {
            let path = m.path.as_str();
            if !media_type_ok(&m.media_type) {
                return Err(inconsistent(
                    path,
                    "media type must be printable ASCII, 1..=128 bytes",
                ));
            }
            if m.compressed.size > limits.max_member_compressed_bytes {
                return Err(Error::LimitExceeded {
                    what: "compressed member size",
                    limit: limits.max_member_compressed_bytes,
                });
            }
            if m.uncompressed.size > limits.max_member_uncompressed_bytes {
                return Err(Error::LimitExceeded {
                    what: "uncompressed member size",
                    limit: limits.max_member_uncompressed_bytes,
                });
            }
            total = total.saturating_add(m.uncompressed.size);
            let expected_chunks = m.compressed.size.div_ceil(u64::from(self.chunk_size));
            if m.compressed.chunks.len() as u64 != expected_chunks {
                return Err(inconsistent(
                    path,
                    "chunk count does not match compressed size",
                ));
            }
            if m.compressed.size == 0 {
                return Err(inconsistent(path, "a zstd member cannot be empty"));
            }
            if m.role == MemberRole::Attestation {
                attestations += 1;
            }
            if let Some(sbom) = &m.sbom {
                match self.member(sbom) {
                    Some(s) if s.role == MemberRole::Sbom => {}
                    _ => return Err(inconsistent(path, "sbom link does not name an sbom member")),
                }
            }
        }
        if attestations > 1 {
            return Err(inconsistent("members", "more than one attestation member"));
        }
        if total > limits.max_total_uncompressed_bytes {
            return Err(Error::LimitExceeded {
                what: "total uncompressed size",
                limit: limits.max_total_uncompressed_bytes,
            });
        }
        Ok(())
    }
}

fn token_ok(s: &str, max: usize, allow_upper: bool) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'_' | b'-')
                || (allow_upper && (b.is_ascii_uppercase() || b == b':'))
        })
}

fn media_type_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            format: FORMAT_VERSION.into(),
            kit_id: "stable-1".into(),
            channel: "stable".into(),
            sequence: 1,
            created_at: Timestamp::from_unix(1_700_000_000),
            expires_at: Timestamp::from_unix(1_800_000_000),
            builder: BuilderIdentity {
                id: "https://example.org/builder".into(),
                version: "0.1.0".into(),
            },
            previous_kit_sha256: None,
            chunk_size: 1 << 20,
            members: vec![Member {
                path: MemberPath::new("a.json").unwrap(),
                media_type: "application/json".into(),
                role: MemberRole::Payload,
                sbom: None,
                compressed: CompressedInfo {
                    size: 10,
                    sha256: Sha256::of(b"x"),
                    chunks: vec![Sha256::of(b"x")],
                },
                uncompressed: ContentInfo {
                    size: 1,
                    sha256: Sha256::of(b"y"),
                },
            }],
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trip_and_unknown_fields() {
        let m = sample();
        let bytes = m.to_payload();
        assert_eq!(
            Manifest::from_payload(&bytes, &Limits::default()).unwrap(),
            m
        );
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["extra"] = serde_json::json!(1);
        let err = Manifest::from_payload(&serde_json::to_vec(&v).unwrap(), &Limits::default());
        assert!(matches!(err, Err(Error::InvalidDocument { .. })));
    }

    #[test]
    fn structural_rules() {
        let l = Limits::default();
        let mut m = sample();
        m.members.push(m.members[0].clone());
        m.members[1].path = MemberPath::new("A.json").unwrap();
        assert!(matches!(m.validate(&l), Err(Error::DuplicatePath { .. })));

        let mut m = sample();
        m.members.push(m.members[0].clone());
        m.members[1].path = MemberPath::new("a.json/b").unwrap();
        assert!(matches!(m.validate(&l), Err(Error::DuplicatePath { .. })));

        let mut m = sample();
        m.members[0].compressed.chunks.push(Sha256::of(b"z"));
        assert!(matches!(
            m.validate(&l),
            Err(Error::InconsistentManifest { .. })
        ));

        let mut m = sample();
        m.format = "ouk/2".into();
        assert!(matches!(
            m.validate(&l),
            Err(Error::UnsupportedFormat { .. })
        ));

        let mut m = sample();
        m.members[0].sbom = Some(MemberPath::new("missing.spdx.json").unwrap());
        assert!(matches!(
            m.validate(&l),
            Err(Error::InconsistentManifest { .. })
        ));

        let mut m = sample();
        m.expires_at = m.created_at;
        assert!(matches!(
            m.validate(&l),
            Err(Error::InconsistentManifest { .. })
        ));
    }
}
