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
use serde::Serialize;

use crate::error::{Document, Error, Name};
use crate::keys::{PublicKey, Signer};
use crate::limits::Limits;

pub(crate) mod json;

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use json::{from_slice_seed, required, set_once, Field, Skip, Stash, Text};

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Longest `payloadType` read (the format's types are under 50 bytes; DSSE sets no bound).
pub const MAX_PAYLOAD_TYPE_BYTES: usize = 256;
/// Longest `keyid` hint read (ours are 64 hex characters).
pub const MAX_KEYID_BYTES: usize = 256;
/// Longest base64 `sig` read: a DER P-256 signature is at most 72 bytes and an Ed25519 one 64,
/// i.e. at most 96 base64 characters.
pub const MAX_SIG_BASE64_BYTES: usize = 512;

/// Decode base64 as the spec's §6.3 fixes it: the standard alphabet, else the URL-safe one; either
/// with no padding or with complete padding (`=` or `==` making the length a multiple of 4).
/// Partial padding (`YQ=`), whitespace, and non-zero trailing bits are refused.
pub fn decode_base64(field: &'static str, s: &str) -> Result<Vec<u8>, Error> {
    let unpadded = s.trim_end_matches('=');
    let pad = s.len() - unpadded.len();
    // The engine's "indifferent" padding mode is checked here explicitly so that the accepted
    // set is exactly the one the spec states, whatever the crate version does with odd padding.
    if pad > 2 || (pad > 0 && !s.len().is_multiple_of(4)) {
        return Err(Error::Base64 { field });
    }
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

#[derive(Serialize)]
struct WireEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize)]
struct WireSignature {
    #[serde(skip_serializing_if = "Option::is_none")]
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
        let stash = Stash::default();
        let seed = EnvelopeSeed {
            max_signatures: limits.max_signatures,
            max_payload: max as usize,
            stash: &stash,
        };
        let wire = from_slice_seed(bytes, seed, &stash, document)?;
        let payload = decode_base64("payload", &wire.payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .map(|s| {
                Ok(Signature {
                    keyid: s.keyid.map(Cow::into_owned).unwrap_or_default(),
                    sig: decode_base64("sig", &s.sig)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type.into_owned(),
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

/// The envelope as read, strings borrowed from the input where possible (the payload's base64
/// is not copied before it is decoded).
struct ParsedEnvelope<'de> {
    payload: Cow<'de, str>,
    payload_type: Cow<'de, str>,
    signatures: Vec<ParsedSignature<'de>>,
}

struct ParsedSignature<'de> {
    keyid: Option<Cow<'de, str>>,
    sig: Cow<'de, str>,
}

/// Parses the envelope object, counting signatures as they come (the one after
/// `max_signatures` stops the parse) and bounding every string, so an unsigned envelope costs
/// at most a small multiple of its size before anything is authenticated.
struct EnvelopeSeed<'s> {
    max_signatures: usize,
    max_payload: usize,
    stash: &'s Stash,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_> {
    type Value = ParsedEnvelope<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_> {
    type Value = ParsedEnvelope<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DSSE envelope object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        const NAMES: &[&str] = &["payload", "payloadType", "signatures"];
        let (mut payload, mut payload_type, mut signatures) = (None, None, None);
        let field = || Field {
            names: NAMES,
            allow_unknown: true,
        };
        while let Some(key) = map.next_key_seed(field())? {
            match key {
                Some(0) => {
                    let text = Text {
                        max: self.max_payload,
                        what: "envelope payload",
                        stash: self.stash,
                    };
                    set_once(&mut payload, "payload", map.next_value_seed(text)?)?
                }
                Some(1) => {
                    let text = Text {
                        max: MAX_PAYLOAD_TYPE_BYTES,
                        what: "envelope payloadType length",
                        stash: self.stash,
                    };
                    set_once(&mut payload_type, "payloadType", map.next_value_seed(text)?)?
                }
                Some(_) => {
                    let seed = SignaturesSeed {
                        max: self.max_signatures,
                        stash: self.stash,
                    };
                    set_once(&mut signatures, "signatures", map.next_value_seed(seed)?)?
                }
                // DSSE readers ignore unknown envelope members (spec §6.1); still depth-bounded.
                None => map.next_value_seed(Skip {
                    level: 2,
                    stash: self.stash,
                })?,
            }
        }
        Ok(ParsedEnvelope {
            payload: required(payload, "payload")?,
            payload_type: required(payload_type, "payloadType")?,
            signatures: required(signatures, "signatures")?,
        })
    }
}

struct SignaturesSeed<'s> {
    max: usize,
    stash: &'s Stash,
}

impl<'de> DeserializeSeed<'de> for SignaturesSeed<'_> {
    type Value = Vec<ParsedSignature<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SignaturesSeed<'_> {
    type Value = Vec<ParsedSignature<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of signature objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(sig) = seq.next_element_seed(SignatureSeed { stash: self.stash })? {
            if out.len() >= self.max {
                return Err(self.stash.fail(Error::LimitExceeded {
                    what: "number of signatures",
                    limit: self.max as u64,
                }));
            }
            out.push(sig);
        }
        Ok(out)
    }
}

struct SignatureSeed<'s> {
    stash: &'s Stash,
}

impl<'de> DeserializeSeed<'de> for SignatureSeed<'_> {
    type Value = ParsedSignature<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SignatureSeed<'_> {
    type Value = ParsedSignature<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a signature object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut keyid, mut sig) = (None, None);
        let field = || Field {
            names: &["keyid", "sig"],
            allow_unknown: true,
        };
        while let Some(key) = map.next_key_seed(field())? {
            match key {
                Some(0) => {
                    let text = Text {
                        max: MAX_KEYID_BYTES,
                        what: "signature keyid length",
                        stash: self.stash,
                    };
                    set_once(&mut keyid, "keyid", map.next_value_seed(text)?)?
                }
                Some(_) => {
                    let text = Text {
                        max: MAX_SIG_BASE64_BYTES,
                        what: "signature length",
                        stash: self.stash,
                    };
                    set_once(&mut sig, "sig", map.next_value_seed(text)?)?
                }
                None => map.next_value_seed(Skip {
                    level: 4,
                    stash: self.stash,
                })?,
            }
        }
        Ok(ParsedSignature {
            keyid,
            sig: required(sig, "sig")?,
        })
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

    #[test]
    fn base64_forms_accepted_and_refused() {
        // Accepted: both alphabets, padded or unpadded.
        for (text, bytes) in [
            ("YQ==", &b"a"[..]),
            ("YQ", b"a"),
            ("YWI=", b"ab"),
            ("YWI", b"ab"),
            ("YWJj", b"abc"),
            ("", b""),
            ("-_8=", &[0xfb, 0xff][..]),
            ("-_8", &[0xfb, 0xff][..]),
            ("+/8=", &[0xfb, 0xff][..]),
        ] {
            assert_eq!(decode_base64("sig", text).as_deref(), Ok(bytes), "{text:?}");
        }
        // Refused: partial or excess padding, whitespace, mixed alphabets, trailing bits, junk.
        for text in [
            "YQ=", "YQ===", "YWI==", "=", "Y", "YQ= =", " YQ==", "YQ==\n", "+_8=", "YR==", "YWJ=",
            "**",
        ] {
            assert_eq!(
                decode_base64("sig", text),
                Err(Error::Base64 { field: "sig" }),
                "{text:?}"
            );
        }
    }

    /// Issue 11 item 4: the signature after `max_signatures` stops the parse, before the rest of
    /// the array is read (here: the rest is not even valid JSON, and is never reached).
    #[test]
    fn signatures_are_counted_while_parsing() {
        let limits = Limits::default();
        let sig = r#"{"sig":""},"#.repeat(limits.max_signatures + 1);
        let doc = format!(r#"{{"payload":"","payloadType":"t","signatures":[{sig}!!!"#);
        assert_eq!(
            Envelope::parse(doc.as_bytes(), Document::Manifest, &limits),
            Err(Error::LimitExceeded {
                what: "number of signatures",
                limit: limits.max_signatures as u64
            })
        );
        let ok = r#"{"sig":""},"#.repeat(limits.max_signatures);
        let doc = format!(
            r#"{{"payload":"","payloadType":"t","signatures":[{}]}}"#,
            ok.trim_end_matches(',')
        );
        let env = Envelope::parse(doc.as_bytes(), Document::Manifest, &limits).unwrap();
        assert_eq!(env.signatures().len(), limits.max_signatures);
    }

    #[test]
    fn every_envelope_string_is_bounded() {
        let limits = Limits::default();
        let long = "A".repeat(MAX_SIG_BASE64_BYTES + 4);
        let doc =
            format!(r#"{{"payload":"","payloadType":"t","signatures":[{{"sig":"{long}"}}]}}"#);
        assert_eq!(
            Envelope::parse(doc.as_bytes(), Document::Manifest, &limits),
            Err(Error::LimitExceeded {
                what: "signature length",
                limit: MAX_SIG_BASE64_BYTES as u64
            })
        );
        let keyid = "k".repeat(MAX_KEYID_BYTES + 1);
        let doc = format!(
            r#"{{"payload":"","payloadType":"t","signatures":[{{"keyid":"{keyid}","sig":""}}]}}"#
        );
        assert!(matches!(
            Envelope::parse(doc.as_bytes(), Document::Manifest, &limits),
            Err(Error::LimitExceeded {
                what: "signature keyid length",
                ..
            })
        ));
        let pt = "t".repeat(MAX_PAYLOAD_TYPE_BYTES + 1);
        let doc = format!(r#"{{"payload":"","payloadType":"{pt}","signatures":[]}}"#);
        assert!(matches!(
            Envelope::parse(doc.as_bytes(), Document::Manifest, &limits),
            Err(Error::LimitExceeded {
                what: "envelope payloadType length",
                ..
            })
        ));
    }

    #[test]
    fn envelope_structure_rules() {
        let l = Limits::default();
        let parse = |doc: &str| Envelope::parse(doc.as_bytes(), Document::Manifest, &l);
        // Unknown members are ignored (DSSE), also in signature objects, but depth-bounded.
        let env = parse(r#"{"x":[1,{"y":null}],"payload":"YQ","payloadType":"t","signatures":[{"sig":"","z":1}]}"#)
            .unwrap();
        assert_eq!(env.unverified_payload(), b"a");
        let deep = format!(
            r#"{{"x":{}{},"payload":"","payloadType":"t","signatures":[]}}"#,
            "[".repeat(64),
            "]".repeat(64)
        );
        assert!(matches!(
            parse(&deep),
            Err(Error::LimitExceeded {
                what: "JSON nesting depth",
                ..
            })
        ));
        let fits = format!(
            r#"{{"x":{}{},"payload":"","payloadType":"t","signatures":[]}}"#,
            "[".repeat(63),
            "]".repeat(63)
        );
        assert!(parse(&fits).is_ok());
        for bad in [
            r#"{"payload":"","payload":"","payloadType":"t","signatures":[]}"#,
            r#"{"payloadType":"t","signatures":[]}"#,
            r#"{"payload":"","payloadType":"t","signatures":[{"keyid":"a"}]}"#,
            r#"{"payload":"","payloadType":"t","signatures":[{"sig":null}]}"#,
            r#"{"payload":"","payloadType":"t","signatures":{}}"#,
            r#"{"payload":"","payloadType":"t","signatures":[]} x"#,
            r#"[]"#,
        ] {
            assert!(
                matches!(parse(bad), Err(Error::InvalidDocument { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            parse(r#"{"payload":"YQ=","payloadType":"t","signatures":[]}"#),
            Err(Error::Base64 { field: "payload" })
        );
    }
}
