//! Entry points for `cargo fuzz` targets (`fuzz/`), compiled with every build so they never rot.
//! Not for use by the CLIs.

use crate::archive::reader::{verify_kit, NullSink, VerifyOptions};
use crate::dsse::Envelope;
use crate::error::Document;
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::time::Timestamp;
use crate::trust_root::verify_trust_root;
use crate::trust_root::TrustRoot;
use crate::verified::Verified;

/// Parse a manifest payload; a successful parse must re-serialise to a manifest that parses equal.
pub fn fuzz_manifest(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(m) = Manifest::from_payload(data, &limits) {
        let again = Manifest::from_payload(&m.to_payload(), &limits).expect("round trip parses");
        assert_eq!(m, again);
    }
}

/// Parse a DSSE envelope and run verification against a fixed key.
pub fn fuzz_dsse(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(env) = Envelope::parse(data, Document::Manifest, &limits) {
        let key = crate::keys::Ed25519Signer::from_seed(&[9; 32]);
        let _ = env.verify(
            crate::media_types::MANIFEST_PAYLOAD_TYPE,
            Document::Manifest,
            "kit",
            &[crate::keys::Signer::public_key(&key)],
            1,
        );
        let reparsed = Envelope::parse(&env.to_json(), Document::Manifest, &limits)
            .expect("round trip parses");
        assert_eq!(env, reparsed);
    }
}

/// Parse and verify a trust root.
pub fn fuzz_trust_root(data: &[u8]) {
    let limits = Limits::default();
    let _ = verify_trust_root(data, Timestamp::from_unix(1_700_000_000), 0, &limits);
    // The same bytes as the next root of a chain (what a kit's `ouk/trust/<N>.json` goes
    // through): checked against a fixed version-1 anchor.
    let _ = crate::trust_root::verify_successor(fuzz_anchor(), data, &limits);
}

/// Parse and verify a split kit's part index (as a signed envelope against the fixed anchor,
/// and as a bare payload): whatever validates must round-trip and name only plain files.
pub fn fuzz_parts_index(data: &[u8]) {
    let limits = Limits::default();
    let anchor = Verified::new(fuzz_anchor().clone());
    let _ = crate::parts::verify_index(data, &anchor, &limits);
    if let Ok(index) = crate::parts::PartsIndex::from_payload(data) {
        assert!(index.parts.iter().all(|p| crate::parts::name_ok(&p.name)));
        let again = crate::parts::PartsIndex::from_payload(&index.to_payload())
            .expect("a valid index round-trips");
        assert_eq!(index, again);
    }
}

/// A fixed TUF-layout root, version 1, whose root key is seed `[7; 32]`.
fn fuzz_anchor() -> &'static TrustRoot {
    static ANCHOR: std::sync::OnceLock<TrustRoot> = std::sync::OnceLock::new();
    ANCHOR.get_or_init(|| {
        let key = crate::keys::Ed25519Signer::from_seed(&[7; 32]);
        let mut root = TrustRoot::new(1, Timestamp::from_unix(1_900_000_000));
        use crate::keys::Signer as _;
        for role in [
            crate::trust_root::RoleName::Root,
            crate::trust_root::RoleName::Kit,
            crate::trust_root::RoleName::Attestation,
        ] {
            root.add_key(role, &key.public_key());
        }
        root.builders.push("https://ouk.example/fuzz".into());
        root
    })
}

/// Run the full streaming verifier over arbitrary bytes with the given trust root.
pub fn fuzz_archive(trust: &Verified<TrustRoot>, data: &[u8]) {
    let opts = VerifyOptions {
        revoked: Vec::new(),
        now: Timestamp::from_unix(1_700_000_000),
        skew_secs: 0,
        allow_expired: true,
        limits: Limits::default(),
    };
    let _ = verify_kit(data, trust, &opts, &mut NullSink);
}
