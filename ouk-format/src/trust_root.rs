//! The trust root: which keys may sign kits and attestations, how many must agree, which builders
//! are allowed, and until when all of this holds.
//!
//! It is a DSSE envelope (`payloadType` [`TRUST_ROOT_PAYLOAD_TYPE`]) whose payload is a JSON
//! document signed by the threshold of its own `root` role. Key ids follow TUF/securesystemslib
//! (sha256 of the canonical key JSON) and are recomputed, never trusted; a `version` is there from
//! day one so that rotation (root N+1 signed by root N) can be added without a format break.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::dsse::Envelope;
use crate::error::{Document, Error, Name};
use crate::keys::{key_id_of, KeyId, KeyJson, PublicKey};
use crate::limits::Limits;
use crate::media_types::{TRUST_ROOT_PAYLOAD_TYPE, TRUST_ROOT_TYPE};
use crate::time::Timestamp;
use crate::verified::Verified;

/// The roles a trust root defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleName {
    /// Signs the trust root itself.
    Root,
    /// Signs kit manifests.
    Kit,
    /// Signs provenance attestations.
    Attestation,
}

impl RoleName {
    /// The role's name in documents and errors.
    pub fn as_str(&self) -> &'static str {
        match self {
            RoleName::Root => "root",
            RoleName::Kit => "kit",
            RoleName::Attestation => "attestation",
        }
    }
}

/// One role: the key ids allowed to sign for it and how many distinct ones must.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Key ids (entries of [`TrustRoot::keys`]).
    pub keyids: Vec<KeyId>,
    /// Distinct keys required.
    pub threshold: u32,
}

/// The three roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// Trust root signers.
    pub root: Role,
    /// Kit manifest signers.
    pub kit: Role,
    /// Provenance attestation signers.
    pub attestation: Role,
}

/// The trust root document (the envelope's payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustRoot {
    /// Always [`TRUST_ROOT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// Monotonic version (rotation chains will require exactly N+1); 0 ..= 2^53 − 1.
    #[serde(deserialize_with = "crate::dsse::json::json_integer")]
    pub version: u64,
    /// After this instant the trust root is refused (stops an old, possibly compromised root
    /// being used forever).
    pub expires: Timestamp,
    /// Public keys by key id; duplicates in the JSON object are rejected, ids are recomputed.
    #[serde(deserialize_with = "unique_keys")]
    pub keys: BTreeMap<KeyId, KeyJson>,
    /// Roles and thresholds.
    pub roles: Roles,
    /// Builder ids allowed in manifests and provenance (`builder.id`).
    pub builders: Vec<String>,
}

impl TrustRoot {
    /// A new, empty-role trust root skeleton; the builder's `trust init` fills it.
    pub fn new(version: u64, expires: Timestamp) -> TrustRoot {
        let empty = Role {
            keyids: Vec::new(),
            threshold: 1,
        };
        TrustRoot {
            type_: TRUST_ROOT_TYPE.to_owned(),
            version,
            expires,
            keys: BTreeMap::new(),
            roles: Roles {
                root: empty.clone(),
                kit: empty.clone(),
                attestation: empty,
            },
            builders: Vec::new(),
        }
    }

    /// Add a key to a role (idempotent).
    pub fn add_key(&mut self, role: RoleName, key: &PublicKey) {
        let id = key.key_id();
        self.keys.insert(id.clone(), key.to_key_json());
        let role = self.role_mut(role);
        if !role.keyids.contains(&id) {
            role.keyids.push(id);
            role.keyids.sort();
        }
    }

    fn role_mut(&mut self, role: RoleName) -> &mut Role {
        match role {
            RoleName::Root => &mut self.roles.root,
            RoleName::Kit => &mut self.roles.kit,
            RoleName::Attestation => &mut self.roles.attestation,
        }
    }

    /// The role definition.
    pub fn role(&self, role: RoleName) -> &Role {
        match role {
            RoleName::Root => &self.roles.root,
            RoleName::Kit => &self.roles.kit,
            RoleName::Attestation => &self.roles.attestation,
        }
    }

    /// The role's public keys (validated by [`TrustRoot::validate`]).
    pub fn role_keys(&self, role: RoleName) -> Vec<PublicKey> {
        self.role(role)
            .keyids
            .iter()
            .filter_map(|id| self.keys.get(id))
            .filter_map(|k| PublicKey::from_key_json(k).ok())
            .collect()
    }

    /// Whether `builder` may sign kits under this trust root.
    pub fn allows_builder(&self, builder: &str) -> bool {
        self.builders.iter().any(|b| b == builder)
    }

    /// Deterministic payload bytes: compact JSON with every object's members sorted by key
    /// (spec §7.1). Not OLPC canonical JSON: that form leaves control characters (the newlines of
    /// an ECDSA key's PEM) unescaped inside strings, which is not valid JSON. Canonical JSON is
    /// used only for key ids, as TUF does.
    pub fn to_payload(&self) -> Vec<u8> {
        // Going through `Value` sorts struct fields too (its map is ordered). Plain data into a
        // Vec: cannot fail.
        serde_json::to_value(self)
            .and_then(|v| serde_json::to_vec(&v))
            .unwrap_or_default()
    }

    /// Structural checks: type, key ids recomputed, roles usable.
    pub fn validate(&self) -> Result<(), Error> {
        if self.type_ != TRUST_ROOT_TYPE {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&self.type_),
            });
        }
        let mut seen_material = BTreeSet::new();
        for (id, json) in &self.keys {
            let key = PublicKey::from_key_json(json)?;
            if &key_id_of(json) != id {
                return Err(Error::KeyIdMismatch {
                    keyid: Name::new(id.as_str()),
                    reason: "key id is not the sha256 of the canonical key",
                });
            }
            if !seen_material.insert(key.key_id()) {
                return Err(Error::KeyIdMismatch {
                    keyid: Name::new(id.as_str()),
                    reason: "the same key is listed twice",
                });
            }
        }
        for role in [RoleName::Root, RoleName::Kit, RoleName::Attestation] {
            let r = self.role(role);
            let unique: BTreeSet<_> = r.keyids.iter().collect();
            if unique.len() != r.keyids.len() {
                return Err(Error::InvalidRole {
                    role: role.as_str(),
                    reason: "a key id is listed twice",
                });
            }
            if let Some(_missing) = r.keyids.iter().find(|id| !self.keys.contains_key(id)) {
                return Err(Error::InvalidRole {
                    role: role.as_str(),
                    reason: "lists a key id that is not in keys",
                });
            }
            if r.threshold == 0 {
                return Err(Error::InvalidRole {
                    role: role.as_str(),
                    reason: "threshold is zero",
                });
            }
            if r.threshold as usize > r.keyids.len() {
                return Err(Error::InvalidRole {
                    role: role.as_str(),
                    reason: "threshold exceeds the number of keys",
                });
            }
        }
        Ok(())
    }
}

/// Parse and verify a trust root envelope: bounded parse, structural validation, `root`
/// threshold over PAE, then expiry against `now` (with `skew_secs` tolerance).
///
/// The payload is necessarily parsed before its signature is checked (the root role's keys are
/// inside it, as with TUF's first root); the parse is bounded by `max_trust_root_bytes`.
pub fn verify_trust_root(
    bytes: &[u8],
    now: Timestamp,
    skew_secs: i64,
    limits: &Limits,
) -> Result<Verified<TrustRoot>, Error> {
    let envelope = Envelope::parse(bytes, Document::TrustRoot, limits)?;
    if envelope.payload_type() != TRUST_ROOT_PAYLOAD_TYPE {
        return Err(Error::PayloadType {
            document: Document::TrustRoot,
            expected: TRUST_ROOT_PAYLOAD_TYPE,
            found: Name::new(envelope.payload_type()),
        });
    }
    let root = parse_document(envelope.unverified_payload())?;
    root.validate()?;
    let root_keys = root.role_keys(RoleName::Root);
    envelope.verify(
        TRUST_ROOT_PAYLOAD_TYPE,
        Document::TrustRoot,
        RoleName::Root.as_str(),
        &root_keys,
        root.roles.root.threshold as usize,
    )?;
    if now > root.expires.plus_secs(skew_secs) {
        return Err(Error::TrustRootExpired {
            expires: root.expires.to_string(),
        });
    }
    Ok(Verified::new(root))
}

/// Parse a trust root envelope WITHOUT verifying it (for `trust sign`, which adds signatures).
pub fn parse_unverified(bytes: &[u8], limits: &Limits) -> Result<(Envelope, TrustRoot), Error> {
    let envelope = Envelope::parse(bytes, Document::TrustRoot, limits)?;
    let root = parse_document(envelope.unverified_payload())?;
    Ok((envelope, root))
}

/// Only the top-level `_type`; every other member is skipped without being built.
#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "_type", borrow)]
    type_: Option<std::borrow::Cow<'a, str>>,
}

/// Parse the trust root document: `_type` first, so a document of another version is
/// `unsupported_format` whatever new members it has, then the strict parse. The fixed structure
/// (unknown members refused) is at most 4 levels deep, well within the format's JSON depth limit.
fn parse_document(payload: &[u8]) -> Result<TrustRoot, Error> {
    if let Ok(TypeOnly { type_: Some(found) }) = serde_json::from_slice::<TypeOnly>(payload) {
        if found != TRUST_ROOT_TYPE {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&found),
            });
        }
    }
    serde_json::from_slice(payload).map_err(|e| Error::invalid(Document::TrustRoot, e))
}

/// Deserialize a JSON object into a map, rejecting duplicate keys (serde's default keeps the last
/// one silently, which would let a document say two things at once).
fn unique_keys<'de, D>(d: D) -> Result<BTreeMap<KeyId, KeyJson>, D::Error>
where
    D: Deserializer<'de>,
{
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<KeyId, KeyJson>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of key id to key")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<KeyId, KeyJson>()? {
                if out.insert(k, v).is_some() {
                    return Err(serde::de::Error::custom("duplicate key id"));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Ed25519Signer, Signer};

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn sample(signers: &[&Ed25519Signer], threshold: u32) -> TrustRoot {
        let mut root = TrustRoot::new(1, t("2030-01-01T00:00:00Z"));
        for s in signers {
            root.add_key(RoleName::Root, &s.public_key());
            root.add_key(RoleName::Kit, &s.public_key());
            root.add_key(RoleName::Attestation, &s.public_key());
        }
        root.roles.root.threshold = threshold;
        root.builders.push("https://example.org/builder".into());
        root
    }

    fn sign(root: &TrustRoot, signers: &[&dyn Signer]) -> Vec<u8> {
        Envelope::sign(TRUST_ROOT_PAYLOAD_TYPE, root.to_payload(), signers)
            .unwrap()
            .to_json()
    }

    #[test]
    fn valid_root_verifies() {
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let b = Ed25519Signer::from_seed(&[2; 32]);
        let root = sample(&[&a, &b], 2);
        let bytes = sign(&root, &[&a, &b]);
        let v =
            verify_trust_root(&bytes, t("2026-01-01T00:00:00Z"), 0, &Limits::default()).unwrap();
        assert_eq!(v.role_keys(RoleName::Kit).len(), 2);
    }

    #[test]
    fn ecdsa_keys_round_trip_through_the_payload() {
        // Regression: canonical JSON left the PEM's newlines raw, so roots with ECDSA keys were
        // unreadable by every JSON parser, ours included.
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let ec = crate::keys::EcdsaP256Signer::new(
            p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap(),
        );
        let mut root = sample(&[&a], 1);
        root.add_key(RoleName::Kit, &ec.public_key());
        let bytes = sign(&root, &[&a]);
        let v =
            verify_trust_root(&bytes, t("2026-01-01T00:00:00Z"), 0, &Limits::default()).unwrap();
        assert!(v.role_keys(RoleName::Kit).contains(&ec.public_key()));
        // Members sorted by key at every level (spec §7.1).
        let text = String::from_utf8(root.to_payload()).unwrap();
        let order = [
            "\"_type\"",
            "\"builders\"",
            "\"expires\"",
            "\"keys\"",
            "\"roles\"",
            "\"version\"",
        ];
        let pos: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn under_signed_and_expired_roots_refused() {
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let b = Ed25519Signer::from_seed(&[2; 32]);
        let root = sample(&[&a, &b], 2);
        let once = sign(&root, &[&a, &a]);
        assert!(matches!(
            verify_trust_root(&once, t("2026-01-01T00:00:00Z"), 0, &Limits::default()),
            Err(Error::ThresholdNotMet {
                valid: 1,
                threshold: 2,
                ..
            })
        ));
        let both = sign(&root, &[&a, &b]);
        assert!(matches!(
            verify_trust_root(&both, t("2030-01-01T00:00:01Z"), 0, &Limits::default()),
            Err(Error::TrustRootExpired { .. })
        ));
        assert!(verify_trust_root(&both, t("2030-01-01T00:00:01Z"), 5, &Limits::default()).is_ok());
    }

    #[test]
    fn other_type_is_unsupported_even_with_new_members() {
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let mut doc = serde_json::to_value(sample(&[&a], 1)).unwrap();
        doc["_type"] = "ouk/trust-root/2".into();
        doc["rotation"] = serde_json::json!({"previous": 1});
        let bytes = Envelope::sign(
            TRUST_ROOT_PAYLOAD_TYPE,
            serde_json::to_vec(&doc).unwrap(),
            &[&a],
        )
        .unwrap()
        .to_json();
        assert_eq!(
            verify_trust_root(&bytes, t("2026-01-01T00:00:00Z"), 0, &Limits::default()),
            Err(Error::UnsupportedFormat {
                found: Name::new("ouk/trust-root/2")
            })
        );
        // Version is a format integer: 2^53 is refused as malformed.
        doc["_type"] = TRUST_ROOT_TYPE.into();
        doc.as_object_mut().unwrap().remove("rotation");
        doc["version"] = serde_json::json!(1u64 << 53);
        assert!(matches!(
            parse_document(&serde_json::to_vec(&doc).unwrap()),
            Err(Error::InvalidDocument { .. })
        ));
        doc["version"] = serde_json::json!((1u64 << 53) - 1);
        assert!(parse_document(&serde_json::to_vec(&doc).unwrap()).is_ok());
    }

    #[test]
    fn forged_keyid_and_duplicate_ids_refused() {
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let mut root = sample(&[&a], 1);
        let (id, json) = root
            .keys
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap();
        root.keys.clear();
        let fake: KeyId = serde_json::from_str(&format!("\"{}\"", "0".repeat(64))).unwrap();
        root.keys.insert(fake, json);
        let _ = id;
        let bytes = sign(&root, &[&a]);
        assert!(matches!(
            verify_trust_root(&bytes, t("2026-01-01T00:00:00Z"), 0, &Limits::default()),
            Err(Error::KeyIdMismatch { .. })
        ));
        let dup = r#"{"a":{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"00"}},"a":{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"00"}}}"#;
        let doc = format!(
            r#"{{"_type":"ouk/trust-root/1","version":1,"expires":"2030-01-01T00:00:00Z","keys":{dup},"roles":{{}},"builders":[]}}"#
        );
        let err = serde_json::from_str::<TrustRoot>(&doc).unwrap_err();
        assert!(err.to_string().contains("duplicate key id"), "{err}");
    }
}
