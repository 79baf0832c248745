//! Reading kits: a staged, streaming verifier.
//!
//! Order of operations (spec §"Verification algorithm"):
//! 1. The first entry must be the manifest envelope; it is read with a hard size cap and nothing
//!    else is read until its signature meets the `kit` threshold and the manifest validates.
//! 2. Each following entry must be exactly the next manifest member (name, type, size), else the
//!    kit is refused before its data is read.
//! 3. A member's compressed bytes are read in `chunk_size` chunks; each chunk is hashed and
//!    compared with its signed digest *before* it is handed to zstd (authenticate, then
//!    decompress). The whole-member digest is checked at the end of the member.
//! 4. zstd output is cut off at the declared size; its sha256 is compared at the end. Only then is
//!    the member handed to the sink as complete ([`MemberSink::end`]).
//! 5. After the last member only the end-of-archive zero blocks may follow.
//!
//! Reading and chunk authentication run on one thread, decompression and content hashing on the
//! caller's thread; they are connected by a bounded channel, so memory stays at a few chunks
//! whatever the kit size.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, Sender, SyncSender};

use crate::digest::{Hasher, Sha256};
use crate::dsse::Envelope;
use crate::error::{Document, Error, Name};
use crate::limits::Limits;
use crate::manifest::{Manifest, Member, Unverified};
use crate::media_types::MANIFEST_PAYLOAD_TYPE;
use crate::time::Timestamp;
use crate::trust_root::{RoleName, TrustRoot};
use crate::verified::Verified;

use super::members::{member_entry_name, MANIFEST_ENTRY};

/// Receives verified member content as it streams. `write` may be called with bytes of a member
/// whose final digests are not yet confirmed (each chunk of compressed input was already
/// authenticated); only after [`MemberSink::end`] is the member complete. On any error the caller
/// must discard everything the sink received.
pub trait MemberSink {
    /// A member starts.
    fn begin(&mut self, member: &Member) -> Result<(), Error>;
    /// Decompressed bytes of the current member.
    fn write(&mut self, data: &[u8]) -> Result<(), Error>;
    /// The current member matched all its digests.
    fn end(&mut self, member: &Member) -> Result<(), Error>;
}

/// A sink that discards content: `verify` without unpacking.
#[derive(Debug, Default)]
pub struct NullSink;

impl MemberSink for NullSink {
    fn begin(&mut self, _: &Member) -> Result<(), Error> {
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }
    fn end(&mut self, _: &Member) -> Result<(), Error> {
        Ok(())
    }
}

/// Policy inputs to verification. Time comes from the caller (no clock in this crate).
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The current time.
    pub now: Timestamp,
    /// Tolerated clock skew in seconds, applied to expiry and creation time.
    pub skew_secs: i64,
    /// Accept a kit past `expires_at` (the importer records this in its audit log).
    pub allow_expired: bool,
    /// Size limits.
    pub limits: Limits,
}

/// What a successful verification yields.
#[derive(Debug, Clone)]
pub struct VerifiedKit {
    /// The manifest, now trusted.
    pub manifest: Verified<Manifest>,
    /// sha256 of the whole kit file as read.
    pub kit_sha256: Sha256,
    /// Size of the whole kit file as read.
    pub kit_size: u64,
    /// Whether the kit was past `expires_at` and accepted only because `allow_expired` was set.
    pub expired: bool,
}

enum Msg {
    Envelope(Vec<u8>),
    Begin(usize),
    Chunk(Vec<u8>),
    End,
    Done { sha256: Sha256, size: u64 },
    Fail(Error),
}

/// What the reader thread needs to know about each member once the manifest is trusted.
struct Expected {
    entry_name: String,
    path: Name,
    size: u64,
    sha256: Sha256,
    chunks: Vec<Sha256>,
}

/// Verify a kit read from `kit`, streaming each member's content into `sink`.
pub fn verify_kit<R: Read + Send>(
    kit: R,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
    sink: &mut dyn MemberSink,
) -> Result<VerifiedKit, Error> {
    let (tx, rx) = sync_channel::<Msg>(4);
    let (plan_tx, plan_rx) = std::sync::mpsc::channel::<(Vec<Expected>, u32)>();
    let (hash_tx, hash_in) = sync_channel::<HashMsg>(HASH_QUEUE);
    let (digest_tx, digest_rx) = sync_channel::<(Sha256, u64)>(1);
    let (recycle_tx, recycled) = sync_channel::<Vec<u8>>(HASH_QUEUE + 2);
    let limits = opts.limits.clone();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_container(kit, &limits, tx, plan_rx));
        scope.spawn(move || content_hasher(hash_in, digest_tx, recycle_tx));
        let hasher = ContentHasher {
            tx: hash_tx,
            rx: digest_rx,
            recycled,
        };
        let result = drive(&rx, plan_tx, trust, opts, sink, &hasher);
        drop(hasher);
        drop(rx);
        // A panic in the reader thread is our bug, not the kit's; surface it as an I/O failure
        // rather than unwinding through the caller.
        if reader.join().is_err() && result.is_ok() {
            return Err(Error::Io {
                during: "reading the kit (reader thread failed)",
                kind: io::ErrorKind::Other,
            });
        }
        result
    })
}

fn drive(
    rx: &Receiver<Msg>,
    plan_tx: Sender<(Vec<Expected>, u32)>,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
    sink: &mut dyn MemberSink,
    hasher: &ContentHasher,
) -> Result<VerifiedKit, Error> {
    let envelope = match recv(rx)? {
        Msg::Envelope(bytes) => bytes,
        Msg::Fail(e) => return Err(e),
        _ => return Err(protocol()),
    };
    let (manifest, expired) = authenticate_manifest(&envelope, trust, opts)?;
    let plan = manifest
        .members
        .iter()
        .map(|m| Expected {
            entry_name: member_entry_name(&m.path),
            path: Name::new(m.path.as_str()),
            size: m.compressed.size,
            sha256: m.compressed.sha256,
            chunks: m.compressed.chunks.clone(),
        })
        .collect();
    plan_tx
        .send((plan, manifest.chunk_size))
        .map_err(|_| protocol())?;
    for (index, member) in manifest.members.iter().enumerate() {
        match recv(rx)? {
            Msg::Begin(i) if i == index => {}
            Msg::Fail(e) => return Err(e),
            _ => return Err(protocol()),
        }
        sink.begin(member)?;
        decode_member(rx, member, opts.limits.max_zstd_window_log, sink, hasher)?;
        sink.end(member)?;
    }
    match recv(rx)? {
        Msg::Done { sha256, size } => Ok(VerifiedKit {
            manifest,
            kit_sha256: sha256,
            kit_size: size,
            expired,
        }),
        Msg::Fail(e) => Err(e),
        _ => Err(protocol()),
    }
}

/// Steps 1 of the algorithm: envelope → kit-role threshold → manifest structure → builder → time.
fn authenticate_manifest(
    envelope: &[u8],
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
) -> Result<(Verified<Manifest>, bool), Error> {
    let envelope = Envelope::parse(envelope, Document::Manifest, &opts.limits)?;
    let keys = trust.role_keys(RoleName::Kit);
    let payload = envelope.verify(
        MANIFEST_PAYLOAD_TYPE,
        Document::Manifest,
        RoleName::Kit.as_str(),
        &keys,
        trust.roles.kit.threshold as usize,
    )?;
    let manifest = Manifest::from_payload(payload, &opts.limits)?;
    if !trust.allows_builder(&manifest.builder.id) {
        return Err(Error::BuilderNotAllowed {
            builder: Name::new(&manifest.builder.id),
        });
    }
    if manifest.created_at > opts.now.plus_secs(opts.skew_secs) {
        return Err(Error::CreatedInFuture {
            created: manifest.created_at.to_string(),
        });
    }
    let expired = opts.now > manifest.expires_at.plus_secs(opts.skew_secs);
    if expired && !opts.allow_expired {
        return Err(Error::KitExpired {
            expires: manifest.expires_at.to_string(),
        });
    }
    Ok((Verified::new(manifest), expired))
}

/// Decompress one member from authenticated chunks, capping output at the declared size.
fn decode_member(
    rx: &Receiver<Msg>,
    member: &Member,
    window_log_max: u32,
    sink: &mut dyn MemberSink,
    hasher: &ContentHasher,
) -> Result<(), Error> {
    let path = || Name::new(member.path.as_str());
    let mut feed = ChunkFeed {
        rx,
        cur: Vec::new(),
        pos: 0,
        ended: false,
        failure: None,
    };
    let declared = member.uncompressed.size;
    let mut produced: u64 = 0;
    // zstd decompresses straight into batch buffers that then travel to the hashing thread (and
    // come back for reuse): no copy, no per-batch allocation once the pool is warm.
    let mut batch = hasher.buffer();
    let mut filled = 0usize;
    {
        let decode_err = |feed: &mut ChunkFeed<'_>, e: io::Error| -> Error {
            feed.failure.take().unwrap_or_else(|| Error::Decompression {
                path: path(),
                reason: Name::new(&e.to_string()),
            })
        };
        let mut decoder = match zstd::stream::read::Decoder::with_buffer(&mut feed) {
            Ok(d) => d,
            Err(e) => return Err(Error::io("starting the decompressor", &e)),
        };
        if let Err(e) = decoder.window_log_max(window_log_max) {
            return Err(Error::io("configuring the decompressor", &e));
        }
        loop {
            if filled == batch.len() {
                hasher.feed(std::mem::replace(&mut batch, hasher.buffer()))?;
                filled = 0;
            }
            let n = match decoder.read(&mut batch[filled..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    drop(decoder);
                    return Err(decode_err(&mut feed, e));
                }
            };
            if produced + n as u64 > declared {
                return Err(Error::UncompressedSizeMismatch {
                    path: path(),
                    expected: declared,
                });
            }
            produced += n as u64;
            sink.write(&batch[filled..filled + n])?;
            filled += n;
        }
    }
    // The decoder stops at EOF of the feed, which only comes after the reader confirmed the
    // whole-member digest; drain defensively in case it stopped at a frame boundary.
    while !feed.ended {
        let leftover = match feed.fill_buf() {
            Ok(more) => !more.is_empty(),
            Err(e) => {
                return Err(feed.failure.take().unwrap_or_else(|| Error::Decompression {
                    path: path(),
                    reason: Name::new(&e.to_string()),
                }))
            }
        };
        if leftover {
            return Err(Error::Decompression {
                path: path(),
                reason: Name::new("data after the end of the zstd stream"),
            });
        }
    }
    batch.truncate(filled);
    hasher.feed(batch)?;
    let (sha, len) = hasher.finish()?;
    if len != declared || produced != declared {
        return Err(Error::UncompressedSizeMismatch {
            path: path(),
            expected: declared,
        });
    }
    if sha != member.uncompressed.sha256 {
        return Err(Error::UncompressedDigestMismatch { path: path() });
    }
    Ok(())
}

/// Bytes per batch handed to the content-hashing thread.
const HASH_BATCH: usize = 1 << 20;
/// Batches in flight to the hashing thread (bounds memory at about this many MiB).
const HASH_QUEUE: usize = 6;

enum HashMsg {
    Data(Vec<u8>),
    End,
}

/// The decompressed content is hashed on its own thread, so decompression (caller's thread),
/// content hashing and reading/chunk authentication (reader thread) overlap.
struct ContentHasher {
    tx: SyncSender<HashMsg>,
    rx: Receiver<(Sha256, u64)>,
    recycled: Receiver<Vec<u8>>,
}

impl ContentHasher {
    /// A batch buffer of `HASH_BATCH` bytes, reused when the hasher has returned one.
    fn buffer(&self) -> Vec<u8> {
        match self.recycled.try_recv() {
            Ok(mut b) => {
                b.resize(HASH_BATCH, 0);
                b
            }
            Err(_) => vec![0u8; HASH_BATCH],
        }
    }

    fn feed(&self, data: Vec<u8>) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        self.tx.send(HashMsg::Data(data)).map_err(|_| protocol())
    }

    fn finish(&self) -> Result<(Sha256, u64), Error> {
        self.tx.send(HashMsg::End).map_err(|_| protocol())?;
        self.rx.recv().map_err(|_| protocol())
    }
}

fn content_hasher(
    rx: Receiver<HashMsg>,
    tx: SyncSender<(Sha256, u64)>,
    recycle: SyncSender<Vec<u8>>,
) {
    let mut hasher = Hasher::new();
    while let Ok(msg) = rx.recv() {
        match msg {
            HashMsg::Data(d) => {
                hasher.update(&d);
                // Never block on the pool: a full pool just drops the buffer.
                let _ = recycle.try_send(d);
            }
            HashMsg::End => {
                if tx.send(std::mem::take(&mut hasher).finish()).is_err() {
                    return;
                }
            }
        }
    }
}

/// A `BufRead` over authenticated chunks arriving from the reader thread.
struct ChunkFeed<'a> {
    rx: &'a Receiver<Msg>,
    cur: Vec<u8>,
    pos: usize,
    ended: bool,
    failure: Option<Error>,
}

impl Read for ChunkFeed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkFeed<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.cur.len() && !self.ended {
            match self.rx.recv() {
                Ok(Msg::Chunk(c)) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Ok(Msg::End) => self.ended = true,
                Ok(Msg::Fail(e)) => {
                    self.failure = Some(e);
                    return Err(io::Error::other("kit reader failed"));
                }
                _ => {
                    self.failure = Some(protocol());
                    return Err(io::Error::other("kit reader stopped"));
                }
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.cur.len());
    }
}

fn recv(rx: &Receiver<Msg>) -> Result<Msg, Error> {
    rx.recv().map_err(|_| protocol())
}

fn protocol() -> Error {
    Error::Io {
        during: "reading the kit (reader stopped unexpectedly)",
        kind: io::ErrorKind::BrokenPipe,
    }
}

// ---------------------------------------------------------------------------------------------
// Reader thread.

/// A reader that hashes everything read through it (the whole-kit digest) and checks that the
/// padding after each entry's data is zero. tar-rs skips padding unread; unchecked, it would be an
/// unauthenticated 511-byte side channel per entry and would let anyone turn a genuine kit into
/// "another kit with the same sequence" (a fake equivocation) by flipping a padding bit.
struct KitStream<R> {
    inner: R,
    hasher: Hasher,
    pos: u64,
    padding: Rc<PaddingCheck>,
}

/// The byte range that must be zero (the current entry's padding) and whether it was not.
#[derive(Default)]
struct PaddingCheck {
    range: Cell<(u64, u64)>,
    violated: Cell<bool>,
    /// The underlying reader reported end of file: a tar error after that is a truncation.
    eof: Cell<bool>,
}

impl PaddingCheck {
    /// Register the padding after an entry whose data ends at `end`.
    fn expect_zero_after(&self, end: u64) {
        self.range.set((end, end.next_multiple_of(512)));
    }

    /// Map a tar-layer error, knowing whether the kit ended early.
    fn tar_error(&self, during: &str, e: io::Error) -> Error {
        if self.eof.get() {
            Error::Truncated {
                during: Name::new(during),
            }
        } else {
            tar_error(during, e)
        }
    }

    fn check(&self) -> Result<(), Error> {
        if self.violated.get() {
            return Err(Error::TarFormat {
                reason: Name::new("non-zero padding after an entry"),
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for KitStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.padding.eof.set(true);
        }
        self.hasher.update(&buf[..n]);
        let (from, to) = self.padding.range.get();
        let start = from.max(self.pos);
        let end = to.min(self.pos + n as u64);
        if start < end {
            let slice = &buf[(start - self.pos) as usize..(end - self.pos) as usize];
            if slice.iter().any(|&b| b != 0) {
                self.padding.violated.set(true);
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

fn read_container<R: Read>(
    kit: R,
    limits: &Limits,
    tx: SyncSender<Msg>,
    plan_rx: Receiver<(Vec<Expected>, u32)>,
) {
    if let Err(e) = read_container_inner(kit, limits, &tx, plan_rx) {
        let _ = tx.send(Msg::Fail(e));
    }
}

/// Map a tar-layer I/O error to the kit error it means.
fn tar_error(during: &str, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Error::Truncated {
            during: Name::new(during),
        }
    } else if e.kind() == io::ErrorKind::Other || e.kind() == io::ErrorKind::InvalidData {
        Error::TarFormat {
            reason: Name::new(&e.to_string()),
        }
    } else {
        Error::io("reading the kit", &e)
    }
}

/// Type and name checks shared by every entry: plain ustar regular files only.
fn check_entry<R: Read>(entry: &tar::Entry<'_, R>) -> Result<Vec<u8>, Error> {
    let header = entry.header();
    let name = entry.path_bytes().into_owned();
    let entry_type = header.entry_type();
    if !matches!(entry_type, tar::EntryType::Regular) || header.as_ustar().is_none() {
        return Err(Error::ForbiddenEntryType {
            path: Name::from_bytes(&name),
            entry_type: entry_type.as_byte(),
        });
    }
    Ok(name)
}

/// Every header byte must be the one the writer produces for this name and size (with the kit's
/// single mtime): otherwise unused header fields (mode, owner, link name, ...) would be an
/// unauthenticated side channel and would make one signed kit exist as many different files.
fn check_canonical<R: Read>(
    entry: &tar::Entry<'_, R>,
    name: &str,
    mtime: &mut Option<u64>,
) -> Result<(), Error> {
    let header = entry.header();
    let this = header.mtime().map_err(|e| tar_error("a header", e))?;
    let expected = super::writer::canonical_header(name, entry.size(), this)?;
    let uniform = mtime.is_none_or(|m| m == this);
    if !uniform || expected.as_bytes() != header.as_bytes() {
        return Err(Error::TarFormat {
            reason: Name::new(&format!("non-canonical header for {name}")),
        });
    }
    *mtime = Some(this);
    Ok(())
}

/// Read the first entry, which must be the manifest envelope, with its size capped before a byte
/// of it is read. Returns its bytes, the offset where its data ends and its mtime.
fn read_first_entry<R: Read>(
    entries: &mut tar::Entries<'_, R>,
    limits: &Limits,
    tar_error: &dyn Fn(&str, io::Error) -> Error,
) -> Result<(Vec<u8>, u64, u64), Error> {
    let mut first = match entries.next() {
        Some(e) => e.map_err(|e| tar_error("the manifest envelope header", e))?,
        None => {
            return Err(Error::Truncated {
                during: Name::new("the manifest envelope header"),
            })
        }
    };
    let name = check_entry(&first)?;
    if name != MANIFEST_ENTRY.as_bytes() {
        return Err(Error::ManifestNotFirst {
            found: Name::from_bytes(&name),
        });
    }
    let size = first.size();
    if size > limits.max_envelope_bytes {
        return Err(Error::LimitExceeded {
            what: "signed envelope size",
            limit: limits.max_envelope_bytes,
        });
    }
    let mut mtime = None;
    check_canonical(&first, MANIFEST_ENTRY, &mut mtime)?;
    let mut bytes = Vec::with_capacity(size as usize);
    (&mut first)
        .take(size)
        .read_to_end(&mut bytes)
        .map_err(|e| tar_error("the manifest envelope", e))?;
    if (bytes.len() as u64) < size {
        return Err(Error::Truncated {
            during: Name::new("the manifest envelope"),
        });
    }
    let end = first.raw_file_position() + size;
    Ok((bytes, end, mtime.unwrap_or_default()))
}

fn read_container_inner<R: Read>(
    kit: R,
    limits: &Limits,
    tx: &SyncSender<Msg>,
    plan_rx: Receiver<(Vec<Expected>, u32)>,
) -> Result<(), Error> {
    let send = |m: Msg| tx.send(m).map_err(|_| protocol());
    let padding = Rc::new(PaddingCheck::default());
    let te = |during: &str, e: io::Error| padding.tar_error(during, e);
    let mut archive = tar::Archive::new(KitStream {
        inner: kit,
        hasher: Hasher::new(),
        pos: 0,
        padding: Rc::clone(&padding),
    });
    let mut mtime: Option<u64>;
    {
        let mut entries = archive
            .entries()
            .map_err(|e| te("opening the container", e))?
            .raw(true);

        // Step 1: the envelope, size-capped.
        let (envelope, end, first_mtime) = read_first_entry(&mut entries, limits, &te)?;
        mtime = Some(first_mtime);
        padding.expect_zero_after(end);
        send(Msg::Envelope(envelope))?;

        // Wait for the verdict on the manifest: nothing further is read unless it was trusted.
        let Ok((plan, chunk_size)) = plan_rx.recv() else {
            return Ok(());
        };

        // Steps 2-3: members in manifest order, chunk by chunk.
        let mut buf = Vec::new();
        for (index, expected) in plan.iter().enumerate() {
            let next = entries.next();
            padding.check()?;
            let mut entry = match next {
                Some(e) => e.map_err(|e| te("a member header", e))?,
                None => {
                    return Err(Error::MissingMember {
                        path: expected.path.clone(),
                    })
                }
            };
            let name = check_entry(&entry)?;
            if name != expected.entry_name.as_bytes() {
                let listed = plan.iter().any(|p| p.entry_name.as_bytes() == name);
                return Err(Error::UnexpectedMember {
                    path: Name::from_bytes(&name),
                    reason: if listed {
                        "out of order or repeated"
                    } else {
                        "not in the manifest"
                    },
                });
            }
            check_canonical(&entry, &expected.entry_name, &mut mtime)?;
            if entry.size() != expected.size {
                return Err(Error::CompressedSizeMismatch {
                    path: expected.path.clone(),
                    expected: expected.size,
                    actual: entry.size(),
                });
            }
            send(Msg::Begin(index))?;
            let mut whole = Hasher::new();
            let mut remaining = expected.size;
            for (chunk_index, chunk_digest) in expected.chunks.iter().enumerate() {
                let len = remaining.min(u64::from(chunk_size)) as usize;
                buf.resize(len, 0);
                entry
                    .read_exact(&mut buf)
                    .map_err(|e| te("member data", e))?;
                if Sha256::of(&buf) != *chunk_digest {
                    return Err(Error::ChunkDigestMismatch {
                        path: expected.path.clone(),
                        chunk: chunk_index as u64,
                    });
                }
                whole.update(&buf);
                remaining -= len as u64;
                send(Msg::Chunk(std::mem::take(&mut buf)))?;
            }
            if whole.finish().0 != expected.sha256 {
                return Err(Error::CompressedDigestMismatch {
                    path: expected.path.clone(),
                });
            }
            padding.expect_zero_after(entry.raw_file_position() + expected.size);
            send(Msg::End)?;
        }

        // Step 5: nothing but the end-of-archive marker may follow.
        let next = entries.next();
        padding.check()?;
        if let Some(extra) = next {
            let extra = extra.map_err(|e| te("the end of the container", e))?;
            return Err(Error::UnexpectedMember {
                path: Name::from_bytes(&extra.path_bytes()),
                reason: "after the last manifest member",
            });
        }
    }
    let mut stream = archive.into_inner();
    padding.check()?;
    let mut rest = Vec::new();
    (&mut stream)
        .take(limits.max_trailing_bytes + 1)
        .read_to_end(&mut rest)
        .map_err(|e| te("the end-of-archive marker", e))?;
    if rest.len() as u64 > limits.max_trailing_bytes || rest.iter().any(|&b| b != 0) {
        return Err(Error::TrailingData);
    }
    // tar-rs stops at the first zero block; a well-formed end marker has a second one.
    if rest.len() < 512 {
        return Err(Error::Truncated {
            during: Name::new("the end-of-archive marker"),
        });
    }
    let (sha256, size) = stream.hasher.finish();
    send(Msg::Done { sha256, size })?;
    Ok(())
}

/// Read the first entry's bytes (the signed manifest envelope), size-capped, without parsing
/// anything: the importer keeps these exact bytes next to what it installs.
pub fn read_envelope_bytes<R: Read>(kit: R, limits: &Limits) -> Result<Vec<u8>, Error> {
    let state = Rc::new(PaddingCheck::default());
    let mut archive = tar::Archive::new(KitStream {
        inner: kit,
        hasher: Hasher::new(),
        pos: 0,
        padding: Rc::clone(&state),
    });
    let te = |during: &str, e: io::Error| state.tar_error(during, e);
    let mut entries = archive
        .entries()
        .map_err(|e| te("opening the container", e))?
        .raw(true);
    let (bytes, _, _) = read_first_entry(&mut entries, limits, &te)?;
    Ok(bytes)
}

/// Read the first entry and parse it as a DSSE envelope, size-capped, WITHOUT parsing the
/// payload: the importer's pre-flight authenticates the envelope before it parses the manifest.
pub fn read_envelope<R: Read>(kit: R, limits: &Limits) -> Result<Envelope, Error> {
    Envelope::parse(
        &read_envelope_bytes(kit, limits)?,
        Document::Manifest,
        limits,
    )
}

/// Read the manifest envelope WITHOUT verifying it, for `inspect` without a trust root.
/// The result is wrapped in [`Unverified`] so it cannot be passed where trust is required.
pub fn read_manifest_unverified<R: Read>(
    kit: R,
    limits: &Limits,
) -> Result<(Envelope, Unverified<Manifest>), Error> {
    let envelope = read_envelope(kit, limits)?;
    let manifest = Manifest::from_payload(envelope.unverified_payload(), limits)?;
    Ok((envelope, Unverified(manifest)))
}
