//! Delta kits (spec §4.7, §4.8) signed by a holder of the kit and attestation keys. They pass the
//! format layer (a delta is an ordinary kit) and must be refused by the importer's delta checks
//! while it applies them to the generation of their base kit, with memory bounded however the
//! delta members are shaped.
//!
//! Each case's prior kit is a full kit of sequence 4 whose snapshot is sorted by id (the base
//! every delta here names); the delta itself has sequence [`fixture::BASE_SEQUENCE`].

use ouk_format::delta::{
    ANNOTATION, LINE_PATCH_MEDIA_TYPE, REMOVED_PATH as REMOVED, UPSERTS_PATH as UPSERTS,
};
use ouk_format::digest::Sha256;
use ouk_format::manifest::MemberRole;
use ouk_format::media_types::OSV_NDJSON_MEDIA_TYPE;
use serde_json::json;

use super::Ctx;
use crate::fixture::{self, Kit, KitOptions, ADVISORIES_PATH, SNAPSHOT_PATH};
use crate::{Category, HostileCase, Layer, EXIT_IO, EXIT_POLICY, EXIT_VERIFICATION};

/// Sequence of the base kit the deltas apply to.
const BASE_KIT_SEQUENCE: u64 = 4;
const SNAPSHOT_PATCH: &str = "delta/patch/feeds/snapshot.json";

/// The base snapshot: 1 000 records, sorted by id (byte order), as a merge writes them.
fn base_advisories() -> Vec<u8> {
    (0..1000u32)
        .flat_map(|i| {
            format!("{{\"id\":\"OUK-B-{i:04}\",\"modified\":\"2026-01-01T00:00:00Z\"}}\n")
                .into_bytes()
        })
        .collect()
}

/// The full kit every delta here is built against.
fn base_kit() -> Vec<u8> {
    let opts = KitOptions {
        sequence: BASE_KIT_SEQUENCE,
        salt: 4,
        ..KitOptions::default()
    };
    let mut kit = Kit::build(&opts);
    let advisories = base_advisories();
    let (blob, _) = fixture::compress(
        ADVISORIES_PATH,
        OSV_NDJSON_MEDIA_TYPE,
        MemberRole::Payload,
        None,
        &advisories,
    );
    kit.replace(ADVISORIES_PATH, blob, advisories, &opts);
    kit.bytes()
}

/// What a hostile delta carries.
struct Delta {
    upserts: Vec<u8>,
    removed: Vec<u8>,
    /// A line patch of `feeds/snapshot.json` (the member is then not carried).
    snapshot_patch: Option<Vec<u8>>,
    /// The annotation, filled with the honest binding by [`delta_kit`] then edited.
    annotation: serde_json::Value,
}

/// An honest delta: one record changed, one removed, nothing patched.
fn honest() -> Delta {
    let upserts = b"{\"id\":\"OUK-B-0001\",\"modified\":\"2026-01-02T00:00:00Z\"}\n".to_vec();
    let removed = b"\"OUK-B-0002\"\n".to_vec();
    let mut result = Vec::new();
    for line in base_advisories().split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"{\"id\":\"OUK-B-0001\"") {
            result.extend_from_slice(&upserts);
        } else if !line.starts_with(b"{\"id\":\"OUK-B-0002\"") {
            result.extend_from_slice(line);
        }
    }
    Delta {
        upserts,
        removed,
        snapshot_patch: None,
        annotation: json!({
            "base_kit_sha256": Sha256::of(&base_kit()).to_hex(),
            "base_sequence": BASE_KIT_SEQUENCE,
            "result_advisories_sha256": Sha256::of(&result).to_hex(),
            "result_advisories_size": result.len(),
            "trivy_db": false,
            "upserts": 1,
            "removed": 1,
        }),
    }
}

/// The signed delta kit (manifest by the kit key, attestation re-derived).
fn delta_kit(d: Delta) -> Vec<u8> {
    let opts = KitOptions::default();
    let mut kit = Kit::build(&opts);
    let mut drop_member = |path: &str| {
        let i = kit.index_of(path);
        kit.manifest.members.remove(i);
        kit.blobs.remove(i);
        kit.contents.remove(i);
    };
    drop_member(ADVISORIES_PATH);
    if d.snapshot_patch.is_some() {
        drop_member(SNAPSHOT_PATH);
    }
    kit.push_payload(UPSERTS, OSV_NDJSON_MEDIA_TYPE, &d.upserts);
    kit.push_payload(REMOVED, "application/x-ndjson", &d.removed);
    if let Some(p) = &d.snapshot_patch {
        kit.push_payload(SNAPSHOT_PATCH, LINE_PATCH_MEDIA_TYPE, p);
    }
    kit.manifest
        .annotations
        .insert(ANNOTATION.to_owned(), d.annotation);
    kit.rederive(&opts);
    kit.bytes()
}

/// A patch of the base's `feeds/snapshot.json` with the signed result `result`.
fn with_snapshot_patch(mut d: Delta, patch: Vec<u8>, result_size: u64, result: &[u8]) -> Delta {
    d.snapshot_patch = Some(patch);
    d.annotation["patched"] = json!([{
        "path": "feeds/snapshot.json",
        "patch": SNAPSHOT_PATCH,
        "result_sha256": Sha256::of(result).to_hex(),
        "result_size": result_size,
    }]);
    d
}

fn case(ctx: &Ctx, name: &str, kind: &'static str, d: Delta, desc: &str) -> HostileCase {
    let exit = match kind {
        "delta_base_missing" => EXIT_POLICY,
        "insufficient_space" => EXIT_IO,
        _ => EXIT_VERIFICATION,
    };
    HostileCase {
        name: name.to_owned(),
        category: Category::Delta,
        description: desc.to_owned(),
        bytes: delta_kit(d),
        trust_root: ctx.trust.clone(),
        prior_kits: vec![base_kit()],
        expected_kind: kind,
        expected_exit: exit,
        layer: Layer::Importer,
    }
}

/// All delta cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let header = ouk_format::line_patch::HEADER;
    let snapshot = KitOptions::default().snapshot;
    let mut out = Vec::new();

    let mut d = honest();
    d.annotation["base_kit_sha256"] = json!("ab".repeat(32));
    out.push(case(ctx, "delta_base_missing", "delta_base_missing", d,
        "A delta naming a base kit the store never imported: refused before any member streams (policy: import the full kit)."));

    let mut d = honest();
    d.annotation["result_advisories_size"] = json!(1u64 << 62);
    out.push(case(ctx, "delta_result_size_huge", "insufficient_space", d,
        "A delta whose signed result size is 4 EiB: the free-space check refuses it before any member streams, so a signed size never makes the importer fill the disk."));

    let mut d = honest();
    d.upserts = [
        d.upserts.clone(),
        b"{\"id\":\"OUK-B-0000\",\"modified\":\"2026-01-02T00:00:00Z\"}\n".to_vec(),
    ]
    .concat();
    out.push(case(ctx, "delta_upserts_unsorted", "delta_unsorted", d,
        "An upsert line below the previous one: the merge-join needs sorted input and says which line breaks it."));

    let mut d = honest();
    d.removed = b"\"OUK-B-0002\"\n\"OUK-Z-9999\"\n".to_vec();
    out.push(case(
        ctx,
        "delta_remove_unknown",
        "delta_remove_unknown",
        d,
        "A removal of an id the base does not hold: a delta describes exactly one base.",
    ));

    let mut d = honest();
    d.removed = b"\"OUK-B-0001\"\n".to_vec();
    out.push(case(
        ctx,
        "delta_upsert_and_remove",
        "delta_conflict",
        d,
        "The same id upserted and removed: contradictory instructions are refused, not resolved.",
    ));

    let mut d = honest();
    let mut long = b"{\"id\":\"OUK-B-0001\",\"details\":\"".to_vec();
    long.resize(9 << 20, b'x');
    long.extend_from_slice(b"\"}\n");
    d.upserts = long;
    out.push(case(ctx, "delta_upsert_line_9mib", "delta_bad_line", d,
        "A 9 MiB upsert line (the cap is 8 MiB): the merge-join holds one line of each input, so a line is capped, not read whole."));

    let mut d = honest();
    d.annotation["result_advisories_sha256"] = json!("00".repeat(32));
    out.push(case(ctx, "delta_result_digest", "delta_result_mismatch", d,
        "Honest members but another signed result digest: the rebuilt snapshot must be exactly the one the builder signed."));

    let d = with_snapshot_patch(
        honest(),
        [header, b"=99999999\n"].concat(),
        snapshot.len() as u64,
        &snapshot,
    );
    out.push(case(ctx, "delta_patch_past_base", "delta_patch", d,
        "A line patch copying 99 999 999 lines of a one-line base: refused when the base ends, nothing is read beyond it."));

    let d = with_snapshot_patch(
        honest(),
        [header, b"+1048576\nabc"].concat(),
        1 << 20,
        &snapshot,
    );
    out.push(case(
        ctx,
        "delta_patch_insert_truncated",
        "delta_patch",
        d,
        "An insert announcing 1 MiB with 3 bytes behind it: the patch ends inside the insert.",
    ));

    let mut bomb = [header, b"-1\n+67108864\n"].concat();
    bomb.resize(bomb.len() + (64 << 20), b'A');
    let d = with_snapshot_patch(honest(), bomb, 64, &snapshot);
    out.push(case(ctx, "delta_patch_insert_64mib", "delta_result_mismatch", d,
        "A patch inserting 64 MiB (zstd makes it a few KiB) against a signed result of 64 bytes: writing stops at the signed size, the rest is never produced."));

    let d = with_snapshot_patch(
        honest(),
        [header, b"=1\n"].concat(),
        snapshot.len() as u64,
        b"other",
    );
    out.push(case(ctx, "delta_patch_result_digest", "delta_result_mismatch", d,
        "A valid patch whose result is not the signed one: a patched member must hash to its signed digest."));

    let d = with_snapshot_patch(
        honest(),
        b"ouk-line-patch/2\n=1\n".to_vec(),
        snapshot.len() as u64,
        &snapshot,
    );
    out.push(case(
        ctx,
        "delta_patch_unknown_format",
        "delta_patch",
        d,
        "A patch of another format version: refused, never guessed at.",
    ));

    let mut d = with_snapshot_patch(
        honest(),
        [header, b"=1\n"].concat(),
        snapshot.len() as u64,
        &snapshot,
    );
    d.annotation["patched"][0]["path"] = json!("../../state.json");
    out.push(case(ctx, "delta_patch_path_escape", "delta_invalid", d,
        "A patched path climbing out of the generation: checked as a member path before anything is opened."));

    out
}
