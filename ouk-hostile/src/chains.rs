//! Trust root rotation chains (issue 12), each with the verdict `ouk-importer` must reach and the
//! verdict the TUF reference implementation (python-tuf) reaches on the same files.
//!
//! Written to `testdata/trust-chains/<case>/` by `cargo run -p ouk-hostile --example
//! trust_chains -- testdata/trust-chains`; deterministic (Ed25519 signatures are), so a test
//! regenerates them and compares byte for byte. `ci/tuf_oracle.py` runs python-tuf on every
//! case; `ouk-importer/tests/trust_chains.rs` runs the importer. Where the verdicts differ the
//! case says why (`stricter`): python-tuf does not recompute key ids, keeps the last of two
//! duplicate JSON members, and bounds neither the chain nor the file size in the API used.

use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{RoleName, RootDocument, TrustRoot};

/// The instant every case is decided at.
pub const AT: &str = "2026-06-01T00:00:00Z";

/// One chain: the anchor an importer holds, the newer roots, and both verdicts.
pub struct ChainCase {
    /// Directory name.
    pub name: &'static str,
    /// What it shows.
    pub what: &'static str,
    /// The root the walk starts from.
    pub anchor: Vec<u8>,
    /// The newer roots, in order.
    pub chain: Vec<Vec<u8>>,
    /// `accepted`, or the error kind `ouk-importer trust verify-chain` must report.
    pub ours: &'static str,
    /// `accepted` or `refused` (python-tuf's verdict).
    pub tuf: &'static str,
    /// Why the verdicts differ, when they do.
    pub stricter: &'static str,
}

fn key(n: u8) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x40 + n; 32])
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|_| Timestamp::from_unix(0))
}

/// Root `version` with root role `keys` (threshold `k`); kit and attestation keys fixed.
fn root(version: u64, keys: &[u8], k: u32) -> TrustRoot {
    let mut r = TrustRoot::new(version, ts("2030-01-01T00:00:00Z"));
    for n in keys {
        r.add_key(RoleName::Root, &key(*n).public_key());
    }
    r.add_key(RoleName::Kit, &key(20).public_key());
    r.add_key(RoleName::Attestation, &key(21).public_key());
    r.roles.root.threshold = k;
    r.builders
        .push("https://ouk.dev/builders/chain-test".into());
    r
}

fn sign(r: TrustRoot, by: &[u8]) -> Vec<u8> {
    let signers: Vec<Ed25519Signer> = by.iter().map(|n| key(*n)).collect();
    let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
    let mut doc = RootDocument::new(r);
    // Ed25519 over in-memory bytes does not fail.
    let _ = doc.sign(&refs);
    doc.to_bytes()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_default()
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

fn id(n: u8) -> String {
    key(n).public_key().key_id().to_string()
}

fn ok(name: &'static str, what: &'static str, anchor: Vec<u8>, chain: Vec<Vec<u8>>) -> ChainCase {
    ChainCase {
        name,
        what,
        anchor,
        chain,
        ours: "accepted",
        tuf: "accepted",
        stricter: "",
    }
}

fn refused(
    name: &'static str,
    what: &'static str,
    anchor: Vec<u8>,
    chain: Vec<Vec<u8>>,
    ours: &'static str,
) -> ChainCase {
    ChainCase {
        name,
        what,
        anchor,
        chain,
        ours,
        tuf: "refused",
        stricter: "",
    }
}

/// Every case.
pub fn cases() -> Vec<ChainCase> {
    let five = [1, 2, 3, 4, 5];
    let v1_5 = || sign(root(1, &five, 3), &[1, 2, 3]);
    let v1_3 = |k| sign(root(1, &[1, 2, 3], k), &[1, 2, 3]);
    let mut out = vec![
        ok(
            "swap_one_key_3_of_5",
            "3-of-5 root: key 5 replaced by key 6, signed by 3 old holders who are also new ones",
            v1_5(),
            vec![sign(root(2, &[1, 2, 3, 4, 6], 3), &[1, 2, 3])],
        ),
        ok(
            "swap_all_keys_via_intermediate",
            "every root key replaced: v2 holds old and new keys, v3 only the new ones",
            sign(root(1, &[1, 2], 2), &[1, 2]),
            vec![
                sign(root(2, &[1, 2, 7, 8], 2), &[1, 2, 7, 8]),
                sign(root(3, &[7, 8], 2), &[7, 8]),
            ],
        ),
        ok(
            "expired_intermediate_root",
            "only the final root's expiry counts: v2 expired long ago, v3 is current",
            v1_3(2),
            vec![
                {
                    let mut r = root(2, &[1, 2, 3], 2);
                    r.expires = ts("2021-01-01T00:00:00Z");
                    sign(r, &[1, 2])
                },
                sign(root(3, &[1, 2, 3], 2), &[1, 2]),
            ],
        ),
        ok(
            "one_second_before_expiry",
            "final root expires one second after the decision instant",
            v1_3(2),
            vec![{
                let mut r = root(2, &[1, 2, 3], 2);
                r.expires = ts("2026-06-01T00:00:01Z");
                sign(r, &[1, 2])
            }],
        ),
        refused(
            "missing_old_threshold",
            "v2 signed by 1 of v1's 3 root keys (threshold 2) and all its own",
            v1_3(2),
            vec![sign(root(2, &[1, 4, 5], 2), &[1, 4, 5])],
            "threshold_not_met",
        ),
        refused(
            "missing_new_threshold",
            "v2 signed by v1's threshold but by only 1 of its own 3 keys (threshold 2)",
            v1_3(2),
            vec![sign(root(2, &[4, 5, 6], 2), &[1, 2, 4])],
            "threshold_not_met",
        ),
        refused(
            "threshold_raised_too_few_signatures",
            "v2 raises the threshold to 3 and carries 2 signatures",
            v1_3(1),
            vec![sign(root(2, &[1, 2, 3], 3), &[1, 2])],
            "threshold_not_met",
        ),
        refused(
            "threshold_lowered_too_few_old_signatures",
            "v2 lowers the threshold to 1; v1 still needs 3 of its keys and gets 1",
            v1_3(3),
            vec![sign(root(2, &[1, 2, 3], 1), &[1])],
            "threshold_not_met",
        ),
        refused(
            "same_version",
            "a second, different version 1 signed by everyone",
            v1_3(2),
            vec![sign(root(1, &[1, 2, 3, 4], 2), &[1, 2, 3, 4])],
            "trust_root_version",
        ),
        refused(
            "skipped_version",
            "v1 then v3",
            v1_3(2),
            vec![sign(root(3, &[1, 2, 3], 2), &[1, 2, 3])],
            "trust_root_version",
        ),
        refused(
            "older_version",
            "anchor v2, offered v1",
            sign(root(2, &[1, 2, 3], 2), &[1, 2, 3]),
            vec![v1_3(2)],
            "trust_root_version",
        ),
        refused(
            "expired_final_root",
            "the final root expired before the decision instant",
            v1_3(2),
            vec![{
                let mut r = root(2, &[1, 2, 3], 2);
                r.expires = ts("2026-01-01T00:00:00Z");
                sign(r, &[1, 2])
            }],
            "trust_root_expired",
        ),
        refused(
            "exactly_at_expiry",
            "the final root expires at the decision instant: expired (TUF: now >= expires)",
            v1_3(2),
            vec![{
                let mut r = root(2, &[1, 2, 3], 2);
                r.expires = ts(AT);
                sign(r, &[1, 2])
            }],
            "trust_root_expired",
        ),
        refused(
            "extension_tampered",
            "v2's x-ouk builder list changed after signing",
            v1_3(2),
            vec![{
                let mut v = json(&sign(root(2, &[1, 2, 3], 2), &[1, 2, 3]));
                v["signed"]["x-ouk"]["builders"][0] = "https://evil.example/builder".into();
                pretty(&v)
            }],
            "threshold_not_met",
        ),
        refused(
            "duplicate_signature_keyid",
            "two signature objects under one key id",
            v1_3(2),
            vec![{
                let mut v = json(&sign(root(2, &[1, 2, 3], 2), &[1, 2]));
                let first = v["signatures"][0].clone();
                if let Some(a) = v["signatures"].as_array_mut() {
                    a.push(first);
                }
                pretty(&v)
            }],
            "invalid_document",
        ),
        ChainCase {
            stricter: "python-tuf keeps the last of two identical JSON members; ouk refuses duplicate members",
            tuf: "accepted",
            ..refused(
                "duplicate_keyid_member",
                "v2's keys object lists one key id twice (same key)",
                v1_3(2),
                vec![duplicate_key_member(&sign(root(2, &[1, 2, 3], 2), &[1, 2, 3]), 3)],
                "invalid_document",
            )
        },
        ChainCase {
            stricter: "python-tuf does not recompute key ids, so one key listed twice counts twice",
            tuf: "accepted",
            ..refused(
                "one_key_under_two_keyids",
                "v2's root role is key 4 listed under its id and under a made-up id (threshold 2), signed by key 4 under both",
                v1_3(2),
                vec![one_key_two_ids()],
                "keyid_mismatch",
            )
        },
        ChainCase {
            stricter: "python-tuf does not recompute key ids",
            tuf: "accepted",
            ..refused(
                "keyid_not_hash_of_key",
                "v2 lists its new root key under an id that is not the sha256 of the key",
                v1_3(2),
                vec![keyid_not_hash()],
                "keyid_mismatch",
            )
        },
        ChainCase {
            stricter: "python-tuf's TrustedMetadataSet does not bound the chain (its Updater stops at 256 rotations); ouk walks at most 64 per import",
            tuf: "accepted",
            ..refused(
                "chain_too_long",
                "65 rotations in one go",
                sign(root(1, &[1], 1), &[1]),
                (2..=66).map(|v| sign(root(v, &[1], 1), &[1])).collect(),
                "limit_exceeded",
            )
        },
        ChainCase {
            stricter: "python-tuf's TrustedMetadataSet has no size cap (its Updater has a 512 KB download cap); ouk refuses a root over 1 MiB before parsing it",
            tuf: "accepted",
            ..refused(
                "oversized_root",
                "v2 is 1.1 MiB (a huge builder list), validly signed",
                v1_3(2),
                vec![{
                    let mut r = root(2, &[1, 2, 3], 2);
                    for i in 0..20_000 {
                        r.builders.push(format!("https://ouk.dev/builders/padding/{i:08}/xxxxxxxxxxxxxxxxxxxxxxx"));
                    }
                    sign(r, &[1, 2])
                }],
                "limit_exceeded",
            )
        },
    ];
    out.sort_by_key(|c| c.name);
    out
}

/// Insert a second copy of key `n`'s member into `signed.keys` (textually: JSON values cannot
/// hold duplicates).
fn duplicate_key_member(bytes: &[u8], n: u8) -> Vec<u8> {
    let v = json(bytes);
    let text = serde_json::to_string(&v).unwrap_or_default();
    let kid = id(n);
    let member = format!(
        "\"{kid}\":{}",
        serde_json::to_string(&v["signed"]["keys"][&kid]).unwrap_or_default()
    );
    text.replacen("\"keys\":{", &format!("\"keys\":{{{member},"), 1)
        .into_bytes()
}

/// A made-up id standing for key 4 (hex, 64 characters, not its hash).
fn fake_id() -> String {
    "ab".repeat(32)
}

/// Re-sign `signed` (already edited) with keys `by`, each signature under the ids given.
fn resign(mut v: serde_json::Value, by: &[(u8, String)]) -> Vec<u8> {
    let canonical = ouk_format::keys::canonical_json(&v["signed"]);
    let sigs: Vec<serde_json::Value> = by
        .iter()
        .map(|(n, kid)| {
            let sig = key(*n).sign(&canonical).unwrap_or_default();
            serde_json::json!({"keyid": kid, "sig": hex_encode(&sig)})
        })
        .collect();
    v["signatures"] = sigs.into();
    pretty(&v)
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn one_key_two_ids() -> Vec<u8> {
    let mut v = json(&sign(root(2, &[4], 1), &[]));
    let real = id(4);
    let keyobj = v["signed"]["keys"][&real].clone();
    v["signed"]["keys"][fake_id()] = keyobj;
    v["signed"]["roles"]["root"] = serde_json::json!({"keyids": [real, fake_id()], "threshold": 2});
    resign(v, &[(1, id(1)), (2, id(2)), (4, id(4)), (4, fake_id())])
}

fn keyid_not_hash() -> Vec<u8> {
    let mut v = json(&sign(root(2, &[4], 1), &[]));
    let real = id(4);
    let keyobj = v["signed"]["keys"][&real].clone();
    if let Some(keys) = v["signed"]["keys"].as_object_mut() {
        keys.remove(&real);
    }
    v["signed"]["keys"][fake_id()] = keyobj;
    v["signed"]["roles"]["root"] = serde_json::json!({"keyids": [fake_id()], "threshold": 1});
    resign(v, &[(1, id(1)), (2, id(2)), (4, fake_id())])
}

/// `case.json` of a case.
pub fn case_json(c: &ChainCase) -> serde_json::Value {
    serde_json::json!({
        "what": c.what,
        "at": AT,
        "anchor": "00-anchor.json",
        "chain": (1..=c.chain.len()).map(|i| format!("{i:02}.json")).collect::<Vec<_>>(),
        "ours": c.ours,
        "tuf": c.tuf,
        "stricter": c.stricter,
    })
}

/// Every file of every case, as (relative path, bytes).
pub fn files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for c in cases() {
        out.push((format!("{}/00-anchor.json", c.name), c.anchor.clone()));
        for (i, b) in c.chain.iter().enumerate() {
            out.push((format!("{}/{:02}.json", c.name, i + 1), b.clone()));
        }
        out.push((format!("{}/case.json", c.name), pretty(&case_json(&c))));
    }
    out
}
