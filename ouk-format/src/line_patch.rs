//! Line splice patches (spec/OUK-FORMAT.md §4.8): how a delta kit carries a text member that
//! changed only a little since the base kit (the merge report grows with the corpus, ~350 bytes
//! per merged record, and carried whole it was 85 % of a daily delta).
//!
//! A patch is a list of operations over the *lines* of the base (a line ends with `\n`, or is
//! the non-empty tail after the last one): copy the next N lines, skip the next N lines, insert
//! these bytes. Applying it is one streaming pass over the base and the patch with a fixed
//! buffer, whatever the line lengths; the result's digest is then checked against a signed one
//! by the caller, so a patch can never produce anything but the signed document.
//!
//! Hand-written on purpose: diff crates (`similar`, `diffy`) and binary delta crates (`qbsdiff`,
//! `xdelta3`, zstd's `--patch-from`) hold the base in memory (zstd's patch-from took 825 MiB
//! RSS on a 500 k-record snapshot), and the importer must apply in bounded memory. The documents
//! we patch are sorted sequences of elements, so the builder's side ([`diff`]) is a greedy
//! alignment of *chunks* (one top-level element of a pretty-printed JSON array, or one NDJSON
//! line) by their sha256: common elements keep their relative order in two sorted documents,
//! so it finds them all; if they do not, the patch is only larger, never wrong.

use std::collections::HashMap;
use std::io::{self, BufRead, Read, Write};

use crate::digest::{Hasher, Sha256};

/// First line of every patch.
pub const HEADER: &[u8] = b"ouk-line-patch/1\n";
/// Longest operation line (`+` and 20 digits and `\n`).
const MAX_OP_LINE: u64 = 32;
/// Inserted bytes are gathered up to this size before an insert operation is written (an insert
/// needs its length first; this keeps the builder's memory fixed).
const INSERT_FLUSH_BYTES: usize = 64 * 1024;
/// A chunk is cut after this many bytes even inside one element, so the builder's memory stays
/// bounded on a document with one enormous element.
const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Why a patch could not be applied. The caller names the member.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinePatchError {
    /// The patch does not start with [`HEADER`].
    #[error("not a line patch (the first line is not ouk-line-patch/1)")]
    Header,
    /// An operation line is not `=N`, `-N` or `+N` with N a positive decimal without leading
    /// zeros.
    #[error("operation {op}: malformed operation line {text:?}")]
    BadOp {
        /// 1-based operation number.
        op: u64,
        /// The line (at most 32 bytes, lossily decoded).
        text: String,
    },
    /// A copy or skip runs past the end of the base.
    #[error(
        "operation {op}: needs {wanted} more line(s) of the base, which has only {base_lines}"
    )]
    PastBaseEnd {
        /// 1-based operation number.
        op: u64,
        /// Lines the operation still wanted.
        wanted: u64,
        /// Lines of the base.
        base_lines: u64,
    },
    /// An insert announces more bytes than the patch holds.
    #[error("operation {op}: the patch ends inside the inserted bytes")]
    Truncated {
        /// 1-based operation number.
        op: u64,
    },
    /// The patch ended before the whole base was copied or skipped.
    #[error("the patch ends after {consumed} line(s) of the base, which has more")]
    BaseLeft {
        /// Base lines consumed.
        consumed: u64,
    },
    /// The result grew past the limit (the signed size).
    #[error("the result grows past {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Reading the base failed.
    #[error("reading the base: {0}")]
    ReadBase(#[source] io::Error),
    /// Reading the patch failed.
    #[error("reading the patch: {0}")]
    ReadPatch(#[source] io::Error),
    /// Writing the result failed.
    #[error("writing the result: {0}")]
    Write(#[source] io::Error),
}

/// What a patch does, for reports and benches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatchStats {
    /// Base lines copied.
    pub copied_lines: u64,
    /// Base lines skipped.
    pub skipped_lines: u64,
    /// Bytes inserted from the patch.
    pub inserted_bytes: u64,
    /// Operations.
    pub ops: u64,
}

/// Applies `patch` to `base`, writing the result to `out`, refusing to write more than
/// `max_result_bytes`. Returns the result's sha256 and size (to be checked against the signed
/// ones) and what the patch did. Memory: the two readers' buffers, nothing per line.
pub fn apply<W: Write>(
    mut base: impl BufRead,
    mut patch: impl BufRead,
    out: W,
    max_result_bytes: u64,
) -> Result<(Sha256, u64, PatchStats), LinePatchError> {
    let mut header = Vec::with_capacity(HEADER.len());
    (&mut patch)
        .take(HEADER.len() as u64)
        .read_to_end(&mut header)
        .map_err(LinePatchError::ReadPatch)?;
    if header != HEADER {
        return Err(LinePatchError::Header);
    }
    let mut out = CappedHashingWriter {
        inner: out,
        hasher: Hasher::new(),
        limit: max_result_bytes,
    };
    let mut base_lines = LineCursor::default();
    let mut stats = PatchStats::default();
    let mut line = Vec::with_capacity(MAX_OP_LINE as usize);
    loop {
        line.clear();
        let n = (&mut patch)
            .take(MAX_OP_LINE)
            .read_until(b'\n', &mut line)
            .map_err(LinePatchError::ReadPatch)?;
        if n == 0 {
            break;
        }
        stats.ops += 1;
        let op = stats.ops;
        let (kind, count) = parse_op(&line).ok_or_else(|| LinePatchError::BadOp {
            op,
            text: String::from_utf8_lossy(&line).into_owned(),
        })?;
        match kind {
            b'=' | b'-' => {
                let sink = if kind == b'=' { Some(&mut out) } else { None };
                let done = base_lines.advance(&mut base, count, sink)?;
                if done < count {
                    return Err(LinePatchError::PastBaseEnd {
                        op,
                        wanted: count - done,
                        base_lines: base_lines.lines,
                    });
                }
                if kind == b'=' {
                    stats.copied_lines += count;
                } else {
                    stats.skipped_lines += count;
                }
            }
            _ => {
                let mut left = count;
                while left > 0 {
                    let buf = patch.fill_buf().map_err(LinePatchError::ReadPatch)?;
                    if buf.is_empty() {
                        return Err(LinePatchError::Truncated { op });
                    }
                    let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    out.write_all(&buf[..n]).map_err(|e| out.error(e))?;
                    patch.consume(n);
                    left -= n as u64;
                }
                stats.inserted_bytes += count;
            }
        }
    }
    if base_lines.advance(&mut base, 1, None::<&mut CappedHashingWriter<W>>)? != 0 {
        return Err(LinePatchError::BaseLeft {
            consumed: base_lines.lines - 1,
        });
    }
    let (_, sha, size) = out.finish().map_err(LinePatchError::Write)?;
    Ok((sha, size, stats))
}

/// `=N`, `-N` or `+N` then `\n`; N ≥ 1, decimal, no leading zero, fits a u64.
fn parse_op(line: &[u8]) -> Option<(u8, u64)> {
    let (&kind, rest) = line.split_first()?;
    let digits = rest.strip_suffix(b"\n")?;
    if !matches!(kind, b'=' | b'-' | b'+')
        || digits.is_empty()
        || digits[0] == b'0'
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse()
        .ok()
        .map(|n| (kind, n))
}

/// Walks the base line by line without holding a line: a line ends at `\n`, or at the end of
/// the base when bytes are left after the last `\n`.
#[derive(Default)]
struct LineCursor {
    /// Complete lines consumed so far.
    lines: u64,
}

impl LineCursor {
    /// Moves over up to `n` lines, writing them to `sink` when given; returns how many it moved
    /// over (fewer only at the end of the base).
    fn advance<W: Write>(
        &mut self,
        base: &mut impl BufRead,
        n: u64,
        mut sink: Option<&mut CappedHashingWriter<W>>,
    ) -> Result<u64, LinePatchError> {
        let mut done = 0u64;
        let mut inside = false;
        while done < n {
            let buf = base.fill_buf().map_err(LinePatchError::ReadBase)?;
            if buf.is_empty() {
                if inside {
                    // The unterminated last line.
                    done += 1;
                    self.lines += 1;
                }
                break;
            }
            let mut end = buf.len();
            inside = true;
            for (i, &b) in buf.iter().enumerate() {
                if b == b'\n' {
                    done += 1;
                    self.lines += 1;
                    if done == n {
                        end = i + 1;
                        inside = false;
                        break;
                    }
                }
            }
            if end == buf.len() && buf[end - 1] == b'\n' {
                inside = false;
            }
            if let Some(w) = sink.as_deref_mut() {
                w.write_all(&buf[..end]).map_err(|e| w.error(e))?;
            }
            base.consume(end);
        }
        Ok(done)
    }
}

/// The io::Error payload a [`CappedHashingWriter`] returns when the limit would be passed.
#[derive(Debug)]
struct TooLargeMarker;

impl std::fmt::Display for TooLargeMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("result larger than the limit")
    }
}

impl std::error::Error for TooLargeMarker {}

/// Hashes what it passes on and refuses (writing nothing of the buffer) to pass the limit.
struct CappedHashingWriter<W> {
    inner: W,
    hasher: Hasher,
    limit: u64,
}

impl<W: Write> CappedHashingWriter<W> {
    /// The patch error for an error of [`Write::write_all`] on this writer.
    fn error(&self, e: io::Error) -> LinePatchError {
        match e.get_ref().and_then(|i| i.downcast_ref::<TooLargeMarker>()) {
            Some(_) => LinePatchError::TooLarge { limit: self.limit },
            None => LinePatchError::Write(e),
        }
    }

    fn finish(mut self) -> io::Result<(W, Sha256, u64)> {
        self.inner.flush()?;
        let (sha, size) = self.hasher.finish();
        Ok((self.inner, sha, size))
    }
}

impl<W: Write> Write for CappedHashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.hasher.len().saturating_add(buf.len() as u64) > self.limit {
            return Err(io::Error::other(TooLargeMarker));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the patch that turns `base` into `new` to `out` (builder side). Reads each input
/// once; memory: a sha256 and a line count per chunk of the base (and a map entry), one chunk
/// of `new`, and a 64 KiB insert buffer. The caller should check the patch with [`apply`]
/// before signing it.
pub fn diff(base: impl BufRead, new: impl BufRead, out: impl Write) -> io::Result<PatchStats> {
    let mut base_chunks: Vec<(Sha256, u64)> = Vec::new();
    let mut remaining: HashMap<Sha256, u32> = HashMap::new();
    let mut chunks = Chunks::new(base);
    while let Some(c) = chunks.next_chunk()? {
        let h = Sha256::of(&c.bytes);
        *remaining.entry(h).or_default() += 1;
        base_chunks.push((h, c.lines));
    }
    let mut w = OpWriter::new(out)?;
    let mut i = 0usize;
    let mut chunks = Chunks::new(new);
    while let Some(c) = chunks.next_chunk()? {
        let h = Sha256::of(&c.bytes);
        match remaining.get_mut(&h) {
            Some(left) if *left > 0 => {
                *left -= 1;
                // Everything of the base before its next occurrence is gone from `new`.
                while base_chunks[i].0 != h {
                    let (skipped, lines) = base_chunks[i];
                    if let Some(l) = remaining.get_mut(&skipped) {
                        *l = l.saturating_sub(1);
                    }
                    w.op(b'-', lines)?;
                    i += 1;
                }
                w.op(b'=', c.lines)?;
                i += 1;
            }
            _ => w.insert(&c.bytes)?,
        }
    }
    let rest: u64 = base_chunks[i..].iter().map(|(_, l)| l).sum();
    if rest > 0 {
        w.op(b'-', rest)?;
    }
    w.finish()
}

/// Emits operations, merging runs of the same kind.
struct OpWriter<W: Write> {
    out: W,
    pending: Option<(u8, u64)>,
    insert: Vec<u8>,
    stats: PatchStats,
}

impl<W: Write> OpWriter<W> {
    fn new(mut out: W) -> io::Result<Self> {
        out.write_all(HEADER)?;
        Ok(OpWriter {
            out,
            pending: None,
            insert: Vec::new(),
            stats: PatchStats::default(),
        })
    }

    fn op(&mut self, kind: u8, lines: u64) -> io::Result<()> {
        self.flush_insert()?;
        match &mut self.pending {
            Some((k, n)) if *k == kind => *n += lines,
            _ => {
                self.flush_pending()?;
                self.pending = Some((kind, lines));
            }
        }
        Ok(())
    }

    fn insert(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.flush_pending()?;
        self.insert.extend_from_slice(bytes);
        if self.insert.len() >= INSERT_FLUSH_BYTES {
            self.flush_insert()?;
        }
        Ok(())
    }

    fn flush_pending(&mut self) -> io::Result<()> {
        if let Some((kind, n)) = self.pending.take() {
            if n > 0 {
                writeln!(self.out, "{}{n}", kind as char)?;
                self.stats.ops += 1;
                if kind == b'=' {
                    self.stats.copied_lines += n;
                } else {
                    self.stats.skipped_lines += n;
                }
            }
        }
        Ok(())
    }

    fn flush_insert(&mut self) -> io::Result<()> {
        if !self.insert.is_empty() {
            writeln!(self.out, "+{}", self.insert.len())?;
            self.out.write_all(&self.insert)?;
            self.stats.ops += 1;
            self.stats.inserted_bytes += self.insert.len() as u64;
            self.insert.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<PatchStats> {
        self.flush_insert()?;
        self.flush_pending()?;
        self.out.flush()?;
        Ok(self.stats)
    }
}

/// One chunk: whole lines.
struct Chunk {
    bytes: Vec<u8>,
    lines: u64,
}

/// Cuts a document into chunks: a new chunk starts at a line indented by at most four spaces
/// that does not close a bracket (in serde_json's pretty output: a top-level key, or one element
/// of a top-level array with its closing line), or once a chunk passed [`MAX_CHUNK_BYTES`].
/// Every NDJSON line is a chunk of its own.
struct Chunks<R> {
    reader: R,
    next_line: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Chunks<R> {
    fn new(reader: R) -> Self {
        Chunks {
            reader,
            next_line: Vec::new(),
            done: false,
        }
    }

    fn read_line(&mut self) -> io::Result<bool> {
        self.next_line.clear();
        let n = self.reader.read_until(b'\n', &mut self.next_line)?;
        if n == 0 {
            self.done = true;
        }
        Ok(n != 0)
    }

    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        if self.next_line.is_empty() && (self.done || !self.read_line()?) {
            return Ok(None);
        }
        let mut chunk = Chunk {
            bytes: std::mem::take(&mut self.next_line),
            lines: 1,
        };
        while self.read_line()? {
            if starts_chunk(&self.next_line) || chunk.bytes.len() >= MAX_CHUNK_BYTES {
                break;
            }
            chunk.bytes.extend_from_slice(&self.next_line);
            chunk.lines += 1;
            self.next_line.clear();
        }
        Ok(Some(chunk))
    }
}

fn starts_chunk(line: &[u8]) -> bool {
    let indent = line.iter().take_while(|&&b| b == b' ').count();
    indent <= 4 && !matches!(line.get(indent), Some(b'}' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(base: &[u8], new: &[u8]) -> (Vec<u8>, PatchStats) {
        let mut p = Vec::new();
        let stats = diff(base, new, &mut p).unwrap();
        (p, stats)
    }

    fn roundtrip(base: &[u8], new: &[u8]) -> (Vec<u8>, PatchStats) {
        let (p, stats) = patch(base, new);
        let mut out = Vec::new();
        let (sha, size, applied) = apply(base, &p[..], &mut out, new.len() as u64).unwrap();
        assert_eq!(out, new, "patch {}", String::from_utf8_lossy(&p));
        assert_eq!((sha, size), (Sha256::of(new), new.len() as u64));
        assert_eq!(applied, stats);
        (p, stats)
    }

    fn report(clusters: &[&str]) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Cluster<'a> {
            id: &'a str,
            members: Vec<&'a str>,
        }
        #[derive(serde::Serialize)]
        struct Report<'a> {
            counts: u64,
            clusters: Vec<Cluster<'a>>,
            rejected: Vec<&'a str>,
        }
        let r = Report {
            counts: clusters.len() as u64,
            clusters: clusters
                .iter()
                .map(|id| Cluster {
                    id,
                    members: vec!["GHSA-x", id],
                })
                .collect(),
            rejected: vec!["file-a", "file-b"],
        };
        let mut v = serde_json::to_vec_pretty(&r).unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn pretty_report_changes_travel_as_the_changed_elements_only() {
        let ids: Vec<String> = (0..200).map(|i| format!("CVE-2026-{i:05}")).collect();
        let base_ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut new_ids = base_ids.clone();
        new_ids.remove(50);
        new_ids.insert(120, "CVE-2026-00120a");
        new_ids.push("CVE-2026-99999");
        let base = report(&base_ids);
        let new = report(&new_ids);
        let (p, stats) = roundtrip(&base, &new);
        // Two new elements, the count line, and the old last element's closing line gaining a
        // comma; everything else copied.
        assert!(
            p.len() < 600,
            "{} bytes: {}",
            p.len(),
            String::from_utf8_lossy(&p)
        );
        assert!(stats.copied_lines > 1000, "{stats:?}");
        assert!(String::from_utf8_lossy(&p).contains("CVE-2026-99999"));
        assert!(!String::from_utf8_lossy(&p).contains("CVE-2026-00049"));
    }

    #[test]
    fn identical_documents_give_one_copy() {
        let base = report(&["A", "B", "C"]);
        let (p, _) = roundtrip(&base, &base);
        let lines = base.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(p, format!("ouk-line-patch/1\n={lines}\n").into_bytes());
    }

    #[test]
    fn edge_shapes_round_trip() {
        let cases: [(&[u8], &[u8]); 8] = [
            (b"", b""),
            (b"", b"a\nb\n"),
            (b"a\nb\n", b""),
            (b"a\nb", b"a\nb"),
            (b"a\nb", b"a\nb\n"),
            (b"x\ny\nz\n", b"z\ny\nx\n"),
            (b"a\na\na\n", b"a\n"),
            (b"\n\n\n", b"\n\nq"),
        ];
        for (base, new) in cases {
            roundtrip(base, new);
        }
        // NDJSON: one chunk per line.
        let base = b"{\"id\":\"A\"}\n{\"id\":\"B\"}\n{\"id\":\"C\"}\n";
        let new = b"{\"id\":\"A\"}\n{\"id\":\"B2\"}\n{\"id\":\"C\"}\n";
        let (p, _) = roundtrip(base, new);
        // (The skip is written when the next common chunk shows what was left out.)
        assert_eq!(p, b"ouk-line-patch/1\n=1\n+12\n{\"id\":\"B2\"}\n-1\n=1\n");
    }

    #[test]
    fn a_huge_element_is_cut_into_bounded_chunks() {
        let mut base = b"[\n".to_vec();
        for i in 0..200_000 {
            base.extend_from_slice(format!("      \"line {i}\",\n").as_bytes());
        }
        base.extend_from_slice(b"]\n");
        let mut new = base.clone();
        new.extend_from_slice(b"tail\n");
        let (p, _) = roundtrip(&base, &new);
        assert!(p.len() < 100, "{}", String::from_utf8_lossy(&p));
    }

    fn apply_err(base: &[u8], p: &[u8], limit: u64) -> LinePatchError {
        apply(base, p, Vec::new(), limit).unwrap_err()
    }

    #[test]
    fn malformed_patches_get_named_errors() {
        let base = b"a\nb\nc\n";
        assert!(matches!(
            apply_err(base, b"ouk-line-patch/2\n=3\n", 99),
            LinePatchError::Header
        ));
        for bad in [
            &b"=0\n"[..],
            b"=03\n",
            b"*3\n",
            b"=3",
            b"= 3\n",
            b"=-3\n",
            b"=99999999999999999999999\n",
            b"=1234567890123456789012345678901234567\n",
        ] {
            let p = [HEADER, bad].concat();
            assert!(
                matches!(apply_err(base, &p, 99), LinePatchError::BadOp { op: 1, .. }),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let p = [HEADER, b"=2\n-2\n"].concat();
        assert!(matches!(
            apply_err(base, &p, 99),
            LinePatchError::PastBaseEnd {
                op: 2,
                wanted: 1,
                base_lines: 3
            }
        ));
        let p = [HEADER, b"=2\n"].concat();
        assert!(matches!(
            apply_err(base, &p, 99),
            LinePatchError::BaseLeft { consumed: 2 }
        ));
        let p = [HEADER, b"=3\n+10\nabc"].concat();
        assert!(matches!(
            apply_err(base, &p, 99),
            LinePatchError::Truncated { op: 2 }
        ));
        // The cap holds for copies and inserts: nothing past it is written.
        let p = [HEADER, b"=3\n"].concat();
        assert!(matches!(
            apply_err(base, &p, 5),
            LinePatchError::TooLarge { limit: 5 }
        ));
        let p = [HEADER, b"=3\n+4\nabcd"].concat();
        assert!(matches!(
            apply_err(base, &p, 9),
            LinePatchError::TooLarge { limit: 9 }
        ));
    }

    #[test]
    fn applying_needs_no_buffer_for_long_lines() {
        // One 3 MiB line copied through an 8 KiB reader buffer.
        let long = vec![b'x'; 3 << 20];
        let base = [&long[..], b"\nend\n"].concat();
        let p = [HEADER, b"=1\n-1\n+4\nnew\n"].concat();
        let mut out = Vec::new();
        let r = io::BufReader::with_capacity(8192, &base[..]);
        let (_, size, _) = apply(r, &p[..], &mut out, u64::MAX).unwrap();
        assert_eq!(size, long.len() as u64 + 5);
        assert_eq!(&out[out.len() - 5..], b"\nnew\n");
    }
}
