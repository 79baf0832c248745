//! Spill files: parsed records (and merged output lines) are appended to an
//! anonymous temporary file and read back by position, so the merge holds only
//! a small index per record plus the cluster being merged, never the corpus.
//!
//! The file comes from [`tempfile::tempfile`] (in `TMPDIR`): it has no name once
//! created, so the operating system removes it on every path, including a
//! crash. This module only stores bytes; records are encoded by `codec.rs`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

use crate::error::FeedError;

/// Where one item lies in a spill file: byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Byte offset from the start of the file.
    pub off: u64,
    /// Length in bytes.
    pub len: u32,
}

/// Append-only writer of one spill file.
pub(crate) struct SpillWriter {
    out: BufWriter<File>,
    pos: u64,
}

impl SpillWriter {
    /// A new, empty spill file in `TMPDIR`.
    pub(crate) fn new() -> Result<Self, FeedError> {
        let f = tempfile::tempfile()
            .map_err(|source| FeedError::spill("creating a temporary file", source))?;
        Ok(SpillWriter {
            out: BufWriter::with_capacity(1 << 20, f),
            pos: 0,
        })
    }

    /// Append raw bytes; returns the offset they start at.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<u64, FeedError> {
        self.out
            .write_all(bytes)
            .map_err(|source| FeedError::spill("writing", source))?;
        let off = self.pos;
        self.pos += bytes.len() as u64;
        Ok(off)
    }

    /// Flush and turn into a reader.
    pub(crate) fn finish(self) -> Result<SpillReader, FeedError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| FeedError::spill("flushing", e.into_error()))?;
        Ok(SpillReader { file })
    }
}

/// Positional reader of a finished spill file, shared by the merge threads: `pread`
/// takes no lock and moves no shared offset, so both threads read at once.
#[derive(Debug)]
pub(crate) struct SpillReader {
    file: File,
}

impl SpillReader {
    /// The bytes at `slot`.
    pub(crate) fn read(&self, slot: Slot) -> Result<Vec<u8>, FeedError> {
        let mut buf = vec![0u8; slot.len as usize];
        let rerr = |source| FeedError::spill("reading back", source);
        self.file.read_exact_at(&mut buf, slot.off).map_err(rerr)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_by_slot_in_any_order() {
        let mut w = SpillWriter::new().unwrap();
        let items: [&[u8]; 4] = [b"alpha", b"b", b"", "\u{fc}n\u{ef}".as_bytes()];
        let mut slots = Vec::new();
        for it in items {
            let off = w.append(it).unwrap();
            slots.push(Slot {
                off,
                len: it.len() as u32,
            });
        }
        let r = w.finish().unwrap();
        for (it, slot) in items.iter().zip(slots).rev() {
            assert_eq!(r.read(slot).unwrap(), *it);
        }
    }
}
