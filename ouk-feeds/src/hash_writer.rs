//! A file writer that hashes what it writes on a helper thread.
//!
//! Why: `write_to` copies the whole merged snapshot (hundreds of MB for a full
//! corpus) and needs its SHA-256; hashing on the copying thread made the copy
//! one core's work of reading back, hashing and writing in turn. Here the
//! writing thread hands each written block to a hasher thread and goes on.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes gathered before one write and one hand-over to the hasher.
const BLOCK: usize = 1 << 20;

/// Blocks in flight between the writer and the hasher (bounds the memory at
/// `(IN_FLIGHT + 2) * BLOCK`).
const IN_FLIGHT: usize = 4;

/// Buffered writer over `W` whose bytes are SHA-256-hashed on another thread.
pub(crate) struct HashOffloadWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    size: u64,
    /// Dropping it (with the writer, on any path) ends the hasher thread.
    to_hasher: SyncSender<Vec<u8>>,
    /// Blocks the hasher is done with, for reuse.
    spare: Receiver<Vec<u8>>,
    hasher: JoinHandle<[u8; 32]>,
}

impl<W: Write> HashOffloadWriter<W> {
    /// Start the hasher thread.
    pub(crate) fn new(inner: W) -> io::Result<Self> {
        let (to_hasher, blocks) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT);
        let (give_back, spare) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT + 1);
        let hasher = std::thread::Builder::new()
            .name("ouk-hash".into())
            .spawn(move || {
                let mut h = Sha256::new();
                for mut b in blocks {
                    h.update(&b);
                    b.clear();
                    // The writer may be gone or have enough spares: fine either way.
                    let _ = give_back.try_send(b);
                }
                h.finalize().into()
            })?;
        Ok(HashOffloadWriter {
            inner,
            buf: Vec::with_capacity(BLOCK),
            size: 0,
            to_hasher,
            spare,
            hasher,
        })
    }

    /// Write out the gathered block and pass it to the hasher.
    fn flush_block(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.inner.write_all(&self.buf)?;
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
        let block = std::mem::replace(&mut self.buf, next);
        self.to_hasher
            .send(block)
            .map_err(|_| io::Error::other("the hashing thread stopped"))
    }

    /// Write everything out and return the inner writer, the byte count and
    /// the SHA-256 of every byte written.
    pub(crate) fn finish(mut self) -> io::Result<(W, u64, [u8; 32])> {
        self.flush_block()?;
        self.inner.flush()?;
        let HashOffloadWriter {
            inner,
            size,
            to_hasher,
            hasher,
            ..
        } = self;
        drop(to_hasher);
        let hash = hasher
            .join()
            .map_err(|_| io::Error::other("the hashing thread failed"))?;
        Ok((inner, size, hash))
    }
}

impl<W: Write> Write for HashOffloadWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > BLOCK {
            self.flush_block()?;
        }
        self.buf.extend_from_slice(data);
        self.size += data.len() as u64;
        Ok(data.len())
    }

    /// Bytes stay gathered until a block is full or [`Self::finish`]: the
    /// hash must see exactly what was written, in order, so there is no
    /// partial flush to the file alone.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_and_hash_as_a_plain_write() {
        let mut w = HashOffloadWriter::new(Vec::new()).unwrap();
        let mut want = Vec::new();
        // Pieces smaller than, equal to and larger than a block.
        for (i, n) in [0usize, 1, 7, BLOCK - 3, BLOCK, 3 * BLOCK + 11, 5]
            .iter()
            .enumerate()
        {
            let piece: Vec<u8> = (0..*n).map(|b| (b * 31 + i) as u8).collect();
            w.write_all(&piece).unwrap();
            want.extend_from_slice(&piece);
        }
        let (out, size, hash) = w.finish().unwrap();
        assert_eq!(out, want);
        assert_eq!(size, want.len() as u64);
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(&want)));
    }

    #[test]
    fn empty() {
        let (out, size, hash) = HashOffloadWriter::new(Vec::new())
            .unwrap()
            .finish()
            .unwrap();
        assert!(out.is_empty());
        assert_eq!(size, 0);
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[derive(Debug)]
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A failing file write surfaces as the error; dropping the writer then
    /// ends the hasher thread (its channel closes).
    #[test]
    fn write_error_surfaces() {
        // Gathered first, written when the next block starts...
        let mut w = HashOffloadWriter::new(Broken).unwrap();
        w.write_all(&vec![1u8; 2 * BLOCK]).unwrap();
        let e = w.write_all(b"x").unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        drop(w);
        // ...or at the end.
        let mut w = HashOffloadWriter::new(Broken).unwrap();
        w.write_all(b"tail").unwrap();
        assert_eq!(w.finish().unwrap_err().to_string(), "disk full");
    }
}
