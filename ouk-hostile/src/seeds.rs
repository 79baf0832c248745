//! Seed corpora for the `cargo fuzz` targets in `fuzz/`, built from small valid kits.
//!
//! The harnesses in `ouk_format::fuzzing` verify with a fixed clock (2023-11-14) and, for DSSE, a
//! fixed key (seed `[9; 32]`), so the seeds are made to pass those: kits created before that
//! clock and envelopes signed by that key. Otherwise every mutation would stop at the first
//! time or signature check and the fuzzer would never see the later stages.

use ouk_format::dsse::Envelope;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::media_types::MANIFEST_PAYLOAD_TYPE;
use ouk_format::testkit::{self, KitSpec, MemberSpec};

use crate::fixture::{self, KeyName, BUILDER_ID};

/// A small kit (a few KiB) signed by the fixture kit key, created before the harness clock.
fn small_kit(sequence: u64, members: Vec<MemberSpec>) -> (Vec<u8>, Vec<u8>) {
    let mut spec = KitSpec::sample(sequence);
    spec.created_at = fixture::ts("2023-01-01T00:00:00Z");
    // Within the 400-day validity cap (spec §4.5 #8).
    spec.expires_at = fixture::ts("2023-12-01T00:00:00Z");
    spec.builder_id = BUILDER_ID.to_owned();
    spec.members = members;
    let (manifest, blobs) = testkit::prepare(&spec).expect("small kit prepares");
    let key = KeyName::Kit.signer();
    let envelope = testkit::sign_manifest(&manifest, &[&key]).expect("signs");
    let kit = testkit::assemble(&envelope, &manifest, &blobs).expect("assembles");
    (kit, manifest.to_payload())
}

/// `(target name, seeds)` for every fuzz target.
pub fn corpora() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let (kit_a, manifest_a) = small_kit(
        1,
        vec![
            MemberSpec::payload("feeds/advisories.ndjson", &testkit::sample_data(3000, 1)),
            MemberSpec::payload("feeds/snapshot.json", b"{\"sources\":[]}"),
        ],
    );
    let (kit_b, manifest_b) = small_kit(2, vec![MemberSpec::payload("a.json", b"{}")]);
    let dsse_key = Ed25519Signer::from_seed(&[9; 32]);
    let dsse_a = Envelope::sign(
        MANIFEST_PAYLOAD_TYPE,
        manifest_a.clone(),
        &[&dsse_key as &dyn Signer],
    )
    .expect("signs")
    .to_json();
    let dsse_b = Envelope::sign(
        MANIFEST_PAYLOAD_TYPE,
        b"{}".to_vec(),
        &[&dsse_key as &dyn Signer, &dsse_key],
    )
    .expect("signs")
    .to_json();
    let mut trust_roots = vec![fixture::trust_root()];
    // The hostile trust roots (expired, under-signed, forged keyid...) as extra seeds.
    for case in crate::cases() {
        if !trust_roots.contains(&case.trust_root) {
            trust_roots.push(case.trust_root);
        }
    }
    // TUF-layout roots (issue 12): the anchor and first successor of each small chain case.
    for case in crate::chains::cases() {
        for root in std::iter::once(&case.anchor).chain(case.chain.first()) {
            if root.len() < 64 * 1024 && !trust_roots.contains(root) {
                trust_roots.push(root.clone());
            }
        }
    }
    vec![
        ("manifest", vec![manifest_a, manifest_b]),
        ("dsse", vec![dsse_a, dsse_b]),
        ("trust_root", trust_roots),
        ("archive", vec![kit_a, kit_b]),
        // A valid Trivy-shaped Bolt file (branch, leaves, inline and page buckets, an overflow
        // page, a freelist) for the bounds-checked validator in ouk-trivy.
        ("bolt", vec![crate::cases::trivy::bolt::valid()]),
        ("parts_index", parts_index_seeds()),
    ]
}

/// A valid part index, as a bare payload and as an envelope signed by the fuzz harness's
/// anchor key (seed `[7; 32]`), so mutations reach the signature check and the validation.
fn parts_index_seeds() -> Vec<Vec<u8>> {
    use ouk_format::digest::Sha256;
    use ouk_format::media_types::PARTS_FORMAT;
    use ouk_format::parts::{part_names, Part, PartsIndex};
    let names = part_names("k.ouk", 2);
    let index = PartsIndex {
        format: PARTS_FORMAT.to_owned(),
        kit_id: "stable-1".into(),
        channel: "stable".into(),
        sequence: 1,
        kit_sha256: Sha256::of(b"kit"),
        kit_size: 3,
        part_size: 2,
        parts: vec![
            Part {
                name: names[0].clone(),
                size: 2,
                sha256: Sha256::of(b"ki"),
            },
            Part {
                name: names[1].clone(),
                size: 1,
                sha256: Sha256::of(b"t"),
            },
        ],
    };
    let key = ouk_format::keys::Ed25519Signer::from_seed(&[7; 32]);
    let signed = index.sign(&[&key]).expect("signing a valid index");
    vec![index.to_payload(), signed]
}
