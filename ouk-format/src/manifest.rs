//! The kit manifest: the signed list of everything in a kit.
//!
//! Wire types only: no crypto, no I/O. A manifest from unverified bytes exists only inside the
//! verifier (or as [`Unverified`] for `inspect`); everything else receives
//! [`Verified<Manifest>`](crate::verified::Verified).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::error::{Error, Name};
use crate::limits::Limits;
use crate::limits::MAX_JSON_INTEGER;
use crate::media_types::{FORMAT_VERSION, TRIVY_DB_MEDIA_TYPE};
use crate::member_path::MemberPath;
use crate::time::Timestamp;

mod parse;

/// The signed manifest (DSSE payload of the first container member).
///
/// Deserialized only through the bounded parser of `manifest/parse.rs` ([`Manifest::from_payload`],
/// or `Deserialize` with the default limits), never by a derived deserializer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Always `ouk/1` for this version of the format.
    pub format: String,
    /// Human-meaningful unique id of the kit (`<channel>-<sequence>` by default).
    pub kit_id: String,
    /// Release channel; sequences are compared within the importer's store.
    pub channel: String,
    /// Strictly increasing per channel: the anti-rollback counter (0 ..= 2^53 − 1).
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Total size of the regular files the importer extracts from this archive member: required
    /// exactly for the Trivy DB media type, absent otherwise. Signing it lets the importer refuse
    /// an archive that expands beyond what was declared (and check free space) before extracting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpacked_size: Option<u64>,
}

/// Size and digests of a member's compressed form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    #[serde(deserialize_with = "crate::dsse::json::json_integer")]
    pub size: u64,
    /// sha256.
    pub sha256: Sha256,
}

/// A manifest that has NOT been verified. It can be displayed (`inspect`) but never acted on.
#[derive(Debug, Clone)]
pub struct Unverified<T>(pub T);

impl Unverified<Manifest> {
    /// Parse manifest payload bytes WITHOUT any signature check (`inspect` without a trust root,
    /// fuzz seeds, measurements): the same capped parse and structural validation as the
    /// verifier, but the result says in its type that nothing authenticated it.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Unverified<Manifest>, Error> {
        Manifest::from_payload(bytes, limits).map(Unverified)
    }
}

impl Manifest {
    /// Parse payload bytes once, with every count, length and depth capped while parsing, and
    /// validate structure. A `format` other than `ouk/1` is `unsupported_format` whatever else
    /// the document holds.
    ///
    /// Crate-private: outside this crate a manifest comes from the staged reader (verified) or
    /// from [`Unverified::<Manifest>::parse`] (marked as untrusted), never from bare bytes.
    pub(crate) fn from_payload(bytes: &[u8], limits: &Limits) -> Result<Manifest, Error> {
        let m = parse::parse(bytes, limits)?;
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

    /// Every structural rule a manifest must satisfy, independent of keys and time, in the order
    /// of the spec's §4.5 table (the first failure is reported).
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
        if self.sequence > MAX_JSON_INTEGER {
            return Err(inconsistent("sequence", "sequence is above 2^53-1"));
        }
        if self.builder.id.is_empty() || self.builder.id.len() > 256 {
            return Err(inconsistent(
                "builder.id",
                "builder id must be 1..=256 bytes",
            ));
        }
        if self.builder.version.len() > 256 {
            return Err(inconsistent(
                "builder.version",
                "builder version must be at most 256 bytes",
            ));
        }
        if self.expires_at <= self.created_at {
            return Err(inconsistent(
                "expires_at",
                "expires_at is not after created_at",
            ));
        }
        // Both ends are within years 0001..=9999, so the difference cannot overflow.
        let validity = self.expires_at.unix().abs_diff(self.created_at.unix());
        if validity > limits.max_kit_validity_secs {
            return Err(Error::LimitExceeded {
                what: "kit validity period (expires_at - created_at, seconds)",
                limit: limits.max_kit_validity_secs,
            });
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
        for m in &self.members {
            self.validate_member(m, limits)?;
            total = total
                .saturating_add(m.uncompressed.size)
                .saturating_add(m.unpacked_size.unwrap_or(0));
        }
        let attestations = self
            .members
            .iter()
            .filter(|m| m.role == MemberRole::Attestation)
            .count();
        if attestations > 1 {
            return Err(inconsistent("members", "more than one attestation member"));
        }
        // First, so the importer checks provenance before any payload byte is staged.
        if let Some(m) = self
            .members
            .iter()
            .skip(1)
            .find(|m| m.role == MemberRole::Attestation)
        {
            return Err(inconsistent(
                m.path.as_str(),
                "the attestation member must be the first member",
            ));
        }
        if total > limits.max_total_uncompressed_bytes {
            return Err(Error::LimitExceeded {
                what: "total uncompressed size",
                limit: limits.max_total_uncompressed_bytes,
            });
        }
        Ok(())
    }

    /// The per-member rules (§4.5 rules 11–16b), in order.
    fn validate_member(&self, m: &Member, limits: &Limits) -> Result<(), Error> {
        let path = m.path.as_str();
        let inconsistent = |reason| Error::InconsistentManifest {
            path: Name::new(path),
            reason,
        };
        if !media_type_ok(&m.media_type) {
            return Err(inconsistent(
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
        let expected_chunks = m.compressed.size.div_ceil(u64::from(self.chunk_size));
        if m.compressed.chunks.len() as u64 != expected_chunks {
            return Err(inconsistent("chunk count does not match compressed size"));
        }
        if m.compressed.size == 0 {
            return Err(inconsistent("a zstd member cannot be empty"));
        }
        if let Some(sbom) = &m.sbom {
            match self.member(sbom) {
                Some(s) if s.role == MemberRole::Sbom => {}
                _ => return Err(inconsistent("sbom link does not name an sbom member")),
            }
        }
        match (m.media_type == TRIVY_DB_MEDIA_TYPE, m.unpacked_size) {
            (true, None) => {
                return Err(inconsistent(
                    "unpacked_size is required for the Trivy DB media type",
                ))
            }
            (false, Some(_)) => {
                return Err(inconsistent(
                    "unpacked_size is only allowed for the Trivy DB media type",
                ))
            }
            (true, Some(unpacked)) if unpacked > limits.max_member_uncompressed_bytes => {
                return Err(Error::LimitExceeded {
                    what: "unpacked member size",
                    limit: limits.max_member_uncompressed_bytes,
                });
            }
            _ => {}
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
            expires_at: Timestamp::from_unix(1_700_000_000 + 86_400 * 365),
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
                unpacked_size: None,
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

    fn payload_with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_payload()).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    /// Splice raw JSON text in as the value of `annotations` (serde_json::Value cannot hold a
    /// duplicate key or an out-of-range shape, so those are written as text).
    fn with_annotations_text(text: &str) -> Vec<u8> {
        let base = String::from_utf8(sample().to_payload()).unwrap();
        let body = base.strip_suffix('}').unwrap();
        format!("{body},\"annotations\":{text}}}").into_bytes()
    }

    fn parse(bytes: &[u8]) -> Result<Manifest, Error> {
        Manifest::from_payload(bytes, &Limits::default())
    }

    #[test]
    fn duplicate_keys_are_refused_everywhere() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"x":1,"x":1}}"#,
            r#"{"a":[{"k":0,"k":0}]}"#,
        ] {
            assert!(
                matches!(
                    parse(&with_annotations_text(text)),
                    Err(Error::InvalidDocument { .. })
                ),
                "{text}"
            );
        }
        let base = String::from_utf8(sample().to_payload()).unwrap();
        let twice = base.replacen("\"sequence\":1", "\"sequence\":1,\"sequence\":2", 1);
        assert!(matches!(
            parse(twice.as_bytes()),
            Err(Error::InvalidDocument { .. })
        ));
        assert!(parse(&with_annotations_text(
            r#"{"a":{"x":1,"y":[1,2]},"b":null}"#
        ))
        .is_ok());
    }

    #[test]
    fn annotation_caps_hold_while_parsing() {
        let l = Limits::default();
        let too_many_values = format!(r#"{{"a":[{}0]}}"#, "0,".repeat(l.max_annotation_values));
        assert_eq!(
            parse(&with_annotations_text(&too_many_values)),
            Err(Error::LimitExceeded {
                what: "number of annotation values",
                limit: l.max_annotation_values as u64
            })
        );
        // The array itself is one value: exactly the budget fits.
        let fits = format!(r#"{{"a":[{}0]}}"#, "0,".repeat(l.max_annotation_values - 2));
        assert!(parse(&with_annotations_text(&fits)).is_ok());
        let keys: Vec<String> = (0..=l.max_annotations)
            .map(|i| format!(r#""k{i}":0"#))
            .collect();
        assert_eq!(
            parse(&with_annotations_text(&format!("{{{}}}", keys.join(",")))),
            Err(Error::LimitExceeded {
                what: "number of annotations",
                limit: l.max_annotations as u64
            })
        );
        let long_key = format!(r#"{{"{}":0}}"#, "k".repeat(l.max_annotation_key_bytes + 1));
        assert!(matches!(
            parse(&with_annotations_text(&long_key)),
            Err(Error::LimitExceeded {
                what: "annotation key length",
                ..
            })
        ));
        let long_string = format!(
            r#"{{"a":"{}"}}"#,
            "s".repeat(l.max_annotation_string_bytes + 1)
        );
        assert!(matches!(
            parse(&with_annotations_text(&long_string)),
            Err(Error::LimitExceeded {
                what: "annotation string length",
                ..
            })
        ));
    }

    /// Levels: manifest object 1, `annotations` 2, an annotation value 3: a value holding
    /// MAX_JSON_DEPTH - 2 nested arrays reaches exactly the limit.
    #[test]
    fn annotation_depth_boundary() {
        let nested = |n: usize| format!(r#"{{"a":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        let at_limit = crate::limits::MAX_JSON_DEPTH - 2;
        assert!(parse(&with_annotations_text(&nested(at_limit))).is_ok());
        assert_eq!(
            parse(&with_annotations_text(&nested(at_limit + 1))),
            Err(Error::LimitExceeded {
                what: "JSON nesting depth",
                limit: crate::limits::MAX_JSON_DEPTH as u64
            })
        );
    }

    #[test]
    fn member_and_chunk_counts_are_capped_while_parsing() {
        let l = Limits {
            max_members: 2,
            ..Limits::default()
        };
        let bytes = payload_with(|v| {
            let m = v["members"][0].clone();
            v["members"] = serde_json::json!([m.clone(), m.clone(), m]);
        });
        assert_eq!(
            Manifest::from_payload(&bytes, &l),
            Err(Error::LimitExceeded {
                what: "number of members",
                limit: 2
            })
        );
        let l = Limits {
            max_member_compressed_bytes: 2 * 65_536,
            ..Limits::default()
        };
        let bytes = payload_with(|v| {
            let d = v["members"][0]["compressed"]["sha256"].clone();
            v["members"][0]["compressed"]["chunks"] = serde_json::json!([d.clone(), d.clone(), d]);
        });
        assert_eq!(
            Manifest::from_payload(&bytes, &l),
            Err(Error::LimitExceeded {
                what: "number of chunk digests of a member",
                limit: 2
            })
        );
    }

    /// Issue 11 item 9: a future format with a new field is `unsupported_format`, not malformed.
    #[test]
    fn other_format_is_unsupported_whatever_else_it_holds() {
        let bytes = payload_with(|v| {
            v["format"] = "ouk/2".into();
            v["new_field"] = serde_json::json!({"x": 1});
            v["members"][0]["extra"] = 1.into();
        });
        assert_eq!(
            parse(&bytes),
            Err(Error::UnsupportedFormat {
                found: Name::new("ouk/2")
            })
        );
        let bytes = payload_with(|v| {
            v["new_field"] = 1.into();
        });
        assert!(matches!(parse(&bytes), Err(Error::InvalidDocument { .. })));
    }

    #[test]
    fn integers_are_capped_at_2_pow_53_minus_1() {
        let max = crate::limits::MAX_JSON_INTEGER;
        let bytes = payload_with(|v| v["sequence"] = serde_json::json!(max));
        assert_eq!(parse(&bytes).map(|m| m.sequence), Ok(max));
        for too_big in [max + 1, u64::MAX] {
            let bytes = payload_with(|v| v["sequence"] = serde_json::json!(too_big));
            assert!(matches!(parse(&bytes), Err(Error::InvalidDocument { .. })));
        }
        let bytes =
            payload_with(|v| v["members"][0]["uncompressed"]["size"] = serde_json::json!(max + 1));
        assert!(matches!(parse(&bytes), Err(Error::InvalidDocument { .. })));
        let mut m = sample();
        m.sequence = max + 1;
        assert!(matches!(
            m.validate(&Limits::default()),
            Err(Error::InconsistentManifest { .. })
        ));
    }

    #[test]
    fn validity_period_is_positive_and_capped() {
        let l = Limits::default();
        let mut m = sample();
        m.expires_at = m.created_at.plus_secs(l.max_kit_validity_secs as i64);
        assert_eq!(m.validate(&l), Ok(()));
        m.expires_at = m.expires_at.plus_secs(1);
        assert!(matches!(
            m.validate(&l),
            Err(Error::LimitExceeded {
                what: "kit validity period (expires_at - created_at, seconds)",
                ..
            })
        ));
        m.expires_at = m.created_at.plus_secs(-1);
        assert!(matches!(
            m.validate(&l),
            Err(Error::InconsistentManifest { .. })
        ));
        m.expires_at = Timestamp::MAX;
        m.created_at = Timestamp::MIN;
        assert!(matches!(m.validate(&l), Err(Error::LimitExceeded { .. })));
    }

    fn attestation(path: &str) -> Member {
        let mut a = sample().members[0].clone();
        a.path = MemberPath::new(path).unwrap();
        a.role = MemberRole::Attestation;
        a.media_type = crate::media_types::ATTESTATION_MEDIA_TYPE.into();
        a
    }

    #[test]
    fn attestation_is_unique_and_first() {
        let l = Limits::default();
        let mut m = sample();
        m.members
            .insert(0, attestation("attestation/provenance.dsse.json"));
        assert_eq!(m.validate(&l), Ok(()));

        let mut m = sample();
        m.members
            .push(attestation("attestation/provenance.dsse.json"));
        assert_eq!(
            m.validate(&l),
            Err(Error::InconsistentManifest {
                path: Name::new("attestation/provenance.dsse.json"),
                reason: "the attestation member must be the first member"
            })
        );

        let mut m = sample();
        m.members.insert(0, attestation("att/one.json"));
        m.members.push(attestation("att/two.json"));
        assert_eq!(
            m.validate(&l),
            Err(Error::InconsistentManifest {
                path: Name::new("members"),
                reason: "more than one attestation member"
            })
        );
    }

    #[test]
    fn unpacked_size_exactly_for_the_trivy_db() {
        let l = Limits::default();
        let trivy = |unpacked: Option<u64>| {
            let mut m = sample();
            m.members[0].path = MemberPath::new("trivy/db.tar.gz").unwrap();
            m.members[0].media_type = TRIVY_DB_MEDIA_TYPE.into();
            m.members[0].unpacked_size = unpacked;
            m
        };
        let m = trivy(Some(4096));
        assert_eq!(m.validate(&l), Ok(()));
        // Round trip through JSON keeps the field.
        assert_eq!(parse(&m.to_payload()), Ok(m));
        assert_eq!(
            trivy(None).validate(&l),
            Err(Error::InconsistentManifest {
                path: Name::new("trivy/db.tar.gz"),
                reason: "unpacked_size is required for the Trivy DB media type"
            })
        );
        let mut other = sample();
        other.members[0].unpacked_size = Some(1);
        assert_eq!(
            other.validate(&l),
            Err(Error::InconsistentManifest {
                path: Name::new("a.json"),
                reason: "unpacked_size is only allowed for the Trivy DB media type"
            })
        );
        assert_eq!(
            trivy(Some(l.max_member_uncompressed_bytes + 1)).validate(&l),
            Err(Error::LimitExceeded {
                what: "unpacked member size",
                limit: l.max_member_uncompressed_bytes
            })
        );
        // Counted in the total together with the uncompressed sizes.
        let small = Limits {
            max_total_uncompressed_bytes: 4096,
            ..Limits::default()
        };
        assert_eq!(
            trivy(Some(4096)).validate(&small),
            Err(Error::LimitExceeded {
                what: "total uncompressed size",
                limit: 4096
            })
        );
        assert_eq!(trivy(Some(4095)).validate(&small), Ok(()));
    }

    #[test]
    fn absent_optionals_are_never_null() {
        let bytes = payload_with(|v| v["previous_kit_sha256"] = serde_json::Value::Null);
        assert!(matches!(parse(&bytes), Err(Error::InvalidDocument { .. })));
        for f in ["sbom", "unpacked_size"] {
            let bytes = payload_with(|v| v["members"][0][f] = serde_json::Value::Null);
            assert!(
                matches!(parse(&bytes), Err(Error::InvalidDocument { .. })),
                "{f}"
            );
        }
    }
}
