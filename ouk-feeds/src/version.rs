//! An ecosystem-agnostic version ordering, used only to put output in a stable,
//! readable order (intervals, `versions[]`). No merge decision depends on it:
//! exact per-ecosystem semantics (PEP 440, Maven, ...) are the scanners' job.

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
}

/// The numeric and alphabetic runs of a version, lazily: comparing versions is on
/// the merge's hot path (every `versions[]` and range sort), and collecting the
/// tokens into two vectors per comparison was an allocation pair each time.
struct Tokens<'a> {
    v: &'a str,
    i: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        let b = self.v.as_bytes();
        while self.i < b.len() {
            let s = self.i;
            if b[s].is_ascii_digit() {
                while self.i < b.len() && b[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                return Some(Tok::Num(&self.v[s..self.i]));
            }
            if b[s].is_ascii_alphabetic() {
                while self.i < b.len() && b[self.i].is_ascii_alphabetic() {
                    self.i += 1;
                }
                return Some(Tok::Word(&self.v[s..self.i]));
            }
            self.i += 1;
        }
        None
    }
}

fn tokens(v: &str) -> Tokens<'_> {
    Tokens { v, i: 0 }
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
    let (mut ta, mut tb) = (tokens(a), tokens(b));
    loop {
        let o = match (ta.next(), tb.next()) {
            (Some(Tok::Num(x)), Some(Tok::Num(y))) => cmp_num(x, y),
            (Some(Tok::Word(x)), Some(Tok::Word(y))) => x.cmp(y),
            (Some(Tok::Num(_)), Some(Tok::Word(_))) => Ordering::Greater,
            (Some(Tok::Word(_)), Some(Tok::Num(_))) => Ordering::Less,
            (Some(Tok::Word(_)), None) => Ordering::Less,
            (None, Some(Tok::Word(_))) => Ordering::Greater,
            (Some(Tok::Num(_)), None) => Ordering::Greater,
            (None, Some(Tok::Num(_))) => Ordering::Less,
            (None, None) => return a.cmp(b),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
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

    /// A total order: antisymmetric, and transitive over a mixed sample (the
    /// sorts that use it panic or misorder otherwise).
    #[test]
    fn total_order() {
        let v = [
            "",
            "0",
            "00",
            "1",
            "01",
            "1.0",
            "1.0.0",
            "1.0a",
            "1.0-a",
            "1.a",
            "a",
            "a1",
            "1..2",
            "v2",
            "2",
            "10",
            "9.99",
            "1.0.0-rc.1",
            "1.0.0-rc.10",
            "1.0.0-rc.2",
            "~",
            "1_2",
        ];
        for a in v {
            for b in v {
                assert_eq!(compare(a, b), compare(b, a).reverse(), "{a:?} {b:?}");
                assert_eq!(compare(a, b) == Ordering::Equal, a == b, "{a:?} {b:?}");
                for c in v {
                    if compare(a, b) != Ordering::Greater && compare(b, c) != Ordering::Greater {
                        assert_ne!(compare(a, c), Ordering::Greater, "{a:?} {b:?} {c:?}");
                    }
                }
            }
        }
    }
}
