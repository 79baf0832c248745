//! Sizes: oversized documents, decompression bombs, trailing data, truncation at every structural
//! boundary and a single-bit flip in every region of the container.

use super::{format_case, Ctx, ADVISORIES, ENVELOPE};
use crate::fixture::{self, KeyName, Kit, KitOptions, ADVISORIES_PATH};
use crate::zstd_raw;
use crate::{Category, HostileCase, EXIT_VERIFICATION};
use ouk_format::media_types::MANIFEST_PAYLOAD_TYPE;

const V: i32 = EXIT_VERIFICATION;
const GIB: u64 = 1 << 30;

/// The base kit with the advisories member replaced by `blob`, declaring `declared` as its content
/// (SBOM and attestation re-derived, manifest re-signed by the kit key).
pub fn kit_with_advisories_blob(blob: Vec<u8>, declared: Vec<u8>) -> Vec<u8> {
    let opts = KitOptions::default();
    let mut kit = Kit::build(&opts);
    kit.replace(ADVISORIES_PATH, blob, declared, &opts);
    kit.bytes()
}

/// Index of the first byte at or after `from` in `hay` whose low bit can flip while staying an
/// alphanumeric base64 character (so the field still decodes and only its value changes).
fn b64_flip_at(hay: &[u8], from: usize) -> usize {
    (from..hay.len())
        .find(|&i| (hay[i] ^ 1).is_ascii_alphanumeric() && hay[i].is_ascii_alphanumeric())
        .unwrap_or(from)
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or(0)
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

/// All size cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let c = |name: &str, kind: &'static str, bytes: Vec<u8>, desc: &str| {
        format_case(ctx, Category::Size, name, kind, V, bytes, desc)
    };
    let mut out = Vec::new();

    // ---- oversized documents -----------------------------------------------------------------
    let limit = ouk_format::Limits::default().max_envelope_bytes as usize;
    let mut big = ctx.envelope.clone();
    big.resize(limit + 1, b' ');
    out.push(c("envelope_oversized", "limit_exceeded", ctx.with_envelope(big),
        "A well-formed, correctly signed envelope padded with JSON whitespace to the 8 MiB cap + 1 byte: refused by the envelope cap (the only untrusted data read before authentication is bounded)."));
    let many: Vec<KeyName> = vec![KeyName::Kit; 17];
    let env = fixture::sign_payload(MANIFEST_PAYLOAD_TYPE, ctx.kit.manifest.to_payload(), &many);
    out.push(c("envelope_too_many_signatures", "limit_exceeded", ctx.with_envelope(env),
        "17 signatures on the manifest envelope (limit 16): signature verification work is bounded before any signature is checked."));

    // ---- decompression bombs (validly signed: the attacker holds the kit key) -------------------
    out.push(c("zstd_bomb_8gib", "uncompressed_size_mismatch",
        kit_with_advisories_blob(zstd_raw::rle_bomb(8 * GIB), vec![0u8; 1024]),
        "A signed member declaring 1 KiB of content whose 256 KiB zstd stream expands to 8 GiB: every chunk authenticates, and the decoder is cut off at the declared size, so at most one buffer beyond 1 KiB is ever produced."));
    out.push(c("zstd_window_bomb", "decompression",
        kit_with_advisories_blob(zstd_raw::window_bomb(31, 1024), vec![0u8; 1024]),
        "A signed member whose zstd frame asks for a 2 GiB window: the decoder's window limit (2^24) refuses it instead of allocating."));

    // ---- trailing data ------------------------------------------------------------------------
    out.push(c(
        "trailing_garbage",
        "trailing_data",
        [ctx.bytes.as_slice(), b"GARBAGE!"].concat(),
        "Bytes after the end-of-archive marker (data smuggled past the signed content).",
    ));
    out.push(c(
        "trailing_zeros_excess",
        "trailing_data",
        [ctx.bytes.as_slice(), &vec![0u8; 20 * 512]].concat(),
        "More than 20 blocks of zeros after the last member: even padding is bounded.",
    ));

    // ---- truncation at every structural boundary -----------------------------------------------
    let env_len = ctx.entries[ENVELOPE].data.len();
    let adv = ctx.data_offset(ADVISORIES);
    let total = ctx.bytes.len();
    let last = ctx.entries.len() - 1;
    let truncations: Vec<(&str, usize, &'static str, &str)> = vec![
        (
            "mid_envelope_header",
            256,
            "truncated",
            "half of the first header block",
        ),
        (
            "after_envelope_header",
            512,
            "truncated",
            "the envelope header only",
        ),
        (
            "mid_envelope",
            512 + env_len / 2,
            "truncated",
            "half of the envelope",
        ),
        (
            "envelope_unpadded",
            512 + env_len,
            "truncated",
            "the envelope without its block padding",
        ),
        (
            "after_envelope",
            ctx.header_offset(1),
            "missing_member",
            "the envelope and nothing else",
        ),
        (
            "mid_member_header",
            ctx.header_offset(ADVISORIES) + 100,
            "truncated",
            "inside a member header",
        ),
        (
            "after_member_header",
            adv,
            "truncated",
            "a member header without data",
        ),
        (
            "mid_first_chunk",
            adv + 1000,
            "truncated",
            "inside a member's first chunk",
        ),
        (
            "at_chunk_boundary",
            adv + fixture::CHUNK_SIZE as usize,
            "truncated",
            "exactly at a member's chunk boundary",
        ),
        (
            "before_last_member",
            ctx.header_offset(last),
            "missing_member",
            "all members but the last",
        ),
        (
            "last_member_unpadded",
            ctx.data_offset(last) + ctx.entries[last].data.len(),
            "truncated",
            "the last member without its block padding",
        ),
        (
            "before_end_marker",
            total - 1024,
            "truncated",
            "everything but the end-of-archive marker",
        ),
        (
            "mid_end_marker",
            total - 512,
            "truncated",
            "half of the end-of-archive marker",
        ),
        (
            "last_byte",
            total - 1,
            "truncated",
            "all but the very last byte",
        ),
    ];
    for (name, cut, kind, what) in truncations {
        out.push(c(
            &format!("truncated_{name}"),
            kind,
            ctx.bytes[..cut].to_vec(),
            &format!("The kit cut after {cut} bytes: {what}. A partial kit is never imported."),
        ));
    }

    // ---- a single-bit flip in every region -------------------------------------------------------
    let env0 = ctx.data_offset(ENVELOPE);
    let env = &ctx.envelope;
    let payload_at = env0 + b64_flip_at(env, find(env, b"\"payload\":\"") + 40);
    let sig_at = env0 + b64_flip_at(env, find(env, b"\"sig\":\"") + 10);
    let type_at = env0 + find(env, b"\"payloadType\":\"") + 16;
    out.push(c(
        "bitflip_envelope_header",
        "tar_format",
        flip(&ctx.bytes, 3),
        "One bit of the envelope's header name: the header checksum no longer matches.",
    ));
    out.push(c(
        "bitflip_envelope_json",
        "invalid_document",
        flip(&ctx.bytes, env0),
        "One bit of the envelope's opening brace: not JSON any more.",
    ));
    out.push(c("bitflip_envelope_payload", "threshold_not_met", flip(&ctx.bytes, payload_at),
        "One bit of the base64 manifest payload (still valid base64): the signature over the received bytes fails."));
    out.push(c(
        "bitflip_envelope_signature",
        "threshold_not_met",
        flip(&ctx.bytes, sig_at),
        "One bit of the signature (still valid base64).",
    ));
    out.push(c("bitflip_envelope_payload_type", "payload_type", flip(&ctx.bytes, type_at),
        "One bit of the payloadType: refused as the wrong document type before the signature is checked."));
    for i in 1..ctx.entries.len() {
        let m = &ctx.kit.manifest.members[i - 1];
        let short = m
            .path
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or("member")
            .replace('.', "_");
        out.push(c(
            &format!("bitflip_header_{short}"),
            "tar_format",
            flip(&ctx.bytes, ctx.header_offset(i) + 20),
            &format!("One bit in the header name of member `{}`.", m.path),
        ));
        for k in 0..m.compressed.chunks.len() {
            let at = ctx.data_offset(i) + k * fixture::CHUNK_SIZE as usize + 7;
            out.push(c(&format!("bitflip_{short}_chunk{k}"), "chunk_digest_mismatch",
                flip(&ctx.bytes, at),
                &format!("One bit in chunk {k} of member `{}`: caught by the chunk digest before the chunk reaches the decompressor.", m.path)));
        }
    }
    out.push(c(
        "bitflip_end_marker_first_block",
        "tar_format",
        flip(&ctx.bytes, total - 1000),
        "One bit in the first end-of-archive block: it becomes a (bad) header.",
    ));
    out.push(c(
        "bitflip_end_marker_second_block",
        "trailing_data",
        flip(&ctx.bytes, total - 1),
        "One bit in the second end-of-archive block: only zeros may follow the last member.",
    ));
    out
}

/// Cases the format layer currently ACCEPTS although it should not (reported to the lead; not part
/// of [`crate::cases`] until `ouk-format` is fixed). The tar padding after an entry's data is
/// skipped unread by the `tar` crate, so up to 511 bytes per entry can be changed without any
/// digest noticing: the content is still authenticated, but the kit's sha256 changes (a genuine
/// kit re-padded looks like a *different* kit with the same sequence, i.e. fake equivocation) and
/// the padding is a covert channel. Expected fix: require padding bytes to be zero (`tar_format`).
pub fn known_gaps(ctx: &Ctx) -> Vec<HostileCase> {
    let env_pad = ctx.data_offset(ENVELOPE) + ctx.entries[ENVELOPE].data.len() + 3;
    let member_pad = ctx.data_offset(2) + ctx.entries[2].data.len() + 3;
    vec![
        format_case(
            ctx,
            Category::Size,
            "bitflip_envelope_padding",
            "tar_format",
            V,
            flip(&ctx.bytes, env_pad),
            "One bit in the zero padding after the envelope's data.",
        ),
        format_case(
            ctx,
            Category::Size,
            "bitflip_member_padding",
            "tar_format",
            V,
            flip(&ctx.bytes, member_pad),
            "One bit in the zero padding after a member's data.",
        ),
    ]
}
