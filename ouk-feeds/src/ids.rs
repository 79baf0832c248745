//! Identifier validation and spelling normalisation (ids, aliases, upstream).

use std::sync::OnceLock;

use regex::Regex;

fn id_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A prefix starting with a letter, a `-` or `:` separator, then a body.
    // Excludes bare numbers (CNVD puts BID numbers in `cveNumber`) and whitespace.
    RE.get_or_init(|| {
        Regex::new(r"^[A-Za-z][A-Za-z0-9._]*[-:][A-Za-z0-9][A-Za-z0-9._:\-]*$")
            .unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

fn cve_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^CVE-[0-9]{4}-[0-9]{4,}$").unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

/// Normalise the spelling of an identifier (trim; upper-case CVE ids; GHSA ids
/// as `GHSA-` + lower case) and validate it. `None` if it is not an identifier.
pub fn normalize_id(raw: &str, max_len: usize) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.len() > max_len {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let norm = if lower.starts_with("cve-") {
        s.to_ascii_uppercase()
    } else if let Some(rest) = lower.strip_prefix("ghsa-") {
        format!("GHSA-{rest}")
    } else {
        s.to_string()
    };
    if id_re().is_match(&norm) {
        Some(norm)
    } else {
        None
    }
}

/// True for a well-formed CVE id.
pub fn is_cve(id: &str) -> bool {
    cve_re().is_match(id)
}

/// True for a GHSA id.
pub fn is_ghsa(id: &str) -> bool {
    id.starts_with("GHSA-")
}

/// Extract a CVE id from text that should be exactly one (regional feeds).
pub fn cve_only(raw: &str, max_len: usize) -> Option<String> {
    normalize_id(raw, max_len).filter(|s| is_cve(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(
            normalize_id(" cve-2021-44228 ", 64).as_deref(),
            Some("CVE-2021-44228")
        );
        assert_eq!(
            normalize_id("GHSA-J8R2-6x86-q33q", 64).as_deref(),
            Some("GHSA-j8r2-6x86-q33q")
        );
        assert_eq!(
            normalize_id("BDU:2021-05969", 64).as_deref(),
            Some("BDU:2021-05969")
        );
        assert_eq!(
            normalize_id("openSUSE-SU-2024:1234-1", 64).as_deref(),
            Some("openSUSE-SU-2024:1234-1")
        );
        assert_eq!(normalize_id("95226", 64), None);
        assert_eq!(normalize_id("CVE 2021 1", 64), None);
        assert_eq!(normalize_id("", 64), None);
        assert!(is_cve("CVE-2016-7056"));
        assert!(!is_cve("CVE-16-7056"));
        assert_eq!(cve_only("95226", 64), None);
    }
}
