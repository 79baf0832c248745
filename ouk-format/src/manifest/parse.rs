//! Parsing the manifest payload once, straight into the typed [`Manifest`], with every count and
//! length capped while it is read.
//!
//! A derived deserializer would first build whatever the JSON holds (a 12 MiB `annotations` array
//! became 449 MiB of `serde_json::Value`) and let us count afterwards. Here the member list, each
//! chunk list and the annotation values stop growing at their limit, annotation strings and
//! nesting are bounded, and duplicate keys (which serde_json keeps silently) are refused, so the
//! heap used is a small multiple of the payload size whatever the payload says.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{BuilderIdentity, CompressedInfo, ContentInfo, Manifest, Member, MemberRole};
use crate::digest::Sha256;
use crate::dsse::json::{
    from_slice_seed, required, set_once, too_deep, Field, JsonInt, Stash, Text,
};
use crate::error::{Document, Error, Name};
use crate::limits::{Limits, MAX_JSON_DEPTH};
use crate::media_types::FORMAT_VERSION;
use crate::member_path::MemberPath;
use crate::time::Timestamp;

/// Parse `bytes` as a manifest: `format` first (a manifest of another version is
/// `unsupported_format` whatever else it holds), then the bounded strict parse.
pub(super) fn parse(bytes: &[u8], limits: &Limits) -> Result<Manifest, Error> {
    check_format(bytes)?;
    let stash = Stash::default();
    let seed = ManifestSeed {
        limits,
        stash: &stash,
    };
    from_slice_seed(bytes, seed, &stash, Document::Manifest)
}

/// Only the top-level `format` member; every other member is skipped without being built.
#[derive(Deserialize)]
struct FormatOnly<'a> {
    #[serde(borrow)]
    format: Option<Cow<'a, str>>,
}

/// Refuse a manifest of another format version before the strict parse can call it malformed:
/// a future `ouk/2` manifest with new fields must be reported as `unsupported_format`.
fn check_format(bytes: &[u8]) -> Result<(), Error> {
    match serde_json::from_slice::<FormatOnly>(bytes) {
        Ok(FormatOnly {
            format: Some(found),
        }) if found != FORMAT_VERSION => Err(Error::UnsupportedFormat {
            found: Name::new(&found),
        }),
        // Not JSON, no `format`, or the right one: the strict parse reports the details.
        _ => Ok(()),
    }
}

/// Cap for one member's chunk list while parsing: more chunks than the largest allowed member at
/// the smallest allowed chunk size cannot be valid. The exact count is checked by `validate`.
fn max_chunks(limits: &Limits) -> usize {
    let per_member = limits
        .max_member_compressed_bytes
        .div_ceil(u64::from(limits.min_chunk_size.max(1)));
    usize::try_from(per_member).unwrap_or(usize::MAX)
}

struct ManifestSeed<'a> {
    limits: &'a Limits,
    stash: &'a Stash,
}

impl<'de> DeserializeSeed<'de> for ManifestSeed<'_> {
    type Value = Manifest;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Manifest, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ManifestSeed<'_> {
    type Value = Manifest;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a manifest object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Manifest, A::Error> {
        const NAMES: &[&str] = &[
            "format",
            "kit_id",
            "channel",
            "sequence",
            "created_at",
            "expires_at",
            "builder",
            "previous_kit_sha256",
            "chunk_size",
            "members",
            "annotations",
        ];
        let (mut format, mut kit_id, mut channel, mut sequence) = (None, None, None, None);
        let (mut created_at, mut expires_at, mut builder) = (None, None, None);
        let (mut previous, mut chunk_size, mut members, mut annotations) = (None, None, None, None);
        let field = || Field {
            names: NAMES,
            allow_unknown: false,
        };
        while let Some(key) = map.next_key_seed(field())? {
            match key {
                Some(0) => set_once(&mut format, "format", map.next_value::<String>()?)?,
                Some(1) => set_once(&mut kit_id, "kit_id", map.next_value::<String>()?)?,
                Some(2) => set_once(&mut channel, "channel", map.next_value::<String>()?)?,
                Some(3) => set_once(&mut sequence, "sequence", map.next_value::<JsonInt>()?.0)?,
                Some(4) => set_once(
                    &mut created_at,
                    "created_at",
                    map.next_value::<Timestamp>()?,
                )?,
                Some(5) => set_once(
                    &mut expires_at,
                    "expires_at",
                    map.next_value::<Timestamp>()?,
                )?,
                Some(6) => set_once(
                    &mut builder,
                    "builder",
                    map.next_value::<BuilderIdentity>()?,
                )?,
                Some(7) => set_once(
                    &mut previous,
                    "previous_kit_sha256",
                    map.next_value::<Sha256>()?,
                )?,
                Some(8) => set_once(&mut chunk_size, "chunk_size", map.next_value::<u32>()?)?,
                Some(9) => {
                    let seed = MembersSeed {
                        limits: self.limits,
                        stash: self.stash,
                    };
                    set_once(&mut members, "members", map.next_value_seed(seed)?)?
                }
                _ => {
                    let seed = AnnotationsSeed {
                        limits: self.limits,
                        stash: self.stash,
                    };
                    set_once(&mut annotations, "annotations", map.next_value_seed(seed)?)?
                }
            }
        }
        Ok(Manifest {
            format: required(format, "format")?,
            kit_id: required(kit_id, "kit_id")?,
            channel: required(channel, "channel")?,
            sequence: required(sequence, "sequence")?,
            created_at: required(created_at, "created_at")?,
            expires_at: required(expires_at, "expires_at")?,
            builder: required(builder, "builder")?,
            previous_kit_sha256: previous,
            chunk_size: required(chunk_size, "chunk_size")?,
            members: required(members, "members")?,
            annotations: annotations.unwrap_or_default(),
        })
    }
}

/// The member array, stopped at the member after `max_members`.
struct MembersSeed<'a> {
    limits: &'a Limits,
    stash: &'a Stash,
}

impl<'de> DeserializeSeed<'de> for MembersSeed<'_> {
    type Value = Vec<Member>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Member>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MembersSeed<'_> {
    type Value = Vec<Member>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of members")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Member>, A::Error> {
        let mut out = Vec::new();
        let member = || MemberSeed {
            max_chunks: max_chunks(self.limits),
            stash: self.stash,
        };
        while let Some(m) = seq.next_element_seed(member())? {
            if out.len() >= self.limits.max_members {
                return Err(self.stash.fail(Error::LimitExceeded {
                    what: "number of members",
                    limit: self.limits.max_members as u64,
                }));
            }
            out.push(m);
        }
        Ok(out)
    }
}

struct MemberSeed<'a> {
    max_chunks: usize,
    stash: &'a Stash,
}

impl<'de> DeserializeSeed<'de> for MemberSeed<'_> {
    type Value = Member;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed<'_> {
    type Value = Member;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member, A::Error> {
        const NAMES: &[&str] = &[
            "path",
            "media_type",
            "role",
            "sbom",
            "compressed",
            "uncompressed",
            "unpacked_size",
        ];
        let (mut path, mut media_type, mut role, mut sbom) = (None, None, None, None);
        let (mut compressed, mut uncompressed, mut unpacked) = (None, None, None);
        let field = || Field {
            names: NAMES,
            allow_unknown: false,
        };
        while let Some(key) = map.next_key_seed(field())? {
            match key {
                Some(0) => set_once(&mut path, "path", map.next_value::<MemberPath>()?)?,
                Some(1) => set_once(&mut media_type, "media_type", map.next_value::<String>()?)?,
                Some(2) => set_once(&mut role, "role", map.next_value::<MemberRole>()?)?,
                Some(3) => set_once(&mut sbom, "sbom", map.next_value::<MemberPath>()?)?,
                Some(4) => {
                    let seed = CompressedSeed {
                        max_chunks: self.max_chunks,
                        stash: self.stash,
                    };
                    set_once(&mut compressed, "compressed", map.next_value_seed(seed)?)?
                }
                Some(5) => set_once(
                    &mut uncompressed,
                    "uncompressed",
                    map.next_value::<ContentInfo>()?,
                )?,
                _ => set_once(
                    &mut unpacked,
                    "unpacked_size",
                    map.next_value::<JsonInt>()?.0,
                )?,
            }
        }
        Ok(Member {
            path: required(path, "path")?,
            media_type: required(media_type, "media_type")?,
            role: required(role, "role")?,
            sbom,
            compressed: required(compressed, "compressed")?,
            uncompressed: required(uncompressed, "uncompressed")?,
            unpacked_size: unpacked,
        })
    }
}

struct CompressedSeed<'a> {
    max_chunks: usize,
    stash: &'a Stash,
}

impl<'de> DeserializeSeed<'de> for CompressedSeed<'_> {
    type Value = CompressedInfo;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CompressedInfo, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CompressedSeed<'_> {
    type Value = CompressedInfo;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a compressed object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CompressedInfo, A::Error> {
        let (mut size, mut sha256, mut chunks) = (None, None, None);
        let field = || Field {
            names: &["size", "sha256", "chunks"],
            allow_unknown: false,
        };
        while let Some(key) = map.next_key_seed(field())? {
            match key {
                Some(0) => set_once(&mut size, "size", map.next_value::<JsonInt>()?.0)?,
                Some(1) => set_once(&mut sha256, "sha256", map.next_value::<Sha256>()?)?,
                _ => {
                    let seed = ChunksSeed {
                        max: self.max_chunks,
                        stash: self.stash,
                    };
                    set_once(&mut chunks, "chunks", map.next_value_seed(seed)?)?
                }
            }
        }
        Ok(CompressedInfo {
            size: required(size, "size")?,
            sha256: required(sha256, "sha256")?,
            chunks: required(chunks, "chunks")?,
        })
    }
}

struct ChunksSeed<'a> {
    max: usize,
    stash: &'a Stash,
}

impl<'de> DeserializeSeed<'de> for ChunksSeed<'_> {
    type Value = Vec<Sha256>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Sha256>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChunksSeed<'_> {
    type Value = Vec<Sha256>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of chunk digests")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Sha256>, A::Error> {
        let mut out = Vec::new();
        while let Some(d) = seq.next_element::<Sha256>()? {
            if out.len() >= self.max {
                return Err(self.stash.fail(Error::LimitExceeded {
                    what: "number of chunk digests of a member",
                    limit: self.max as u64,
                }));
            }
            out.push(d);
        }
        Ok(out)
    }
}

/// The `annotations` object: at most `max_annotations` keys of at most
/// `max_annotation_key_bytes`, no key twice, values built under one shared budget.
struct AnnotationsSeed<'a> {
    limits: &'a Limits,
    stash: &'a Stash,
}

impl<'de> DeserializeSeed<'de> for AnnotationsSeed<'_> {
    type Value = BTreeMap<String, serde_json::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnnotationsSeed<'_> {
    type Value = BTreeMap<String, serde_json::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an annotations object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let budget = Cell::new(self.limits.max_annotation_values);
        let mut out = BTreeMap::new();
        loop {
            let key = Text {
                max: self.limits.max_annotation_key_bytes,
                what: "annotation key length",
                stash: self.stash,
            };
            let Some(key) = map.next_key_seed(key)? else {
                break;
            };
            if out.len() >= self.limits.max_annotations {
                return Err(self.stash.fail(Error::LimitExceeded {
                    what: "number of annotations",
                    limit: self.limits.max_annotations as u64,
                }));
            }
            if out.contains_key(key.as_ref()) {
                return Err(de::Error::custom(format_args!(
                    "duplicate annotation key `{}`",
                    Name::new(&key)
                )));
            }
            let value = map.next_value_seed(ValueSeed {
                // The manifest object is level 1 and `annotations` level 2.
                level: 3,
                budget: &budget,
                limits: self.limits,
                stash: self.stash,
            })?;
            out.insert(key.into_owned(), value);
        }
        Ok(out)
    }
}

/// One annotation value, built as a `serde_json::Value` only while the shared budget of values
/// lasts, with bounded strings and depth and no duplicate object keys at any level.
struct ValueSeed<'a> {
    level: usize,
    budget: &'a Cell<usize>,
    limits: &'a Limits,
    stash: &'a Stash,
}

impl ValueSeed<'_> {
    fn spend<E: de::Error>(&self) -> Result<(), E> {
        match self.budget.get().checked_sub(1) {
            Some(left) => {
                self.budget.set(left);
                Ok(())
            }
            None => Err(self.stash.fail(Error::LimitExceeded {
                what: "number of annotation values",
                limit: self.limits.max_annotation_values as u64,
            })),
        }
    }

    fn string<E: de::Error>(&self, v: &str) -> Result<String, E> {
        if v.len() > self.limits.max_annotation_string_bytes {
            return Err(self.stash.fail(Error::LimitExceeded {
                what: "annotation string length",
                limit: self.limits.max_annotation_string_bytes as u64,
            }));
        }
        Ok(v.to_owned())
    }

    fn child(&self) -> ValueSeed<'_> {
        ValueSeed {
            level: self.level + 1,
            budget: self.budget,
            limits: self.limits,
            stash: self.stash,
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = serde_json::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(v.into())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(serde_json::Value::String(self.string(v)?))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.spend()?;
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.spend()?;
        if self.level > MAX_JSON_DEPTH {
            return Err(too_deep(self.stash));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.spend()?;
        if self.level > MAX_JSON_DEPTH {
            return Err(too_deep(self.stash));
        }
        let mut out = serde_json::Map::new();
        loop {
            let key = Text {
                max: self.limits.max_annotation_string_bytes,
                what: "annotation string length",
                stash: self.stash,
            };
            let Some(key) = map.next_key_seed(key)? else {
                break;
            };
            if out.contains_key(key.as_ref()) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key `{}` in annotations",
                    Name::new(&key)
                )));
            }
            let value = map.next_value_seed(self.child())?;
            out.insert(key.into_owned(), value);
        }
        Ok(serde_json::Value::Object(out))
    }
}
