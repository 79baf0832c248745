//! Go bbolt's on-disk layout (`internal/common/{page,meta,bucket}.go`): offsets and sizes, and
//! checked little-endian reads that return `None` instead of indexing out of bounds.

/// Go bbolt's magic number.
pub(crate) const MAGIC: u32 = 0xED0C_DAED;
/// Bolt file format version.
pub(crate) const VERSION: u32 = 2;
/// `page` header: id u64, flags u16, count u16, overflow u32.
pub(crate) const PAGE_HEADER: usize = 16;
/// The meta struct after the page header.
pub(crate) const META_SIZE: usize = 64;
/// Bytes of the meta struct covered by its checksum (everything before `checksum`).
pub(crate) const META_SUMMED: usize = 56;
/// `branchPageElement`: pos u32, ksize u32, pgid u64.
pub(crate) const BRANCH_ELEMENT: usize = 16;
/// `leafPageElement`: flags u32, pos u32, ksize u32, vsize u32.
pub(crate) const LEAF_ELEMENT: usize = 16;
/// `InBucket`: root pgid u64, sequence u64; an inline page follows when root is 0.
pub(crate) const BUCKET_HEADER: usize = 16;

pub(crate) const BRANCH_FLAG: u16 = 0x01;
pub(crate) const LEAF_FLAG: u16 = 0x02;
pub(crate) const META_FLAG: u16 = 0x04;
pub(crate) const FREELIST_FLAG: u16 = 0x10;
/// Leaf element flag: the value is a bucket.
pub(crate) const BUCKET_LEAF_FLAG: u32 = 0x01;
/// Meta `freelist` value when the freelist is not persisted (`NoFreelistSync`).
pub(crate) const NO_FREELIST: u64 = u64::MAX;
/// Freelist `count` value meaning "the real count is the first u64".
pub(crate) const FREELIST_COUNT_OVERFLOW: u16 = 0xFFFF;

/// Smallest and largest page size accepted (Go bbolt probes 1 KiB..16 MiB; real files use the
/// OS page size, 4 KiB or 64 KiB).
pub(crate) const MIN_PAGE_SIZE: u32 = 512;
pub(crate) const MAX_PAGE_SIZE: u32 = 65536;

pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(off..off.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// A page header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageHeader {
    pub id: u64,
    pub flags: u16,
    pub count: u16,
    pub overflow: u32,
}

impl PageHeader {
    /// `None` when `b` is shorter than a header.
    pub(crate) fn parse(b: &[u8]) -> Option<PageHeader> {
        Some(PageHeader {
            id: u64_at(b, 0)?,
            flags: u16_at(b, 8)?,
            count: u16_at(b, 10)?,
            overflow: u32_at(b, 12)?,
        })
    }
}

/// FNV-1a 64, as Go's `hash/fnv` `New64a` (the meta checksum); ten lines, not worth a crate.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference() {
        // Reference values of FNV-1a 64 (as Go's hash/fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn reads_are_checked() {
        let b = [1u8, 0, 0, 0, 0, 0, 0, 0, 2];
        assert_eq!(u64_at(&b, 0), Some(1));
        assert_eq!(u64_at(&b, 2), None);
        assert_eq!(u32_at(&b, usize::MAX - 1), None);
        assert_eq!(u16_at(&b, 8), None);
        assert_eq!(PageHeader::parse(&b), None);
    }
}
