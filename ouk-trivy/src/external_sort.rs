//! An external sort of (key, sequence, value) items: sorted runs of at most a memory budget are
//! spilled to anonymous temporary files and merged, so the Trivy export holds a bounded buffer,
//! not the corpus. Items with equal keys come out in `sequence` order (the snapshot's line order),
//! which keeps "first record wins" and range-merge order exactly as an in-memory map gave them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// One item.
pub(crate) type Item = (Vec<u8>, u64, Vec<u8>);

/// Collects items, spilling sorted runs when the buffer passes its budget.
pub(crate) struct ExternalSort {
    buf: Vec<Item>,
    buf_bytes: usize,
    budget: usize,
    runs: Vec<File>,
}

impl ExternalSort {
    /// A sorter holding at most about `budget` bytes of items in memory.
    pub(crate) fn new(budget: usize) -> ExternalSort {
        ExternalSort {
            buf: Vec::new(),
            buf_bytes: 0,
            budget,
            runs: Vec::new(),
        }
    }

    /// Adds an item.
    pub(crate) fn push(&mut self, key: Vec<u8>, seq: u64, value: Vec<u8>) -> io::Result<()> {
        self.buf_bytes += key.len() + value.len() + 64;
        self.buf.push((key, seq, value));
        if self.buf_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buf
            .sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut out = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
        for (k, s, v) in self.buf.drain(..) {
            out.write_all(&(k.len() as u32).to_le_bytes())?;
            out.write_all(&k)?;
            out.write_all(&s.to_le_bytes())?;
            out.write_all(&(v.len() as u32).to_le_bytes())?;
            out.write_all(&v)?;
        }
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.buf_bytes = 0;
        Ok(())
    }

    /// All items in (key, sequence) order.
    pub(crate) fn finish(mut self) -> io::Result<Merged> {
        if !self.buf.is_empty() {
            self.spill()?;
        }
        let mut runs: Vec<BufReader<File>> = self
            .runs
            .into_iter()
            .map(|f| BufReader::with_capacity(64 << 10, f))
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in runs.iter_mut().enumerate() {
            if let Some((k, s, v)) = read_item(r)? {
                heap.push(Reverse((k, s, i, v)));
            }
        }
        Ok(Merged { runs, heap })
    }
}

fn read_item(r: &mut impl Read) -> io::Result<Option<Item>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut key = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut key)?;
    let mut seq = [0u8; 8];
    r.read_exact(&mut seq)?;
    r.read_exact(&mut len)?;
    let mut value = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut value)?;
    Ok(Some((key, u64::from_le_bytes(seq), value)))
}

/// A run's next item in the merge heap: key, sequence, run index, value.
type Head = Reverse<(Vec<u8>, u64, usize, Vec<u8>)>;

/// The merged runs, an iterator in (key, sequence) order.
pub(crate) struct Merged {
    runs: Vec<BufReader<File>>,
    heap: BinaryHeap<Head>,
}

impl Iterator for Merged {
    type Item = io::Result<Item>;

    fn next(&mut self) -> Option<io::Result<Item>> {
        let Reverse((k, s, i, v)) = self.heap.pop()?;
        match read_item(&mut self.runs[i]) {
            Ok(Some((k2, s2, v2))) => self.heap.push(Reverse((k2, s2, i, v2))),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok((k, s, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_runs_in_key_then_sequence_order() {
        let mut s = ExternalSort::new(200);
        let mut want = Vec::new();
        for i in 0..500u64 {
            let key = format!("k{:03}", (i * 37) % 101).into_bytes();
            s.push(key.clone(), i, i.to_le_bytes().to_vec()).unwrap();
            want.push((key, i, i.to_le_bytes().to_vec()));
        }
        assert!(s.runs.len() > 5, "the budget forces several runs");
        want.sort();
        let got: Vec<Item> = s.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(got, want);
    }
}
