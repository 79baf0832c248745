//! The two meta pages: decode, validate (magic, version, checksum as Go's `Meta.Validate`, plus
//! the meta flag and a usable page size) and pick the one Go bbolt would use.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use super::layout::{
    fnv1a64, u32_at, u64_at, PageHeader, MAGIC, MAX_PAGE_SIZE, META_FLAG, META_SIZE, META_SUMMED,
    MIN_PAGE_SIZE, PAGE_HEADER, VERSION,
};
use super::problem::{BoltProblem, MetaProblem};

/// The fields of a valid meta page the validator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub page_size: u32,
    /// Root page of the root bucket.
    pub root: u64,
    /// Freelist page, or [`super::layout::NO_FREELIST`].
    pub freelist: u64,
    /// High-water mark: every page id in use is below it.
    pub hwm: u64,
    pub txid: u64,
}

/// Decodes the meta page whose first bytes are `b`.
fn parse(b: &[u8]) -> Result<Meta, MetaProblem> {
    let header = PageHeader::parse(b).ok_or(MetaProblem::Short)?;
    let m = b
        .get(PAGE_HEADER..PAGE_HEADER + META_SIZE)
        .ok_or(MetaProblem::Short)?;
    let field32 = |off| u32_at(m, off).ok_or(MetaProblem::Short);
    let field64 = |off| u64_at(m, off).ok_or(MetaProblem::Short);
    if header.flags != META_FLAG {
        return Err(MetaProblem::NotMetaPage);
    }
    if field32(0)? != MAGIC {
        return Err(MetaProblem::BadMagic);
    }
    if field32(4)? != VERSION {
        return Err(MetaProblem::BadVersion);
    }
    let summed = m.get(..META_SUMMED).ok_or(MetaProblem::Short)?;
    if fnv1a64(summed) != field64(META_SUMMED)? {
        return Err(MetaProblem::BadChecksum);
    }
    Ok(Meta {
        page_size: field32(8)?,
        root: field64(16)?,
        freelist: field64(32)?,
        hwm: field64(40)?,
        txid: field64(48)?,
    })
}

/// Reads the meta page at `offset` (as much of it as the file has).
fn read_meta(file: &mut File, offset: u64) -> io::Result<Result<Meta, MetaProblem>> {
    let mut buf = Vec::with_capacity(PAGE_HEADER + META_SIZE);
    file.seek(SeekFrom::Start(offset))?;
    file.take((PAGE_HEADER + META_SIZE) as u64)
        .read_to_end(&mut buf)?;
    Ok(parse(&buf))
}

fn usable(size: u32) -> bool {
    (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&size) && size.is_power_of_two()
}

/// Picks the meta page as Go bbolt does: the page size comes from meta 0 when it is valid,
/// otherwise from a valid meta 1 found by probing the possible page sizes; of the valid metas,
/// the one with the higher txid wins (meta 0 on a tie).
pub(crate) fn choose(file: &mut File) -> io::Result<Result<Meta, BoltProblem>> {
    let m0 = read_meta(file, 0)?;
    let (page_size, m1) = match m0 {
        Ok(m) => {
            if !usable(m.page_size) {
                return Ok(Err(BoltProblem::BadPageSize {
                    meta: 0,
                    size: m.page_size,
                }));
            }
            (m.page_size, read_meta(file, u64::from(m.page_size))?)
        }
        Err(p0) => {
            // Meta 1 sits one page in; try every page size (as Go's getPageSizeFromSecondMeta).
            let mut found = None;
            let mut p1 = MetaProblem::Short;
            let mut size = MIN_PAGE_SIZE;
            while size <= MAX_PAGE_SIZE {
                match read_meta(file, u64::from(size))? {
                    Ok(m) if m.page_size == size => {
                        found = Some(m);
                        break;
                    }
                    Ok(_) => {}
                    Err(p) if size == 4096 => p1 = p,
                    Err(_) => {}
                }
                size *= 2;
            }
            match found {
                Some(m) => (m.page_size, Ok(m)),
                None => {
                    return Ok(Err(BoltProblem::NoValidMeta {
                        meta0: p0,
                        meta1: p1,
                    }))
                }
            }
        }
    };
    let chosen = match (m0, m1) {
        (Ok(a), Ok(b)) => {
            if a.page_size != b.page_size {
                return Ok(Err(BoltProblem::PageSizeMismatch {
                    first: a.page_size,
                    second: b.page_size,
                }));
            }
            if b.txid > a.txid {
                b
            } else {
                a
            }
        }
        (Ok(a), Err(_)) => a,
        (Err(_), Ok(b)) => b,
        (Err(meta0), Err(meta1)) => return Ok(Err(BoltProblem::NoValidMeta { meta0, meta1 })),
    };
    debug_assert_eq!(chosen.page_size, page_size);
    Ok(Ok(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_page(page_size: u32, txid: u64) -> Vec<u8> {
        let mut b = vec![0u8; PAGE_HEADER + META_SIZE];
        b[8..10].copy_from_slice(&META_FLAG.to_le_bytes());
        let m = &mut b[PAGE_HEADER..];
        m[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        m[4..8].copy_from_slice(&VERSION.to_le_bytes());
        m[8..12].copy_from_slice(&page_size.to_le_bytes());
        m[48..56].copy_from_slice(&txid.to_le_bytes());
        let sum = fnv1a64(&m[..META_SUMMED]);
        m[56..64].copy_from_slice(&sum.to_le_bytes());
        b
    }

    #[test]
    fn parse_checks_each_field() {
        let good = meta_page(4096, 7);
        assert_eq!(parse(&good).map(|m| m.txid), Ok(7));
        assert_eq!(parse(&good[..40]), Err(MetaProblem::Short));
        let mut b = good.clone();
        b[8] = 0x02;
        assert_eq!(parse(&b), Err(MetaProblem::NotMetaPage));
        let mut b = good.clone();
        b[PAGE_HEADER] ^= 1;
        assert_eq!(parse(&b), Err(MetaProblem::BadMagic));
        let mut b = good.clone();
        b[PAGE_HEADER + 4] = 1;
        assert_eq!(parse(&b), Err(MetaProblem::BadVersion));
        let mut b = good;
        b[PAGE_HEADER + 20] ^= 1;
        assert_eq!(parse(&b), Err(MetaProblem::BadChecksum));
    }

    #[test]
    fn page_sizes() {
        assert!(usable(4096) && usable(512) && usable(65536));
        assert!(!usable(0) && !usable(4097) && !usable(256) && !usable(1 << 17));
    }
}
