//! The committed fuzz seeds are exactly what the generator makes, and they pass the harnesses'
//! checks (so the fuzzer starts from inputs that reach every stage, not from instant refusals).

use std::path::Path;

use ouk_format::archive::reader::{verify_kit, NullSink, VerifyOptions};
use ouk_format::dsse::Envelope;
use ouk_format::error::Document;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::manifest::{Manifest, Unverified};
use ouk_format::media_types::MANIFEST_PAYLOAD_TYPE;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::verify_trust_root;
use ouk_format::Limits;

/// The clock `ouk_format::fuzzing` uses.
const HARNESS_NOW: i64 = 1_700_000_000;

#[test]
fn committed_corpus_matches_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, seeds) in ouk_hostile::seeds::corpora() {
        for (i, seed) in seeds.iter().enumerate() {
            let path = root.join(target).join(format!("seed-{i:02}"));
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                &committed == seed,
                "{} is stale: run `cargo run -p ouk-hostile --example fuzz_seeds -- fuzz/corpus`",
                path.display()
            );
        }
    }
}

#[test]
fn seeds_pass_the_harness_checks() {
    let corpora = ouk_hostile::seeds::corpora();
    let get = |t: &str| {
        corpora
            .iter()
            .find(|(n, _)| *n == t)
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    let limits = Limits::default();
    for m in get("manifest") {
        Unverified::<Manifest>::parse(&m, &limits).unwrap();
    }
    let key = Ed25519Signer::from_seed(&[9; 32]).public_key();
    for d in get("dsse") {
        let env = Envelope::parse(&d, Document::Manifest, &limits).unwrap();
        env.verify(
            MANIFEST_PAYLOAD_TYPE,
            Document::Manifest,
            "kit",
            std::slice::from_ref(&key),
            1,
        )
        .unwrap();
    }
    let now = Timestamp::from_unix(HARNESS_NOW);
    verify_trust_root(&get("trust_root")[0], now, 0, &limits).unwrap();
    let trust = verify_trust_root(&ouk_hostile::fixture::trust_root(), now, 0, &limits).unwrap();
    let opts = VerifyOptions {
        revoked: Vec::new(),
        now,
        skew_secs: 0,
        allow_expired: true,
        limits,
    };
    for kit in get("archive") {
        verify_kit(&kit[..], &trust, &opts, &mut NullSink).unwrap();
    }
}
