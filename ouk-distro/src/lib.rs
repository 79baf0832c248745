//! Which distribution release an OSV `affected[].package.ecosystem` names, and the other OSV
//! naming rules both engines apply (module-stream builds, Ubuntu's priorities, Swift package
//! paths).
//!
//! Why a crate of its own: the Trivy DB export (`ouk-trivy`, which names the bucket Trivy's OS
//! scanner reads) and the built-in matcher of `ouk-importer rescan` (`ouk-changes`, which compares
//! the release with the one an SBOM's purl states) must agree on it exactly, or the two engines
//! would report different packages; neither crate can depend on the other (the importer links
//! only the install half of `ouk-trivy`). No crate on crates.io maps OSV's distribution
//! ecosystems; the rules are those of the distributions' OSV records and of trivy-db.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// A distribution whose OSV records name packages the way its scanners can look them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `Debian:<N>`: source packages, dpkg order.
    Debian,
    /// `Ubuntu:<YY.MM>[:LTS]`: source packages, dpkg order.
    Ubuntu,
    /// `Alpine:v<X.Y>`: origin packages, apk order.
    Alpine,
    /// `Wolfi` (rolling): origin packages, apk order.
    Wolfi,
    /// `Chainguard` (rolling): origin packages, apk order.
    Chainguard,
    /// `AlmaLinux:<N>`: binary packages, RPM order.
    AlmaLinux,
    /// `Rocky Linux:<N>`: binary packages, RPM order.
    RockyLinux,
    /// `SUSE:Linux Enterprise …`: binary packages, RPM order.
    Suse,
    /// `openSUSE:Leap <X.Y>`, `openSUSE:Tumbleweed`: binary packages, RPM order.
    OpenSuse,
}

impl Family {
    /// The OSV ecosystem name without its release (`Rocky Linux`), which is also the name the
    /// matcher's version orderings are chosen by.
    pub fn osv_name(self) -> &'static str {
        match self {
            Family::Debian => "Debian",
            Family::Ubuntu => "Ubuntu",
            Family::Alpine => "Alpine",
            Family::Wolfi => "Wolfi",
            Family::Chainguard => "Chainguard",
            Family::AlmaLinux => "AlmaLinux",
            Family::RockyLinux => "Rocky Linux",
            Family::Suse => "SUSE",
            Family::OpenSuse => "openSUSE",
        }
    }

    /// Whether the family's packages are RPMs (its advisories name binary packages and carry
    /// fixed versions only).
    pub fn is_rpm(self) -> bool {
        matches!(
            self,
            Family::AlmaLinux | Family::RockyLinux | Family::Suse | Family::OpenSuse
        )
    }
}

/// One distribution release, as an installed system reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Release {
    /// The distribution.
    pub family: Family,
    /// `12` (Debian), `22.04` (Ubuntu), `3.19` (Alpine, without OSV's `v`), `8` (AlmaLinux, Rocky:
    /// the major release), `15.5` or `Micro 5.5` (SUSE: SLES's `VERSION_ID`, or SLE Micro's),
    /// `Leap 15.5` or `Tumbleweed` (openSUSE); empty for the rolling Wolfi and Chainguard.
    pub release: String,
}

/// The release an OSV ecosystem names, or `None` for a language ecosystem, an unknown
/// distribution, a release no scanner looks up (Ubuntu Pro and other Ubuntu suffixes, a release
/// that is not a plain version such as `Debian:sid` or `Alpine:edge`, SUSE Manager and
/// Enterprise Storage products, openSUSE Leap Micro).
pub fn release_of(ecosystem: &str) -> Option<Release> {
    let rolling = |family| {
        Some(Release {
            family,
            release: String::new(),
        })
    };
    match ecosystem {
        "Wolfi" => return rolling(Family::Wolfi),
        "Chainguard" => return rolling(Family::Chainguard),
        _ => {}
    }
    let mut parts = ecosystem.split(':');
    let family = parts.next()?;
    let release = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let (family, release) = match family {
        "Debian" if rest.is_empty() && numeric(release, 1) => (Family::Debian, release.to_owned()),
        "Ubuntu" if numeric(release, 2) && (rest.is_empty() || rest == ["LTS"]) => {
            (Family::Ubuntu, release.to_owned())
        }
        "Alpine" if rest.is_empty() => {
            let r = release.strip_prefix('v')?;
            numeric(r, 2).then_some(())?;
            (Family::Alpine, r.to_owned())
        }
        "AlmaLinux" if rest.is_empty() && numeric(release, 1) => {
            (Family::AlmaLinux, release.to_owned())
        }
        "Rocky Linux" if rest.is_empty() && numeric(release, 1) => {
            (Family::RockyLinux, release.to_owned())
        }
        "SUSE" if rest.is_empty() => (Family::Suse, suse_release(release)?),
        "openSUSE" if rest.is_empty() => (Family::OpenSuse, opensuse_release(release)?),
        _ => return None,
    };
    Some(Release { family, release })
}

/// `SUSE:<product>` → the release an installed system reports, by trivy-db's rule for SUSE's
/// platform names (`getOSVersion` of its CVRF source): SUSE files base packages under the modules
/// that ship them and under support phases, so `Module for Basesystem 15 SP5` and
/// `Server 15 SP5-LTSS` are both `15.5` (the product's last two numbers, `SP` dropped;
/// `Server 15` is `15`); `Micro 5.5` is `Micro 5.5`.
fn suse_release(product: &str) -> Option<String> {
    let rest = product.strip_prefix("Linux Enterprise ")?;
    if product.contains("SUSE Manager") || rest.starts_with("Storage") {
        return None;
    }
    if let Some(v) = rest.strip_prefix("Micro ") {
        return numeric(v, 2).then(|| format!("Micro {v}"));
    }
    let spaced = rest.replace('-', " ");
    let mut found: Vec<&str> = Vec::new();
    for field in spaced.split_whitespace().rev() {
        let n = field.strip_prefix("SP").unwrap_or(field);
        if numeric(n, 1) {
            found.push(n);
            if found.len() == 2 {
                break;
            }
        }
    }
    match found.as_slice() {
        [major] => Some((*major).to_owned()),
        [sp, major] => Some(format!("{major}.{sp}")),
        _ => None,
    }
}

/// `openSUSE:Leap 15.5` → `Leap 15.5`, `openSUSE:Tumbleweed` → `Tumbleweed`.
fn opensuse_release(product: &str) -> Option<String> {
    if product == "Tumbleweed" {
        return Some(product.to_owned());
    }
    let v = product.strip_prefix("Leap ")?;
    numeric(v, 2).then(|| format!("Leap {v}"))
}

/// Whether an RPM version names a build of a module stream (`.module+el8…` as Rocky writes it,
/// `.module_el8…` as AlmaLinux does). OSV does not say which stream such a fix is for, and
/// Trivy looks modular packages up by `module:stream::name`, so neither the Trivy DB export nor
/// the built-in matcher uses these entries: both ask this one question.
pub fn is_module_build(version: &str) -> bool {
    version.contains(".module+") || version.contains(".module_")
}

/// A Swift package as Trivy names it: the repository path, without the `https://` and `.git`
/// some advisories write around it (trivy-db's `NormalizePkgName` for Swift). The Trivy DB
/// export's bucket keys and the built-in matcher's lookup (purls give the path alone) must agree.
pub fn swift_package_path(name: &str) -> &str {
    let n = name.trim();
    let n = n.strip_prefix("https://").unwrap_or(n);
    n.strip_suffix(".git").unwrap_or(n)
}

/// Ubuntu's priority (OSV severity type `Ubuntu`, the only rating Ubuntu's records carry) as
/// trivy-db rates it: 1 `LOW` (`negligible` too), 2 `MEDIUM`, 3 `HIGH`, 4 `CRITICAL`; `None` for
/// `untriaged` and anything else. The Trivy DB export and the built-in matcher's severities
/// must agree on it.
pub fn ubuntu_priority_rank(priority: &str) -> Option<u8> {
    match priority.trim().to_ascii_lowercase().as_str() {
        "negligible" | "low" => Some(1),
        "medium" => Some(2),
        "high" => Some(3),
        "critical" => Some(4),
        _ => None,
    }
}

/// Whether `s` is exactly `parts` dot-separated runs of digits (each at most 8 long).
fn numeric(s: &str, parts: usize) -> bool {
    s.split('.').count() == parts
        && s.split('.')
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(eco: &str) -> Option<(Family, String)> {
        release_of(eco).map(|r| (r.family, r.release))
    }

    #[test]
    fn releases_of_every_family() {
        for (eco, family, release) in [
            ("Debian:12", Family::Debian, "12"),
            ("Ubuntu:22.04:LTS", Family::Ubuntu, "22.04"),
            ("Ubuntu:24.10", Family::Ubuntu, "24.10"),
            ("Alpine:v3.19", Family::Alpine, "3.19"),
            ("Wolfi", Family::Wolfi, ""),
            ("Chainguard", Family::Chainguard, ""),
            ("AlmaLinux:8", Family::AlmaLinux, "8"),
            ("Rocky Linux:9", Family::RockyLinux, "9"),
            ("SUSE:Linux Enterprise Server 15 SP5", Family::Suse, "15.5"),
            (
                "SUSE:Linux Enterprise Module for Basesystem 15 SP7",
                Family::Suse,
                "15.7",
            ),
            (
                "SUSE:Linux Enterprise Server 12 SP5-LTSS",
                Family::Suse,
                "12.5",
            ),
            ("SUSE:Linux Enterprise Server 15", Family::Suse, "15"),
            ("SUSE:Linux Enterprise Micro 5.5", Family::Suse, "Micro 5.5"),
            ("openSUSE:Leap 15.5", Family::OpenSuse, "Leap 15.5"),
            ("openSUSE:Tumbleweed", Family::OpenSuse, "Tumbleweed"),
        ] {
            assert_eq!(of(eco), Some((family, release.to_owned())), "{eco}");
        }
    }

    #[test]
    fn releases_no_scanner_looks_up_are_none() {
        for eco in [
            "Debian",
            "Debian:sid",
            "Debian:12.5",
            "Debian:12 ",
            "Ubuntu:Pro:18.04:LTS",
            "Ubuntu:22.04:FIPS",
            "Ubuntu:22",
            "Alpine:edge",
            "Alpine:3.19",
            "Alpine:v3.19.1",
            "Rocky Linux:9.3",
            "AlmaLinux",
            "AlmaLinux:8:extras",
            "almalinux:8",
            "Wolfi:2024",
            "wolfi",
            "SUSE:Linux Enterprise Storage 7",
            "SUSE:Linux Enterprise Module for SUSE Manager Server 4.3",
            "SUSE:Linux Enterprise Micro 5",
            "SUSE:Linux Enterprise High Availability",
            "SUSE:Enterprise Storage 7",
            "openSUSE:Leap Micro 5.5",
            "openSUSE:Leap 15",
            "npm",
            "Red Hat:enterprise_linux:9::appstream",
        ] {
            assert_eq!(of(eco), None, "{eco}");
        }
    }

    #[test]
    fn ubuntu_priorities_rank_as_trivy_db_rates_them() {
        let ranks: Vec<Option<u8>> = [
            "negligible",
            "Low",
            "medium",
            "high",
            " critical",
            "untriaged",
            "",
        ]
        .iter()
        .map(|p| ubuntu_priority_rank(p))
        .collect();
        assert_eq!(
            ranks,
            [Some(1), Some(1), Some(2), Some(3), Some(4), None, None]
        );
    }

    #[test]
    fn module_builds_and_swift_paths() {
        assert!(is_module_build("7.4.19-4.module_el8.6.0+3238+624bf8b8"));
        assert!(is_module_build("0:2.7.0-10.module+el8.4.0+570+c2eaf144"));
        assert!(!is_module_build("1:1.1.1k-12.el8_9"));
        for name in [
            "https://github.com/apple/swift-nio.git",
            "github.com/apple/swift-nio",
            " https://github.com/apple/swift-nio ",
        ] {
            assert_eq!(
                swift_package_path(name),
                "github.com/apple/swift-nio",
                "{name}"
            );
        }
    }

    #[test]
    fn rpm_families() {
        assert!(Family::Suse.is_rpm() && Family::AlmaLinux.is_rpm());
        assert!(!Family::Debian.is_rpm() && !Family::Wolfi.is_rpm());
        assert_eq!(Family::RockyLinux.osv_name(), "Rocky Linux");
    }
}
