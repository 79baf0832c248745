//! `ouk-builder trust init|add-key|sign`: create, extend and sign trust roots.
//!
//! Changing a trust root's content invalidates its signatures, so `add-key` bumps `version` and
//! writes the document unsigned; `sign` then collects signatures from the `root` role's holders,
//! one key at a time (keys can live on different machines).

use std::fs;
use std::path::Path;

use ouk_format::dsse::Envelope;
use ouk_format::keys::{PublicKey, Signer};
use ouk_format::media_types::TRUST_ROOT_PAYLOAD_TYPE;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{parse_unverified, RoleName, TrustRoot};
use ouk_format::Limits;

use crate::error::BuildError;

/// What `trust init` puts in a new trust root.
pub struct InitRequest {
    /// Version number (1 for a new root).
    pub version: u64,
    /// Expiry.
    pub expires: Timestamp,
    /// Keys per role.
    pub root_keys: Vec<PublicKey>,
    /// Kit-signing keys.
    pub kit_keys: Vec<PublicKey>,
    /// Attestation-signing keys.
    pub attestation_keys: Vec<PublicKey>,
    /// Thresholds (root, kit, attestation).
    pub thresholds: (u32, u32, u32),
    /// Allowed builder ids.
    pub builders: Vec<String>,
}

/// Build a trust root document from the request and validate it.
pub fn init(req: &InitRequest) -> Result<TrustRoot, BuildError> {
    let mut root = TrustRoot::new(req.version, req.expires);
    for (role, keys) in [
        (RoleName::Root, &req.root_keys),
        (RoleName::Kit, &req.kit_keys),
        (RoleName::Attestation, &req.attestation_keys),
    ] {
        for k in keys {
            root.add_key(role, k);
        }
    }
    root.roles.root.threshold = req.thresholds.0;
    root.roles.kit.threshold = req.thresholds.1;
    root.roles.attestation.threshold = req.thresholds.2;
    root.builders = req.builders.clone();
    root.builders.sort();
    root.builders.dedup();
    if root.builders.is_empty() {
        return Err(BuildError::Config(
            "a trust root needs at least one --builder id".into(),
        ));
    }
    root.validate()?;
    Ok(root)
}

/// Sign a trust root document with `signers` (each must hold a `root` role key).
pub fn sign_new(root: &TrustRoot, signers: &[&dyn Signer]) -> Result<Vec<u8>, BuildError> {
    check_root_signers(root, signers)?;
    Ok(Envelope::sign(TRUST_ROOT_PAYLOAD_TYPE, root.to_payload(), signers)?.to_json())
}

fn check_root_signers(root: &TrustRoot, signers: &[&dyn Signer]) -> Result<(), BuildError> {
    for s in signers {
        let id = s.public_key().key_id();
        if !root.roles.root.keyids.contains(&id) {
            return Err(BuildError::Config(format!(
                "key {id} is not a root-role key of this trust root"
            )));
        }
    }
    Ok(())
}

/// Add one signature per signer to an existing trust root envelope, keeping the others.
pub fn add_signatures(bytes: &[u8], signers: &[&dyn Signer]) -> Result<Vec<u8>, BuildError> {
    let (envelope, root) = parse_unverified(bytes, &Limits::default())?;
    root.validate()?;
    check_root_signers(&root, signers)?;
    let fresh = Envelope::sign(
        TRUST_ROOT_PAYLOAD_TYPE,
        envelope.unverified_payload().to_vec(),
        signers,
    )?;
    let mut merged = envelope.clone();
    for sig in fresh.signatures() {
        if !merged.signatures().iter().any(|s| s.keyid == sig.keyid) {
            merged.add_signature(sig.clone());
        }
    }
    Ok(merged.to_json())
}

/// Add a key to a role: bumps the version and returns an UNSIGNED envelope (signatures over the
/// old content no longer apply).
pub fn add_key(bytes: &[u8], role: RoleName, key: &PublicKey) -> Result<Vec<u8>, BuildError> {
    let (_, mut root) = parse_unverified(bytes, &Limits::default())?;
    root.add_key(role, key);
    root.version += 1;
    root.validate()?;
    Ok(Envelope::sign(TRUST_ROOT_PAYLOAD_TYPE, root.to_payload(), &[])?.to_json())
}

/// Parse a role name.
pub fn parse_role(s: &str) -> Result<RoleName, String> {
    match s {
        "root" => Ok(RoleName::Root),
        "kit" => Ok(RoleName::Kit),
        "attestation" => Ok(RoleName::Attestation),
        _ => Err(format!("unknown role {s:?} (root, kit, attestation)")),
    }
}

/// Read a trust root file (bounded).
pub fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    let bytes = fs::read(path).map_err(BuildError::io(path))?;
    if bytes.len() as u64 > Limits::default().max_trust_root_bytes {
        return Err(BuildError::Config(format!(
            "{} is too large for a trust root",
            path.display()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ouk_format::keys::Ed25519Signer;
    use ouk_format::trust_root::verify_trust_root;

    #[test]
    fn init_sign_add_key_resign() {
        let r1 = Ed25519Signer::from_seed(&[1; 32]);
        let r2 = Ed25519Signer::from_seed(&[2; 32]);
        let k = Ed25519Signer::from_seed(&[3; 32]);
        let req = InitRequest {
            version: 1,
            expires: Timestamp::parse("2035-01-01T00:00:00Z").unwrap(),
            root_keys: vec![r1.public_key(), r2.public_key()],
            kit_keys: vec![k.public_key()],
            attestation_keys: vec![k.public_key()],
            thresholds: (2, 1, 1),
            builders: vec!["b".into()],
        };
        let root = init(&req).unwrap();
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let one = sign_new(&root, &[&r1]).unwrap();
        assert!(verify_trust_root(&one, now, 0, &Limits::default()).is_err());
        let two = add_signatures(&one, &[&r2]).unwrap();
        assert!(verify_trust_root(&two, now, 0, &Limits::default()).is_ok());
        // signing twice with the same key does not add a second signature
        assert_eq!(add_signatures(&two, &[&r2]).unwrap(), two);
        // a non-root key cannot sign
        assert!(add_signatures(&two, &[&k]).is_err());

        let k2 = Ed25519Signer::from_seed(&[4; 32]);
        let unsigned = add_key(&two, RoleName::Kit, &k2.public_key()).unwrap();
        assert!(verify_trust_root(&unsigned, now, 0, &Limits::default()).is_err());
        let resigned = add_signatures(&unsigned, &[&r1, &r2]).unwrap();
        let v = verify_trust_root(&resigned, now, 0, &Limits::default()).unwrap();
        assert_eq!(v.version, 2);
        assert_eq!(v.role_keys(RoleName::Kit).len(), 2);
    }
}
