//! Issue 12 through the real binary: trust roots rotated by the kits themselves, revocation,
//! fast-forward recovery, out-of-band replacement, and a store that remembers what it trusts.
//!
//! Keys (Ed25519 seeds): root 1 and 11, kit 2 (revoked by v2) and 12, attestation 3.

mod common;

use common::*;
use std::path::Path;

/// v1: root {1} 1-of-1, kit {2}. v2: root {1, 11} 2-of-2, kit {12}: kit key 2 revoked.
fn v1() -> Vec<u8> {
    sign_root(tuf_root(1, &[1], 1, &[2]), &[1])
}
fn v2() -> Vec<u8> {
    sign_root(tuf_root(2, &[1, 11], 2, &[12]), &[1, 11])
}

fn kit(env: &Env, sequence: u64, signer: u8, chain: &[(u64, Vec<u8>)]) -> std::path::PathBuf {
    let mut b = Build::new(sequence);
    b.kit_signer = signer;
    b.trust_chain = chain.to_vec();
    b.salt = sequence * 100 + u64::from(signer) + chain.len() as u64 * 7;
    env.kit(&b)
}

fn env_v1() -> Env {
    let env = Env::new();
    std::fs::write(&env.trust, v1()).unwrap();
    env
}

fn trust_json(env: &Env, what: &str) -> serde_json::Value {
    let o = env.run(&["trust", what, "--store", env.store_arg(), "--json"]);
    expect(&o, 0)
}

fn audit_text(env: &Env) -> String {
    std::fs::read_to_string(env.store.join("audit.jsonl")).unwrap()
}

fn import_without_trust_root(env: &Env, kit: &Path) -> std::process::Output {
    env.run(&[
        "import",
        kit.to_str().unwrap(),
        "--store",
        env.store_arg(),
        "--json",
    ])
}

#[test]
fn a_kit_carries_the_rotation_and_the_store_keeps_it() {
    let env = env_v1();
    expect(&env.import(&kit(&env, 1, 2, &[]), &[]), 0);
    assert_eq!(std::fs::read(env.store.join("trust/1.json")).unwrap(), v1());

    // Signed by the new kit key, without the chain: the store cannot know that key yet.
    let r = expect(&env.import(&kit(&env, 2, 12, &[]), &[]), 10);
    assert_eq!(r["error"]["kind"], "threshold_not_met");
    // With the chain: accepted, although the operator still passes the v1 file.
    expect(&env.import(&kit(&env, 2, 12, &[(2, v2())]), &[]), 0);
    assert_eq!(std::fs::read(env.store.join("trust/2.json")).unwrap(), v2());
    assert!(audit_text(&env).contains("trust root rotated to version 2 by the kit's chain"));

    let status = trust_json(&env, "status");
    assert_eq!(status["root"]["version"], 2);
    assert_eq!(status["revoked"][0]["role"], "kit");
    assert_eq!(status["revoked"][0]["revoked_in"], 2);
    let history = trust_json(&env, "history");
    assert_eq!(history["roots"].as_array().unwrap().len(), 2);
    assert_eq!(history["roots"][1]["chained"], true);
    assert_eq!(history["roots"][1]["revoked"][0]["role"], "kit");

    // The revoked key no longer counts, whatever the kit carries, and the error names it.
    for chain in [vec![], vec![(2, v2())], vec![(1, v1()), (2, v2())]] {
        let r = expect(&env.import(&kit(&env, 3, 2, &chain), &[]), 10);
        assert_eq!(r["error"]["kind"], "revoked_key", "{r}");
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trust root version 2"));
    }
    // The new key works with no chain and no --trust-root at all.
    expect(&import_without_trust_root(&env, &kit(&env, 3, 12, &[])), 0);
    expect(
        &env.run(&["audit", "verify", "--store", env.store_arg()]),
        0,
    );
}

#[test]
fn kit_key_rotation_fast_forwards_past_a_hostile_sequence() {
    let env = env_v1();
    // The kit key leaks; the thief publishes sequence 1,000,000 and the store takes it.
    expect(&env.import(&kit(&env, 1_000_000, 2, &[]), &[]), 0);
    let r = expect(&env.import(&kit(&env, 5, 2, &[]), &[]), 20);
    assert_eq!(r["error"]["kind"], "rollback");
    // The owners rotate the kit key out; their next kit (sequence 5) carries v2.
    let r = expect(&env.import(&kit(&env, 5, 12, &[(2, v2())]), &[]), 0);
    assert_eq!(r["highest_sequence"], 5);
    let audit = audit_text(&env);
    assert!(
        audit.contains("sequence floor 1000000 reset (TUF fast-forward recovery)"),
        "{audit}"
    );
    // The floor is real again from here on.
    let r = expect(&env.import(&kit(&env, 4, 12, &[]), &[]), 20);
    assert_eq!(r["error"]["kind"], "rollback");
    // And the thief's key is refused by name.
    let r = expect(&env.import(&kit(&env, 2_000_000, 2, &[]), &[]), 10);
    assert_eq!(r["error"]["kind"], "revoked_key");
}

#[test]
fn a_bad_chain_is_refused_and_leaves_the_store_as_it_was() {
    let env = env_v1();
    expect(&env.import(&kit(&env, 1, 2, &[]), &[]), 0);
    let before = std::fs::read(env.store.join("state.json")).unwrap();
    type Chain = Vec<(u64, Vec<u8>)>;
    let cases: Vec<(Chain, i32, &str)> = vec![
        // v2 signed by its own keys only: the old root did not agree.
        (
            vec![(2, sign_root(tuf_root(2, &[11], 1, &[12]), &[11]))],
            11,
            "threshold_not_met",
        ),
        // A skipped version.
        (
            vec![(3, sign_root(tuf_root(3, &[1], 1, &[12]), &[1]))],
            11,
            "trust_root_version",
        ),
        // Entry name and content disagree.
        (vec![(3, v2())], 11, "trust_root_version"),
        // Gaps in the entry names.
        (vec![(2, v2()), (4, v2())], 10, "unexpected_member"),
    ];
    for (chain, code, kind) in cases {
        let r = expect(&env.import(&kit(&env, 2, 12, &chain), &[]), code);
        assert_eq!(r["error"]["kind"], kind, "{r}");
        assert!(!env.store.join("trust/2.json").exists());
        assert!(!env.store.join("trust/3.json").exists());
        assert_eq!(std::fs::read(env.store.join("state.json")).unwrap(), before);
    }
}

#[test]
fn operator_supplied_roots_first_import_and_out_of_band() {
    let env = env_v1();
    let k1 = kit(&env, 1, 2, &[]);
    let r = expect(&import_without_trust_root(&env, &k1), 11);
    assert_eq!(r["error"]["kind"], "no_trust_root");
    expect(&env.import(&k1, &[]), 0);

    // The operator installs v2 by hand (no kit carried it): kept and audited.
    std::fs::write(&env.trust, v2()).unwrap();
    expect(&env.import(&kit(&env, 2, 12, &[]), &[]), 0);
    assert!(env.store.join("trust/2.json").is_file());
    assert!(audit_text(&env).contains("installed out of band"));

    // Another document claiming version 2: someone signed two roots for one version.
    let mut other = tuf_root(2, &[1, 11], 2, &[12]);
    other.builders.push("https://other.example/builder".into());
    std::fs::write(&env.trust, sign_root(other, &[1, 11])).unwrap();
    let r = expect(&env.import(&kit(&env, 3, 12, &[]), &[]), 11);
    assert_eq!(r["error"]["kind"], "trust_root_mismatch");

    // The legacy (DSSE) layout of v1 still works as an anchor for a fresh store.
    let legacy = Env::new();
    expect(&legacy.import(&kit(&legacy, 1, 2, &[]), &[]), 0);
    // The same root in the TUF layout is the same root, not a conflicting one.
    std::fs::write(&legacy.trust, v1()).unwrap();
    expect(&legacy.import(&kit(&legacy, 2, 2, &[]), &[]), 0);
    expect(&legacy.import(&kit(&legacy, 3, 12, &[(2, v2())]), &[]), 0);
}

#[test]
fn verify_follows_the_chain_in_the_kit() {
    let env = env_v1();
    let k = kit(&env, 2, 12, &[(2, v2())]);
    let o = env.run(&[
        "verify",
        k.to_str().unwrap(),
        "--trust-root",
        env.trust.to_str().unwrap(),
        "--json",
    ]);
    let r = expect(&o, 0);
    assert_eq!(r["trust_root_version"], 2);
    let o = env.run(&["inspect", k.to_str().unwrap(), "--json"]);
    expect(&o, 0);
}

#[test]
fn import_from_a_stick_fast_forwards_too() {
    let env = env_v1();
    expect(&env.import(&kit(&env, 1_000_000, 2, &[]), &[]), 0);
    let stick = env.dir.path().join("stick");
    std::fs::create_dir(&stick).unwrap();
    let k = kit(&env, 5, 12, &[(2, v2())]);
    std::fs::rename(&k, stick.join("kit-5.ouk")).unwrap();
    let o = env.run(&[
        "import",
        "--from",
        stick.to_str().unwrap(),
        "--trust-root",
        env.trust.to_str().unwrap(),
        "--store",
        env.store_arg(),
        "--json",
    ]);
    let r = expect(&o, 0);
    assert_eq!(r["imported"]["highest_sequence"], 5, "{r}");
}

#[test]
fn a_crash_after_the_switch_keeps_the_fast_forward() {
    let env = env_v1();
    expect(&env.import(&kit(&env, 1_000_000, 2, &[]), &[]), 0);
    let k = kit(&env, 5, 12, &[(2, v2())]);
    let o = env
        .cmd()
        .env("FAILPOINTS", "import::after_switch=return(crash)")
        .args([
            "import",
            k.to_str().unwrap(),
            "--store",
            env.store_arg(),
            "--json",
        ])
        .output()
        .unwrap();
    assert_ne!(code(&o), 0, "the failpoint fired");
    // The generation was committed (current switched) but state.json still says 1,000,000.
    // The next command recovers the state from the generation and the stored roots.
    let r = expect(&env.import(&kit(&env, 6, 12, &[]), &[]), 0);
    assert_eq!(r["highest_sequence"], 6);
    let status = trust_json(&env, "status");
    assert_eq!(status["revoked"][0]["role"], "kit", "{status}");
    let r = expect(&env.import(&kit(&env, 7, 2, &[]), &[]), 10);
    assert_eq!(r["error"]["kind"], "revoked_key");
}

/// Cut `kit` into 1 MiB parts beside it and write its part index signed by the key of `signer`
/// (as `ouk-builder build --split` would with that kit key); returns the index path.
fn split_signed(kit: &Path, signer: u8) -> std::path::PathBuf {
    use ouk_format::archive::reader::read_manifest_unverified;
    use ouk_format::digest::Sha256;
    use ouk_format::keys::Ed25519Signer;
    use ouk_format::parts::{index_name, part_names, Part, PartsIndex};
    let bytes = std::fs::read(kit).unwrap();
    let (_, m) = read_manifest_unverified(&bytes[..], &ouk_format::Limits::default()).unwrap();
    let name = kit.file_name().unwrap().to_str().unwrap();
    let chunks: Vec<&[u8]> = bytes.chunks(1 << 20).collect();
    let parts = part_names(name, chunks.len())
        .into_iter()
        .zip(&chunks)
        .map(|(n, c)| {
            std::fs::write(kit.with_file_name(&n), c).unwrap();
            Part {
                name: n,
                size: c.len() as u64,
                sha256: Sha256::of(c),
            }
        })
        .collect();
    let index = PartsIndex {
        format: "ouk/parts/1".into(),
        kit_id: m.0.kit_id.clone(),
        channel: m.0.channel.clone(),
        sequence: m.0.sequence,
        kit_sha256: Sha256::of(&bytes),
        kit_size: bytes.len() as u64,
        part_size: 1 << 20,
        parts,
    };
    let key = Ed25519Signer::from_seed(&[signer; 32]);
    let path = kit.with_file_name(index_name(name));
    std::fs::write(&path, index.sign(&[&key]).unwrap()).unwrap();
    std::fs::remove_file(kit).unwrap();
    path
}

#[test]
fn a_split_kit_whose_index_is_signed_by_the_rotated_kit_key_imports() {
    let env = env_v1();
    expect(&env.import(&kit(&env, 1, 2, &[]), &[]), 0);
    // Day 2 is built after the rotation: manifest and part index signed by the new kit key 12,
    // which only root v2 (carried in the kit, inside its first part) makes trusted.
    let mut b = Build::new(2);
    b.kit_signer = 12;
    b.trust_chain = vec![(2, v2())];
    let index = split_signed(&env.kit(&b), 12);
    let r = expect(&import_without_trust_root(&env, &index), 0);
    assert_eq!(r["outcome"], "imported", "{r}");
    assert!(
        r["parts"]["read_from_medium"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{r}"
    );
    assert_eq!(std::fs::read(env.store.join("trust/2.json")).unwrap(), v2());
}

#[test]
fn a_split_index_signed_by_an_unknown_key_is_still_refused_as_an_index() {
    let env = env_v1();
    // No chain in the kit: key 12 is unknown to v1, so the index is refused for what it is.
    let b = Build::new(1);
    let index = split_signed(&env.kit(&b), 12);
    let r = expect(&env.import(&index, &[]), 10);
    assert_eq!(r["error"]["kind"], "parts_index", "{r}");
    // With the chain, but the index signed by a key neither root trusts for `kit` (root key 11).
    let mut b = Build::new(1);
    b.kit_signer = 12;
    b.trust_chain = vec![(2, v2())];
    b.salt = 99;
    let index = split_signed(&env.kit(&b), 11);
    let r = expect(&env.import(&index, &[]), 10);
    assert_eq!(r["error"]["kind"], "parts_index", "{r}");
    assert!(
        !env.store.join("trust/2.json").exists(),
        "nothing of v2 kept"
    );
}
