//! Ecosystem and package-name normalisation, so one package reported by several
//! sources lands in one `affected` entry.

/// Ecosystem names the OSV schema (`$defs.ecosystemName`, ossf/osv-schema
/// 51b8156) accepts. An `affected` entry naming another ecosystem would make the
/// record invalid, so it is dropped and reported.
pub const KNOWN_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpaquita",
    "Alpine",
    "Android",
    "Azure Linux",
    "BellSoft Hardened Containers",
    "Bioconductor",
    "Bitnami",
    "Chainguard",
    "CleanStart",
    "ConanCenter",
    "CRAN",
    "crates.io",
    "Debian",
    "Docker Hardened Images",
    "Echo",
    "FreeBSD",
    "GHC",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Julia",
    "Kubernetes",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "npm",
    "NuGet",
    "opam",
    "openEuler",
    "openSUSE",
    "OSS-Fuzz",
    "Packagist",
    "Photon OS",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "Root",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "TuxCare",
    "Ubuntu",
    "VSCode",
    "Wolfi",
    "GIT",
];

/// Canonical spelling of an ecosystem (case-insensitive match of the base name;
/// a `:suffix` such as `Debian:12` is kept). `None` if unknown.
pub fn normalize_ecosystem(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (base, suffix) = match raw.split_once(':') {
        Some((b, s)) => (b.trim(), Some(s.trim())),
        None => (raw, None),
    };
    let canon = KNOWN_ECOSYSTEMS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(base))?;
    Some(match suffix {
        Some(s) if !s.is_empty() => format!("{canon}:{s}"),
        Some(_) => return None,
        None => (*canon).to_string(),
    })
}

/// Normalise a package name for its ecosystem:
/// - PyPI: PEP 503 (lower case, runs of `-`, `_`, `.` become one `-`);
/// - Maven: `group:artifact` with whitespace around the parts removed (case kept:
///   Maven coordinates are case-sensitive);
/// - Go: module path without scheme, surrounding slashes or whitespace (case kept);
/// - others: trimmed only (npm, crates.io, NuGet ... have their own case rules,
///   and guessing would merge distinct packages).
pub fn normalize_package_name(ecosystem: &str, raw: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    let name = raw.trim();
    match base {
        "PyPI" => pep503(name),
        "Maven" => match name.split_once(':') {
            Some((g, a)) => format!("{}:{}", g.trim(), a.trim()),
            None => name.to_string(),
        },
        "Go" => {
            let n = name
                .strip_prefix("https://")
                .or_else(|| name.strip_prefix("http://"))
                .unwrap_or(name);
            n.trim_matches('/').to_string()
        }
        _ => name.to_string(),
    }
}

/// PEP 503 normalised name: `re.sub(r"[-_.]+", "-", name).lower()`.
/// Hand-written (a few lines) rather than a regex to avoid a per-call allocation.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems() {
        assert_eq!(normalize_ecosystem("pypi").as_deref(), Some("PyPI"));
        assert_eq!(
            normalize_ecosystem("Debian:12").as_deref(),
            Some("Debian:12")
        );
        assert_eq!(
            normalize_ecosystem("CRATES.IO").as_deref(),
            Some("crates.io")
        );
        assert_eq!(normalize_ecosystem("Nonexistent"), None);
        assert_eq!(normalize_ecosystem("Debian:"), None);
    }

    #[test]
    fn names() {
        assert_eq!(
            normalize_package_name("PyPI", "Zope.Interface__x"),
            "zope-interface-x"
        );
        assert_eq!(normalize_package_name("PyPI", "Gradio"), "gradio");
        assert_eq!(
            normalize_package_name("Maven", " org.apache.logging.log4j : log4j-core "),
            "org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(
            normalize_package_name("Go", "https://github.com/gin-gonic/gin/"),
            "github.com/gin-gonic/gin"
        );
        assert_eq!(normalize_package_name("npm", " Lodash "), "Lodash");
    }
}
