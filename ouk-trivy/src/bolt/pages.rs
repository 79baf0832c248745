//! Reading pages from the file: every page id is checked against the meta's high-water mark and
//! the file size before a byte is read, every page (with its overflow run) is read into a buffer
//! of bounded size, and a bitmap of reached pages refuses cycles and shared pages.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use super::layout::{PageHeader, PAGE_HEADER};
use super::problem::BoltProblem;
use super::Fail;

/// Page access for one validation run.
pub(crate) struct Pages<'f> {
    file: &'f mut File,
    file_len: u64,
    page_size: u64,
    hwm: u64,
    max_span: u64,
    /// One bit per page of the file: set once the page (or an overflow page) was reached.
    reached: Vec<u64>,
    reached_count: u64,
}

impl<'f> Pages<'f> {
    pub(crate) fn new(
        file: &'f mut File,
        file_len: u64,
        page_size: u32,
        hwm: u64,
        max_span: u64,
    ) -> Self {
        let page_size = u64::from(page_size);
        // Only pages inside the file can ever be marked, so the bitmap is sized by the file
        // (which the caller has already capped), never by the attacker's high-water mark.
        let file_pages = file_len / page_size;
        let words = usize::try_from(file_pages.div_ceil(64)).unwrap_or(usize::MAX);
        Pages {
            file,
            file_len,
            page_size,
            hwm,
            max_span,
            reached: vec![0; words],
            reached_count: 0,
        }
    }

    /// Pages of the file (an upper bound on the pages a valid tree can reach).
    pub(crate) fn file_pages(&self) -> u64 {
        self.file_len / self.page_size
    }

    /// Pages reached so far.
    pub(crate) fn reached_count(&self) -> u64 {
        self.reached_count
    }

    /// Whether `pgid` was reached.
    pub(crate) fn is_reached(&self, pgid: u64) -> bool {
        let (w, bit) = split(pgid);
        self.reached.get(w).is_some_and(|word| word & bit != 0)
    }

    fn mark(&mut self, pgid: u64) -> Result<(), BoltProblem> {
        let (w, bit) = split(pgid);
        let word = self
            .reached
            .get_mut(w)
            .ok_or(BoltProblem::PageOutsideFile { pgid })?;
        if *word & bit != 0 {
            return Err(BoltProblem::PageReachedTwice { pgid });
        }
        *word |= bit;
        self.reached_count += 1;
        Ok(())
    }

    /// Checks that `pgid` names a data page inside both the high-water mark and the file.
    pub(crate) fn check_id(&self, pgid: u64) -> Result<(), BoltProblem> {
        if pgid < 2 {
            return Err(BoltProblem::MetaPageReferenced { pgid });
        }
        if pgid >= self.hwm {
            return Err(BoltProblem::BeyondHighWaterMark {
                pgid,
                hwm: self.hwm,
            });
        }
        let end = pgid
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.page_size));
        match end {
            Some(end) if end <= self.file_len => Ok(()),
            _ => Err(BoltProblem::PageOutsideFile { pgid }),
        }
    }

    /// Reads page `pgid` with its overflow run, marking every page of the run as reached.
    /// Returns the header and the whole span (header included).
    pub(crate) fn read(&mut self, pgid: u64) -> Result<(PageHeader, Vec<u8>), Fail> {
        self.check_id(pgid)?;
        let offset = pgid * self.page_size; // cannot overflow: check_id bounded it by file_len
        let mut head = [0u8; PAGE_HEADER];
        self.read_exact_at(offset, &mut head).map_err(Fail::Io)?;
        let header = PageHeader::parse(&head).ok_or(BoltProblem::PageOutsideFile { pgid })?;
        if header.id != pgid {
            return Err(BoltProblem::PageIdMismatch {
                pgid,
                found: header.id,
            }
            .into());
        }
        let out_of_range = BoltProblem::OverflowOutOfRange {
            pgid,
            overflow: header.overflow,
        };
        let last = pgid
            .checked_add(u64::from(header.overflow))
            .ok_or(out_of_range)?;
        if last >= self.hwm || self.check_id(last).is_err() {
            return Err(out_of_range.into());
        }
        let span = (u64::from(header.overflow) + 1) * self.page_size;
        if span > self.max_span {
            return Err(BoltProblem::PageTooLarge { pgid, bytes: span }.into());
        }
        for id in pgid..=last {
            self.mark(id)?;
        }
        // `span` is at most `max_span`, so the buffer is bounded by the caller's limit.
        let len =
            usize::try_from(span).map_err(|_| BoltProblem::PageTooLarge { pgid, bytes: span })?;
        let mut buf = vec![0u8; len];
        self.read_exact_at(offset, &mut buf).map_err(Fail::Io)?;
        Ok((header, buf))
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(buf)
    }
}

fn split(pgid: u64) -> (usize, u64) {
    (
        usize::try_from(pgid / 64).unwrap_or(usize::MAX),
        1u64 << (pgid % 64),
    )
}
