//! The official DSSE protocol test vectors, read in place from `../shared/dsse-testvectors`.
//! Every vector runs; none is skipped.

use std::path::PathBuf;

use ouk_format::dsse::{pae, Envelope};
use ouk_format::error::Document;
use ouk_format::keys::PublicKey;
use ouk_format::Limits;
use serde_json::Value;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

#[test]
fn all_official_vectors() {
    let path = shared().join("dsse-testvectors/vectors.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).expect("read vectors")).unwrap();
    let keys = doc["keys"].as_object().unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 9);
    let mut ran = 0;
    for v in vectors {
        let id = v["id"].as_str().unwrap();
        let expect_accept = v["expect"] == "accept";
        let envelope_json = serde_json::to_vec(&v["envelope"]).unwrap();
        let trusted: Vec<PublicKey> = v["trustedKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let hex_key = keys[k.as_str().unwrap()]["public"].as_str().unwrap();
                let raw: [u8; 32] = hex::decode(hex_key).unwrap().try_into().unwrap();
                PublicKey::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap())
            })
            .collect();
        let threshold = v["threshold"].as_u64().unwrap() as usize;
        let supported: Vec<&str> = v["supportedPayloadTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let env = Envelope::parse(&envelope_json, Document::Attestation, &Limits::default())
            .unwrap_or_else(|e| panic!("{id}: parse failed: {e}"));
        // For accepted vectors `pae` is computed from the envelope; for rejected ones it is what
        // the signer signed (e.g. the original type before a swap), which must then differ.
        if let Some(expected_pae) = v["pae"].as_str().filter(|_| expect_accept) {
            assert_eq!(
                hex::encode(pae(env.payload_type(), env.unverified_payload())),
                expected_pae,
                "{id}: PAE"
            );
        }
        // A verifier accepts only payload types it supports; emulate one that supports exactly the
        // vector's list (the empty type is never a supported type).
        let accepted = supported
            .iter()
            .filter(|t| !t.is_empty() && **t == env.payload_type())
            .any(|t| {
                let t: &'static str = Box::leak(t.to_string().into_boxed_str());
                env.verify(t, Document::Attestation, "test", &trusted, threshold)
                    .is_ok()
            });
        assert_eq!(accepted, expect_accept, "vector {id}");
        ran += 1;
    }
    assert_eq!(ran, vectors.len());
}
