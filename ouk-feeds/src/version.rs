//! An ecosystem-agnostic version ordering, used only to put output in a stable,
//! readable order (intervals, `versions[]`). No merge decision depends on it:
//! exact per-ecosystem semantics (PEP 440, Maven, ...) are the scanners' job.

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
}

fn tokens(v: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Num(&v[s..i]));
        } else if b[i].is_ascii_alphabetic() {
            let s = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Tok::Word(&v[s..i]));
        } else {
            i += 1;
        }
    }
    out
}

fn cmp_num(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compare two version strings: numeric runs numerically, words lexically,
/// a trailing word (pre-release such as `rc1`, `-0`) sorts before the release.
/// Ties fall back to byte order so the order is total.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    if a == "0" {
        return Ordering::Less;
    }
    if b == "0" {
        return Ordering::Greater;
    }
    let ta = tokens(a);
    let tb = tokens(b);
    for i in 0..ta.len().max(tb.len()) {
        let o = match (ta.get(i), tb.get(i)) {
            (Some(Tok::Num(x)), Some(Tok::Num(y))) => cmp_num(x, y),
            (Some(Tok::Word(x)), Some(Tok::Word(y))) => x.cmp(y),
            (Some(Tok::Num(_)), Some(Tok::Word(_))) => Ordering::Greater,
            (Some(Tok::Word(_)), Some(Tok::Num(_))) => Ordering::Less,
            (Some(Tok::Word(_)), None) => Ordering::Less,
            (None, Some(Tok::Word(_))) => Ordering::Greater,
            (Some(Tok::Num(_)), None) => Ordering::Greater,
            (None, Some(Tok::Num(_))) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering() {
        let mut v = vec![
            "1.10",
            "1.2",
            "0",
            "1.2.0-rc1",
            "1.2.0",
            "2.0.0",
            "1.21.0-0",
            "1.20.10",
        ];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(
            v,
            vec![
                "0",
                "1.2",
                "1.2.0-rc1",
                "1.2.0",
                "1.10",
                "1.20.10",
                "1.21.0-0",
                "2.0.0"
            ]
        );
        assert_eq!(compare("v1.0.0", "v1.0.0"), Ordering::Equal);
    }
}
