//! Hard limits on everything a kit can make the importer read, allocate or write.
//!
//! Every field is finite (there is no "unlimited"): an attacker who controls a kit controls every
//! length in it, so each length the reader acts on is checked against one of these first.

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
    /// Most signatures looked at on one envelope (CPU exhaustion with thousands of signatures).
    pub max_signatures: usize,
    /// Most members in one kit (too many members, inode exhaustion).
    pub max_members: usize,
    /// Largest compressed member (endless data).
    pub max_member_compressed_bytes: u64,
    /// Largest declared uncompressed member; the decompressor is also cut at the declared size
    /// (decompression bomb).
    pub max_member_uncompressed_bytes: u64,
    /// Largest sum of declared uncompressed sizes (disk exhaustion in the store).
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
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        const GIB: u64 = 1024 * MIB;
        Limits {
            max_envelope_bytes: 16 * MIB,
            max_trust_root_bytes: MIB,
            max_signatures: 16,
            max_members: 4096,
            max_member_compressed_bytes: 64 * GIB,
            max_member_uncompressed_bytes: 256 * GIB,
            max_total_uncompressed_bytes: 512 * GIB,
            max_zstd_window_log: 24,
            max_trailing_bytes: 20 * 512,
            min_chunk_size: 64 * 1024,
            max_chunk_size: 16 * 1024 * 1024,
        }
    }
}
