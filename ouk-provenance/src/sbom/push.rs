//! Push-style front end of the streaming SBOM validator, for a caller that receives an SBOM as
//! chunks (the importer's member sink: `begin`, `write(data)`, `end`) rather than as a reader.
//!
//! Why a thread: serde_json's parser pulls its input, and no maintained crate parses JSON from pushed
//! chunks with the typed visitors we need. The validator therefore runs on its own thread, reading
//! from a channel of at most [`IN_FLIGHT`] chunks of at most [`CHUNK`] bytes; the caller's pushes block
//! while it is busy. Memory stays bounded (≤ 256 KiB in flight) and nothing is buffered whole. A
//! refusal is reported on the first push after it, or at `finish`.

use super::{validate_sbom_reader, SbomError, SbomFormat};
use crate::limits::Limits;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Largest piece sent to the validator thread.
const CHUNK: usize = 64 * 1024;
/// Pieces queued before a push waits.
const IN_FLIGHT: usize = 4;

type Outcome = Result<SbomFormat, SbomError>;

/// Validates one SBOM pushed chunk by chunk, with the same verdicts and bounds as
/// [`validate_sbom_reader`]. Dropping it without [`finish`](Self::finish) ends the check (as a
/// truncated document) and waits for its thread.
pub struct SbomStreamValidator {
    tx: Option<SyncSender<Vec<u8>>>,
    handle: Option<JoinHandle<Outcome>>,
    outcome: Option<Outcome>,
}

struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(next) => {
                    self.cur = next;
                    self.pos = 0;
                }
                // The sender is gone: end of the document.
                Err(_) => return Ok(0),
            }
        }
        let avail = self.cur.get(self.pos..).unwrap_or(&[]);
        let n = avail.len().min(out.len());
        out.iter_mut().zip(avail).for_each(|(d, s)| *d = *s);
        self.pos += n;
        Ok(n)
    }
}

impl SbomStreamValidator {
    /// Starts the validator thread. Fails only if the thread cannot be started.
    pub fn start(limits: &Limits) -> Result<Self, SbomError> {
        let (tx, rx) = sync_channel::<Vec<u8>>(IN_FLIGHT);
        let limits = limits.clone();
        let handle = std::thread::Builder::new()
            .name("ouk-sbom-check".into())
            .spawn(move || {
                let reader = ChannelReader {
                    rx,
                    cur: Vec::new(),
                    pos: 0,
                };
                validate_sbom_reader(reader, &limits)
            })
            .map_err(|_| SbomError::Internal("cannot start the SBOM validator thread"))?;
        Ok(SbomStreamValidator {
            tx: Some(tx),
            handle: Some(handle),
            outcome: None,
        })
    }

    /// Pushes the next bytes of the document. Returns the refusal as soon as the validator has
    /// stopped on one (later pushes return it again).
    pub fn write(&mut self, data: &[u8]) -> Result<(), SbomError> {
        if let Some(outcome) = &self.outcome {
            return Err(stopped(outcome));
        }
        for piece in data.chunks(CHUNK) {
            let sent = match &self.tx {
                Some(tx) => tx.send(piece.to_vec()).is_ok(),
                None => false,
            };
            if !sent {
                // The validator stopped before the end of the document: it refused it.
                let outcome = self.join();
                let err = stopped(&outcome);
                self.outcome = Some(outcome);
                return Err(err);
            }
        }
        Ok(())
    }

    /// Ends the document and returns the verdict.
    pub fn finish(mut self) -> Outcome {
        match self.outcome.take() {
            Some(outcome) => outcome,
            None => self.join(),
        }
    }

    fn join(&mut self) -> Outcome {
        self.tx = None;
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => Err(SbomError::Internal("the SBOM validator thread panicked")),
            None => Err(SbomError::Internal("the SBOM validator already stopped")),
        }
    }
}

/// The refusal to report for a validator that stopped before the end of its input.
fn stopped(outcome: &Outcome) -> SbomError {
    match outcome {
        Err(e) => e.clone(),
        Ok(_) => SbomError::Internal("the SBOM validator stopped before the end of the document"),
    }
}

impl Drop for SbomStreamValidator {
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/provenance")
            .join(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn push_all(bytes: &[u8], piece: usize) -> Outcome {
        let mut v = SbomStreamValidator::start(&Limits::default())?;
        for c in bytes.chunks(piece) {
            v.write(c)?;
        }
        v.finish()
    }

    #[test]
    fn pushed_chunks_give_the_reader_verdicts() {
        for rel in [
            "sbom-valid/user-app.spdx.json",
            "sbom-valid/user-app.cdx-1.6.json",
            "sbom-invalid/both/spdx-dangling-relationship.spdx.json",
            "sbom-invalid/rust-only/duplicate-key.cdx.json",
        ] {
            let bytes = fixture(rel);
            let want = validate_sbom_reader(bytes.as_slice(), &Limits::default());
            assert_eq!(push_all(&bytes, 7), want, "{rel}");
            assert_eq!(push_all(&bytes, 1 << 20), want, "{rel}");
        }
    }

    #[test]
    fn an_early_refusal_stops_the_pushes() {
        let mut v = SbomStreamValidator::start(&Limits::default()).unwrap();
        v.write(br#"{"a":1,"a":2,"pad":""#).unwrap_or(());
        let filler = vec![b'x'; CHUNK];
        let mut refused = None;
        for _ in 0..(IN_FLIGHT + 8) {
            if let Err(e) = v.write(&filler) {
                refused = Some(e);
                break;
            }
        }
        let want = SbomError::DuplicateKey { key: "a".into() };
        assert_eq!(refused, Some(want.clone()));
        assert_eq!(v.write(b"more"), Err(want.clone()));
        assert_eq!(v.finish(), Err(want));
    }

    #[test]
    fn dropping_mid_document_ends_the_thread() {
        let mut v = SbomStreamValidator::start(&Limits::default()).unwrap();
        v.write(br#"{"bomFormat":"CycloneDX","#).unwrap();
        drop(v); // must not hang
    }
}
