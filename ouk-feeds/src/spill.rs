//! Spill files: parsed records (and merged output lines) are appended to an
//! anonymous temporary file and read back by position, so the merge holds only
//! a small index per record plus the cluster being merged, never the corpus.
//!
//! The file comes from [`tempfile::tempfile`] (in `TMPDIR`): it has no name once
//! created, so the operating system removes it on every path, including a
//! crash. Records are stored as one JSON document each (serde_json is already
//! the workspace's format; JSON round-trips every field of [`SourceRecord`]).
//!
//! [`SourceRecord`]: crate::model::SourceRecord

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::FeedError;

/// Where one item lies in a spill file: byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Byte offset from the start of the file.
    pub off: u64,
    /// Length in bytes.
    pub len: u32,
}

/// Serialise `v` onto the end of `buf` and return its (offset, length) in `buf`.
/// Runs on the parser threads so encoding is parallel; the writer only copies bytes.
pub(crate) fn encode_into<T: Serialize>(
    buf: &mut Vec<u8>,
    v: &T,
) -> Result<(usize, u32), FeedError> {
    let start = buf.len();
    serde_json::to_writer(&mut *buf, v).map_err(|source| FeedError::Serialize {
        what: "spilled record",
        source,
    })?;
    let len = u32::try_from(buf.len() - start).map_err(|_| FeedError::Spill {
        what: "encoding a record",
        source: std::io::Error::other("record larger than 4 GiB"),
    })?;
    Ok((start, len))
}

/// Append-only writer of one spill file.
pub(crate) struct SpillWriter {
    out: BufWriter<File>,
    pos: u64,
}

impl SpillWriter {
    /// A new, empty spill file in `TMPDIR`.
    pub(crate) fn new() -> Result<Self, FeedError> {
        let f = tempfile::tempfile().map_err(|source| FeedError::Spill {
            what: "creating a temporary file",
            source,
        })?;
        Ok(SpillWriter {
            out: BufWriter::with_capacity(1 << 20, f),
            pos: 0,
        })
    }

    /// Append raw bytes; returns the offset they start at.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<u64, FeedError> {
        self.out
            .write_all(bytes)
            .map_err(|source| FeedError::Spill {
                what: "writing",
                source,
            })?;
        let off = self.pos;
        self.pos += bytes.len() as u64;
        Ok(off)
    }

    /// Flush and turn into a reader.
    pub(crate) fn finish(self) -> Result<SpillReader, FeedError> {
        let file = self.out.into_inner().map_err(|e| FeedError::Spill {
            what: "flushing",
            source: e.into_error(),
        })?;
        Ok(SpillReader {
            file: Mutex::new(file),
        })
    }
}

/// Positional reader of a finished spill file (shared by the merge threads).
#[derive(Debug)]
pub(crate) struct SpillReader {
    file: Mutex<File>,
}

impl SpillReader {
    /// The bytes at `slot`.
    pub(crate) fn read(&self, slot: Slot) -> Result<Vec<u8>, FeedError> {
        let mut buf = vec![0u8; slot.len as usize];
        let rerr = |source| FeedError::Spill {
            what: "reading back",
            source,
        };
        // A poisoned lock only means another reader panicked; the file is still valid.
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start(slot.off)).map_err(rerr)?;
        f.read_exact(&mut buf).map_err(rerr)?;
        Ok(buf)
    }

    /// The item at `slot`, decoded.
    pub(crate) fn get<T: DeserializeOwned>(&self, slot: Slot) -> Result<T, FeedError> {
        let bytes = self.read(slot)?;
        serde_json::from_slice(&bytes).map_err(|source| FeedError::SpillDecode { source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_by_slot_in_any_order() {
        let mut w = SpillWriter::new().unwrap();
        let mut buf = Vec::new();
        let items = ["alpha".to_string(), "b".into(), String::new(), "ünï".into()];
        let mut slots = Vec::new();
        for it in &items {
            let (off, len) = encode_into(&mut buf, it).unwrap();
            slots.push((off, len));
        }
        let base = w.append(&buf).unwrap();
        let r = w.finish().unwrap();
        for (it, (off, len)) in items.iter().zip(slots).rev() {
            let s: String = r
                .get(Slot {
                    off: base + off as u64,
                    len,
                })
                .unwrap();
            assert_eq!(&s, it);
        }
    }
}
