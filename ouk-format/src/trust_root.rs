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

use crate::error::{Document, Error, Name};
use crate::keys::{key_id_of, KeyId, KeyJson, PublicKey};
use crate::limits::Limits;
use crate::media_types::{TRUST_ROOT_TYPE, TRUST_ROOT_TYPE_V2};
use crate::time::Timestamp;
use crate::verified::Verified;

mod document;
mod tuf;

pub use document::RootDocument;

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
        if self.type_ != TRUST_ROOT_TYPE && self.type_ != TRUST_ROOT_TYPE_V2 {
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

/// Verify a trust root that is trusted because of where it came from (the operator's file, the
/// importer's store): structure, key ids, and the threshold of its own `root` role. Expiry is
/// NOT checked: an expired root may still introduce its successors (TUF), and only the final
/// root of a chain must be current ([`check_not_expired`]).
///
/// The document is necessarily parsed before its signatures are checked (the `root` keys are
/// inside it, as with TUF's first root); the parse is bounded by `max_trust_root_bytes`.
pub fn verify_anchor(bytes: &[u8], limits: &Limits) -> Result<Verified<TrustRoot>, Error> {
    let doc = RootDocument::parse(bytes, limits)?;
    doc.unverified().validate()?;
    doc.check_threshold(doc.unverified(), "root")?;
    Ok(Verified::new(doc.unverified().clone()))
}

/// [`verify_anchor`], then refuse it if expired at `now` (with `skew_secs` tolerance): a root used
/// on its own, without a newer one to follow.
pub fn verify_trust_root(
    bytes: &[u8],
    now: Timestamp,
    skew_secs: i64,
    limits: &Limits,
) -> Result<Verified<TrustRoot>, Error> {
    let root = verify_anchor(bytes, limits)?;
    check_not_expired(&root, now, skew_secs)?;
    Ok(root)
}

/// A root is expired from the instant `expires` (+ skew) on, as TUF decides it (python-tuf's
/// `is_expired` is `now >= expires`), so both refuse a root at exactly its expiry.
pub fn check_not_expired(root: &TrustRoot, now: Timestamp, skew_secs: i64) -> Result<(), Error> {
    if now >= root.expires.plus_secs(skew_secs) {
        return Err(Error::TrustRootExpired {
            expires: root.expires.to_string(),
        });
    }
    Ok(())
}

/// One step of a rotation chain (TUF 5.3.4–5.3.7): the file must parse and validate, reach the
/// threshold of the TRUSTED root's `root` role, have version exactly `trusted.version + 1`, and
/// reach the threshold of its own `root` role. Expiry is not checked (see [`verify_anchor`]).
pub fn verify_successor(
    trusted: &TrustRoot,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Verified<TrustRoot>, Error> {
    let doc = RootDocument::parse(bytes, limits)?;
    let next = doc.unverified();
    next.validate()?;
    doc.check_threshold(trusted, "root (previous trust root)")?;
    let expected = trusted.version + 1;
    if next.version != expected {
        return Err(Error::TrustRootVersion {
            trusted: trusted.version,
            expected,
            found: next.version,
        });
    }
    doc.check_threshold(next, "root")?;
    Ok(Verified::new(next.clone()))
}

/// Walk a chain from `anchor` through `successors` (each must be the next version), at most
/// `limits.max_trust_chain` steps, and check that the final root is current. Returns every root
/// accepted after the anchor, in order.
pub fn verify_chain<'a>(
    anchor: &Verified<TrustRoot>,
    successors: impl IntoIterator<Item = &'a [u8]>,
    now: Timestamp,
    skew_secs: i64,
    limits: &Limits,
) -> Result<Vec<Verified<TrustRoot>>, Error> {
    let mut accepted: Vec<Verified<TrustRoot>> = Vec::new();
    for (step, bytes) in successors.into_iter().enumerate() {
        if step >= limits.max_trust_chain {
            return Err(Error::LimitExceeded {
                what: "trust root chain length",
                limit: limits.max_trust_chain as u64,
            });
        }
        let current = accepted.last().unwrap_or(anchor);
        let next = verify_successor(current, bytes, limits)?;
        accepted.push(next);
    }
    check_not_expired(accepted.last().unwrap_or(anchor), now, skew_secs)?;
    Ok(accepted)
}

/// A key taken out of a role by a newer trust root. Kept by importers so that a document whose
/// only signatures are by revoked keys is refused by name ([`Error::RevokedKey`]) rather than as
/// a bare threshold failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// `root`, `kit` or `attestation`.
    pub role: String,
    /// The key's id (recomputed).
    pub keyid: KeyId,
    /// The key itself, so its signatures can still be recognised.
    pub key: KeyJson,
    /// The first trust root version without it.
    pub revoked_in: u64,
}

/// Keys in a role of `old` that `new` no longer lists in that role.
pub fn revocations(old: &TrustRoot, new: &TrustRoot) -> Vec<Revocation> {
    let mut out = Vec::new();
    for role in [RoleName::Root, RoleName::Kit, RoleName::Attestation] {
        let kept = &new.role(role).keyids;
        for id in &old.role(role).keyids {
            if kept.contains(id) {
                continue;
            }
            if let Some(key) = old.keys.get(id) {
                out.push(Revocation {
                    role: role.as_str().to_owned(),
                    keyid: id.clone(),
                    key: key.clone(),
                    revoked_in: new.version,
                });
            }
        }
    }
    out
}

/// Parse the legacy (`ouk/trust-root/1`) document: `_type` first, so a document of another
/// version is `unsupported_format` whatever new members it has, then the strict parse.
pub(crate) fn parse_legacy_document(payload: &[u8]) -> Result<TrustRoot, Error> {
    if let Ok(TypeOnly { type_: Some(found) }) = serde_json::from_slice::<TypeOnly>(payload) {
        if found != TRUST_ROOT_TYPE {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&found),
            });
        }
    }
    serde_json::from_slice(payload).map_err(|e| Error::invalid(Document::TrustRoot, e))
}

/// Only the top-level `_type`; every other member is skipped without being built.
#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "_type", borrow)]
    type_: Option<std::borrow::Cow<'a, str>>,
}

/// Deserialize a JSON object into a map, rejecting duplicate keys (serde's default keeps the last
/// one silently, which would let a document say two things at once).
pub(crate) fn unique_keys<'de, D>(d: D) -> Result<BTreeMap<KeyId, KeyJson>, D::Error>
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
    use crate::dsse::Envelope;
    use crate::keys::{Ed25519Signer, Signer};
    use crate::media_types::TRUST_ROOT_PAYLOAD_TYPE;

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
            parse_legacy_document(&serde_json::to_vec(&doc).unwrap()),
            Err(Error::InvalidDocument { .. })
        ));
        doc["version"] = serde_json::json!((1u64 << 53) - 1);
        assert!(parse_legacy_document(&serde_json::to_vec(&doc).unwrap()).is_ok());
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

#[cfg(test)]
mod chain_tests {
    use super::*;
    use crate::keys::{Ed25519Signer, Signer};

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn key(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32])
    }

    /// Root `version` whose root role is `root_keys` (threshold `k`), kit role `kit`.
    fn root(version: u64, root_keys: &[&Ed25519Signer], k: u32, kit: &Ed25519Signer) -> TrustRoot {
        let mut r = TrustRoot::new(version, t("2030-01-01T00:00:00Z"));
        for s in root_keys {
            r.add_key(RoleName::Root, &s.public_key());
        }
        r.add_key(RoleName::Kit, &kit.public_key());
        r.add_key(RoleName::Attestation, &kit.public_key());
        r.roles.root.threshold = k;
        r.builders.push("https://example.org/b".into());
        r
    }

    fn signed(r: TrustRoot, by: &[&Ed25519Signer]) -> Vec<u8> {
        let mut doc = RootDocument::new(r);
        let signers: Vec<&dyn Signer> = by.iter().map(|s| *s as &dyn Signer).collect();
        doc.sign(&signers).unwrap();
        doc.to_bytes()
    }

    #[test]
    fn tuf_layout_round_trips_and_verifies() {
        let (a, b, kit) = (key(1), key(2), key(9));
        let bytes = signed(root(1, &[&a, &b], 2, &kit), &[&a, &b]);
        let v = verify_anchor(&bytes, &Limits::default()).unwrap();
        assert_eq!(v.version, 1);
        assert_eq!(v.type_, TRUST_ROOT_TYPE_V2);
        let text = String::from_utf8(bytes.clone()).unwrap();
        for needle in [
            "\"_type\": \"root\"",
            "\"spec_version\": \"1.0.31\"",
            "\"x-ouk\"",
            "\"targets\"",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        // Parse → re-encode is byte-identical (the canonical bytes are what was signed).
        let doc = RootDocument::parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(doc.to_bytes(), bytes);
    }

    #[test]
    fn signature_counts_only_under_its_own_keyid() {
        let (a, b, kit) = (key(1), key(2), key(9));
        let bytes = signed(root(1, &[&a, &b], 2, &kit), &[&a, &b]);
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        // Both signatures claim a's id: the second is a duplicate keyid → refused outright.
        let a_id = a.public_key().key_id().to_string();
        v["signatures"][1]["keyid"] = a_id.clone().into();
        let dup = serde_json::to_vec(&v).unwrap();
        assert!(matches!(
            verify_anchor(&dup, &Limits::default()),
            Err(Error::InvalidDocument { .. })
        ));
        // b's signature relabelled with an unknown id no longer counts for b.
        v["signatures"][1]["keyid"] = "00".repeat(32).into();
        let spoofed = serde_json::to_vec(&v).unwrap();
        assert!(matches!(
            verify_anchor(&spoofed, &Limits::default()),
            Err(Error::ThresholdNotMet {
                valid: 1,
                threshold: 2,
                ..
            })
        ));
    }

    #[test]
    fn tampering_with_the_extension_breaks_the_signature() {
        let (a, kit) = (key(1), key(9));
        let bytes = signed(root(1, &[&a], 1, &kit), &[&a]);
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["signed"]["x-ouk"]["builders"][0] = "https://evil.example/b".into();
        assert!(matches!(
            verify_anchor(&serde_json::to_vec(&v).unwrap(), &Limits::default()),
            Err(Error::ThresholdNotMet { valid: 0, .. })
        ));
        // Unknown members are refused, not ignored.
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["signed"]["x-ouk"]["extra"] = true.into();
        assert!(matches!(
            verify_anchor(&serde_json::to_vec(&v).unwrap(), &Limits::default()),
            Err(Error::InvalidDocument { .. })
        ));
        // Another extension version is unsupported whatever it holds.
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["signed"]["x-ouk"]["_type"] = "ouk/trust-root/3".into();
        assert!(matches!(
            verify_anchor(&serde_json::to_vec(&v).unwrap(), &Limits::default()),
            Err(Error::UnsupportedFormat { .. })
        ));
    }

    #[test]
    fn successor_needs_both_thresholds_and_the_next_version() {
        let (a, b, c, d, kit) = (key(1), key(2), key(3), key(4), key(9));
        let v1 = verify_anchor(
            &signed(root(1, &[&a, &b], 2, &kit), &[&a, &b]),
            &Limits::default(),
        )
        .unwrap();
        let next = || root(2, &[&c, &d], 2, &kit);
        let l = Limits::default();
        // Old threshold met, new met.
        assert!(verify_successor(&v1, &signed(next(), &[&a, &b, &c, &d]), &l).is_ok());
        // Old threshold missing (only a).
        assert!(matches!(
            verify_successor(&v1, &signed(next(), &[&a, &c, &d]), &l),
            Err(Error::ThresholdNotMet {
                role: "root (previous trust root)",
                valid: 1,
                ..
            })
        ));
        // New threshold missing.
        assert!(matches!(
            verify_successor(&v1, &signed(next(), &[&a, &b, &c]), &l),
            Err(Error::ThresholdNotMet {
                role: "root",
                valid: 1,
                ..
            })
        ));
        // Same, skipped and older versions.
        for version in [1, 3, 0] {
            let mut r = next();
            r.version = version;
            assert!(matches!(
                verify_successor(&v1, &signed(r, &[&a, &b, &c, &d]), &l),
                Err(Error::TrustRootVersion { expected: 2, .. })
            ));
        }
    }

    #[test]
    fn chain_checks_only_the_final_expiry_and_its_length() {
        let (a, b, kit) = (key(1), key(2), key(9));
        let mut r1 = root(1, &[&a], 1, &kit);
        r1.expires = t("2020-01-01T00:00:00Z");
        let v1 = verify_anchor(&signed(r1, &[&a]), &Limits::default()).unwrap();
        let r2 = signed(root(2, &[&b], 1, &kit), &[&a, &b]);
        let now = t("2026-01-01T00:00:00Z");
        let l = Limits::default();
        let got = verify_chain(&v1, [r2.as_slice()], now, 0, &l).unwrap();
        assert_eq!(got.len(), 1);
        // Exactly at expiry is expired (TUF's rule).
        assert!(matches!(
            verify_chain(&v1, [r2.as_slice()], t("2030-01-01T00:00:00Z"), 0, &l),
            Err(Error::TrustRootExpired { .. })
        ));
        assert!(verify_chain(&v1, [r2.as_slice()], t("2029-12-31T23:59:59Z"), 0, &l).is_ok());
        let short = Limits {
            max_trust_chain: 0,
            ..Limits::default()
        };
        assert!(matches!(
            verify_chain(&v1, [r2.as_slice()], now, 0, &short),
            Err(Error::LimitExceeded { .. })
        ));
    }

    #[test]
    fn legacy_root_can_introduce_a_tuf_successor() {
        let (a, b, kit) = (key(1), key(2), key(9));
        let legacy = root(1, &[&a], 1, &kit);
        let env = crate::dsse::Envelope::sign(
            crate::media_types::TRUST_ROOT_PAYLOAD_TYPE,
            legacy.to_payload(),
            &[&a],
        )
        .unwrap()
        .to_json();
        let v1 = verify_anchor(&env, &Limits::default()).unwrap();
        assert_eq!(v1.type_, TRUST_ROOT_TYPE);
        let v2 = verify_successor(
            &v1,
            &signed(root(2, &[&b], 1, &kit), &[&a, &b]),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(v2.version, 2);
    }

    #[test]
    fn revocations_name_the_role_and_version() {
        let (a, k1, k2) = (key(1), key(8), key(9));
        let old = root(1, &[&a], 1, &k1);
        let new = root(2, &[&a], 1, &k2);
        let r = revocations(&old, &new);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r
            .iter()
            .all(|x| x.keyid == k1.public_key().key_id() && x.revoked_in == 2));
        assert!(revocations(&old, &old).is_empty());
    }

    #[test]
    fn oversized_root_is_refused_before_parsing() {
        let l = Limits {
            max_trust_root_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            RootDocument::parse(b"{\"signed\": {}, \"signatures\": []}", &l),
            Err(Error::LimitExceeded { .. })
        ));
    }
}
