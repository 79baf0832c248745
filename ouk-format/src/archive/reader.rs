//! Reading kits: the one staged, streaming verifier every import path goes through.
//!
//! [`KitReader::open`] is stage one: it reads the first container entry (the manifest envelope,
//! size-capped before a byte of it is read), checks its signatures against the `kit` role
//! threshold, then the manifest's structure, builder and times, and returns a [`KitHeader`] with
//! the exact envelope bytes and the authenticated manifest. Nothing after the envelope has been
//! read at that point, so the caller can apply policy (rollback floor, equivocation, free space)
//! and refuse a kit before a single payload byte is read.
//!
//! [`KitReader::stream`] is stage two, on the same open reader (the file is opened once):
//! 1. Each following entry must be exactly the next manifest member (name, type, canonical
//!    header, size), else the kit is refused before its data is read.
//! 2. A member's compressed bytes are read in `chunk_size` chunks; each chunk is hashed and
//!    compared with its signed digest *before* it is handed to zstd (authenticate, then
//!    decompress). The whole-member digest is checked at the end of the member.
//! 3. zstd output is cut off at the declared size; its sha256 is compared at the end. Only then is
//!    the member handed to the sink as complete ([`MemberSink::end`]).
//! 4. After the last member only the end-of-archive zero blocks may follow.
//!
//! Reading and chunk authentication run on one thread, decompression on the caller's thread and
//! content hashing on a third; they are connected by bounded channels sized in bytes, so memory
//! stays at a few chunks whatever the kit size.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::digest::{Hasher, Sha256};
use crate::dsse::Envelope;
use crate::error::{Document, Error, Name};
use crate::limits::Limits;
use crate::manifest::{Manifest, Member, Unverified};
use crate::media_types::MANIFEST_PAYLOAD_TYPE;
use crate::time::Timestamp;
use crate::trust_root::{
    check_not_expired, revocations, verify_successor, Revocation, RoleName, TrustRoot,
};
use crate::verified::Verified;

use super::members::{
    member_entry_name, trust_root_entry_name, trust_root_entry_version, MANIFEST_ENTRY,
};

/// Receives verified member content as it streams. `write` may be called with bytes of a member
/// whose final digests are not yet confirmed (each chunk of compressed input was already
/// authenticated); only after [`MemberSink::end`] is the member complete. On any error the caller
/// must discard everything the sink received.
///
/// The sink has its own error type so the caller gets its own errors back unchanged
/// ([`StreamError::Sink`]) instead of a kit error standing in for them.
pub trait MemberSink {
    /// What the sink can fail with.
    type Error;
    /// A member starts.
    fn begin(&mut self, member: &Member) -> Result<(), Self::Error>;
    /// Decompressed bytes of the current member.
    fn write(&mut self, data: &[u8]) -> Result<(), Self::Error>;
    /// The current member matched all its digests.
    fn end(&mut self, member: &Member) -> Result<(), Self::Error>;
}

/// A sink that discards content: `verify` without unpacking.
#[derive(Debug, Default)]
pub struct NullSink;

impl MemberSink for NullSink {
    type Error = std::convert::Infallible;
    fn begin(&mut self, _: &Member) -> Result<(), Self::Error> {
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn end(&mut self, _: &Member) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Why streaming stopped: the kit failed a check, or the caller's sink refused.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The kit failed verification (or could not be read).
    Kit(Error),
    /// The sink returned an error; it is handed back untouched.
    Sink(E),
}

impl<E> From<Error> for StreamError<E> {
    fn from(e: Error) -> Self {
        StreamError::Kit(e)
    }
}

impl<E: Into<Error>> StreamError<E> {
    /// When the sink's errors are kit errors (or it cannot fail), either side is a kit error.
    pub fn into_kit(self) -> Error {
        match self {
            StreamError::Kit(e) => e,
            StreamError::Sink(e) => e.into(),
        }
    }
}

/// A sink that cannot fail never produces a kit error.
impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl<E: std::fmt::Display> std::fmt::Display for StreamError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Kit(e) => e.fmt(f),
            StreamError::Sink(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for StreamError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Kit(e) => Some(e),
            StreamError::Sink(e) => Some(e),
        }
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
    /// Keys earlier trust roots took out of a role (the importer keeps them): a manifest whose
    /// only valid signatures are by a key revoked from the `kit` role is refused as
    /// [`Error::RevokedKey`] (an attestation by a revoked key is a plain threshold failure).
    /// Revocations the kit's own chain makes are added automatically.
    pub revoked: Vec<Revocation>,
}

/// Stage one's result: what the signed envelope says, authenticated, before any member is read.
///
/// The manifest is [`Verified`] in the sense that a threshold of `kit` keys signed it and it
/// passed structural, builder and time checks; its members are only confirmed one by one as
/// [`KitReader::stream`] reaches them.
#[derive(Debug, Clone)]
pub struct KitHeader {
    /// The envelope exactly as it is in the kit (kept next to what is installed, so it can be
    /// verified again later without re-serialising anything).
    pub envelope: Vec<u8>,
    /// The authenticated manifest.
    pub manifest: Verified<Manifest>,
    /// sha256 of the manifest's deterministic serialisation (`Manifest::to_payload`): the kit's
    /// identity for idempotence and equivocation (two containers of one signed manifest are the
    /// same kit).
    pub manifest_sha256: Sha256,
    /// Whether the kit was past `expires_at` and accepted only because `allow_expired` was set.
    pub expired: bool,
    /// Trust roots the kit carried that are newer than the one given to [`KitReader::open`],
    /// each verified as the successor of the one before (spec §7.5), with their exact bytes so
    /// an importer can keep them. Empty for a kit signed under the given root.
    pub new_roots: Vec<(Verified<TrustRoot>, Vec<u8>)>,
    /// The root that verified the manifest: the last of `new_roots`, else the one given. Use it
    /// (not the one given) for everything after the manifest, such as the attestation.
    pub trust: Verified<TrustRoot>,
    /// Revocations made by `new_roots` (to be remembered with them).
    pub revocations: Vec<Revocation>,
}

/// Stage two's result: the container-level facts only known after the last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamedKit {
    /// sha256 of the whole kit file as read.
    pub kit_sha256: Sha256,
    /// Size of the whole kit file as read.
    pub kit_size: u64,
}

/// What [`verify_kit`] yields: header and container facts together.
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

/// An open kit whose envelope has been authenticated and whose members have not been read yet.
///
/// Dropping it without calling [`KitReader::stream`] reads nothing more.
pub struct KitReader<R> {
    stream: KitStream<R>,
    padding: Arc<PaddingCheck>,
    mtime: u64,
    plan: Vec<Expected>,
    chunk_size: u32,
    limits: Limits,
}

impl<R> std::fmt::Debug for KitReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KitReader")
            .field("position", &self.stream.pos)
            .field("members", &self.plan.len())
            .finish_non_exhaustive()
    }
}

impl<R: Read + Send> KitReader<R> {
    /// Stage one: read and authenticate the envelope. Reads at most one 512-byte header, the
    /// envelope (capped at `max_envelope_bytes` before it is read) and its padding.
    pub fn open(
        kit: R,
        trust: &Verified<TrustRoot>,
        opts: &VerifyOptions,
    ) -> Result<(KitHeader, KitReader<R>), Error> {
        let padding = Arc::new(PaddingCheck::default());
        let mut stream = KitStream {
            inner: kit,
            hasher: Hasher::new(),
            pos: 0,
            padding: Arc::clone(&padding),
        };
        let mut mtime = None;
        let lead = read_leading_entries(&mut stream, Some(trust), &opts.limits, &mut mtime)?;
        let trust = lead.new_roots.last().map_or(trust, |(r, _)| r).clone();
        check_not_expired(&trust, opts.now, opts.skew_secs)?;
        let mut revoked = opts.revoked.clone();
        revoked.extend(lead.revocations.iter().cloned());
        let (manifest, manifest_sha256, expired) =
            authenticate_manifest(&lead.envelope, &trust, &revoked, opts)?;
        let mtime = mtime.unwrap_or_default();
        let envelope = lead.envelope;
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
        let chunk_size = manifest.chunk_size;
        let header = KitHeader {
            envelope,
            manifest,
            manifest_sha256,
            expired,
            new_roots: lead.new_roots,
            trust,
            revocations: lead.revocations,
        };
        let reader = KitReader {
            stream,
            padding,
            mtime,
            plan,
            chunk_size,
            limits: opts.limits.clone(),
        };
        Ok((header, reader))
    }

    /// Stage two: stream every member of `manifest` (the one [`KitReader::open`] returned) into
    /// `sink`, authenticating each chunk before it is decompressed.
    pub fn stream<S: MemberSink + ?Sized>(
        self,
        manifest: &Verified<Manifest>,
        sink: &mut S,
    ) -> Result<StreamedKit, StreamError<S::Error>> {
        if manifest.members.len() != self.plan.len() {
            return Err(StreamError::Kit(protocol()));
        }
        // Chunks in flight between the reader and the decompressor, sized in bytes (a 16 MiB
        // chunk size must not multiply into hundreds of MiB of queue).
        let depth = (IN_FLIGHT_BYTES / self.chunk_size.max(1) as usize).clamp(1, 8);
        let (tx, rx) = sync_channel::<Msg>(depth);
        let (hash_tx, hash_in) = sync_channel::<HashMsg>(HASH_QUEUE);
        let (digest_tx, digest_rx) = sync_channel::<(Sha256, u64)>(1);
        let (recycle_tx, recycled) = sync_channel::<Vec<u8>>(HASH_QUEUE + 2);
        let window_log_max = self.limits.max_zstd_window_log;
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || self.read_members(tx));
            scope.spawn(move || content_hasher(hash_in, digest_tx, recycle_tx));
            let hasher = ContentHasher {
                tx: hash_tx,
                rx: digest_rx,
                recycled,
            };
            let result = drive(&rx, manifest, window_log_max, sink, &hasher);
            drop(hasher);
            drop(rx);
            // A panic in the reader thread is our bug, not the kit's; surface it as an I/O
            // failure rather than unwinding through the caller.
            if reader.join().is_err() && result.is_ok() {
                return Err(StreamError::Kit(Error::Io {
                    during: "reading the kit (reader thread failed)",
                    kind: io::ErrorKind::Other,
                }));
            }
            result
        })
    }

    /// Give the underlying reader back without reading further (a caller that decided not to
    /// stream this kit now may rewind it and [`KitReader::open`] it again later).
    pub fn into_inner(self) -> R {
        self.stream.inner
    }

    /// The reader thread: members in plan order, then the end of the archive.
    fn read_members(self, tx: SyncSender<Msg>) {
        if let Err(e) = read_container(self, &tx) {
            let _ = tx.send(Msg::Fail(e));
        }
    }
}

/// Verify a whole kit in one call (open, then stream). For callers that need no policy between
/// the two stages.
pub fn verify_kit<R: Read + Send, S: MemberSink + ?Sized>(
    kit: R,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
    sink: &mut S,
) -> Result<VerifiedKit, StreamError<S::Error>> {
    let (header, reader) = KitReader::open(kit, trust, opts)?;
    let streamed = reader.stream(&header.manifest, sink)?;
    Ok(VerifiedKit {
        manifest: header.manifest,
        kit_sha256: streamed.kit_sha256,
        kit_size: streamed.kit_size,
        expired: header.expired,
    })
}

/// Bytes of authenticated chunks queued between the reader and the decompressor.
const IN_FLIGHT_BYTES: usize = 4 << 20;

enum Msg {
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

fn drive<S: MemberSink + ?Sized>(
    rx: &Receiver<Msg>,
    manifest: &Manifest,
    window_log_max: u32,
    sink: &mut S,
    hasher: &ContentHasher,
) -> Result<StreamedKit, StreamError<S::Error>> {
    for (index, member) in manifest.members.iter().enumerate() {
        match recv(rx)? {
            Msg::Begin(i) if i == index => {}
            Msg::Fail(e) => return Err(e.into()),
            _ => return Err(protocol().into()),
        }
        sink.begin(member).map_err(StreamError::Sink)?;
        decode_member(rx, member, window_log_max, sink, hasher)?;
        sink.end(member).map_err(StreamError::Sink)?;
    }
    match recv(rx)? {
        Msg::Done { sha256, size } => Ok(StreamedKit {
            kit_sha256: sha256,
            kit_size: size,
        }),
        Msg::Fail(e) => Err(e.into()),
        _ => Err(protocol().into()),
    }
}

/// Stage one's checks: envelope → kit-role threshold → manifest structure → builder → time.
fn authenticate_manifest(
    envelope: &[u8],
    trust: &Verified<TrustRoot>,
    revoked: &[Revocation],
    opts: &VerifyOptions,
) -> Result<(Verified<Manifest>, Sha256, bool), Error> {
    let envelope = Envelope::parse(envelope, Document::Manifest, &opts.limits)?;
    let keys = trust.role_keys(RoleName::Kit);
    let payload = envelope
        .verify(
            MANIFEST_PAYLOAD_TYPE,
            Document::Manifest,
            RoleName::Kit.as_str(),
            &keys,
            trust.roles.kit.threshold as usize,
        )
        .map_err(|e| name_revoked_signer(e, &envelope, trust, RoleName::Kit, revoked))?;
    let manifest = Manifest::from_payload(payload, &opts.limits)?;
    drop(envelope);
    // Identity of the signed content, independent of how the payload JSON was spelled.
    let manifest_sha256 = Sha256::of(&manifest.to_payload());
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
    Ok((Verified::new(manifest), manifest_sha256, expired))
}

/// Decompress one member from authenticated chunks, capping output at the declared size.
fn decode_member<S: MemberSink + ?Sized>(
    rx: &Receiver<Msg>,
    member: &Member,
    window_log_max: u32,
    sink: &mut S,
    hasher: &ContentHasher,
) -> Result<(), StreamError<S::Error>> {
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
            Err(e) => return Err(Error::io("starting the decompressor", &e).into()),
        };
        if let Err(e) = decoder.window_log_max(window_log_max) {
            return Err(Error::io("configuring the decompressor", &e).into());
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
                    return Err(decode_err(&mut feed, e).into());
                }
            };
            if produced + n as u64 > declared {
                return Err(Error::UncompressedSizeMismatch {
                    path: path(),
                    expected: declared,
                }
                .into());
            }
            produced += n as u64;
            sink.write(&batch[filled..filled + n])
                .map_err(StreamError::Sink)?;
            filled += n;
        }
    }
    // The decoder stops at EOF of the feed, which only comes after the reader confirmed the
    // whole-member digest; drain defensively in case it stopped at a frame boundary.
    while !feed.ended {
        let leftover = match feed.fill_buf() {
            Ok(more) => !more.is_empty(),
            Err(e) => {
                return Err(feed
                    .failure
                    .take()
                    .unwrap_or_else(|| Error::Decompression {
                        path: path(),
                        reason: Name::new(&e.to_string()),
                    })
                    .into())
            }
        };
        if leftover {
            return Err(Error::Decompression {
                path: path(),
                reason: Name::new("data after the end of the zstd stream"),
            }
            .into());
        }
    }
    batch.truncate(filled);
    hasher.feed(batch)?;
    let (sha, len) = hasher.finish()?;
    if len != declared || produced != declared {
        return Err(Error::UncompressedSizeMismatch {
            path: path(),
            expected: declared,
        }
        .into());
    }
    if sha != member.uncompressed.sha256 {
        return Err(Error::UncompressedDigestMismatch { path: path() }.into());
    }
    Ok(())
}

/// Bytes per batch handed to the content-hashing thread.
const HASH_BATCH: usize = 1 << 20;
/// Batches in flight to the hashing thread (bounds memory at about this many MiB).
const HASH_QUEUE: usize = 4;
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
// Reading the container.

/// A reader that hashes everything read through it (the whole-kit digest) and checks that the
/// padding after each entry's data is zero. tar-rs skips padding unread; unchecked, it would be an
/// unauthenticated 511-byte side channel per entry and would let anyone turn a genuine kit into
/// "another kit with the same sequence" (a fake equivocation) by flipping a padding bit.
struct KitStream<R> {
    inner: R,
    hasher: Hasher,
    pos: u64,
    padding: Arc<PaddingCheck>,
}

/// The byte range that must be zero (the current entry's padding) and whether it was not.
/// Shared between the stream and the tar-level code (atomics only so the pair can move to the
/// reader thread; one thread uses it at a time).
#[derive(Default)]
struct PaddingCheck {
    from: AtomicU64,
    to: AtomicU64,
    violated: AtomicBool,
    /// The underlying reader reported end of file: a tar error after that is a truncation.
    eof: AtomicBool,
}

impl PaddingCheck {
    /// Register the padding after an entry whose data ends at `end`.
    fn expect_zero_after(&self, end: u64) {
        self.from.store(end, Ordering::Relaxed);
        self.to.store(end.next_multiple_of(512), Ordering::Relaxed);
    }

    /// Map a tar-layer error, knowing whether the kit ended early.
    fn tar_error(&self, during: &str, e: io::Error) -> Error {
        if self.eof.load(Ordering::Relaxed) {
            Error::Truncated {
                during: Name::new(during),
            }
        } else {
            tar_error(during, e)
        }
    }

    fn check(&self) -> Result<(), Error> {
        if self.violated.load(Ordering::Relaxed) {
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
            self.padding.eof.store(true, Ordering::Relaxed);
        }
        self.hasher.update(&buf[..n]);
        let from = self.padding.from.load(Ordering::Relaxed);
        let to = self.padding.to.load(Ordering::Relaxed);
        let start = from.max(self.pos);
        let end = to.min(self.pos + n as u64);
        if start < end {
            let slice = &buf[(start - self.pos) as usize..(end - self.pos) as usize];
            if slice.iter().any(|&b| b != 0) {
                self.padding.violated.store(true, Ordering::Relaxed);
            }
        }
        self.pos += n as u64;
        Ok(n)
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
fn check_header(header: &tar::Header) -> Result<Vec<u8>, Error> {
    let name = header.path_bytes().into_owned();
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
fn check_canonical(
    header: &tar::Header,
    name: &str,
    size: u64,
    mtime: &mut Option<u64>,
) -> Result<(), Error> {
    let this = header.mtime().map_err(|e| tar_error("a header", e))?;
    let expected = super::writer::canonical_header(name, size, this)?;
    let uniform = mtime.is_none_or(|m| m == this);
    if !uniform || expected.as_bytes() != header.as_bytes() {
        return Err(Error::TarFormat {
            reason: Name::new(&format!("non-canonical header for {name}")),
        });
    }
    *mtime = Some(this);
    Ok(())
}

/// Fill `buf` completely, or report the kit as truncated `during` something.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8], during: &str) -> Result<(), Error> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Truncated {
                during: Name::new(during),
            }
        } else {
            Error::io("reading the kit", &e)
        }
    })
}

/// What precedes the members: trust roots, then the manifest envelope.
struct Leading {
    envelope: Vec<u8>,
    new_roots: Vec<(Verified<TrustRoot>, Vec<u8>)>,
    revocations: Vec<Revocation>,
}

/// Read the entries before the members straight off the stream (no tar iterator, so the same
/// stream can be handed to stage two): zero or more trust roots `ouk/trust/<N>.json` with
/// consecutive versions, then the manifest envelope. Each header is checked in tar-rs's order
/// (end marker, checksum, type, name) and its size capped before a byte of its data is read.
///
/// A root whose version the caller already trusts is read (≤ `max_trust_root_bytes`) and
/// skipped unparsed; each newer one must be the verified successor of the one before it
/// (signed by a threshold of the previous root AND its own, version exactly + 1), so nothing
/// unauthenticated is acted on. At most `max_trust_chain` roots, wherever they start.
fn read_leading_entries<R: Read>(
    stream: &mut KitStream<R>,
    anchor: Option<&Verified<TrustRoot>>,
    limits: &Limits,
    mtime: &mut Option<u64>,
) -> Result<Leading, Error> {
    let mut new_roots: Vec<(Verified<TrustRoot>, Vec<u8>)> = Vec::new();
    let mut revoked = Vec::new();
    let mut previous_name: Option<u64> = None;
    let mut roots_seen = 0usize;
    let mut root_bytes = 0u64;
    loop {
        let (header_block, name) = read_entry_header(stream, previous_name.is_none())?;
        let header = tar::Header::from_byte_slice(&header_block);
        let size = header
            .entry_size()
            .map_err(|e| tar_error("an entry header", e))?;
        if name == MANIFEST_ENTRY.as_bytes() {
            if size > limits.max_envelope_bytes {
                return Err(Error::LimitExceeded {
                    what: "signed envelope size",
                    limit: limits.max_envelope_bytes,
                });
            }
            check_canonical(header, MANIFEST_ENTRY, size, mtime)?;
            let envelope = read_entry_data(stream, size, "the manifest envelope")?;
            return Ok(Leading {
                envelope,
                new_roots,
                revocations: revoked,
            });
        }
        let Some(version) = trust_root_entry_version(&name) else {
            return Err(Error::ManifestNotFirst {
                found: Name::from_bytes(&name),
            });
        };
        roots_seen += 1;
        if roots_seen > limits.max_trust_chain {
            return Err(Error::LimitExceeded {
                what: "trust root chain length",
                limit: limits.max_trust_chain as u64,
            });
        }
        if previous_name.is_some_and(|p| version != p + 1) {
            return Err(Error::UnexpectedMember {
                path: Name::from_bytes(&name),
                reason: "trust roots must have consecutive versions",
            });
        }
        previous_name = Some(version);
        if size > limits.max_trust_root_bytes {
            return Err(Error::LimitExceeded {
                what: "trust root size",
                limit: limits.max_trust_root_bytes,
            });
        }
        root_bytes += size;
        if root_bytes > limits.max_envelope_bytes {
            return Err(Error::LimitExceeded {
                what: "trust roots before the manifest",
                limit: limits.max_envelope_bytes,
            });
        }
        let entry = trust_root_entry_name(version);
        check_canonical(header, &entry, size, mtime)?;
        let bytes = read_entry_data(stream, size, "a trust root entry")?;
        let Some(anchor) = anchor else {
            continue;
        };
        let current = new_roots.last().map_or(anchor, |(r, _)| r);
        if version <= current.version {
            continue;
        }
        // The entry name must be the next version (a gap is refused before the file is parsed);
        // `verify_successor` then requires the same of the content.
        if version != current.version + 1 {
            return Err(Error::TrustRootVersion {
                trusted: current.version,
                expected: current.version + 1,
                found: version,
            });
        }
        let next = verify_successor(current, &bytes, limits)?;
        revoked.extend(revocations(current, &next));
        new_roots.push((next, bytes));
    }
}

/// Read one header block: end marker (`truncated` where an entry must follow), checksum, type.
fn read_entry_header<R: Read>(
    stream: &mut KitStream<R>,
    first: bool,
) -> Result<([u8; 512], Vec<u8>), Error> {
    let during = if first {
        "the manifest envelope header"
    } else {
        "an entry header before the manifest"
    };
    let mut block = [0u8; 512];
    read_full(stream, &mut block, during)?;
    if block.iter().all(|&b| b == 0) {
        return Err(Error::Truncated {
            during: Name::new(during),
        });
    }
    let header = tar::Header::from_byte_slice(&block);
    let stored = header.cksum().map_err(|e| tar_error(during, e))?;
    let computed = block[..148]
        .iter()
        .chain(&block[156..])
        .fold(8 * 32u32, |sum, &b| sum + u32::from(b));
    if stored != computed {
        return Err(Error::TarFormat {
            reason: Name::new("archive header checksum mismatch"),
        });
    }
    let name = check_header(header)?;
    Ok((block, name))
}

/// Read an entry's data (size already capped by the caller) and its zero padding.
fn read_entry_data<R: Read>(
    stream: &mut KitStream<R>,
    size: u64,
    during: &'static str,
) -> Result<Vec<u8>, Error> {
    let mut bytes = vec![0u8; size as usize];
    read_full(stream, &mut bytes, during)?;
    let mut pad = vec![0u8; (size.next_multiple_of(512) - size) as usize];
    read_full(stream, &mut pad, during)?;
    if pad.iter().any(|&b| b != 0) {
        return Err(Error::TarFormat {
            reason: Name::new("non-zero padding after an entry"),
        });
    }
    Ok(bytes)
}

/// When a threshold failed: if a revoked key of `role` (and not one of the role's current keys)
/// signed, say so by name.
fn name_revoked_signer(
    error: Error,
    envelope: &Envelope,
    trust: &TrustRoot,
    role: RoleName,
    revoked: &[Revocation],
) -> Error {
    let Error::ThresholdNotMet { document, .. } = error else {
        return error;
    };
    let current = &trust.role(role).keyids;
    let message = crate::dsse::pae(envelope.payload_type(), envelope.unverified_payload());
    for r in revoked
        .iter()
        .filter(|r| r.role == role.as_str() && !current.contains(&r.keyid))
    {
        let Ok(key) = crate::keys::PublicKey::from_key_json(&r.key) else {
            continue;
        };
        if envelope
            .signatures()
            .iter()
            .any(|s| key.verify(&message, &s.sig))
        {
            return Error::RevokedKey {
                document,
                role: role.as_str(),
                keyid: Name::new(r.keyid.as_str()),
                revoked_in: r.revoked_in,
            };
        }
    }
    error
}

fn read_container<R: Read>(kit: KitReader<R>, tx: &SyncSender<Msg>) -> Result<(), Error> {
    let KitReader {
        stream,
        padding,
        mtime,
        plan,
        chunk_size,
        limits,
    } = kit;
    let send = |m: Msg| tx.send(m).map_err(|_| protocol());
    let te = |during: &str, e: io::Error| padding.tar_error(during, e);
    // tar-rs counts positions from where it starts: just after the envelope and its padding.
    let base = stream.pos;
    let mut archive = tar::Archive::new(stream);
    let mut mtime = Some(mtime);
    {
        let mut entries = archive
            .entries()
            .map_err(|e| te("opening the container", e))?
            .raw(true);

        // Members in manifest order, chunk by chunk.
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
            let name = check_header(entry.header())?;
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
            check_canonical(
                entry.header(),
                &expected.entry_name,
                entry.size(),
                &mut mtime,
            )?;
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
            padding.expect_zero_after(base + entry.raw_file_position() + expected.size);
            send(Msg::End)?;
        }

        // Nothing but the end-of-archive marker may follow.
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

/// Read the manifest envelope WITHOUT verifying it, for `inspect` without a trust root. Reads
/// the same capped entries as [`KitReader::open`] (trust roots skipped unverified); the result is wrapped in [`Unverified`]
/// so it cannot be passed where trust is required.
pub fn read_manifest_unverified<R: Read>(
    kit: R,
    limits: &Limits,
) -> Result<(Envelope, Unverified<Manifest>), Error> {
    let mut stream = KitStream {
        inner: kit,
        hasher: Hasher::new(),
        pos: 0,
        padding: Arc::new(PaddingCheck::default()),
    };
    let lead = read_leading_entries(&mut stream, None, limits, &mut None)?;
    let envelope = Envelope::parse(&lead.envelope, Document::Manifest, limits)?;
    drop(lead);
    let manifest = Manifest::from_payload(envelope.unverified_payload(), limits)?;
    Ok((envelope, Unverified(manifest)))
}
