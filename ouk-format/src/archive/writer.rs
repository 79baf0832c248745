//! Writing kits: compress members (recording chunk digests), then emit the deterministic container.
//!
//! The writer does not know where keys live: the caller signs the manifest (via
//! [`crate::dsse::Envelope::sign`] with any [`crate::keys::Signer`]) and hands over the envelope.

use std::io::{self, Read, Write};

use crate::digest::{ChunkingHashWriter, Hasher, HashingWriter, Sha256};
use crate::error::{Error, Name};
use crate::manifest::{CompressedInfo, ContentInfo, Member};

use super::members::{member_entry_name, MANIFEST_ENTRY};

/// Default chunk size: 1 MiB (32 bytes of signed digest per MiB of kit).
pub const DEFAULT_CHUNK_SIZE: u32 = 1 << 20;

/// zstd settings used by the builder.
#[derive(Debug, Clone, Copy)]
pub struct CompressionOptions {
    /// zstd level (3 is zstd's default and a good speed/ratio point).
    pub level: i32,
    /// zstd worker threads (output is identical for any value >= 1, so this does not affect
    /// reproducibility).
    pub workers: u32,
    /// Window log; must stay within the importer's `max_zstd_window_log`.
    pub window_log: u32,
}

impl Default for CompressionOptions {
    fn default() -> Self {
        CompressionOptions {
            level: 3,
            workers: 2,
            window_log: 22,
        }
    }
}

/// Compress `input` into `output` as one zstd stream, measuring both sides.
pub fn compress_member(
    mut input: impl Read,
    output: impl Write,
    chunk_size: u32,
    opts: CompressionOptions,
) -> Result<(CompressedInfo, ContentInfo), Error> {
    let io_err = |e: io::Error| Error::io("compressing a member", &e);
    let sink = ChunkingHashWriter::new(output, chunk_size);
    let mut enc = zstd::stream::write::Encoder::new(sink, opts.level).map_err(io_err)?;
    enc.multithread(opts.workers.max(1)).map_err(io_err)?;
    enc.include_checksum(false).map_err(io_err)?;
    enc.window_log(opts.window_log).map_err(io_err)?;
    let mut content = Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(e)),
        };
        content.update(&buf[..n]);
        enc.write_all(&buf[..n]).map_err(io_err)?;
    }
    let sink = enc.finish().map_err(io_err)?;
    let (mut out, sha256, size, chunks) = sink.finish();
    out.flush().map_err(io_err)?;
    let (c_sha, c_size) = content.finish();
    Ok((
        CompressedInfo {
            size,
            sha256,
            chunks,
        },
        ContentInfo {
            size: c_size,
            sha256: c_sha,
        },
    ))
}

/// The one ustar header the format allows for an entry (the reader compares every header byte
/// with it): mode 0644, uid/gid 0, empty user/group
/// names, the given mtime. Fails rather than falling back to GNU/PAX long names.
pub(crate) fn canonical_header(name: &str, size: u64, mtime: u64) -> Result<tar::Header, Error> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).map_err(|_| Error::UnsafePath {
        path: Name::new(name),
        reason: "does not fit a ustar header",
    })?;
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    // Empty user/group names: set_username("") is always valid for ustar.
    let _ = h.set_username("");
    let _ = h.set_groupname("");
    h.set_cksum();
    Ok(h)
}

/// Write the container: the envelope first, then every member's compressed bytes in manifest
/// order. `members` pairs each manifest entry with a reader of exactly `compressed.size` bytes.
/// Returns the writer and the sha256/size of the whole kit.
pub fn write_kit<W: Write>(
    out: W,
    envelope_json: &[u8],
    members: Vec<(&Member, Box<dyn Read + '_>)>,
    mtime: u64,
) -> Result<(W, Sha256, u64), Error> {
    let io_err = |e: io::Error| Error::io("writing the kit", &e);
    let mut builder = tar::Builder::new(HashingWriter::new(out));
    let h = canonical_header(MANIFEST_ENTRY, envelope_json.len() as u64, mtime)?;
    builder.append(&h, envelope_json).map_err(io_err)?;
    for (member, reader) in members {
        let name = member_entry_name(&member.path);
        let h = canonical_header(&name, member.compressed.size, mtime)?;
        let mut counted = reader.take(member.compressed.size);
        builder.append(&h, &mut counted).map_err(io_err)?;
        if counted.limit() != 0 {
            return Err(Error::CompressedSizeMismatch {
                path: Name::new(member.path.as_str()),
                expected: member.compressed.size,
                actual: member.compressed.size - counted.limit(),
            });
        }
    }
    let hashing = builder.into_inner().map_err(io_err)?;
    let (mut out, sha, size) = hashing.finish();
    out.flush().map_err(io_err)?;
    Ok((out, sha, size))
}
