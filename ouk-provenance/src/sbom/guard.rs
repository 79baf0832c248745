//! A buffering reader that cuts an SBOM stream at its byte cap and at an over-long token.
//!
//! Why: serde_json's reader-based parser copies each string (and each long number) whole into a
//! scratch buffer before any visitor sees it, so one 60 MiB string would cost 60 MiB however careful
//! the visitors are. This adapter follows just enough of JSON's lexical structure (inside a string,
//! after a backslash, or in a bare number/literal run) to count each token's length as the bytes go
//! by, and stops the stream with an error the caller maps to a precise [`super::SbomError`].

use std::cell::Cell;
use std::io::{self, Read};

/// Why the guard stopped the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trip {
    /// More than `max_bytes` bytes.
    TooLarge { read: usize },
    /// One string or number token longer than `max_token`.
    TokenTooLong,
}

#[derive(Clone, Copy)]
enum Lex {
    Outside,
    InString,
    Escape,
}

/// Size of the read buffer (serde_json pulls one byte at a time, so the guard buffers).
const BUF: usize = 64 * 1024;

pub(super) struct Guard<'t, R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    read: usize,
    max_bytes: usize,
    max_token: usize,
    token: usize,
    lex: Lex,
    /// A cap hit in the buffered bytes, raised once the bytes before it are consumed.
    pending: Option<Trip>,
    trip: &'t Cell<Option<Trip>>,
}

impl<'t, R: Read> Guard<'t, R> {
    pub(super) fn new(
        inner: R,
        max_bytes: usize,
        max_token: usize,
        trip: &'t Cell<Option<Trip>>,
    ) -> Self {
        Guard {
            inner,
            buf: vec![0; BUF].into_boxed_slice(),
            pos: 0,
            len: 0,
            read: 0,
            max_bytes,
            max_token,
            token: 0,
            lex: Lex::Outside,
            pending: None,
            trip,
        }
    }

    fn stop(&self, t: Trip) -> io::Error {
        self.trip.set(Some(t));
        io::Error::other("ouk: SBOM stream cut by a limit")
    }

    /// Advances the lexer over one byte; false when the current token gets too long.
    fn step(&mut self, b: u8) -> bool {
        let grow = match self.lex {
            Lex::Outside => match b {
                b'"' => {
                    self.lex = Lex::InString;
                    self.token = 0;
                    false
                }
                b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.' => true,
                _ => {
                    self.token = 0;
                    false
                }
            },
            Lex::InString => {
                match b {
                    b'"' => self.lex = Lex::Outside,
                    b'\\' => self.lex = Lex::Escape,
                    _ => {}
                }
                b != b'"'
            }
            Lex::Escape => {
                self.lex = Lex::InString;
                true
            }
        };
        if grow {
            self.token += 1;
        } else if matches!(self.lex, Lex::Outside) {
            self.token = 0;
        }
        self.token <= self.max_token
    }
}

impl<R: Read> Guard<'_, R> {
    /// Refills the buffer and checks the new bytes all at once (serde_json pulls one byte per call,
    /// so the checks are not made per call). A cap hit inside the new bytes shortens the buffer to
    /// the bytes before it and leaves the trip pending.
    fn refill(&mut self) -> io::Result<()> {
        self.pos = 0;
        self.len = 0;
        let got = self.inner.read(&mut self.buf)?;
        let mut cut = None;
        for i in 0..got {
            let Some(&b) = self.buf.get(i) else { break };
            self.read += 1;
            if self.read > self.max_bytes {
                cut = Some((i, Trip::TooLarge { read: self.read }));
                break;
            }
            if !self.step(b) {
                cut = Some((i, Trip::TokenTooLong));
                break;
            }
        }
        match cut {
            Some((at, trip)) => {
                self.len = at;
                self.pending = Some(trip);
            }
            None => self.len = got,
        }
        Ok(())
    }
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len {
            if let Some(t) = self.pending.or(self.trip.get()) {
                // Sticky: the parser may retry, the stream stays cut at the same place.
                return Err(self.stop(t));
            }
            self.refill()?;
            if self.len == 0 {
                if let Some(t) = self.pending {
                    return Err(self.stop(t));
                }
                return Ok(0);
            }
        }
        let avail = self.buf.get(self.pos..self.len).unwrap_or(&[]);
        let n = out.len().min(avail.len());
        for (dst, &b) in out.iter_mut().zip(avail) {
            *dst = b;
        }
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(input: &[u8], max_bytes: usize, max_token: usize) -> Option<Trip> {
        let trip = Cell::new(None);
        let mut g = Guard::new(input, max_bytes, max_token, &trip);
        let mut sink = Vec::new();
        let _ = g.read_to_end(&mut sink);
        trip.get()
    }

    #[test]
    fn counts_bytes_and_tokens() {
        assert_eq!(drain(br#"{"abcd":"efgh"}"#, 100, 4), None);
        assert_eq!(drain(br#"{"abcde":1}"#, 100, 4), Some(Trip::TokenTooLong));
        // An escaped quote does not end the string.
        assert_eq!(drain(br#"["ab\"cd"]"#, 100, 4), Some(Trip::TokenTooLong));
        assert_eq!(drain(b"[12345]", 100, 4), Some(Trip::TokenTooLong));
        assert_eq!(drain(b"[1234, 1234]", 100, 4), None);
        assert_eq!(drain(b"[1,2,3]", 5, 4), Some(Trip::TooLarge { read: 6 }));
    }
}
