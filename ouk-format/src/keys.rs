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

/// Why a PEM that parses is still refused.
const NON_CANONICAL_PEM: &str =
    "PEM must be canonical: uncompressed point, 64-character lines, LF line ends, final LF";

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
    /// Parse an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`), ed25519 or P-256, from a key
    /// file given to a tool. Only the canonical encoding is accepted (64-character base64 lines,
    /// LF line ends, final LF, uncompressed P-256 point), tolerating CRLF line ends and a missing
    /// final LF: one key then has exactly one text form and one key id (spec §6.4).
    pub fn from_spki_pem(pem: &str) -> Result<PublicKey, Error> {
        let mut text = pem.replace("\r\n", "\n");
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let key = if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(&text) {
            PublicKey::Ed25519(k)
        } else if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(&text) {
            PublicKey::EcdsaP256(k)
        } else {
            return Err(Error::InvalidKey {
                key: Name::new("PEM"),
                reason: "not an ed25519 or P-256 SPKI public key",
            });
        };
        if key.to_spki_pem() != text {
            return Err(Error::InvalidKey {
                key: Name::new("PEM"),
                reason: NON_CANONICAL_PEM,
            });
        }
        Ok(key)
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
                let key = p256::ecdsa::VerifyingKey::from_public_key_pem(&json.keyval.public)
                    .map(PublicKey::EcdsaP256)
                    .map_err(|_| bad("not a P-256 SPKI PEM key"))?;
                // The key id hashes this text: a second spelling of one key (compressed point,
                // other line lengths) would be a second id for the same key.
                if key.to_spki_pem() != json.keyval.public {
                    return Err(bad(NON_CANONICAL_PEM));
                }
                Ok(key)
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

/// A message handed over in pieces: called with a sink, it passes every byte of the message to
/// it, in order ([`Signer::sign_streamed`]).
pub type MessageFeed<'a> = dyn Fn(&mut dyn FnMut(&[u8])) -> std::io::Result<()> + 'a;

/// Something that can produce signatures for DSSE envelopes. The format crate does not know where
/// keys live (files, cosign key files, HSMs): the builder implements this for each.
pub trait Signer {
    /// The public half, from which the key id is derived.
    fn public_key(&self) -> PublicKey;
    /// Sign `message` (the DSSE PAE bytes).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;

    /// Sign a message too large to hold in memory (a whole kit, for its blob signature), with
    /// the same result as [`Signer::sign`] over its bytes. `feed` hands the message to its
    /// argument in pieces; it is called once per pass the scheme needs (Ed25519 hashes the
    /// message twice) and must give the same bytes each time. The default collects them.
    fn sign_streamed(&self, feed: &MessageFeed) -> Result<Vec<u8>, Error> {
        let mut all = Vec::new();
        feed(&mut |b| all.extend_from_slice(b))
            .map_err(|e| Error::io("reading the message to sign", &e))?;
        self.sign(&all)
    }
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

    /// Pure Ed25519 (RFC 8032), the message streamed through SHA-512 twice
    /// (`ed25519_dalek::hazmat::raw_sign_byupdate`, made for this): the signature is the one
    /// [`Signer::sign`] gives, in constant memory.
    fn sign_streamed(&self, feed: &MessageFeed) -> Result<Vec<u8>, Error> {
        use ed25519_dalek::hazmat::{raw_sign_byupdate, ExpandedSecretKey};
        use sha2::Digest as _;
        let esk = ExpandedSecretKey::from(&self.0.to_bytes());
        let failed = std::cell::Cell::new(None);
        let signed = raw_sign_byupdate::<sha2::Sha512, _>(
            &esk,
            |h| {
                feed(&mut |b| h.update(b)).map_err(|e| {
                    failed.set(Some(e));
                    ed25519_dalek::SignatureError::new()
                })
            },
            &self.0.verifying_key(),
        );
        match (signed, failed.take()) {
            (Ok(sig), None) => Ok(sig.to_bytes().to_vec()),
            (_, Some(e)) => Err(Error::io("reading the message to sign", &e)),
            (Err(_), None) => Err(Error::Signing {
                reason: Name::new("ed25519 streamed signing failed"),
            }),
        }
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

    /// ECDSA over the streamed SHA-256 of the message (RFC 6979 nonce from that digest): the
    /// signature [`Signer::sign`] gives, in constant memory.
    fn sign_streamed(&self, feed: &MessageFeed) -> Result<Vec<u8>, Error> {
        use p256::ecdsa::signature::DigestSigner as _;
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        feed(&mut |b| h.update(b)).map_err(|e| Error::io("reading the message to sign", &e))?;
        let sig: p256::ecdsa::Signature = self.0.sign_digest(h);
        Ok(sig.to_der().as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_signatures_equal_plain_ones() {
        let message: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let feed = |sink: &mut dyn FnMut(&[u8])| -> std::io::Result<()> {
            for piece in message.chunks(4099) {
                sink(piece);
            }
            Ok(())
        };
        let ed = Ed25519Signer::from_seed(&[4; 32]);
        assert_eq!(ed.sign_streamed(&feed).unwrap(), ed.sign(&message).unwrap());
        let ec = EcdsaP256Signer::new(p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap());
        assert_eq!(ec.sign_streamed(&feed).unwrap(), ec.sign(&message).unwrap());
        let broken = |_: &mut dyn FnMut(&[u8])| -> std::io::Result<()> {
            Err(std::io::Error::other("medium gone"))
        };
        assert!(matches!(ed.sign_streamed(&broken), Err(Error::Io { .. })));
    }

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

    /// The P-256 test key as canonical PEM, its DER, and a compressed-point SPKI of the same key.
    fn p256_forms() -> (PublicKey, String, Vec<u8>, Vec<u8>) {
        use base64::Engine as _;
        let sk = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
        let pk = PublicKey::EcdsaP256(*sk.verifying_key());
        let pem = pk.to_spki_pem();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let mut compressed =
            hex::decode("3039301306072a8648ce3d020106082a8648ce3d030107032200").unwrap();
        compressed.extend_from_slice(sk.verifying_key().to_encoded_point(true).as_bytes());
        (pk, pem, der, compressed)
    }

    fn pem_of(der: &[u8], width: usize) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(width) {
            out.push_str(std::str::from_utf8(line).unwrap());
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    fn ecdsa_json(public: String) -> KeyJson {
        KeyJson {
            keytype: "ecdsa".into(),
            scheme: "ecdsa-sha2-nistp256".into(),
            keyval: KeyVal { public },
        }
    }

    #[test]
    fn only_the_canonical_ecdsa_pem_is_a_key() {
        let (pk, pem, der, compressed) = p256_forms();
        assert_eq!(
            pem_of(&der, 64),
            pem,
            "canonical form is 64-character lines"
        );
        assert_eq!(
            PublicKey::from_key_json(&ecdsa_json(pem.clone())),
            Ok(pk.clone())
        );
        assert_eq!(PublicKey::from_spki_pem(&pem), Ok(pk.clone()));
        // Tolerated in key files only: CRLF and a missing final LF.
        assert_eq!(
            PublicKey::from_spki_pem(&pem.replace('\n', "\r\n")),
            Ok(pk.clone())
        );
        assert_eq!(PublicKey::from_spki_pem(pem.trim_end()), Ok(pk.clone()));
        let compressed_pem = pem_of(&compressed, 64);
        // The point is valid (the curve library alone would take it): refused for its form.
        assert!(p256::ecdsa::VerifyingKey::from_public_key_pem(&compressed_pem).is_ok());
        let refused = Err(Error::InvalidKey {
            key: Name::new("PEM"),
            reason: NON_CANONICAL_PEM,
        });
        assert_eq!(PublicKey::from_spki_pem(&compressed_pem), refused);
        let lines76 = pem_of(&der, 76);
        for bad in [compressed_pem, lines76, pem.trim_end().to_owned()] {
            assert!(
                matches!(
                    PublicKey::from_key_json(&ecdsa_json(bad.clone())),
                    Err(Error::InvalidKey { .. })
                ),
                "{bad}"
            );
        }
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
