//! Reading line-oriented data (NDJSON snapshots, delta members) one line at a time with a length
//! cap: a line is never read whole past the cap, so a hostile or broken file cannot make a reader
//! hold more than one capped line. Callers decide what an unterminated last line means to them.

use std::io::{self, BufRead, Read};

/// What [`read_capped_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CappedLine {
    /// The end of the input: nothing was read.
    End,
    /// A line ending in `\n`; the buffer holds it without the `\n`.
    Line,
    /// The last line of the input, without a `\n`; the buffer holds it.
    Unterminated,
    /// A line longer than the cap; the buffer holds its first `max + 1` bytes.
    TooLong,
}

/// Reads the next line of `reader` into `buf` (cleared first), reading at most `max + 1` bytes.
pub fn read_capped_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<CappedLine> {
    buf.clear();
    let cap = max as u64 + 1;
    let n = reader.take(cap).read_until(b'\n', buf)?;
    Ok(if n == 0 {
        CappedLine::End
    } else if buf.last() == Some(&b'\n') {
        buf.pop();
        CappedLine::Line
    } else if n as u64 == cap {
        CappedLine::TooLong
    } else {
        CappedLine::Unterminated
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_the_cap_and_the_end() {
        let mut r = &b"ab\nabcdef\nxyz"[..];
        let mut buf = Vec::new();
        assert_eq!(
            read_capped_line(&mut r, &mut buf, 3).unwrap(),
            CappedLine::Line
        );
        assert_eq!(buf, b"ab");
        assert_eq!(
            read_capped_line(&mut r, &mut buf, 3).unwrap(),
            CappedLine::TooLong
        );
        assert_eq!(buf, b"abcd");
        // The rest of the long line is what the caller would read next (callers stop).
        let mut r = &b"abc\nxyz"[..];
        assert_eq!(
            read_capped_line(&mut r, &mut buf, 3).unwrap(),
            CappedLine::Line
        );
        assert_eq!(
            read_capped_line(&mut r, &mut buf, 3).unwrap(),
            CappedLine::Unterminated
        );
        assert_eq!(buf, b"xyz");
        assert_eq!(
            read_capped_line(&mut r, &mut buf, 3).unwrap(),
            CappedLine::End
        );
        assert!(buf.is_empty());
    }
}
