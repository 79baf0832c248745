//! SHA-256 digests and the stream adapters that measure data as it passes.
//!
//! These adapters only measure and cut off; deciding what a mismatch means is the caller's job.

use std::fmt;
use std::io::{self, Read, Write};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// A SHA-256 digest. Serialized as 64 lower-case hex characters; anything else is rejected on
/// input, so two spellings of one digest cannot exist in signed documents.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256([u8; 32]);

impl Sha256 {
    /// Digest of a byte slice.
    pub fn of(data: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(data).into())
    }

    /// Wrap raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Sha256 {
        Sha256(bytes)
    }

    /// Raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse the strict lower-case hex form.
    pub fn from_hex(s: &str) -> Option<Sha256> {
        if s.len() != 64 || s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Sha256(out))
    }

    /// Digest of everything a reader yields (streaming, constant memory).
    pub fn of_reader(mut reader: impl Read) -> io::Result<(Sha256, u64)> {
        let mut hasher = Hasher::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
        }
        Ok(hasher.finish())
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Sha256::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("sha256 must be 64 lower-case hex characters"))
    }
}

/// Incremental SHA-256 that also counts bytes.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: sha2::Sha256,
    len: u64,
}

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Digest and length.
    pub fn finish(self) -> (Sha256, u64) {
        (Sha256(self.inner.finalize().into()), self.len)
    }
}

/// A sink for `io::copy`: hashing a reader's bytes without a hand-written read loop.
impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer adapter that hashes everything written through it, and also the digest of every
/// fixed-size chunk: the builder uses it to produce the chunk table that lets the importer
/// authenticate each chunk before decompressing it.
pub struct ChunkingHashWriter<W> {
    inner: W,
    whole: Hasher,
    chunk: Hasher,
    chunk_size: u64,
    chunks: Vec<Sha256>,
}

impl<W: Write> ChunkingHashWriter<W> {
    /// Wrap `inner`, cutting chunks every `chunk_size` bytes.
    pub fn new(inner: W, chunk_size: u32) -> Self {
        ChunkingHashWriter {
            inner,
            whole: Hasher::new(),
            chunk: Hasher::new(),
            chunk_size: u64::from(chunk_size.max(1)),
            chunks: Vec::new(),
        }
    }

    /// Finish: returns the inner writer, whole digest, length and chunk digests.
    pub fn finish(mut self) -> (W, Sha256, u64, Vec<Sha256>) {
        if !self.chunk.is_empty() {
            let chunk = std::mem::take(&mut self.chunk);
            self.chunks.push(chunk.finish().0);
        }
        let (digest, len) = self.whole.finish();
        (self.inner, digest, len, self.chunks)
    }
}

impl<W: Write> Write for ChunkingHashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = (self.chunk_size - self.chunk.len()) as usize;
        let take = buf.len().min(room);
        let n = self.inner.write(&buf[..take])?;
        self.whole.update(&buf[..n]);
        self.chunk.update(&buf[..n]);
        if self.chunk.len() == self.chunk_size {
            let chunk = std::mem::take(&mut self.chunk);
            self.chunks.push(chunk.finish().0);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer adapter that hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wrap `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Finish: inner writer, digest and length.
    pub fn finish(self) -> (W, Sha256, u64) {
        let (d, n) = self.hasher.finish();
        (self.inner, d, n)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_strictness() {
        let d = Sha256::of(b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256::from_hex(&d.to_hex()), Some(d));
        assert_eq!(Sha256::from_hex(&d.to_hex().to_uppercase()), None);
        assert_eq!(Sha256::from_hex("abc"), None);
    }

    #[test]
    fn chunk_writer_cuts_at_boundaries() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = ChunkingHashWriter::new(Vec::new(), 4096);
        for piece in data.chunks(777) {
            w.write_all(piece).unwrap();
        }
        let (out, whole, len, chunks) = w.finish();
        assert_eq!(out, data);
        assert_eq!(len, 10_000);
        assert_eq!(whole, Sha256::of(&data));
        let expected: Vec<Sha256> = data.chunks(4096).map(Sha256::of).collect();
        assert_eq!(chunks, expected);
    }
}
