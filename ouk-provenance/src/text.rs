//! Bounded copies of attacker-controlled text for error messages.

/// Cuts attacker-controlled text to a bounded length for error messages, replacing control
/// characters. Why: refusals name the offending id or key, and that text must neither grow without
/// bound nor drive a terminal.
pub(crate) fn bounded(s: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = s
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_and_neutralises() {
        assert_eq!(bounded("a\u{1b}b"), "a?b");
        let long = "x".repeat(300);
        let cut = bounded(&long);
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'));
    }
}
