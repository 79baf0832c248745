//! Regional XML exports read as a stream, not as one buffer: FSTEC's full BDU export (86 000+
//! records, a few hundred megabytes, published as `vulxml.zip`), CNNVD's yearly XML files and
//! CNVD's shareData files. Each is parsed record by record as it is read
//! ([`super::xml::for_each_record`]), so memory holds one record's tree and the converted
//! records, never the file, and the file is not refused for being above `max_file_bytes` (the cap
//! of one document read whole): that cap applies to one record instead. A file's bytes (for a
//! `.zip`, its decompressed `*.xml` entries together) are capped by `max_zip_total_bytes`, the cap
//! on a streamed input, and a `.zip` may hold at most `max_zip_entries` entries. The source digest
//! covers the file as stored, as for every other input.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{bdu, cnnvd, cnvd, FileOut, HashingReader, Parsed, ReadOptions};
use crate::source::SourceKind;

/// Whether `path` of a `kind` source is read here: the XML of BDU, CNNVD and CNVD, and BDU's
/// `.zip` (FSTEC publishes the export zipped).
pub(super) fn is_streamed(kind: SourceKind, path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match kind {
        SourceKind::Bdu => ext == "xml" || ext == "zip",
        SourceKind::Cnnvd | SourceKind::Cnvd => ext == "xml",
        _ => false,
    }
}

/// Read one streamed XML file (or `.zip` of them).
pub(super) fn read_file(
    kind: SourceKind,
    name: &str,
    path: &Path,
    opts: &ReadOptions<'_>,
) -> FileOut {
    let file = match super::open_input(kind, name, path) {
        Ok(f) => f,
        Err(rejected) => return rejected,
    };
    let mut out = FileOut::empty();
    // Hashed below the buffer: every stored byte once, including any the parser never asks for.
    let mut stored = HashingReader {
        inner: file,
        hash: Sha256::new(),
    };
    let used = Cell::new(0);
    let zip = name.to_ascii_lowercase().ends_with(".zip");
    let result = if zip {
        read_zip(kind, name, &mut stored, &used, opts)
    } else {
        let src = BufReader::with_capacity(1 << 16, &mut stored);
        let parsed = parse(kind, name, capped(src, &used, opts), opts);
        // The whole file counts for the digest, whatever follows the document's end.
        io::copy(&mut stored, &mut io::sink())
            .map(|_| parsed)
            .map_err(|e| format!("cannot read: {e}"))
    };
    match result {
        Ok(parsed) => {
            out.hashes
                .push((name.to_owned(), stored.hash.finalize().into()));
            out.parsed = parsed;
        }
        Err(reason) => out.parsed.reject(kind, name, None, reason),
    }
    out
}

/// Every `*.xml` entry of a `.zip`, streamed in entry order.
fn read_zip(
    kind: SourceKind,
    name: &str,
    stored: &mut HashingReader<File>,
    used: &Cell<u64>,
    opts: &ReadOptions<'_>,
) -> Result<Parsed, String> {
    // The zip reader seeks, so the stored bytes are hashed in one pass first.
    io::copy(stored, &mut io::sink()).map_err(|e| format!("cannot read: {e}"))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(&stored.inner))
        .map_err(|e| format!("invalid zip: {e}"))?;
    if zip.len() as u64 > opts.limits.max_zip_entries {
        return Err(format!(
            "{} entries, above limit max_zip_entries",
            zip.len()
        ));
    }
    let mut parsed = Parsed::default();
    let mut any = false;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| format!("zip entry {i}: {e}"))?;
        if !entry.is_file() || !entry.name().to_ascii_lowercase().ends_with(".xml") {
            continue;
        }
        any = true;
        let ename = format!("{name}!{}", entry.name());
        let reader = capped(BufReader::with_capacity(1 << 16, entry), used, opts);
        parsed.extend(parse(kind, &ename, reader, opts));
    }
    if !any {
        return Err("no *.xml entry in the zip".into());
    }
    Ok(parsed)
}

fn parse(kind: SourceKind, name: &str, src: impl BufRead, opts: &ReadOptions<'_>) -> Parsed {
    match kind {
        SourceKind::Bdu => bdu::parse(name, src, opts),
        SourceKind::Cnnvd => cnnvd::parse_xml(name, src, opts),
        SourceKind::Cnvd => cnvd::parse(name, src, opts),
        _ => unreachable!("is_streamed admits only BDU, CNNVD and CNVD"),
    }
}

/// `src`, failing once the file (all entries of one `.zip` together) has given more than
/// `max_zip_total_bytes`.
fn capped<'a, R: BufRead>(src: R, used: &'a Cell<u64>, opts: &ReadOptions<'_>) -> TotalCap<'a, R> {
    TotalCap {
        inner: src,
        used,
        max: opts.limits.max_zip_total_bytes,
    }
}

struct TotalCap<'a, R> {
    inner: R,
    used: &'a Cell<u64>,
    max: u64,
}

impl<R: BufRead> Read for TotalCap<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        super::read_through(self, buf)
    }
}

impl<R: BufRead> BufRead for TotalCap<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.used.get() > self.max {
            return Err(io::Error::other(format!(
                "more than {} bytes of XML (limit max_zip_total_bytes)",
                self.max
            )));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.used.set(self.used.get() + n as u64);
        self.inner.consume(n);
    }
}
