//! The TUF layout of a trust root (`ouk/trust-root/2`): TUF's own `root.json`, so that the TUF
//! reference implementation (python-tuf) and other TUF clients can walk our rotation chains.
//!
//! ```text
//! {"signatures": [{"keyid": ID, "sig": HEX}, ...],
//!  "signed": {"_type": "root", "spec_version": "1.0.31", "consistent_snapshot": false,
//!             "version": N, "expires": "YYYY-MM-DDTHH:MM:SSZ", "keys": {ID: KEY, ...},
//!             "roles": {"root": ROLE, "targets": ROLE, "snapshot": ROLE, "timestamp": ROLE},
//!             "x-ouk": {"_type": "ouk/trust-root/2", "builders": [...],
//!                       "roles": {"kit": ROLE, "attestation": ROLE}}}}
//! ```
//!
//! Signatures are over the OLPC canonical JSON of `signed` (as securesystemslib signs), hex
//! encoded. TUF's `targets`, `snapshot` and `timestamp` roles mean nothing to `ouk`; they are
//! required by TUF readers, so they are present and unsatisfiable (no keys, threshold 1): a TUF
//! client handed this root trusts nothing it could not before. Our roles live in the `x-ouk`
//! extension, which TUF readers keep as an unrecognised field and which the signatures cover.
//!
//! No crate reads this: tough and rust-tuf model TUF repositories (their `Root` refuses or drops
//! our extension, and neither exposes the "verify N+1 with N" step on its own), so the few
//! structs are written here with serde.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{unique_keys, Role, Roles, TrustRoot};
use crate::error::{Document, Error, Name};
use crate::keys::{canonical_json, KeyId, KeyJson};
use crate::media_types::{TRUST_ROOT_TYPE_V2, TUF_SPEC_VERSION};
use crate::time::Timestamp;

/// `signed._type` of TUF root metadata.
pub(crate) const TUF_ROOT_TYPE: &str = "root";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TufFile {
    pub(crate) signatures: Vec<TufSignature>,
    pub(crate) signed: TufSigned,
}

/// One signature: the signing key's id and the hex signature over canonical `signed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TufSignature {
    pub(crate) keyid: String,
    pub(crate) sig: String,
}

/// `signed`: every member modelled (unknown ones refused), so re-encoding it canonically gives
/// exactly the canonical form of what was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TufSigned {
    #[serde(rename = "_type")]
    pub(crate) type_: String,
    pub(crate) spec_version: String,
    pub(crate) consistent_snapshot: bool,
    #[serde(deserialize_with = "crate::dsse::json::json_integer")]
    pub(crate) version: u64,
    pub(crate) expires: Timestamp,
    #[serde(deserialize_with = "unique_keys")]
    pub(crate) keys: BTreeMap<KeyId, KeyJson>,
    pub(crate) roles: TufRoles,
    #[serde(rename = "x-ouk")]
    pub(crate) ouk: Extension,
}

/// TUF's four top-level roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TufRoles {
    pub(crate) root: Role,
    pub(crate) targets: Role,
    pub(crate) snapshot: Role,
    pub(crate) timestamp: Role,
}

/// What `ouk` adds inside `signed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Extension {
    #[serde(rename = "_type")]
    pub(crate) type_: String,
    pub(crate) builders: Vec<String>,
    pub(crate) roles: ExtensionRoles,
}

/// The `ouk` roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtensionRoles {
    pub(crate) kit: Role,
    pub(crate) attestation: Role,
}

/// Just the two type tags, read before the strict parse (every other member skipped unbuilt), so
/// a document of another version is `unsupported_format` whatever else it holds.
#[derive(Deserialize)]
pub(crate) struct TypeProbe<'a> {
    #[serde(rename = "_type", borrow)]
    pub(crate) type_: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "x-ouk", borrow)]
    pub(crate) ouk: Option<ExtensionProbe<'a>>,
}

/// See [`TypeProbe`].
#[derive(Deserialize)]
pub(crate) struct ExtensionProbe<'a> {
    #[serde(rename = "_type", borrow)]
    pub(crate) type_: Option<std::borrow::Cow<'a, str>>,
}

/// A role TUF requires and `ouk` never uses: no key can satisfy it.
fn unsatisfiable() -> Role {
    Role {
        keyids: Vec::new(),
        threshold: 1,
    }
}

impl TufSigned {
    /// The TUF document for a trust root model.
    pub(crate) fn from_root(root: &TrustRoot) -> TufSigned {
        TufSigned {
            type_: TUF_ROOT_TYPE.to_owned(),
            spec_version: TUF_SPEC_VERSION.to_owned(),
            consistent_snapshot: false,
            version: root.version,
            expires: root.expires,
            keys: root.keys.clone(),
            roles: TufRoles {
                root: root.roles.root.clone(),
                targets: unsatisfiable(),
                snapshot: unsatisfiable(),
                timestamp: unsatisfiable(),
            },
            ouk: Extension {
                type_: TRUST_ROOT_TYPE_V2.to_owned(),
                builders: root.builders.clone(),
                roles: ExtensionRoles {
                    kit: root.roles.kit.clone(),
                    attestation: root.roles.attestation.clone(),
                },
            },
        }
    }

    /// The bytes signatures are made and checked over.
    pub(crate) fn canonical(&self) -> Vec<u8> {
        canonical_json(self)
    }

    /// The model, after the checks only this layout needs (spec version, unused TUF roles).
    pub(crate) fn to_root(&self) -> Result<TrustRoot, Error> {
        if !spec_version_supported(&self.spec_version) {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&format!("TUF spec_version {}", self.spec_version)),
            });
        }
        for (name, role) in [
            ("targets", &self.roles.targets),
            ("snapshot", &self.roles.snapshot),
            ("timestamp", &self.roles.timestamp),
        ] {
            if role != &unsatisfiable() {
                return Err(Error::InvalidRole {
                    role: name,
                    reason: "ouk does not use this TUF role: it must have no keys and threshold 1",
                });
            }
        }
        Ok(TrustRoot {
            type_: TRUST_ROOT_TYPE_V2.to_owned(),
            version: self.version,
            expires: self.expires,
            keys: self.keys.clone(),
            roles: Roles {
                root: self.roles.root.clone(),
                kit: self.ouk.roles.kit.clone(),
                attestation: self.ouk.roles.attestation.clone(),
            },
            builders: self.ouk.builders.clone(),
        })
    }
}

/// `1.x.y` with decimal numbers: the TUF major version python-tuf and we read.
fn spec_version_supported(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts[0] == "1"
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Parse the file strictly: type tags first, then every member.
pub(crate) fn parse(bytes: &[u8]) -> Result<TufFile, Error> {
    #[derive(Deserialize)]
    struct Outer<'a> {
        #[serde(borrow)]
        signed: Option<TypeProbe<'a>>,
    }
    if let Ok(Outer {
        signed: Some(probe),
    }) = serde_json::from_slice::<Outer>(bytes)
    {
        if let Some(t) = probe.type_.as_deref().filter(|t| *t != TUF_ROOT_TYPE) {
            return Err(Error::UnsupportedFormat {
                found: Name::new(t),
            });
        }
        if let Some(t) = probe
            .ouk
            .and_then(|o| o.type_)
            .filter(|t| t != TRUST_ROOT_TYPE_V2)
        {
            return Err(Error::UnsupportedFormat {
                found: Name::new(&t),
            });
        }
    }
    serde_json::from_slice(bytes).map_err(|e| Error::invalid(Document::TrustRoot, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_versions() {
        assert!(spec_version_supported("1.0.31"));
        assert!(spec_version_supported("1.2.0"));
        assert!(!spec_version_supported("2.0.0"));
        assert!(!spec_version_supported("1.0"));
        assert!(!spec_version_supported("1.0.x"));
        assert!(!spec_version_supported("1..0"));
    }
}
