//! Trust roots carried before the manifest (spec §7.5): what `KitReader::open` accepts, what it
//! refuses, and that nothing after the chain is read when a step fails.

use ouk_format::archive::reader::{KitReader, VerifyOptions};
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::testkit::{self, KitSpec};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{verify_anchor, RoleName, RootDocument, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::{Error, Limits};

fn key(n: u8) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[n; 32])
}

/// Root role {root_seed}, kit role {kit_seed}, attestation {9}.
fn root(version: u64, root_seed: u8, kit_seed: u8) -> TrustRoot {
    let mut r = TrustRoot::new(version, Timestamp::parse("2031-01-01T00:00:00Z").unwrap());
    r.add_key(RoleName::Root, &key(root_seed).public_key());
    r.add_key(RoleName::Kit, &key(kit_seed).public_key());
    r.add_key(RoleName::Attestation, &key(9).public_key());
    r.builders.push("https://ouk.example/builder/test".into());
    r
}

fn signed(r: TrustRoot, by: &[u8]) -> Vec<u8> {
    let signers: Vec<Ed25519Signer> = by.iter().map(|n| key(*n)).collect();
    let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
    let mut d = RootDocument::new(r);
    d.sign(&refs).unwrap();
    d.to_bytes()
}

fn anchor() -> Verified<TrustRoot> {
    verify_anchor(&signed(root(1, 1, 2), &[1]), &Limits::default()).unwrap()
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        now: Timestamp::parse("2026-06-01T00:00:00Z").unwrap(),
        skew_secs: 0,
        allow_expired: false,
        limits: Limits::default(),
        revoked: Vec::new(),
    }
}

fn kit(kit_seed: u8, roots: &[(u64, &[u8])]) -> Vec<u8> {
    testkit::build_with_trust_chain(&KitSpec::sample(1), &[&key(kit_seed)], roots).unwrap()
}

fn open(bytes: &[u8]) -> Result<ouk_format::archive::reader::KitHeader, Error> {
    KitReader::open(bytes, &anchor(), &opts()).map(|(h, _)| h)
}

#[test]
fn chain_is_walked_and_the_new_root_verifies_the_kit() {
    let v2 = signed(root(2, 3, 4), &[1, 3]);
    let h = open(&kit(4, &[(2, &v2)])).unwrap();
    assert_eq!(h.trust.version, 2);
    assert_eq!(h.new_roots.len(), 1);
    assert_eq!(h.new_roots[0].1, v2);
    // root key 1 and kit key 2 left their roles
    assert_eq!(h.revocations.len(), 2);
    // Roots the caller already trusts are skipped: v1 then v2.
    let v1 = signed(root(1, 1, 2), &[1]);
    assert_eq!(
        open(&kit(4, &[(1, &v1), (2, &v2)])).unwrap().trust.version,
        2
    );
    // And a whole kit streams after it.
    let bytes = kit(4, &[(2, &v2)]);
    let (h, reader) = KitReader::open(&bytes[..], &anchor(), &opts()).unwrap();
    reader
        .stream(&h.manifest, &mut ouk_format::archive::reader::NullSink)
        .unwrap();
}

#[test]
fn a_key_revoked_by_the_chain_is_named() {
    let v2 = signed(root(2, 1, 4), &[1]);
    assert!(matches!(
        open(&kit(2, &[(2, &v2)])),
        Err(Error::RevokedKey {
            role: "kit",
            revoked_in: 2,
            ..
        })
    ));
    // Without the chain, key 2 is still the kit key.
    assert!(open(&kit(2, &[])).is_ok());
}

#[test]
fn malformed_chains_are_refused_before_the_manifest() {
    let v2 = signed(root(2, 1, 4), &[1]);
    // Names must be consecutive.
    assert!(matches!(
        open(&kit(4, &[(2, &v2), (4, &v2)])),
        Err(Error::UnexpectedMember { .. })
    ));
    // A gap from the trusted version is refused by name, before parsing.
    assert!(matches!(
        open(&kit(4, &[(3, b"not even json")])),
        Err(Error::TrustRootVersion {
            expected: 2,
            found: 3,
            ..
        })
    ));
    // An oversized entry is refused from its header.
    let big = vec![b' '; (1 << 20) + 1];
    assert!(matches!(
        open(&kit(4, &[(2, &big)])),
        Err(Error::LimitExceeded {
            what: "trust root size",
            ..
        })
    ));
    // 65 entries, even if all are skipped (the caller already trusts version 100).
    let v1 = signed(root(1, 1, 2), &[1]);
    let v100 = verify_anchor(&signed(root(100, 1, 2), &[1]), &Limits::default()).unwrap();
    let many: Vec<(u64, &[u8])> = (1..=65).map(|v| (v, v1.as_slice())).collect();
    assert!(matches!(
        KitReader::open(&kit(2, &many)[..], &v100, &opts()).map(|(h, _)| h),
        Err(Error::LimitExceeded {
            what: "trust root chain length",
            ..
        })
    ));
    assert!(KitReader::open(&kit(2, &many[..64])[..], &v100, &opts()).is_ok());
    // The final root's expiry is checked.
    let mut old = root(2, 1, 4);
    old.expires = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
    let expired = signed(old, &[1]);
    assert!(matches!(
        open(&kit(4, &[(2, &expired)])),
        Err(Error::TrustRootExpired { .. })
    ));
}
