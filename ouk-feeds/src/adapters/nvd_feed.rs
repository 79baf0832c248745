//! NVD 2.0 data feed files: `nvdcve-2.0-<year|modified|recent>.json.gz` and `.json.zip`, as
//! NVD publishes them beside its API. Their JSON is an API response page (`vulnerabilities[]`),
//! but a yearly file decompresses to hundreds of megabytes, above `max_file_bytes`; so it is
//! decompressed and parsed as a stream, one `vulnerabilities[]` element at a time, and memory
//! holds one CVE's text plus the converted records, never the file.
//!
//! Limits: the decompressed bytes of one file (all entries of a `.zip`) may not exceed
//! `max_zip_total_bytes` (decompression bomb), one element may not exceed `max_file_bytes`
//! (the cap a whole JSON file has elsewhere), and a `.zip` may hold at most `max_zip_entries`
//! entries. A file that breaks off (truncated download, bad checksum, invalid JSON) is rejected
//! whole: a yearly file that silently lost its last CVEs would be worse than none.

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::{FileOut, HashingReader, Parsed, ReadOptions};
use crate::source::SourceKind;

/// Whether `path` is an NVD feed file this module reads (`*.json.gz`, `*.json.zip`).
pub(super) fn is_feed_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".json.gz") || name.ends_with(".json.zip")
}

/// Read one feed file. Its digest (for the source digest) is over the file as stored.
pub(super) fn read_feed_file(name: &str, path: &Path, opts: &ReadOptions<'_>) -> FileOut {
    let file = match super::open_input(SourceKind::Nvd, name, path) {
        Ok(f) => f,
        Err(rejected) => return rejected,
    };
    let mut out = FileOut::empty();
    let mut stored = HashingReader {
        inner: BufReader::new(file),
        hash: Sha256::new(),
    };
    let gz = name.to_ascii_lowercase().ends_with(".gz");
    let result = if gz {
        let budget = Budget::new(opts);
        parse_stream(
            name,
            flate2::read::MultiGzDecoder::new(&mut stored),
            &budget,
            opts,
        )
        .and_then(|parsed| {
            // The whole file counts for the digest, whatever follows the JSON.
            io::copy(&mut stored, &mut io::sink())
                .map(|_| parsed)
                .map_err(|e| format!("cannot read: {e}"))
        })
    } else {
        read_zip(name, &mut stored, opts)
    };
    match result {
        Ok(parsed) => {
            out.hashes
                .push((name.to_owned(), stored.hash.finalize().into()));
            out.parsed = parsed;
        }
        Err(reason) => out.parsed.reject(SourceKind::Nvd, name, None, reason),
    }
    out
}

/// Every `*.json` entry of a feed `.zip`, streamed in entry order.
fn read_zip(
    name: &str,
    stored: &mut HashingReader<BufReader<File>>,
    opts: &ReadOptions<'_>,
) -> Result<Parsed, String> {
    // The zip reader seeks, so the stored bytes are hashed in one pass first.
    io::copy(stored, &mut io::sink()).map_err(|e| format!("cannot read: {e}"))?;
    let file = stored.inner.get_mut();
    let mut zip =
        zip::ZipArchive::new(BufReader::new(&*file)).map_err(|e| format!("invalid zip: {e}"))?;
    if zip.len() as u64 > opts.limits.max_zip_entries {
        return Err(format!(
            "{} entries, above limit max_zip_entries",
            zip.len()
        ));
    }
    let budget = Budget::new(opts);
    let mut parsed = Parsed::default();
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| format!("zip entry {i}: {e}"))?;
        if !entry.is_file() || !entry.name().to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let ename = format!("{name}!{}", entry.name());
        parsed.extend(parse_stream(&ename, entry, &budget, opts)?);
    }
    Ok(parsed)
}

/// The decompressed-size limits of one feed file, shared by its entries.
struct Budget {
    total: Cell<u64>,
    max_total: u64,
    element: Cell<u64>,
    max_element: u64,
}

impl Budget {
    fn new(opts: &ReadOptions<'_>) -> Budget {
        Budget {
            total: Cell::new(0),
            max_total: opts.limits.max_zip_total_bytes,
            element: Cell::new(0),
            max_element: opts.limits.max_file_bytes,
        }
    }
}

/// Counts what the JSON parser consumes against the [`Budget`]; the error names the limit.
struct Capped<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let b = self.budget;
        b.total.set(b.total.get() + n as u64);
        b.element.set(b.element.get() + n as u64);
        if b.total.get() > b.max_total {
            return Err(io::Error::other(format!(
                "decompresses to more than {} bytes (limit max_zip_total_bytes)",
                b.max_total
            )));
        }
        if b.element.get() > b.max_element {
            return Err(io::Error::other(format!(
                "one vulnerabilities[] element is larger than {} bytes (limit max_file_bytes)",
                b.max_element
            )));
        }
        Ok(n)
    }
}

/// Parse one decompressed feed document from `reader`.
fn parse_stream(
    name: &str,
    reader: impl Read,
    budget: &Budget,
    opts: &ReadOptions<'_>,
) -> Result<Parsed, String> {
    // serde_json reads its input byte by byte: the buffer goes between it and the decoder,
    // the counting above the buffer, so what is counted is what the parser consumed.
    let capped = Capped {
        inner: BufReader::with_capacity(1 << 16, reader),
        budget,
    };
    let mut de = serde_json::Deserializer::from_reader(capped);
    let mut parsed = Parsed::default();
    let page = Page {
        name,
        parsed: &mut parsed,
        element: &budget.element,
        max_id: opts.limits.max_id_len,
    };
    let found = page
        .deserialize(&mut de)
        .and_then(|found| de.end().map(|()| found))
        .map_err(|e| format!("invalid NVD feed JSON: {e}"))?;
    if !found {
        return Err("no vulnerabilities[] array: not an NVD 2.0 feed file".into());
    }
    Ok(parsed)
}

/// The top-level object of a feed document; yields whether `vulnerabilities` was present.
struct Page<'a> {
    name: &'a str,
    parsed: &'a mut Parsed,
    element: &'a Cell<u64>,
    max_id: usize,
}

impl<'de> DeserializeSeed<'de> for Page<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Page<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an NVD 2.0 feed object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "vulnerabilities" && !found {
                found = true;
                map.next_value_seed(Vulnerabilities {
                    name: self.name,
                    parsed: &mut *self.parsed,
                    element: self.element,
                    max_id: self.max_id,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The `vulnerabilities` array, converted element by element.
struct Vulnerabilities<'a> {
    name: &'a str,
    parsed: &'a mut Parsed,
    element: &'a Cell<u64>,
    max_id: usize,
}

impl<'de> DeserializeSeed<'de> for Vulnerabilities<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Vulnerabilities<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the vulnerabilities array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            self.element.set(0);
            let Some(item) = seq.next_element::<Box<RawValue>>()? else {
                return Ok(());
            };
            super::nvd::one_item(self.parsed, self.name, i, item.get(), self.max_id);
            i += 1;
        }
    }
}
