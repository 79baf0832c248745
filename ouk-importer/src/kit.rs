//! Opening one kit file and running the single verification pass over it.
//!
//! Every command that reads a kit (import, `import --from`, verify, inspect) goes through
//! [`open`] then [`stream`]: the file is opened once, without blocking on a FIFO and without
//! following a planted link where the caller says so; `fstat` on the open descriptor decides that
//! it is a regular file; [`KitReader::open`] authenticates the size-capped envelope; the caller
//! applies policy to the [`KitHeader`]; [`stream`] then verifies every member from the same open
//! descriptor. There is no second parse of the manifest and no second verification path.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ouk_format::archive::members::member_entry_name;
use ouk_format::archive::reader::{
    read_manifest_unverified, KitHeader, KitReader, StreamError, StreamedKit, VerifyOptions,
};
use ouk_format::dsse::Envelope;
use ouk_format::manifest::{Manifest, MemberRole};
use ouk_format::parts::verify_index;
use ouk_format::trust_root::TrustRoot;
use ouk_format::verified::Verified;
use ouk_format::Limits;

use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::error::{EntryKind, Error, Result};
use crate::parts::{PartsHandle, PartsReader};
use crate::sink::{Findings, KitSink};
use crate::Progress;

/// Whether a symlink at the kit path may be followed: yes for a path the operator typed, no for
/// files found while scanning a stick (a link there could point anywhere on the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow a symlink (explicit path).
    Follow,
    /// Refuse a symlink (`import --from`).
    Refuse,
}

/// Which file an open kit is, for spotting hard links to one file on a stick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
}

/// Where a kit's bytes come from: one file, or the parts of a split kit in index order.
#[derive(Debug)]
pub enum Input {
    /// A kit file.
    File(File),
    /// The parts of a split kit (see [`crate::parts`]).
    Parts(Box<PartsReader>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::File(f) => f.read(buf),
            Input::Parts(p) => p.read(buf),
        }
    }
}

/// A kit whose envelope is authenticated and whose members are still unread.
#[derive(Debug)]
pub struct OpenedKit {
    /// Where it was opened from (for messages and the audit log): the kit file, or the index of
    /// a split kit.
    pub path: PathBuf,
    /// Which file it is (the index file, for a split kit).
    pub file: FileId,
    /// What the signed envelope says.
    pub header: KitHeader,
    /// For a split kit: the authenticated index and which parts came from where.
    pub parts: Option<PartsHandle>,
    reader: KitReader<BufReader<Input>>,
}

/// Open a kit file for reading: `O_NONBLOCK` so a FIFO cannot hang us (the lock may be held),
/// `O_NOFOLLOW` when links are refused, then `fstat` on the descriptor (not the path, which could
/// have been swapped since a directory listing) must say "regular file".
pub fn open_file(path: &Path, links: Links) -> Result<(File, FileId)> {
    let mut flags = OFlags::NONBLOCK | OFlags::CLOEXEC;
    if links == Links::Refuse {
        flags |= OFlags::NOFOLLOW;
    }
    // Flag bits always fit an i32 (they come from the C `int` flags argument).
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) {
                Error::KitNotRegularFile {
                    path: path.to_path_buf(),
                    found: EntryKind::Symlink,
                }
            } else {
                Error::io("opening the kit", path, e)
            }
        })?;
    let id = file_id(path, &file)?;
    Ok((file, id))
}

/// `fstat` on an open kit: it must be a regular file; its identity is what later reopenings are
/// compared with.
pub fn file_id(path: &Path, file: &File) -> Result<FileId> {
    let meta = file
        .metadata()
        .map_err(|e| Error::io("inspecting the kit", path, e))?;
    if !meta.file_type().is_file() {
        return Err(Error::KitNotRegularFile {
            path: path.to_path_buf(),
            found: EntryKind::of(meta.file_type()),
        });
    }
    Ok(FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

/// Stage one: open the file and authenticate its envelope against `trust` (kit threshold,
/// builder, creation and expiry times). Nothing beyond the capped envelope is read.
pub fn open(
    path: &Path,
    links: Links,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
) -> Result<OpenedKit> {
    let (file, id) = open_file(path, links)?;
    open_from(path, file, id, trust, opts)
}

/// [`open`] on a file the caller already opened with [`open_file`] (so what was checked is what
/// is read).
pub fn open_from(
    path: &Path,
    file: File,
    id: FileId,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
) -> Result<OpenedKit> {
    let (header, reader) = KitReader::open(
        BufReader::with_capacity(256 * 1024, Input::File(file)),
        trust,
        opts,
    )?;
    Ok(OpenedKit {
        path: path.to_path_buf(),
        file: id,
        header,
        parts: None,
        reader,
    })
}

/// Where a split kit's verified parts are kept, given its authenticated index.
pub type IncomingDir = dyn Fn(&ouk_format::parts::PartsIndex) -> Result<PathBuf>;

/// [`open`] for a split kit: read and authenticate the index at `index_path` (nothing else is
/// opened before it verified), then authenticate the envelope read through the parts, which
/// must be the kit the index names. With `incoming`, parts are copied there as they pass and
/// verified copies there are used instead of the medium (see [`crate::parts`]).
pub fn open_parts(
    index_path: &Path,
    links: Links,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
    incoming: Option<&IncomingDir>,
) -> Result<OpenedKit> {
    let (bytes, id) = crate::parts::read_index_bytes(index_path, links)?;
    let index = match verify_index(&bytes, trust, &opts.limits) {
        Ok(index) => index,
        Err(source) => {
            let refused = Error::PartsIndex {
                path: index_path.to_path_buf(),
                source,
            };
            match index_by_carried_root(index_path, &bytes, trust, opts) {
                Some(verified) => verified?,
                None => return Err(refused),
            }
        }
    };
    let incoming = incoming.map(|f| f(&index)).transpose()?;
    let (reader, handle) = PartsReader::new(index, index_path, incoming);
    let (header, reader) = KitReader::open(
        BufReader::with_capacity(256 * 1024, Input::Parts(Box::new(reader))),
        trust,
        opts,
    )
    .map_err(|e| handle.explain(e.into()))?;
    let m = &header.manifest;
    // A first part of another kit carries that kit's (validly signed) envelope: name the part.
    handle
        .check_manifest(&m.kit_id, &m.channel, m.sequence)
        .map_err(|e| handle.explain(e))?;
    Ok(OpenedKit {
        path: index_path.to_path_buf(),
        file: id,
        header,
        parts: Some(handle),
        reader,
    })
}

/// A part index the starting root does not accept may be signed by `kit` keys of a newer root
/// the kit itself carries (a rotation): read the kit's trust chain and envelope through the parts
/// as the provisional index lists them (capped, authenticated by the staged reader as always),
/// and verify the index against the root the chain leads to. `None` when that does not apply —
/// the kit cannot be opened that way, or carries no newer root — so the caller reports the
/// index's own refusal; `Some(Err)` when the newer root refuses the index too.
fn index_by_carried_root(
    index_path: &Path,
    bytes: &[u8],
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
) -> Option<Result<Verified<ouk_format::parts::PartsIndex>>> {
    let provisional = ouk_format::parts::provisional_index(bytes, &opts.limits).ok()?;
    let (reader, _handle) = PartsReader::provisional(provisional, index_path);
    let (header, _) = KitReader::open(
        BufReader::with_capacity(256 * 1024, Input::Parts(Box::new(reader))),
        trust,
        opts,
    )
    .ok()?;
    if header.trust.version <= trust.version {
        return None;
    }
    Some(
        verify_index(bytes, &header.trust, &opts.limits).map_err(|source| Error::PartsIndex {
            path: index_path.to_path_buf(),
            source,
        }),
    )
}

impl OpenedKit {
    /// Close the kit down to its descriptor (dropping the envelope and manifest from memory),
    /// to be reopened from the same descriptor with [`reopen`]. `None` for a split kit (its
    /// parts are read in one pass).
    pub fn into_file(self) -> Option<File> {
        match self.reader.into_inner().into_inner() {
            Input::File(f) => Some(f),
            Input::Parts(_) => None,
        }
    }
}

/// Authenticate a kit again from a descriptor [`OpenedKit::into_file`] gave back: the same file
/// (no path lookup in between), read again from its first byte.
pub fn reopen(
    path: &Path,
    mut file: File,
    id: FileId,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
) -> Result<OpenedKit> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("rewinding the kit", path, e))?;
    open_from(path, file, id, trust, opts)
}

/// Outcome of the streaming pass.
#[derive(Debug)]
pub struct Streamed {
    /// For a split kit: which parts were read from the medium and which local copies reused.
    pub parts: Option<crate::parts::PartsReport>,
    /// Container-level facts (whole-file digest and size).
    pub kit: StreamedKit,
    /// Attestation and SBOM results.
    pub findings: Findings,
}

/// Stage two: verify every member of an opened kit, write members under `staging` when given
/// (only the member at `only`, when that is given), check provenance and SBOMs as they pass. On error the caller discards `staging`.
///
/// The attestation is checked against the root that verified the manifest (`header.trust`: the
/// last root of the kit's rotation chain, if it carried one).
pub fn stream(
    kit: OpenedKit,
    limits: &Limits,
    staging: Option<PathBuf>,
    only: Option<&'static str>,
    progress: &mut dyn Progress,
) -> Result<(KitHeader, Streamed)> {
    let OpenedKit {
        header,
        reader,
        parts,
        ..
    } = kit;
    let explain = |e: Error| match &parts {
        Some(p) => p.explain(e),
        None => e,
    };
    crate::provenance::check_manifest(&header.manifest)?;
    let total = header
        .manifest
        .members
        .iter()
        .map(|m| m.uncompressed.size)
        .sum();
    progress.start(total);
    let mut sink = KitSink::new(staging, &header.manifest, &header.trust, limits, progress);
    if let Some(path) = only {
        sink = sink.only(path);
    }
    let streamed = reader
        .stream(&header.manifest, &mut sink)
        .map_err(|e| match e {
            StreamError::Kit(e) => explain(Error::Format(e)),
            StreamError::Sink(e) => explain(e),
        })?;
    if let Some(p) = &parts {
        p.check_whole(streamed.kit_sha256, streamed.kit_size)?;
    }
    let findings = sink.finish()?;
    progress.finish();
    if findings.statement.is_none() {
        // check_manifest guarantees an attestation member, and end() of that member sets it.
        return Err(Error::Internal("attestation member was not checked"));
    }
    Ok((
        header,
        Streamed {
            parts: parts.as_ref().map(PartsHandle::report),
            kit: streamed,
            findings,
        },
    ))
}

/// Read the manifest envelope unverified (for `inspect` without a trust root).
pub fn read_unverified(kit: &Path, limits: &Limits) -> Result<(Envelope, Manifest)> {
    let (file, _) = open_file(kit, Links::Follow)?;
    let (env, manifest) = read_manifest_unverified(BufReader::new(file), limits)?;
    Ok((env, manifest.0))
}

/// The attestation member's content read WITHOUT verification (for `inspect --provenance`
/// without a trust root): bounded compressed read, bounded decompression.
pub fn read_attestation_unverified(
    kit: &Path,
    manifest: &Manifest,
    limits: &Limits,
) -> Result<Option<Vec<u8>>> {
    let Some(att) = manifest
        .members
        .iter()
        .find(|m| m.role == MemberRole::Attestation)
    else {
        return Ok(None);
    };
    let cap = crate::provenance::MAX_ATTESTATION_BYTES;
    let want = member_entry_name(&att.path);
    let (file, _) = open_file(kit, Links::Follow)?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let entries = archive
        .entries()
        .map_err(|e| Error::io("reading the kit", kit, e))?
        .raw(true);
    for entry in entries.take(limits.max_members + 1) {
        let entry = entry.map_err(|e| Error::io("reading the kit", kit, e))?;
        if entry.path_bytes().as_ref() != want.as_bytes() {
            continue;
        }
        if entry.size() > cap {
            return Err(Error::AttestationTooLarge {
                path: ouk_format::error::Name::new(att.path.as_str()),
                size: entry.size(),
                limit: cap,
            });
        }
        let mut decoder = zstd::stream::read::Decoder::new(entry)
            .map_err(|e| Error::io("decompressing the attestation", kit, e))?;
        decoder
            .window_log_max(limits.max_zstd_window_log)
            .map_err(|e| Error::io("decompressing the attestation", kit, e))?;
        let mut out = Vec::new();
        decoder
            .take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io("decompressing the attestation", kit, e))?;
        if out.len() as u64 > cap {
            return Err(Error::AttestationTooLarge {
                path: ouk_format::error::Name::new(att.path.as_str()),
                size: out.len() as u64,
                limit: cap,
            });
        }
        return Ok(Some(out));
    }
    Ok(None)
}
