//! Issue 11 items 2, 4 and 9: each rule the spec tightened, through the public streaming verifier
//! with validly signed kits (a compromised builder), asserting the exact error.

use ouk_format::archive::reader::{verify_kit, NullSink, StreamError, VerifyOptions};
use ouk_format::dsse::Envelope;
use ouk_format::error::Name;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::manifest::{Manifest, MemberRole};
use ouk_format::media_types::{
    ATTESTATION_MEDIA_TYPE, MANIFEST_PAYLOAD_TYPE, TRIVY_DB_MEDIA_TYPE, TRUST_ROOT_PAYLOAD_TYPE,
};
use ouk_format::testkit::{self, KitSpec, MemberSpec};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{verify_trust_root, RoleName, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::{Error, Limits};

fn kit_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[11; 32])
}

fn trust() -> Verified<TrustRoot> {
    let root_key = Ed25519Signer::from_seed(&[10; 32]);
    let mut root = TrustRoot::new(1, Timestamp::parse("2031-01-01T00:00:00Z").unwrap());
    root.add_key(RoleName::Root, &root_key.public_key());
    root.add_key(RoleName::Kit, &kit_key().public_key());
    root.add_key(RoleName::Attestation, &kit_key().public_key());
    root.builders
        .push("https://ouk.example/builder/test".into());
    let env = Envelope::sign(TRUST_ROOT_PAYLOAD_TYPE, root.to_payload(), &[&root_key]).unwrap();
    verify_trust_root(&env.to_json(), now(), 0, &Limits::default()).unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse("2026-11-25T00:00:00Z").unwrap()
}

fn verify(kit: &[u8]) -> Result<(), Error> {
    let opts = VerifyOptions {
        revoked: Vec::new(),
        now: now(),
        skew_secs: 300,
        allow_expired: false,
        limits: Limits::default(),
    };
    verify_kit(kit, &trust(), &opts, &mut NullSink)
        .map(|_| ())
        .map_err(StreamError::into_kit)
}

/// A kit whose manifest is `f(manifest)`, validly signed by the kit key (no `validate` on the
/// writer side: a compromised builder signs whatever it likes).
fn signed_kit(spec: &KitSpec, f: impl FnOnce(&mut Manifest)) -> Vec<u8> {
    let (mut manifest, blobs) = testkit::prepare(spec).unwrap();
    f(&mut manifest);
    let envelope = testkit::sign_manifest(&manifest, &[&kit_key()]).unwrap();
    testkit::assemble(&envelope, &manifest, &blobs).unwrap()
}

/// A kit whose signed payload is `payload` as raw text (for what `Manifest` cannot hold).
fn signed_raw(spec: &KitSpec, payload: Vec<u8>) -> Vec<u8> {
    let (manifest, blobs) = testkit::prepare(spec).unwrap();
    let envelope = Envelope::sign(MANIFEST_PAYLOAD_TYPE, payload, &[&kit_key()])
        .unwrap()
        .to_json();
    testkit::assemble(&envelope, &manifest, &blobs).unwrap()
}

fn payload_text(spec: &KitSpec) -> String {
    String::from_utf8(testkit::prepare(spec).unwrap().0.to_payload()).unwrap()
}

#[test]
fn the_sample_kit_verifies() {
    assert_eq!(verify(&signed_kit(&KitSpec::sample(1), |_| {})), Ok(()));
}

/// Item 2: the negative-year `created_at` that once bricked a store is refused at parse time.
#[test]
fn signed_negative_year_is_refused() {
    let spec = KitSpec::sample(1);
    let text = payload_text(&spec).replace("2026-01-01T00:00:00Z", "-001-01-01T00:00:00Z");
    assert!(matches!(
        verify(&signed_raw(&spec, text.into_bytes())),
        Err(Error::InvalidDocument { .. })
    ));
}

/// Item 9: a future format with new members is `unsupported_format`.
#[test]
fn format_v2_with_new_members_is_unsupported() {
    let spec = KitSpec::sample(1);
    let text = payload_text(&spec).replacen(
        "\"format\":\"ouk/1\"",
        "\"format\":\"ouk/2\",\"delta_of\":\"x\"",
        1,
    );
    assert_eq!(
        verify(&signed_raw(&spec, text.into_bytes())),
        Err(Error::UnsupportedFormat {
            found: Name::new("ouk/2")
        })
    );
}

/// Item 9: duplicate annotation keys are refused (serde_json alone keeps the last one).
#[test]
fn duplicate_annotation_keys_are_refused() {
    let spec = KitSpec::sample(1);
    let text = payload_text(&spec);
    let text = format!(
        "{},\"annotations\":{{\"ouk.allow_partial\":true,\"ouk.allow_partial\":false}}}}",
        text.strip_suffix('}').unwrap()
    );
    assert!(matches!(
        verify(&signed_raw(&spec, text.into_bytes())),
        Err(Error::InvalidDocument { .. })
    ));
}

/// Item 9: Windows device names and trailing dots are not member paths.
#[test]
fn non_portable_member_paths_are_refused() {
    for bad in ["feeds/nul.txt", "feeds/CON", "feeds/name."] {
        let spec = KitSpec::sample(1);
        let text = payload_text(&spec).replace("feeds/snapshot.json", bad);
        assert!(
            matches!(
                verify(&signed_raw(&spec, text.into_bytes())),
                Err(Error::InvalidDocument { .. })
            ),
            "{bad}"
        );
    }
}

/// Item 4 (structure): the attestation is first, so it is checked before any payload byte.
#[test]
fn attestation_after_a_payload_is_refused() {
    let mut spec = KitSpec::sample(1);
    spec.members.push(MemberSpec {
        path: "attestation/provenance.dsse.json".into(),
        media_type: ATTESTATION_MEDIA_TYPE.into(),
        role: MemberRole::Attestation,
        sbom: None,
        data: b"{}".to_vec(),
        unpacked_size: None,
    });
    assert_eq!(
        verify(&signed_kit(&spec, |_| {})),
        Err(Error::InconsistentManifest {
            path: Name::new("attestation/provenance.dsse.json"),
            reason: "the attestation member must be the first member"
        })
    );
    spec.members.rotate_right(1);
    assert_eq!(verify(&signed_kit(&spec, |_| {})), Ok(()));
}

/// Item 7 (format part): a kit cannot be valid for ever.
#[test]
fn validity_beyond_the_cap_is_refused() {
    let mut spec = KitSpec::sample(1);
    spec.expires_at = Timestamp::parse("9999-12-31T23:59:59Z").unwrap();
    assert!(matches!(
        verify(&signed_kit(&spec, |_| {})),
        Err(Error::LimitExceeded {
            what: "kit validity period (expires_at - created_at, seconds)",
            ..
        })
    ));
}

/// Item 5 (format part): the Trivy DB's unpacked size is signed and counted.
#[test]
fn trivy_db_needs_a_declared_unpacked_size() {
    let mut spec = KitSpec::sample(1);
    let member = |unpacked_size| MemberSpec {
        path: "trivy/db.tar.gz".into(),
        media_type: TRIVY_DB_MEDIA_TYPE.into(),
        role: MemberRole::Payload,
        sbom: None,
        data: b"a gzip'd tar in real kits".to_vec(),
        unpacked_size,
    };
    spec.members.push(member(None));
    assert_eq!(
        verify(&signed_kit(&spec, |_| {})),
        Err(Error::InconsistentManifest {
            path: Name::new("trivy/db.tar.gz"),
            reason: "unpacked_size is required for the Trivy DB media type"
        })
    );
    *spec.members.last_mut().unwrap() = member(Some(1 << 30));
    assert_eq!(verify(&signed_kit(&spec, |_| {})), Ok(()));
    *spec.members.last_mut().unwrap() = member(Some(300 << 30));
    assert!(matches!(
        verify(&signed_kit(&spec, |_| {})),
        Err(Error::LimitExceeded {
            what: "unpacked member size",
            ..
        })
    ));
}
