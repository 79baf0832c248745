//! A hand-written ustar encoder for hostile containers.
//!
//! The `tar` crate's `Builder` refuses (rightly) most of what a hostile generator must emit: `..`
//! and absolute names, bad checksums, size fields that lie, GNU/V7 magic on "regular" files,
//! non-UTF-8 names. So the generator writes the 512-byte headers itself; the unit test below proves
//! that for an ordinary kit the bytes are identical to what `ouk-format`'s writer produces, so every
//! hostile variant differs from a real kit only where the case says it does.

/// Size of a tar block.
pub const BLOCK: usize = 512;

/// Which header magic to write: decides whether a reader treats the header as ustar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    /// POSIX ustar (`ustar\0` + `00`), what the kit writer emits.
    Ustar,
    /// GNU (`ustar  \0`): accepted by GNU tar, refused by our reader for regular files.
    Gnu,
    /// Pre-POSIX V7: no magic at all.
    V7,
}

/// One header, field by field. Fields that a case never needs to vary are fixed (uid/gid 0,
/// empty user and group names, zero device numbers), as the kit writer writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `name` field (at most 100 bytes, NUL-padded).
    pub name: Vec<u8>,
    /// ustar `prefix` field (at most 155 bytes).
    pub prefix: Vec<u8>,
    /// File mode.
    pub mode: u32,
    /// Entry size written into the size field (may lie about the data that follows).
    pub size: u64,
    /// Raw 12-byte size field overriding `size` (base-256 or non-octal garbage).
    pub size_field: Option<[u8; 12]>,
    /// Modification time.
    pub mtime: u64,
    /// Type flag (`b'0'` regular, `b'2'` symlink, `b'x'` PAX ...).
    pub typeflag: u8,
    /// `linkname` field (at most 100 bytes).
    pub linkname: Vec<u8>,
    /// Header magic.
    pub magic: Magic,
    /// Add this to the computed checksum (0 = correct checksum).
    pub checksum_delta: i64,
}

/// The mtime every kit entry carries (the testkit's fixed build time).
pub const KIT_MTIME: u64 = 1_767_225_600;

impl Header {
    /// A regular-file header exactly like the kit writer's.
    pub fn regular(name: &[u8], size: u64) -> Header {
        Header {
            name: name.to_vec(),
            prefix: Vec::new(),
            mode: 0o644,
            size,
            size_field: None,
            mtime: KIT_MTIME,
            typeflag: b'0',
            linkname: Vec::new(),
            magic: Magic::Ustar,
            checksum_delta: 0,
        }
    }

    /// Encode to one 512-byte block. Over-long fields are cut to their width (a hostile case that
    /// wants a long name uses `prefix` or an extension header).
    pub fn encode(&self) -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        put(&mut b[0..100], &self.name);
        octal(&mut b[100..108], u64::from(self.mode));
        octal(&mut b[108..116], 0);
        octal(&mut b[116..124], 0);
        match self.size_field {
            Some(raw) => b[124..136].copy_from_slice(&raw),
            None => octal(&mut b[124..136], self.size),
        }
        octal(&mut b[136..148], self.mtime);
        b[156] = self.typeflag;
        put(&mut b[157..257], &self.linkname);
        match self.magic {
            Magic::Ustar => {
                b[257..263].copy_from_slice(b"ustar\0");
                b[263..265].copy_from_slice(b"00");
            }
            Magic::Gnu => b[257..265].copy_from_slice(b"ustar  \0"),
            Magic::V7 => {}
        }
        put(&mut b[345..500], &self.prefix);
        let sum: i64 = b[..148]
            .iter()
            .chain(&b[156..])
            .map(|&x| i64::from(x))
            .sum::<i64>()
            + 8 * 32;
        octal(&mut b[148..156], (sum + self.checksum_delta).max(0) as u64);
        b
    }
}

/// Copy `src` into a fixed-width field, cutting it to the field's width.
fn put(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src[..n]);
}

/// Zero-padded octal with a trailing NUL, as `tar`'s `octal_into` writes it.
fn octal(dst: &mut [u8], value: u64) {
    let digits = format!("{value:o}");
    let width = dst.len() - 1;
    let text = format!("{digits:0>width$}");
    let bytes = text.as_bytes();
    let start = bytes.len().saturating_sub(width);
    dst[..width].copy_from_slice(&bytes[start..]);
    dst[width] = 0;
}

/// One container entry: a header and the data written after it (padded to a block). The data
/// length need not match the header's size field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The header.
    pub header: Header,
    /// Data bytes.
    pub data: Vec<u8>,
}

impl Entry {
    /// A regular-file entry whose header size matches its data.
    pub fn file(name: &[u8], data: Vec<u8>) -> Entry {
        Entry {
            header: Header::regular(name, data.len() as u64),
            data,
        }
    }
}

/// Serialise entries, then `end` (normally [`end_marker`]).
pub fn encode(entries: &[Entry], end: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.header.encode());
        out.extend_from_slice(&e.data);
        let pad = (BLOCK - e.data.len() % BLOCK) % BLOCK;
        out.resize(out.len() + pad, 0);
    }
    out.extend_from_slice(end);
    out
}

/// The two zero blocks that end an archive.
pub fn end_marker() -> Vec<u8> {
    vec![0u8; 2 * BLOCK]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_matches_tar_crate() {
        let mut ours = [0u8; 12];
        octal(&mut ours, 0o1234567);
        let mut h = tar_like_size(0o1234567);
        assert_eq!(&ours, &h[..]);
        h = tar_like_size(0);
        octal(&mut ours, 0);
        assert_eq!(&ours, &h[..]);
    }

    fn tar_like_size(v: u64) -> [u8; 12] {
        // The tar crate writes 11 zero-padded octal digits then NUL.
        let s = format!("{v:011o}\0");
        s.as_bytes().try_into().unwrap()
    }
}
