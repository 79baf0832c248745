//! Public keys, their TUF/securesystemslib key ids, and the signing trait.
//!
//! A key id is never trusted as given: it is always recomputed as the sha256 of the key's
//! canonical JSON form (OLPC canonical JSON, as securesystemslib and TUF compute it). That makes
//! our ids interoperable with other DSSE verifiers and makes "one key listed under two ids"
//! impossible, so thresholds count keys, not labels.

use std::fmt;

use ed25519_dalek::Verifier as _;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::error::{Error, Name};

/// A key id: lower-case hex sha256 of the canonical JSON public-key object.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", &self.0)
    }
}

/// A public key the format can verify with.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Ed25519 (RFC 8032), the default for OUK keys.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA over NIST P-256 with SHA-256, DER signatures: what cosign generates by default.
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

/// The securesystemslib/TUF JSON form of a public key (`keytype`, `scheme`, `keyval.public`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyJson {
    /// `ed25519` or `ecdsa`.
    pub keytype: String,
    /// `ed25519` or `ecdsa-sha2-nistp256`.
    pub scheme: String,
    /// The key material.
    pub keyval: KeyVal,
}

/// `keyval` of [`KeyJson`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyVal {
    /// Hex (ed25519) or SPKI PEM (ecdsa).
    pub public: String,
}

impl PublicKey {
    /// Parse an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`), ed25519 or P-256.
    pub fn from_spki_pem(pem: &str) -> Result<PublicKey, Error> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::EcdsaP256(k));
        }
        Err(Error::InvalidKey {
            key: Name::new("PEM"),
            reason: "not an ed25519 or P-256 SPKI public key",
        })
    }

    /// SPKI PEM encoding (what `cosign verify-blob --key` and our `.pub` files hold).
    pub fn to_spki_pem(&self) -> String {
        let pem = match self {
            PublicKey::Ed25519(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::EcdsaP256(k) => k.to_public_key_pem(LineEnding::LF),
        };
        // Encoding a valid in-memory key cannot fail; an empty string would only fail later checks.
        pem.unwrap_or_default()
    }

    /// The TUF/securesystemslib JSON form.
    pub fn to_key_json(&self) -> KeyJson {
        match self {
            PublicKey::Ed25519(k) => KeyJson {
                keytype: "ed25519".into(),
                scheme: "ed25519".into(),
                keyval: KeyVal {
                    public: hex::encode(k.as_bytes()),
                },
            },
            PublicKey::EcdsaP256(_) => KeyJson {
                keytype: "ecdsa".into(),
                scheme: "ecdsa-sha2-nistp256".into(),
                keyval: KeyVal {
                    public: self.to_spki_pem(),
                },
            },
        }
    }

    /// Parse the TUF/securesystemslib JSON form.
    pub fn from_key_json(json: &KeyJson) -> Result<PublicKey, Error> {
        let bad = |reason| Error::InvalidKey {
            key: Name::new(&json.keyval.public),
            reason,
        };
        match (json.keytype.as_str(), json.scheme.as_str()) {
            ("ed25519", "ed25519") => {
                let public = &json.keyval.public;
                if public.len() != 64 || public.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(bad("ed25519 key must be 64 lower-case hex characters"));
                }
                let mut raw = [0u8; 32];
                hex::decode_to_slice(public, &mut raw).map_err(|_| bad("not hex"))?;
                ed25519_dalek::VerifyingKey::from_bytes(&raw)
                    .map(PublicKey::Ed25519)
                    .map_err(|_| bad("not a valid ed25519 point"))
            }
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                p256::ecdsa::VerifyingKey::from_public_key_pem(&json.keyval.public)
                    .map(PublicKey::EcdsaP256)
                    .map_err(|_| bad("not a P-256 SPKI PEM key"))
            }
            _ => Err(bad("unsupported keytype/scheme")),
        }
    }

    /// The key id: sha256 over the OLPC canonical JSON of [`PublicKey::to_key_json`].
    pub fn key_id(&self) -> KeyId {
        key_id_of(&self.to_key_json())
    }

    /// Verify `sig` over `message`. Never panics on malformed signatures.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(k) => match ed25519_dalek::Signature::from_slice(sig) {
                Ok(s) => k.verify_strict(message, &s).is_ok(),
                Err(_) => false,
            },
            PublicKey::EcdsaP256(k) => match p256::ecdsa::DerSignature::from_bytes(sig) {
                Ok(s) => k.verify(message, &s).is_ok(),
                Err(_) => false,
            },
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

/// Key id of a key JSON object as securesystemslib computes it.
pub fn key_id_of(json: &KeyJson) -> KeyId {
    KeyId(Sha256::of(&canonical_json(json)).to_hex())
}

/// OLPC canonical JSON (sorted keys, no whitespace, minimal escaping), the form TUF and
/// securesystemslib hash and sign. We use the `olpc-cjson` crate (from the tough project) rather
/// than hand-rolling the escaping rules.
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, olpc_cjson::CanonicalFormatter::new());
    // Serializing our own plain data types into a Vec cannot fail.
    if value.serialize(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// Something that can produce signatures for DSSE envelopes. The format crate does not know where
/// keys live (files, cosign key files, HSMs): the builder implements this for each.
pub trait Signer {
    /// The public half, from which the key id is derived.
    fn public_key(&self) -> PublicKey;
    /// Sign `message` (the DSSE PAE bytes).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// An in-memory ed25519 signing key.
pub struct Ed25519Signer(ed25519_dalek::SigningKey);

impl Ed25519Signer {
    /// Wrap a signing key.
    pub fn new(key: ed25519_dalek::SigningKey) -> Self {
        Ed25519Signer(key)
    }

    /// From a 32-byte seed (test vectors, deterministic test keys).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Ed25519Signer(ed25519_dalek::SigningKey::from_bytes(seed))
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.0.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes().to_vec())
    }
}

/// An in-memory ECDSA P-256 signing key (DER signatures over SHA-256).
pub struct EcdsaP256Signer(p256::ecdsa::SigningKey);

impl EcdsaP256Signer {
    /// Wrap a signing key.
    pub fn new(key: p256::ecdsa::SigningKey) -> Self {
        EcdsaP256Signer(key)
    }
}

impl Signer for EcdsaP256Signer {
    fn public_key(&self) -> PublicKey {
        PublicKey::EcdsaP256(*self.0.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::DerSignature = self.0.sign(message);
        Ok(sig.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyid_matches_securesystemslib_canonical_form() {
        // RFC 8032 TEST 1 public key.
        let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
        let signer = Ed25519Signer::from_seed(&seed.try_into().unwrap());
        let key = signer.public_key();
        let canon = canonical_json(&key.to_key_json());
        assert_eq!(
            String::from_utf8(canon.clone()).unwrap(),
            r#"{"keytype":"ed25519","keyval":{"public":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"},"scheme":"ed25519"}"#
        );
        assert_eq!(key.key_id().as_str(), Sha256::of(&canon).to_hex());
    }

    #[test]
    fn pem_round_trip_and_bad_keys() {
        let signer = Ed25519Signer::from_seed(&[7u8; 32]);
        let pem = signer.public_key().to_spki_pem();
        assert_eq!(PublicKey::from_spki_pem(&pem).unwrap(), signer.public_key());
        assert!(PublicKey::from_spki_pem("garbage").is_err());
        let mut json = signer.public_key().to_key_json();
        json.keyval.public = json.keyval.public.to_uppercase();
        assert!(PublicKey::from_key_json(&json).is_err());
    }

    #[test]
    fn ecdsa_sign_verify() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
        let signer = EcdsaP256Signer::new(sk);
        let sig = signer.sign(b"hello").unwrap();
        let pk = signer.public_key();
        assert!(pk.verify(b"hello", &sig));
        assert!(!pk.verify(b"hellO", &sig));
        let json = pk.to_key_json();
        assert_eq!(PublicKey::from_key_json(&json).unwrap(), pk);
    }
}
