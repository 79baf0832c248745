//! A trust root file as read, before anything about it is trusted: its model plus what its
//! signatures cover, in either encoding.
//!
//! - `ouk/trust-root/2` (written since rotation exists): TUF `root.json`, see [`super::tuf`].
//!   A signature counts for key K only if its `keyid` is K's recomputed id and it verifies over
//!   the canonical `signed` bytes (TUF's rule; two signatures under one `keyid` are refused).
//! - `ouk/trust-root/1` (read for stores and files made before): a DSSE envelope, counted as
//!   every other DSSE document of the format (§6.6).
//!
//! Which one a file is follows from its top-level members (`signed` or `payload`).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::tuf::{self, TufFile, TufSignature, TufSigned};
use super::{parse_legacy_document, RoleName, TrustRoot};
use crate::dsse::Envelope;
use crate::error::{Document, Error, Name};
use crate::keys::{KeyId, PublicKey, Signer};
use crate::limits::Limits;
use crate::media_types::TRUST_ROOT_PAYLOAD_TYPE;

/// A parsed, unverified trust root file. Holding one proves nothing; see
/// [`super::verify_anchor`] and [`super::verify_successor`].
#[derive(Debug, Clone)]
pub struct RootDocument {
    root: TrustRoot,
    encoding: Encoding,
}

#[derive(Debug, Clone)]
enum Encoding {
    Tuf {
        signed: Box<TufSigned>,
        canonical: Vec<u8>,
        signatures: Vec<TufSignature>,
    },
    Dsse(Envelope),
}

impl RootDocument {
    /// Parse a trust root file of either encoding: size cap first, then a strict parse (unknown
    /// or repeated members refused). Structure is not validated and nothing is verified.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<RootDocument, Error> {
        if bytes.len() as u64 > limits.max_trust_root_bytes {
            return Err(Error::LimitExceeded {
                what: "trust root size",
                limit: limits.max_trust_root_bytes,
            });
        }
        #[derive(Deserialize)]
        struct Shape {
            signed: Option<serde::de::IgnoredAny>,
        }
        let tuf_layout = matches!(
            serde_json::from_slice::<Shape>(bytes),
            Ok(Shape { signed: Some(_) })
        );
        if !tuf_layout {
            let envelope = Envelope::parse(bytes, Document::TrustRoot, limits)?;
            if envelope.payload_type() != TRUST_ROOT_PAYLOAD_TYPE {
                return Err(Error::PayloadType {
                    document: Document::TrustRoot,
                    expected: TRUST_ROOT_PAYLOAD_TYPE,
                    found: Name::new(envelope.payload_type()),
                });
            }
            let root = parse_legacy_document(envelope.unverified_payload())?;
            return Ok(RootDocument {
                root,
                encoding: Encoding::Dsse(envelope),
            });
        }
        let TufFile { signatures, signed } = tuf::parse(bytes)?;
        if signatures.len() > limits.max_signatures {
            return Err(Error::LimitExceeded {
                what: "signatures on one document",
                limit: limits.max_signatures as u64,
            });
        }
        let mut ids = BTreeSet::new();
        if let Some(dup) = signatures.iter().find(|s| !ids.insert(s.keyid.as_str())) {
            return Err(Error::InvalidDocument {
                document: Document::TrustRoot,
                reason: Name::new(&format!("two signatures with keyid {}", dup.keyid)),
            });
        }
        let root = signed.to_root()?;
        let canonical = signed.canonical();
        Ok(RootDocument {
            root,
            encoding: Encoding::Tuf {
                signed: Box::new(signed),
                canonical,
                signatures,
            },
        })
    }

    /// A new, unsigned document in the current (TUF) layout.
    pub fn new(root: TrustRoot) -> RootDocument {
        let signed = TufSigned::from_root(&root);
        let canonical = signed.canonical();
        let root = TrustRoot {
            type_: crate::media_types::TRUST_ROOT_TYPE_V2.to_owned(),
            ..root
        };
        RootDocument {
            root,
            encoding: Encoding::Tuf {
                signed: Box::new(signed),
                canonical,
                signatures: Vec::new(),
            },
        }
    }

    /// What the document says. UNVERIFIED: for display and for tools that prepare signatures.
    pub fn unverified(&self) -> &TrustRoot {
        &self.root
    }

    /// Whether this is the legacy DSSE encoding (`ouk/trust-root/1`).
    pub fn is_legacy(&self) -> bool {
        matches!(self.encoding, Encoding::Dsse(_))
    }

    /// The ids (recomputed) of the keys among `keys` with a valid signature on this document,
    /// each once.
    pub fn signed_by(&self, keys: &[PublicKey]) -> BTreeSet<KeyId> {
        let mut out = BTreeSet::new();
        match &self.encoding {
            Encoding::Tuf {
                canonical,
                signatures,
                ..
            } => {
                for key in keys {
                    let id = key.key_id();
                    let valid = signatures
                        .iter()
                        .filter(|s| s.keyid == id.as_str())
                        .filter_map(|s| hex::decode(&s.sig).ok())
                        .any(|sig| key.verify(canonical, &sig));
                    if valid {
                        out.insert(id);
                    }
                }
            }
            Encoding::Dsse(envelope) => {
                let message =
                    crate::dsse::pae(envelope.payload_type(), envelope.unverified_payload());
                for key in keys {
                    if envelope
                        .signatures()
                        .iter()
                        .any(|s| key.verify(&message, &s.sig))
                    {
                        out.insert(key.key_id());
                    }
                }
            }
        }
        out
    }

    /// Check that `role` of `by` (this document's own root, or the previous one) reaches its
    /// threshold on this document.
    pub(crate) fn check_threshold(&self, by: &TrustRoot, label: &'static str) -> Result<(), Error> {
        let valid = self.signed_by(&by.role_keys(RoleName::Root)).len();
        let threshold = by.roles.root.threshold as usize;
        if threshold == 0 || valid < threshold {
            return Err(Error::ThresholdNotMet {
                document: Document::TrustRoot,
                role: label,
                valid,
                threshold,
            });
        }
        Ok(())
    }

    /// Add (or replace) one signature per signer. Only the TUF layout can be signed: legacy files
    /// are read, never written.
    pub fn sign(&mut self, signers: &[&dyn Signer]) -> Result<(), Error> {
        let Encoding::Tuf {
            canonical,
            signatures,
            ..
        } = &mut self.encoding
        else {
            return Err(Error::Signing {
                reason: Name::new("legacy ouk/trust-root/1 files are not signed any more"),
            });
        };
        for signer in signers {
            let keyid = signer.public_key().key_id().to_string();
            let sig = hex::encode(signer.sign(canonical)?);
            signatures.retain(|s| s.keyid != keyid);
            signatures.push(TufSignature { keyid, sig });
        }
        signatures.sort_by(|a, b| a.keyid.cmp(&b.keyid));
        Ok(())
    }

    /// Key ids named by the signatures (unauthenticated: for "who has signed" listings only).
    pub fn signature_keyids(&self) -> Vec<String> {
        match &self.encoding {
            Encoding::Tuf { signatures, .. } => {
                signatures.iter().map(|s| s.keyid.clone()).collect()
            }
            Encoding::Dsse(env) => env.signatures().iter().map(|s| s.keyid.clone()).collect(),
        }
    }

    /// The file bytes: pretty JSON with sorted members and a final newline (deterministic; the
    /// signatures cover the canonical form of `signed`, not these bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.encoding {
            Encoding::Tuf {
                signed, signatures, ..
            } => {
                let file = TufFile {
                    signatures: signatures.clone(),
                    signed: (**signed).clone(),
                };
                // Through `Value` so struct members come out sorted; plain data: cannot fail.
                let mut out = serde_json::to_value(&file)
                    .and_then(|v| serde_json::to_vec_pretty(&v))
                    .unwrap_or_default();
                out.push(b'\n');
                out
            }
            Encoding::Dsse(env) => env.to_json(),
        }
    }
}
