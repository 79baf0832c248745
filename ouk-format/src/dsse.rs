//! DSSE (Dead Simple Signing Envelope) v1: parsing, PAE, signing and k-of-n verification.
//!
//! Written against <https://github.com/secure-systems-lab/dsse/blob/master/protocol.md>. We do
//! not use a DSSE crate because the ones on crates.io either pull a whole sigstore/in-toto stack
//! into the importer or verify one signature only; the protocol is ~20 lines and the official test
//! vectors pin it down (`tests/dsse_vectors.rs`).
//!
//! Verification follows the protocol's rules: the signature is checked over PAE of the bytes
//! *received* (never a re-serialisation), the `payloadType` must be the one the caller expects,
//! `keyid` is an unauthenticated hint and ignored for trust decisions, and the threshold counts
//! unique trusted keys, so one key signing twice counts once.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use serde::{Deserialize, Serialize};

use crate::error::{Document, Error, Name};
use crate::keys::{PublicKey, Signer};
use crate::limits::Limits;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decode base64 in either alphabet, padded or not, as the DSSE protocol requires of verifiers.
pub fn decode_base64(field: &'static str, s: &str) -> Result<Vec<u8>, Error> {
    STANDARD_LENIENT
        .decode(s)
        .or_else(|_| URL_SAFE_LENIENT.decode(s))
        .map_err(|_| Error::Base64 { field })
}

/// Standard, padded base64: what we write.
pub fn encode_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Pre-Authentication Encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, with
/// lengths as ASCII decimal byte counts. Binding the type into the signed bytes stops a signature
/// on one kind of document being replayed as another.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

#[derive(Serialize, Deserialize)]
struct WireEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
struct WireSignature {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keyid: Option<String>,
    sig: String,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The unauthenticated key id hint (may be empty).
    pub keyid: String,
    /// Raw signature bytes.
    pub sig: Vec<u8>,
}

/// A parsed (not yet verified) DSSE envelope. Holding one proves nothing: only
/// [`Envelope::verify`] returns payload bytes to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    signatures: Vec<Signature>,
}

impl Envelope {
    /// Parse envelope JSON, bounded by `limits` (size and signature count).
    pub fn parse(bytes: &[u8], document: Document, limits: &Limits) -> Result<Envelope, Error> {
        let max = match document {
            Document::TrustRoot => limits.max_trust_root_bytes,
            _ => limits.max_envelope_bytes,
        };
        if bytes.len() as u64 > max {
            return Err(Error::LimitExceeded {
                what: "signed envelope size",
                limit: max,
            });
        }
        let wire: WireEnvelope =
            serde_json::from_slice(bytes).map_err(|e| Error::invalid(document, e))?;
        if wire.signatures.len() > limits.max_signatures {
            return Err(Error::LimitExceeded {
                what: "number of signatures",
                limit: limits.max_signatures as u64,
            });
        }
        let payload = decode_base64("payload", &wire.payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .map(|s| {
                Ok(Signature {
                    keyid: s.keyid.unwrap_or_default(),
                    sig: decode_base64("sig", &s.sig)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// Sign `payload` with every signer (one signature each).
    pub fn sign(
        payload_type: &str,
        payload: Vec<u8>,
        signers: &[&dyn Signer],
    ) -> Result<Envelope, Error> {
        let message = pae(payload_type, &payload);
        let signatures = signers
            .iter()
            .map(|s| {
                Ok(Signature {
                    keyid: s.public_key().key_id().as_str().to_owned(),
                    sig: s.sign(&message)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures,
        })
    }

    /// Serialize as compact JSON with standard base64 (deterministic for the same content).
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEnvelope {
            payload: encode_base64(&self.payload),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: Some(s.keyid.clone()),
                    sig: encode_base64(&s.sig),
                })
                .collect(),
        };
        // Serializing strings and vectors cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// The claimed payload type (unauthenticated until [`Envelope::verify`] succeeds).
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The payload bytes, UNVERIFIED: for `inspect` without a trust root only.
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// The signatures.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Add signatures from another envelope over the same payload (multi-party signing).
    pub fn add_signature(&mut self, sig: Signature) {
        self.signatures.push(sig);
    }

    /// Verify that at least `threshold` distinct keys of `trusted` signed PAE(type, payload), and
    /// that the payload type is `expected_type`. Returns the authenticated payload bytes.
    pub fn verify(
        &self,
        expected_type: &'static str,
        document: Document,
        role: &'static str,
        trusted: &[PublicKey],
        threshold: usize,
    ) -> Result<&[u8], Error> {
        if self.payload_type != expected_type {
            return Err(Error::PayloadType {
                document,
                expected: expected_type,
                found: Name::new(&self.payload_type),
            });
        }
        let valid =
            count_signing_keys(&self.payload_type, &self.payload, &self.signatures, trusted);
        if threshold == 0 || valid < threshold {
            return Err(Error::ThresholdNotMet {
                document,
                role,
                valid,
                threshold,
            });
        }
        Ok(&self.payload)
    }
}

/// The single k-of-n count: the number of *distinct* trusted keys (by recomputed key id) with at
/// least one valid signature over PAE. Written once and used for every document, so the
/// "one key signs twice" rule cannot drift between call sites.
pub fn count_signing_keys(
    payload_type: &str,
    payload: &[u8],
    signatures: &[Signature],
    trusted: &[PublicKey],
) -> usize {
    let message = pae(payload_type, payload);
    let mut seen = std::collections::BTreeSet::new();
    for key in trusted {
        let id = key.key_id();
        if seen.contains(&id) {
            continue;
        }
        if signatures.iter().any(|s| key.verify(&message, &s.sig)) {
            seen.insert(id);
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Ed25519Signer;

    #[test]
    fn pae_matches_protocol_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let b = Ed25519Signer::from_seed(&[2; 32]);
        let env = Envelope::sign("t/x", b"{}".to_vec(), &[&a, &b]).unwrap();
        let parsed =
            Envelope::parse(&env.to_json(), Document::Manifest, &Limits::default()).unwrap();
        let keys = [a.public_key(), b.public_key()];
        assert_eq!(
            parsed
                .verify("t/x", Document::Manifest, "kit", &keys, 2)
                .unwrap(),
            b"{}"
        );
        assert!(matches!(
            parsed.verify("t/y", Document::Manifest, "kit", &keys, 1),
            Err(Error::PayloadType { .. })
        ));
    }

    #[test]
    fn same_key_listed_twice_counts_once() {
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let env = Envelope::sign("t", b"x".to_vec(), &[&a, &a]).unwrap();
        let keys = [a.public_key(), a.public_key()];
        assert_eq!(
            env.verify("t", Document::Manifest, "kit", &keys, 2),
            Err(Error::ThresholdNotMet {
                document: Document::Manifest,
                role: "kit",
                valid: 1,
                threshold: 2
            })
        );
    }

    #[test]
    fn oversized_and_too_many_signatures_rejected_before_decoding() {
        let limits = Limits {
            max_envelope_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            Envelope::parse(&[b' '; 11], Document::Manifest, &limits),
            Err(Error::LimitExceeded { .. })
        ));
        let a = Ed25519Signer::from_seed(&[1; 32]);
        let signers: Vec<&dyn Signer> = (0..17).map(|_| &a as &dyn Signer).collect();
        let env = Envelope::sign("t", b"x".to_vec(), &signers).unwrap();
        assert!(matches!(
            Envelope::parse(&env.to_json(), Document::Manifest, &Limits::default()),
            Err(Error::LimitExceeded {
                what: "number of signatures",
                ..
            })
        ));
    }
}
