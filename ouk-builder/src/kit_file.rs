//! Writing the kit file and its blob signature at the same time.
//!
//! Why: the cosign-compatible blob signature is Ed25519 over the whole kit, which hashes the kit
//! twice with SHA-512. Run after the kit was written, both passes were a serial tail on one core
//! while the other idled (issue 14). Here the kit is written on its own thread and a copy of every
//! block it writes travels to the signer, whose first pass hashes the kit as it is written; only
//! the second pass reads the finished file (while its `fsync` runs). The signature bytes are the
//! same as signing the file afterwards (`Signer::sign_streamed` is called the same way).
//!
//! A deterministic Ed25519 nonce is derived from the first pass: a first pass that saw other
//! bytes than the file holds would sign with a nonce of other data, and two such signatures could
//! reveal the key. So every pass is checksummed (CRC-32 and length) and must match what the writer
//! put into the file; otherwise the signature is thrown away and the build fails.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use ouk_format::keys::Signer;

use crate::error::BuildError;

/// Bytes per block sent to the signer (and the file read size of later passes).
const BLOCK: usize = 1 << 20;
/// Blocks in flight between the writer and the signer: bounds the copy's memory at 8 MiB.
const BLOCKS_IN_FLIGHT: usize = 8;

/// Length and CRC-32 of a byte stream: cheap enough to run over every pass, strong enough to
/// catch a block lost, repeated or reordered on the way (not an adversary: both ends are ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    crc: u32,
}

#[derive(Default)]
struct Fingerprinter {
    len: u64,
    crc: crc32fast::Hasher,
}

impl Fingerprinter {
    fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        self.crc.update(bytes);
    }
    fn finish(self) -> Fingerprint {
        Fingerprint {
            len: self.len,
            crc: self.crc.finalize(),
        }
    }
}

/// The writer the kit is written through: the file's buffered writer, plus a copy of every
/// written byte in blocks to the signer and the fingerprint of exactly what reached the file.
pub(crate) struct TeeWriter<'f> {
    inner: BufWriter<&'f File>,
    block: Vec<u8>,
    to_signer: Option<SyncSender<Vec<u8>>>,
    written: Fingerprinter,
}

impl Write for TeeWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.update(&buf[..n]);
        if self.to_signer.is_some() {
            self.block.extend_from_slice(&buf[..n]);
            if self.block.len() >= BLOCK {
                self.send_block();
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl TeeWriter<'_> {
    fn send_block(&mut self) {
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        if let Some(tx) = &self.to_signer {
            // A signer that stopped reports its own error; the kit is still written.
            if tx.send(block).is_err() {
                self.to_signer = None;
            }
        }
    }
}

/// What [`write_and_sign`] produced.
pub(crate) struct Signed<T> {
    /// What the write closure returned.
    pub written: T,
    /// The blob signature, when a signer was given.
    pub signature: Option<Vec<u8>>,
}

/// Write the kit into `file` (at `path`, for errors and the second pass) with `write`, then flush
/// and `fsync` it; meanwhile sign its bytes with `signer`, if any. `write` runs on its own thread.
pub(crate) fn write_and_sign<T: Send>(
    file: &File,
    path: &Path,
    signer: Option<&dyn Signer>,
    write: impl FnOnce(&mut TeeWriter<'_>) -> Result<T, BuildError> + Send,
) -> Result<Signed<T>, BuildError> {
    let (to_signer, blocks) = sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT);
    let (complete_tx, complete) = sync_channel::<Fingerprint>(1);
    let mut tee = TeeWriter {
        inner: BufWriter::with_capacity(BLOCK, file),
        block: Vec::with_capacity(BLOCK),
        to_signer: signer.map(|_| to_signer),
        written: Fingerprinter::default(),
    };
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<T, BuildError> {
            let result = write(&mut tee)?;
            tee.send_block();
            let TeeWriter { inner, written, .. } = tee;
            let file = inner
                .into_inner()
                .map_err(|e| BuildError::io(path)(e.into_error()))?;
            // Only a complete file is announced (an error drops the sender instead). The later
            // passes read it from the page cache while it is synced: the sync's wait overlaps
            // the second pass instead of preceding it. A failed sync fails the build below.
            let _ = complete_tx.send(written.finish());
            file.sync_all().map_err(BuildError::io(path))?;
            Ok(result)
        });
        let signature = signer.map(|s| sign_while_written(s, path, &blocks, &complete));
        // Unblock a writer still sending to a signer that gave up.
        drop(blocks);
        let written = writer
            .join()
            .map_err(|_| BuildError::io(path)(io::Error::other("kit writer thread panicked")))?;
        // A write error explains a failed signature, not the other way round.
        let written = written?;
        Ok(Signed {
            written,
            signature: signature.transpose()?,
        })
    })
}

/// Hands every byte to a signer's sink and fingerprints it on the way.
struct Pass<'s> {
    sink: &'s mut dyn FnMut(&[u8]),
    print: Fingerprinter,
}

impl Write for Pass<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.print.update(buf);
        (self.sink)(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Run `signer` over the kit: the first pass over the blocks as they are written, any later
/// pass over the complete file. Every pass must match the file's fingerprint.
fn sign_while_written(
    signer: &dyn Signer,
    path: &Path,
    blocks: &Receiver<Vec<u8>>,
    complete: &Receiver<Fingerprint>,
) -> Result<Vec<u8>, BuildError> {
    let passes = Cell::new(0u32);
    let seen: RefCell<Vec<Fingerprint>> = RefCell::new(Vec::new());
    // What the writer announces once the file is complete (asked for at most once).
    let file_print: Cell<Option<Fingerprint>> = Cell::new(None);
    let complete_file = || -> io::Result<Fingerprint> {
        if let Some(p) = file_print.get() {
            return Ok(p);
        }
        let p = complete
            .recv()
            .map_err(|_| io::Error::other("the kit file was not completely written"))?;
        file_print.set(Some(p));
        Ok(p)
    };
    let feed = |sink: &mut dyn FnMut(&[u8])| -> io::Result<()> {
        let first = passes.get() == 0;
        passes.set(passes.get() + 1);
        let mut pass = Pass {
            sink,
            print: Fingerprinter::default(),
        };
        if first {
            for block in blocks.iter() {
                pass.write_all(&block)?;
            }
        } else {
            complete_file()?;
            io::copy(&mut File::open(path)?, &mut pass)?;
        }
        seen.borrow_mut().push(pass.print.finish());
        Ok(())
    };
    let signature = signer.sign_streamed(&feed)?;
    let file = complete_file().map_err(BuildError::io(path))?;
    let seen = seen.into_inner();
    if seen.is_empty() || seen.iter().any(|p| *p != file) {
        return Err(BuildError::io(path)(io::Error::other(format!(
            "the blob signature saw other bytes than the kit file holds ({seen:?} against {file:?}); \
             it was not kept"
        ))));
    }
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ouk_format::keys::Ed25519Signer;

    fn message() -> Vec<u8> {
        (0..3_000_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn signature_while_writing_is_the_signature_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kit");
        let file = File::create(&path).unwrap();
        let signer = Ed25519Signer::from_seed(&[7; 32]);
        let msg = message();
        let signed = write_and_sign(&file, &path, Some(&signer), |w| {
            // Odd piece sizes: blocks are cut across writes.
            for piece in msg.chunks(70_001) {
                w.write_all(piece).map_err(BuildError::io(&path))?;
            }
            Ok(msg.len())
        })
        .unwrap();
        assert_eq!(signed.written, msg.len());
        assert_eq!(fs_read(&path), msg);
        assert_eq!(signed.signature.unwrap(), signer.sign(&msg).unwrap());
    }

    #[test]
    fn no_signer_writes_the_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kit");
        let file = File::create(&path).unwrap();
        let signed = write_and_sign(&file, &path, None, |w| {
            w.write_all(b"kit").map_err(BuildError::io(&path))
        })
        .unwrap();
        assert!(signed.signature.is_none());
        assert_eq!(fs_read(&path), b"kit");
    }

    #[test]
    fn a_write_error_is_reported_and_no_signature_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kit");
        let file = File::create(&path).unwrap();
        let signer = Ed25519Signer::from_seed(&[7; 32]);
        let err = write_and_sign(&file, &path, Some(&signer), |w| -> Result<(), _> {
            w.write_all(&[1; 3 << 20]).map_err(BuildError::io(&path))?;
            Err(BuildError::io(&path)(io::Error::other("disk on fire")))
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("disk on fire"), "{err}");
    }

    /// A second pass that reads other bytes than the writer wrote (here: another process
    /// appended to the file in between) must not produce a kept signature.
    #[test]
    fn a_pass_that_saw_other_bytes_discards_the_signature() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kit");
        let file = File::create(&path).unwrap();
        let signer = Ed25519Signer::from_seed(&[7; 32]);
        let msg = message();
        let err = write_and_sign(&file, &path, Some(&signer), |w| {
            w.write_all(&msg).map_err(BuildError::io(&path))?;
            w.flush().map_err(BuildError::io(&path))?;
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(b"extra"))
                .map_err(BuildError::io(&path))
        })
        .err()
        .expect("a second pass over other bytes is refused");
        assert!(err.to_string().contains("other bytes"), "{err}");
    }

    fn fs_read(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap()
    }
}
