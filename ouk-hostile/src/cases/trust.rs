//! Signatures, roles and thresholds, payload types, mix-and-match, replay, time, and unusable trust
//! roots.

use super::{format_case, Ctx, SNAPSHOT};
use crate::fixture::{self, KeyName, Kit, KitOptions, TrustSpec, ADVISORIES_PATH, SNAPSHOT_PATH};
use crate::rawtar::Entry;
use crate::{Category, HostileCase, Layer, EXIT_POLICY, EXIT_TRUST, EXIT_VERIFICATION};
use ouk_format::media_types::{
    IN_TOTO_PAYLOAD_TYPE, MANIFEST_PAYLOAD_TYPE, TRUST_ROOT_PAYLOAD_TYPE,
};

const V: i32 = EXIT_VERIFICATION;

fn signed_by(ctx: &Ctx, keys: &[KeyName]) -> Vec<u8> {
    let env = fixture::sign_payload(MANIFEST_PAYLOAD_TYPE, ctx.kit.manifest.to_payload(), keys);
    ctx.with_envelope(env)
}

/// Edit the base envelope's JSON (after signing).
fn envelope_json_edit(ctx: &Ctx, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&ctx.envelope).unwrap_or_default();
    edit(&mut v);
    ctx.with_envelope(serde_json::to_vec(&v).unwrap_or_default())
}

fn kit_bytes(opts: KitOptions) -> Vec<u8> {
    Kit::build(&opts).bytes()
}

/// A case with a non-default trust root; the kit is the valid base kit unless given.
fn trust_case(
    ctx: &Ctx,
    name: &str,
    kind: &'static str,
    exit: i32,
    trust: Vec<u8>,
    kit: Option<Vec<u8>>,
    desc: &str,
) -> HostileCase {
    let mut case = format_case(
        ctx,
        Category::Trust,
        name,
        kind,
        exit,
        kit.unwrap_or_else(|| ctx.bytes.clone()),
        desc,
    );
    case.trust_root = trust;
    case
}

/// Kind the importer reports for a kit whose sequence is below the store's high-water mark
/// (importer-defined: the format crate has no store; docs/importer.md "Policy").
pub const ROLLBACK_KIND: &str = "rollback";
/// Kind the importer reports for a different kit with an already-imported sequence.
pub const EQUIVOCATION_KIND: &str = "equivocation";

/// All trust cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let c = |name: &str, kind: &'static str, exit: i32, bytes: Vec<u8>, desc: &str| {
        format_case(ctx, Category::Trust, name, kind, exit, bytes, desc)
    };
    let mut out = vec![
        // ---- who signed ---------------------------------------------------------------------------
        c("signed_by_outsider", "threshold_not_met", V, signed_by(ctx, &[KeyName::Outsider]),
          "The manifest is signed by a key the trust root does not know."),
        c("signed_by_attestation_key", "threshold_not_met", V, signed_by(ctx, &[KeyName::Attestation]),
          "A valid signature by a trusted key of the wrong role (attestation): keys only count for their own role."),
        c("signed_by_root_key", "threshold_not_met", V, signed_by(ctx, &[KeyName::Root]),
          "A valid signature by the root key, which may sign trust roots but not kits."),
        c("signatures_stripped", "threshold_not_met", V,
          envelope_json_edit(ctx, |v| v["signatures"] = serde_json::json!([])),
          "The envelope with its signatures removed: an unsigned kit is never accepted."),
        c("signature_from_other_kit", "threshold_not_met", V, {
            let other = Kit::build(&KitOptions { sequence: 6, ..KitOptions::default() }).envelope();
            let other: serde_json::Value = serde_json::from_slice(&other).unwrap_or_default();
            envelope_json_edit(ctx, |v| v["signatures"] = other["signatures"].clone())
          },
          "A genuine kit-key signature lifted from another kit's envelope: signatures bind the exact payload bytes."),
        c("signature_keyid_spoofed", "threshold_not_met", V, {
            let outsider = fixture::sign_payload(MANIFEST_PAYLOAD_TYPE, ctx.kit.manifest.to_payload(), &[KeyName::Outsider]);
            let outsider: serde_json::Value = serde_json::from_slice(&outsider).unwrap_or_default();
            let kit_keyid = serde_json::from_slice::<serde_json::Value>(&ctx.envelope).unwrap_or_default()["signatures"][0]["keyid"].clone();
            envelope_json_edit(ctx, |v| {
                v["signatures"] = outsider["signatures"].clone();
                v["signatures"][0]["keyid"] = kit_keyid;
            })
          },
          "An outsider's signature labelled with the kit key's keyid: the keyid is only a hint and never trusted."),
        // ---- payload types ------------------------------------------------------------------------
        c("payload_type_in_toto", "payload_type", V,
          ctx.with_envelope(fixture::sign_payload(IN_TOTO_PAYLOAD_TYPE, ctx.kit.manifest.to_payload(), &[KeyName::Kit])),
          "The manifest signed by the kit key under the in-toto payload type: a signature for one document type is never accepted for another."),
        c("payload_type_trust_root", "payload_type", V,
          ctx.with_envelope(fixture::sign_payload(TRUST_ROOT_PAYLOAD_TYPE, ctx.kit.manifest.to_payload(), &[KeyName::Kit])),
          "The manifest under the trust-root payload type."),
        c("payload_type_swapped_after_signing", "payload_type", V,
          envelope_json_edit(ctx, |v| v["payloadType"] = serde_json::json!(IN_TOTO_PAYLOAD_TYPE)),
          "payloadType rewritten after signing (PAE covers it, and the type check comes first)."),
        // ---- mix and match ------------------------------------------------------------------------
        c("mix_and_match_same_size_member", "chunk_digest_mismatch", V, {
            let b = Kit::build(&KitOptions { snapshot: br#"{"sources":[{"name":"osv","records":4001}]}"#.to_vec(), ..KitOptions::default() });
            let j = b.index_of(SNAPSHOT_PATH);
            assert_eq!(b.blobs[j].len(), ctx.kit.blobs[j].len(), "mix-and-match needs equal sizes");
            ctx.edited(|e| e[SNAPSHOT] = Entry::file(&e[SNAPSHOT].header.name.clone(), b.blobs[j].clone()))
          },
          "Kit A's signed manifest with kit B's snapshot member of exactly the same size: the chunk digest binds the member to this manifest."),
        c("mix_and_match_other_kit_member", "compressed_size_mismatch", V, {
            let b = Kit::build(&KitOptions { salt: 7, sequence: 6, ..KitOptions::default() });
            let j = b.index_of(ADVISORIES_PATH);
            let blobs: Vec<Vec<u8>> = ctx.kit.blobs.iter().enumerate().map(|(i, x)| if i == j { b.blobs[j].clone() } else { x.clone() }).collect();
            assert_ne!(blobs[j].len(), ctx.kit.blobs[j].len(), "needs a different size");
            ctx.edited(|e| e[j + 1] = Entry::file(&e[j + 1].header.name.clone(), blobs[j].clone()))
          },
          "Kit A's signed manifest with kit B's advisories member: refused on the signed size before reading it."),
        // ---- time and builder -----------------------------------------------------------------------
        c("kit_expired", "kit_expired", EXIT_POLICY,
          kit_bytes(KitOptions { created_at: "2026-01-01T00:00:00Z", expires_at: "2026-06-01T00:00:00Z", ..KitOptions::default() }),
          "A validly signed kit whose expires_at (2026-06-01) has passed: the freeze attack (replaying an old, genuine kit) is refused."),
        c("created_in_future", "created_in_future", EXIT_POLICY,
          kit_bytes(KitOptions { created_at: "2036-06-01T00:00:00Z", expires_at: "2037-01-01T00:00:00Z", ..KitOptions::default() }),
          "A kit claiming to be created in 2036: refused so it cannot raise the store's time high-water mark."),
        c("builder_not_allowed", "builder_not_allowed", EXIT_POLICY,
          kit_bytes(KitOptions { builder_id: "https://evil.example/builder".into(), statement_builder_id: "https://evil.example/builder".into(), ..KitOptions::default() }),
          "A validly signed kit from a builder the trust root does not list."),
    ];

    // ---- trust roots -----------------------------------------------------------------------------
    let two_kit_keys = TrustSpec {
        kit_keys: vec![KeyName::Kit, KeyName::Kit2],
        kit_threshold: 2,
        ..TrustSpec::default()
    };
    out.push(trust_case(ctx, "threshold_one_key_twice", "threshold_not_met", V, two_kit_keys.bytes(),
        Some(signed_by(ctx, &[KeyName::Kit, KeyName::Kit])),
        "A 2-of-2 kit role and a manifest signed twice by the same key: the threshold counts unique keys, so one key cannot meet it alone."));
    out.push(trust_case(
        ctx,
        "threshold_one_of_two",
        "threshold_not_met",
        V,
        two_kit_keys.bytes(),
        Some(signed_by(ctx, &[KeyName::Kit, KeyName::Outsider])),
        "A 2-of-2 kit role, one valid kit signature plus an outsider's.",
    ));
    out.push(trust_case(ctx, "trust_root_expired", "trust_root_expired", EXIT_TRUST,
        TrustSpec { expires: "2026-03-01T00:00:00Z", ..TrustSpec::default() }.bytes(), None,
        "A valid kit checked against a trust root that expired on 2026-03-01: an expired root is unusable, whatever it signs."));
    out.push(trust_case(
        ctx,
        "trust_root_under_signed",
        "threshold_not_met",
        EXIT_TRUST,
        TrustSpec {
            root_keys: vec![KeyName::Root, KeyName::Root2],
            root_threshold: 2,
            ..TrustSpec::default()
        }
        .bytes(),
        None,
        "A trust root requiring 2 root signatures, signed by one.",
    ));
    out.push(trust_case(
        ctx,
        "trust_root_one_key_twice",
        "threshold_not_met",
        EXIT_TRUST,
        TrustSpec {
            root_keys: vec![KeyName::Root, KeyName::Root2],
            root_threshold: 2,
            signed_by: vec![KeyName::Root, KeyName::Root],
            ..TrustSpec::default()
        }
        .bytes(),
        None,
        "A 2-of-2 trust root signed twice by the same root key.",
    ));
    out.push(trust_case(ctx, "trust_root_signed_by_kit_key", "threshold_not_met", EXIT_TRUST,
        TrustSpec { signed_by: vec![KeyName::Kit], ..TrustSpec::default() }.bytes(), None,
        "A trust root signed by the kit key instead of the root key (a kit-key holder cannot rewrite trust)."));
    out.push(trust_case(
        ctx,
        "trust_root_wrong_payload_type",
        "payload_type",
        EXIT_TRUST,
        TrustSpec {
            payload_type: MANIFEST_PAYLOAD_TYPE,
            ..TrustSpec::default()
        }
        .bytes(),
        None,
        "A trust root signed under the manifest payload type.",
    ));
    out.push(trust_case(ctx, "trust_root_threshold_exceeds_keys", "invalid_role", EXIT_TRUST,
        TrustSpec { kit_threshold: 2, ..TrustSpec::default() }.bytes(), None,
        "A trust root whose kit threshold (2) exceeds its kit keys (1): refused as unusable rather than as unsatisfiable."));
    out.push(trust_case(ctx, "trust_root_forged_keyid", "keyid_mismatch", EXIT_TRUST, {
            let spec = TrustSpec::default();
            let mut v = serde_json::to_value(spec.document()).unwrap_or_default();
            let kit_id = v["roles"]["kit"]["keyids"][0].as_str().unwrap_or_default().to_owned();
            let forged = "f".repeat(64);
            if let Some(keys) = v["keys"].as_object_mut() {
                if let Some(k) = keys.remove(&kit_id) { keys.insert(forged.clone(), k); }
            }
            v["roles"]["kit"]["keyids"][0] = serde_json::json!(forged);
            fixture::sign_payload(TRUST_ROOT_PAYLOAD_TYPE, ouk_format::keys::canonical_json(&v), &[KeyName::Root])
        }, None,
        "A trust root listing the kit key under a keyid that is not its sha256: key ids are recomputed, never trusted."));
    out.push(trust_case(
        ctx,
        "trust_root_garbage",
        "invalid_document",
        EXIT_TRUST,
        b"-----BEGIN PUBLIC KEY-----\nnot a trust root\n-----END PUBLIC KEY-----\n".to_vec(),
        None,
        "A PEM file given as the trust root.",
    ));

    out.extend(chain_cases(ctx));

    // ---- store state (importer only) ---------------------------------------------------------
    let prior = ctx.bytes.clone();
    let mut replay = format_case(ctx, Category::Trust, "replay_older_sequence", ROLLBACK_KIND, EXIT_POLICY,
        kit_bytes(KitOptions { sequence: fixture::BASE_SEQUENCE - 1, ..KitOptions::default() }),
        "A genuine, validly signed kit with sequence 4 offered after sequence 5 was imported: rollback is refused by the store's high-water mark.");
    replay.prior_kits = vec![prior.clone()];
    replay.layer = Layer::Importer;
    out.push(replay);
    let mut equivocation = format_case(ctx, Category::Trust, "equivocation_same_sequence", EQUIVOCATION_KIND, EXIT_POLICY,
        kit_bytes(KitOptions { salt: 1, ..KitOptions::default() }),
        "A different, validly signed kit with the same sequence (5) as the imported one: two kits claiming one sequence mean the builder key equivocated.");
    equivocation.prior_kits = vec![prior];
    equivocation.layer = Layer::Importer;
    out.push(equivocation);
    out
}

/// A successor of the fixture trust root (TUF layout): `edit` changes the model, `by` signs.
fn successor(
    version: u64,
    edit: impl FnOnce(&mut ouk_format::trust_root::TrustRoot),
    by: &[KeyName],
) -> Vec<u8> {
    let mut root = TrustSpec::default().document();
    root.version = version;
    edit(&mut root);
    let signers: Vec<_> = by.iter().map(|k| k.signer()).collect();
    let refs: Vec<&dyn ouk_format::keys::Signer> = signers
        .iter()
        .map(|s| s as &dyn ouk_format::keys::Signer)
        .collect();
    let mut doc = ouk_format::trust_root::RootDocument::new(root);
    // Ed25519 over in-memory bytes does not fail.
    let _ = doc.sign(&refs);
    doc.to_bytes()
}

/// The base kit with trust root entries before its manifest (issue 12).
fn with_chain(ctx: &Ctx, roots: Vec<(u64, Vec<u8>)>) -> Vec<u8> {
    ctx.edited(|e| {
        for (i, (v, bytes)) in roots.into_iter().enumerate() {
            let name = ouk_format::archive::members::trust_root_entry_name(v);
            e.insert(i, Entry::file(name.as_bytes(), bytes));
        }
    })
}

/// Rotation chains carried by a kit (issue 12): each step is authenticated before the next is
/// looked at, and the manifest only after the whole chain.
fn chain_cases(ctx: &Ctx) -> Vec<HostileCase> {
    use ouk_format::keys::Signer as _;
    use ouk_format::trust_root::RoleName;
    let c = |name, kind, exit, bytes, desc| {
        format_case(ctx, Category::Trust, name, kind, exit, bytes, desc)
    };
    let outsider = KeyName::Outsider.signer().public_key();
    vec![
        c("chain_gap_before_manifest", "trust_root_version", EXIT_TRUST,
          with_chain(ctx, vec![(3, b"{ not parsed }".to_vec())]),
          "A kit carrying trust root 3 to an importer holding root 1: the gap is refused from the entry name, before the file is parsed."),
        c("chain_entry_oversized", "limit_exceeded", V,
          with_chain(ctx, vec![(2, vec![b' '; (1 << 20) + 1])]),
          "A 1 MiB + 1 byte trust root entry: refused from its header, before a byte of it is read."),
        c("chain_root_not_signed_by_previous", "threshold_not_met", EXIT_TRUST,
          with_chain(ctx, vec![(2, successor(2, |r| {
              r.roles.root.keyids.clear();
              r.add_key(RoleName::Root, &outsider);
          }, &[KeyName::Outsider]))]),
          "Trust root 2 that hands the root role to an outsider, signed only by the outsider: root 1's holders did not agree."),
        c("chain_revokes_the_signing_kit_key", "revoked_key", V,
          with_chain(ctx, vec![(2, successor(2, |r| {
              r.roles.kit.keyids.clear();
              r.add_key(RoleName::Kit, &outsider);
          }, &[KeyName::Root]))]),
          "A valid trust root 2 that removes the kit key which signed this very kit: the revoked key no longer counts, and the error names it."),
        c("chain_too_long", "limit_exceeded", V,
          with_chain(ctx, (2..=66).map(|v| (v, successor(v, |_| {}, &[KeyName::Root]))).collect()),
          "65 valid rotations before the manifest: at most 64 trust roots are walked per kit."),
    ]
}
