//! Hard limits on everything a kit can make the importer read, allocate or write.
//!
//! Every field is finite (there is no "unlimited"): an attacker who controls a kit controls every
//! length in it, so each length the reader acts on is checked against one of these first. The
//! spec's §10 has one row per field with the attack it stops; keep the two in step.

/// Deepest JSON nesting accepted in a format document (manifest, envelope, trust root), counting
/// the top-level value as level 1: 64 is accepted, 65 is refused.
///
/// Fixed by the format, not configurable: it bounds the reader's recursion (stack) whatever the
/// caller configures. The fixed parts of every document are at most 5 levels deep, so only
/// annotation values and ignored envelope members can get near it.
pub const MAX_JSON_DEPTH: usize = 64;

/// Largest integer accepted in any JSON integer field (2^53 − 1).
///
/// Fixed by the format so that every JSON tool, including those that hold numbers as IEEE
/// doubles (JavaScript, jq), reads the same value we do; it also keeps `sequence` far from
/// `u64::MAX`, which would block a channel for good.
pub const MAX_JSON_INTEGER: u64 = (1 << 53) - 1;

/// Limits applied while reading and verifying kits and trust roots.
///
/// Defaults are generous for real feeds (a full OSV + Trivy kit is a few GiB) and still bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest signed manifest envelope read before its signature is checked (endless data: the
    /// envelope is the only untrusted thing read before authentication).
    pub max_envelope_bytes: u64,
    /// Largest trust root document (endless data; TUF/tough use 1 MiB for root metadata).
    pub max_trust_root_bytes: u64,
    /// Most trust roots walked in one go, after the one already trusted (a kit carrying
    /// thousands of 1 MiB roots would cost thousands of signature checks and parses before its
    /// manifest is even looked at).
    pub max_trust_chain: usize,
    /// Most signatures looked at on one envelope (CPU exhaustion with thousands of signatures;
    /// counted while parsing, so memory too).
    pub max_signatures: usize,
    /// Most members in one kit (too many members, inode exhaustion); counted while parsing.
    pub max_members: usize,
    /// Largest compressed member (endless data).
    pub max_member_compressed_bytes: u64,
    /// Largest declared uncompressed member, and largest declared `unpacked_size` of an archive
    /// member; the decompressor is also cut at the declared size (decompression bomb).
    pub max_member_uncompressed_bytes: u64,
    /// Largest sum of declared uncompressed and unpacked sizes (disk exhaustion in the store).
    pub max_total_uncompressed_bytes: u64,
    /// Largest zstd window accepted, as a power of two (decoder memory; keeps import RSS bounded).
    pub max_zstd_window_log: u32,
    /// Most bytes tolerated after the end-of-archive marker; they must all be zero (trailing data
    /// smuggling).
    pub max_trailing_bytes: u64,
    /// Smallest and largest authenticated chunk size (a tiny chunk size bloats the manifest, a huge
    /// one makes the reader buffer too much before it can authenticate).
    pub min_chunk_size: u32,
    /// See `min_chunk_size`.
    pub max_chunk_size: u32,
    /// Longest allowed span `expires_at − created_at` (a signer cannot make one kit valid for
    /// ever, which would defeat the freeze protection of expiry).
    pub max_kit_validity_secs: u64,
    /// Most top-level keys in `annotations` (memory: counted while parsing).
    pub max_annotations: usize,
    /// Longest annotation key in bytes.
    pub max_annotation_key_bytes: usize,
    /// Most JSON values (containers and scalars, at any depth) in all annotations together
    /// (memory: a 2-byte JSON value becomes a 32-byte in-memory value; counted while parsing).
    pub max_annotation_values: usize,
    /// Longest string (key or value) inside an annotation value, in bytes.
    pub max_annotation_string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        const GIB: u64 = 1024 * MIB;
        Limits {
            // One 64 GiB member at the builder's 1 MiB chunks needs 65,536 chunk digests, about
            // 4.4 MB of manifest JSON and 5.9 MB of base64 envelope: 8 MiB holds that with room
            // for the other members and annotations (spec §10).
            max_envelope_bytes: 8 * MIB,
            max_trust_root_bytes: MIB,
            max_trust_chain: 64,
            max_signatures: 16,
            max_members: 4096,
            max_member_compressed_bytes: 64 * GIB,
            max_member_uncompressed_bytes: 256 * GIB,
            max_total_uncompressed_bytes: 512 * GIB,
            max_zstd_window_log: 24,
            max_trailing_bytes: 20 * 512,
            min_chunk_size: 64 * 1024,
            max_chunk_size: 16 * 1024 * 1024,
            // 400 days: a yearly build cadence plus a month of slack; longer-lived kits defeat
            // the freeze protection that expiry gives (spec §10).
            max_kit_validity_secs: 400 * 86_400,
            max_annotations: 64,
            max_annotation_key_bytes: 128,
            max_annotation_values: 65_536,
            max_annotation_string_bytes: 64 * 1024,
        }
    }
}
