//! `ouk-builder trust init|rotate|sign|status`: create trust roots and run rotation ceremonies.
//!
//! A rotation is TUF's: root N+1 counts only once a threshold of root N's `root` keys AND a
//! threshold of its own have signed it. The holders are usually different people on different
//! machines, so `rotate` writes N+1 with whatever signatures it was given, `sign` adds one
//! holder's signature at a time, and `status` says who still has to sign before the file is
//! carried to the importers (inside the next kits, `build --trust-chain`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use ouk_format::keys::{KeyId, PublicKey, Signer};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{verify_anchor, verify_successor, RoleName, RootDocument, TrustRoot};
use ouk_format::Limits;
use serde::Serialize;

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
    normalise_builders(&mut root)?;
    root.validate()?;
    Ok(root)
}

fn normalise_builders(root: &mut TrustRoot) -> Result<(), BuildError> {
    root.builders.sort();
    root.builders.dedup();
    if root.builders.is_empty() {
        return Err(BuildError::Config(
            "a trust root needs at least one builder id".into(),
        ));
    }
    Ok(())
}

/// Sign a new trust root (TUF layout) with `signers` (each must hold one of its `root` keys).
pub fn sign_new(root: &TrustRoot, signers: &[&dyn Signer]) -> Result<Vec<u8>, BuildError> {
    check_signers(root, None, signers)?;
    let mut doc = RootDocument::new(root.clone());
    doc.sign(signers)?;
    Ok(doc.to_bytes())
}

/// A key named on the command line: by its public key file, or by key id (for removal, the
/// holder may no longer have the file).
#[derive(Debug, Clone)]
pub enum KeyRef {
    /// A public key.
    Key(PublicKey),
    /// A key id as listed in the trust root.
    Id(String),
}

/// The changes of one rotation.
#[derive(Default)]
pub struct RotateRequest {
    /// Keys to add, per role.
    pub add: Vec<(RoleName, PublicKey)>,
    /// Keys to take out of a role (revocation: nothing they sign counts for that role after
    /// importers have seen the new root).
    pub remove: Vec<(RoleName, KeyRef)>,
    /// New thresholds.
    pub thresholds: Vec<(RoleName, u32)>,
    /// New expiry (default: unchanged).
    pub expires: Option<Timestamp>,
    /// Builder ids to allow.
    pub add_builders: Vec<String>,
    /// Builder ids to refuse from now on.
    pub remove_builders: Vec<String>,
}

/// Root N+1 from root N (which must itself verify: a rotation starts from a root one trusts).
/// Keys no role uses any more are dropped from `keys`.
pub fn rotate(previous: &[u8], req: &RotateRequest) -> Result<TrustRoot, BuildError> {
    let old = verify_anchor(previous, &Limits::default())?;
    let mut next = TrustRoot::clone(&old);
    next.version = old.version + 1;
    if let Some(e) = req.expires {
        next.expires = e;
    }
    for (role, key) in &req.add {
        next.add_key(*role, key);
    }
    for (role, key) in &req.remove {
        let id = match key {
            KeyRef::Key(k) => k.key_id().to_string(),
            KeyRef::Id(s) => s.clone(),
        };
        let list = &mut role_mut(&mut next, *role).keyids;
        let before = list.len();
        list.retain(|k| k.as_str() != id);
        if list.len() == before {
            return Err(BuildError::Config(format!(
                "key {id} is not in role {} of trust root version {}",
                role.as_str(),
                old.version
            )));
        }
    }
    for (role, k) in &req.thresholds {
        role_mut(&mut next, *role).threshold = *k;
    }
    next.builders.extend(req.add_builders.iter().cloned());
    next.builders.retain(|b| !req.remove_builders.contains(b));
    normalise_builders(&mut next)?;
    let used: BTreeSet<KeyId> = [RoleName::Root, RoleName::Kit, RoleName::Attestation]
        .iter()
        .flat_map(|r| next.role(*r).keyids.clone())
        .collect();
    next.keys.retain(|id, _| used.contains(id));
    next.validate()?;
    Ok(next)
}

fn role_mut(root: &mut TrustRoot, role: RoleName) -> &mut ouk_format::trust_root::Role {
    match role {
        RoleName::Root => &mut root.roles.root,
        RoleName::Kit => &mut root.roles.kit,
        RoleName::Attestation => &mut root.roles.attestation,
    }
}

/// Each signer must hold a `root` key of `root` or of `previous` (the outgoing holders sign
/// N+1 too: that is what makes the rotation verifiable).
fn check_signers(
    root: &TrustRoot,
    previous: Option<&TrustRoot>,
    signers: &[&dyn Signer],
) -> Result<(), BuildError> {
    for s in signers {
        let id = s.public_key().key_id();
        let in_new = root.roles.root.keyids.contains(&id);
        let in_old = previous.is_some_and(|p| p.roles.root.keyids.contains(&id));
        if !in_new && !in_old {
            return Err(BuildError::Config(format!(
                "key {id} is not a root-role key of trust root version {}{}",
                root.version,
                if previous.is_some() {
                    " nor of the previous version"
                } else {
                    " (an outgoing holder signing a rotation: pass --previous)"
                }
            )));
        }
    }
    Ok(())
}

/// Add (or replace) one signature per signer on an existing trust root file; `previous` is the
/// root it rotates from, whose holders may sign too.
pub fn add_signatures(
    bytes: &[u8],
    previous: Option<&[u8]>,
    signers: &[&dyn Signer],
) -> Result<Vec<u8>, BuildError> {
    let mut doc = RootDocument::parse(bytes, &Limits::default())?;
    doc.unverified().validate()?;
    let previous = previous
        .map(|p| verify_anchor(p, &Limits::default()))
        .transpose()?;
    check_signers(doc.unverified(), previous.as_deref(), signers)?;
    doc.sign(signers)?;
    Ok(doc.to_bytes())
}

/// Who has signed a role's threshold and who still could.
#[derive(Debug, Serialize)]
pub struct RoleSignatures {
    /// Which root's `root` role this is about (its version).
    pub of_version: u64,
    /// Required distinct keys.
    pub threshold: u32,
    /// Keys with a valid signature.
    pub signed: Vec<String>,
    /// Keys of the role that have not signed.
    pub missing: Vec<String>,
    /// `signed.len() >= threshold`.
    pub met: bool,
}

/// The state of a ceremony: the new root's own threshold, and (for a rotation) the previous
/// root's.
#[derive(Debug, Serialize)]
pub struct SigningStatus {
    /// Version of the file examined.
    pub version: u64,
    /// Its own `root` role.
    pub own: RoleSignatures,
    /// The previous root's `root` role (when `--previous` was given).
    pub previous: Option<RoleSignatures>,
    /// Whether importers holding the previous root (or, without one, this root as anchor)
    /// will accept it: every threshold met and, for a rotation, the version is the next one.
    pub complete: bool,
    /// Why not, when not.
    pub problem: Option<String>,
}

fn role_signatures(doc: &RootDocument, by: &TrustRoot) -> RoleSignatures {
    let keys = by.role_keys(RoleName::Root);
    let signed = doc.signed_by(&keys);
    let missing = by
        .roles
        .root
        .keyids
        .iter()
        .filter(|id| !signed.contains(*id))
        .map(|id| id.to_string())
        .collect();
    RoleSignatures {
        of_version: by.version,
        threshold: by.roles.root.threshold,
        met: signed.len() >= by.roles.root.threshold as usize,
        signed: signed.iter().map(|id| id.to_string()).collect(),
        missing,
    }
}

/// Examine a (possibly partially signed) trust root.
pub fn status(bytes: &[u8], previous: Option<&[u8]>) -> Result<SigningStatus, BuildError> {
    let doc = RootDocument::parse(bytes, &Limits::default())?;
    doc.unverified().validate()?;
    let own = role_signatures(&doc, doc.unverified());
    let previous_root = previous
        .map(|p| verify_anchor(p, &Limits::default()))
        .transpose()?;
    let verdict = match &previous_root {
        Some(p) => verify_successor(p, bytes, &Limits::default()).map(|_| ()),
        None => verify_anchor(bytes, &Limits::default()).map(|_| ()),
    };
    Ok(SigningStatus {
        version: doc.unverified().version,
        previous: previous_root.as_ref().map(|p| role_signatures(&doc, p)),
        own,
        complete: verdict.is_ok(),
        problem: verdict.err().map(|e| e.to_string()),
    })
}

/// Check the roots a kit will carry (`build --trust-chain`): consecutive versions, each the
/// verified successor of the one before, the first self-signed. Returns (version, bytes) pairs.
pub fn check_chain(files: &[Vec<u8>]) -> Result<Vec<(u64, Vec<u8>)>, BuildError> {
    let limits = Limits::default();
    if files.len() > limits.max_trust_chain {
        return Err(BuildError::Config(format!(
            "at most {} trust roots fit in a kit",
            limits.max_trust_chain
        )));
    }
    let total: u64 = files.iter().map(|f| f.len() as u64).sum();
    if total > limits.max_envelope_bytes {
        return Err(BuildError::Config(format!(
            "the trust roots of a kit may total at most {} bytes (these are {total})",
            limits.max_envelope_bytes
        )));
    }
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut current: Option<ouk_format::verified::Verified<TrustRoot>> = None;
    for bytes in files {
        let next = match &current {
            None => verify_anchor(bytes, &limits)?,
            Some(c) => verify_successor(c, bytes, &limits)?,
        };
        if next.version == 0 {
            return Err(BuildError::Config(
                "trust root version 0 cannot be carried in a kit (entry names start at 1)".into(),
            ));
        }
        out.push((next.version, bytes.clone()));
        current = Some(next);
    }
    Ok(out)
}

/// Refuse a build whose keys or builder id the last root of its chain would not accept: a kit
/// that importers must refuse is better not built.
pub fn check_kit_matches_root(
    root: &[u8],
    kit_keys: &[PublicKey],
    attestation_keys: &[PublicKey],
    builder_id: &str,
) -> Result<(), BuildError> {
    let root = verify_anchor(root, &Limits::default())?;
    for (role, keys) in [
        (RoleName::Kit, kit_keys),
        (RoleName::Attestation, attestation_keys),
    ] {
        if let Some(k) = keys
            .iter()
            .find(|k| !root.role(role).keyids.contains(&k.key_id()))
        {
            return Err(BuildError::Config(format!(
                "key {} is not in role {} of trust root version {} (the last of --trust-chain)",
                k.key_id(),
                role.as_str(),
                root.version
            )));
        }
    }
    if !root.allows_builder(builder_id) {
        return Err(BuildError::Config(format!(
            "builder id {builder_id} is not allowed by trust root version {}",
            root.version
        )));
    }
    Ok(())
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

/// Parse `ROLE=VALUE`.
pub fn parse_role_assignment(s: &str) -> Result<(RoleName, String), String> {
    let (role, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ROLE=VALUE, got {s:?}"))?;
    Ok((parse_role(role)?, value.to_owned()))
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

    fn key(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32])
    }

    fn v1(r: &[&Ed25519Signer], k: &Ed25519Signer) -> TrustRoot {
        init(&InitRequest {
            version: 1,
            expires: Timestamp::parse("2035-01-01T00:00:00Z").unwrap(),
            root_keys: r.iter().map(|s| s.public_key()).collect(),
            kit_keys: vec![k.public_key()],
            attestation_keys: vec![k.public_key()],
            thresholds: (2, 1, 1),
            builders: vec!["b".into()],
        })
        .unwrap()
    }

    #[test]
    fn init_then_sign_one_holder_at_a_time() {
        let (r1, r2, k) = (key(1), key(2), key(3));
        let root = v1(&[&r1, &r2], &k);
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let one = sign_new(&root, &[&r1]).unwrap();
        assert!(verify_trust_root(&one, now, 0, &Limits::default()).is_err());
        let st = status(&one, None).unwrap();
        assert!(!st.complete);
        assert_eq!(st.own.missing, vec![r2.public_key().key_id().to_string()]);
        let two = add_signatures(&one, None, &[&r2]).unwrap();
        assert!(verify_trust_root(&two, now, 0, &Limits::default()).is_ok());
        // Signing again with the same key replaces, never duplicates.
        assert_eq!(add_signatures(&two, None, &[&r2]).unwrap(), two);
        // A non-root key cannot sign.
        assert!(add_signatures(&two, None, &[&k]).is_err());
    }

    #[test]
    fn rotation_ceremony_two_of_three() {
        let (a, b, c, d, k) = (key(1), key(2), key(3), key(4), key(9));
        let mut root = v1(&[&a, &b, &c], &k);
        root.roles.root.threshold = 2;
        let old = sign_new(&root, &[&a, &b]).unwrap();
        // Replace c by d; kit key k by k2 (revocation).
        let k2 = key(10);
        let next = rotate(
            &old,
            &RotateRequest {
                add: vec![
                    (RoleName::Root, d.public_key()),
                    (RoleName::Kit, k2.public_key()),
                ],
                remove: vec![
                    (RoleName::Root, KeyRef::Key(c.public_key())),
                    (
                        RoleName::Kit,
                        KeyRef::Id(k.public_key().key_id().to_string()),
                    ),
                ],
                ..RotateRequest::default()
            },
        )
        .unwrap();
        assert_eq!(next.version, 2);
        let mut bytes = sign_new(&next, &[&a]).unwrap();
        let st = status(&bytes, Some(&old)).unwrap();
        assert!(!st.complete);
        assert!(!st.previous.as_ref().unwrap().met);
        // c is outgoing: it may sign N+1 only with --previous.
        assert!(add_signatures(&bytes, None, &[&c]).is_err());
        bytes = add_signatures(&bytes, Some(&old), &[&c]).unwrap();
        bytes = add_signatures(&bytes, Some(&old), &[&d]).unwrap();
        let st = status(&bytes, Some(&old)).unwrap();
        assert!(st.complete, "{st:?}");
        let chain = check_chain(&[old.clone(), bytes.clone()]).unwrap();
        assert_eq!(chain.iter().map(|c| c.0).collect::<Vec<_>>(), vec![1, 2]);
        // k is still listed under attestation, so its key stays in `keys`.
        let v2 = verify_anchor(&bytes, &Limits::default()).unwrap();
        assert!(v2.keys.contains_key(&k.public_key().key_id()));
        assert!(!v2.roles.kit.keyids.contains(&k.public_key().key_id()));
    }

    #[test]
    fn removing_an_absent_key_is_an_error() {
        let (a, b, k) = (key(1), key(2), key(3));
        let old = sign_new(&v1(&[&a, &b], &k), &[&a, &b]).unwrap();
        let err = rotate(
            &old,
            &RotateRequest {
                remove: vec![(RoleName::Kit, KeyRef::Key(a.public_key()))],
                ..RotateRequest::default()
            },
        );
        assert!(err.is_err());
    }
}
