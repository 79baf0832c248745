//! Package URLs (purls) → the OSV `(ecosystem, name)` an advisory names, so an SBOM component can
//! be looked up in the merged OSV snapshot.
//!
//! A small hand-written parser rather than the `packageurl` crate (which builds here): that crate
//! canonicalises while parsing, and the canonical form is not what advisories name. It lowercases
//! the namespace of `golang` purls, so `pkg:golang/github.com/Masterminds/goutils` would become
//! `github.com/masterminds/goutils` and never match the (case-sensitive) Go module path in an
//! advisory, and it rewrites PyPI names (`typing_extensions` → `typing-extensions`), which we
//! want to show as the SBOM wrote them. Its strict validation also refuses purls Trivy accepts
//! (e.g. an unencoded `@scope` namespace). Only the parts we need are parsed: type, namespace,
//! name, version and the qualifiers (`distro`, `epoch`, `upstream` of distribution packages);
//! the subpath is dropped.

/// One purl split into its components, percent-decoded. Kept separate from the ecosystem mapping
/// so callers can show what the SBOM said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// The purl type, lower-cased (`npm`, `pypi`, `golang`, ...).
    pub ty: String,
    /// The namespace segments joined with `/`, if any (`@types`, `org.apache.logging.log4j`).
    pub namespace: Option<String>,
    /// The package name.
    pub name: String,
    /// The version, if the purl has one.
    pub version: Option<String>,
    /// The qualifiers, percent-decoded, keys lower-cased, in order (at most [`MAX_QUALIFIERS`]).
    pub qualifiers: Vec<(String, String)>,
}

/// Qualifiers kept per purl (real purls carry a handful).
const MAX_QUALIFIERS: usize = 16;

impl Purl {
    /// The value of qualifier `key`, if present.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The OSV view of a purl: which advisory ecosystem and package name it corresponds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsvPackage {
    /// OSV ecosystem name (`npm`, `PyPI`, `Go`, `Maven`, `crates.io`, ...).
    pub ecosystem: &'static str,
    /// The package name in the form OSV uses for that ecosystem (Maven `group:artifact`,
    /// npm `@scope/name`, Go module path, Packagist `vendor/name`), not yet normalised.
    pub name: String,
    /// The version from the purl, if any.
    pub version: Option<String>,
}

/// Longest purl we parse; anything longer is not a package identifier we could match anyway.
const MAX_PURL_LEN: usize = 4096;

/// Parses `pkg:type/namespace/name@version?qualifiers#subpath`. `None` for anything that is not a
/// purl with a type and a name (or that has invalid percent-encoding).
pub fn parse_purl(s: &str) -> Option<Purl> {
    if s.len() > MAX_PURL_LEN {
        return None;
    }
    let rest = s.trim().strip_prefix("pkg:")?;
    let rest = rest.trim_start_matches('/');
    let rest = rest.split('#').next().unwrap_or("");
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut qualifiers = Vec::new();
    for pair in query
        .split('&')
        .filter(|p| !p.is_empty())
        .take(MAX_QUALIFIERS)
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        // A malformed qualifier is left out, not the purl: type, name and version still
        // identify a language package (only distribution packages need qualifiers).
        if let Some(v) = percent_decode(v) {
            qualifiers.push((k.to_ascii_lowercase(), v));
        }
    }
    let (ty, path) = rest.split_once('/')?;
    if ty.is_empty()
        || !ty
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    // The version follows the last '@' — unless that '@' is part of the namespace (an
    // unencoded npm scope such as `pkg:npm/@babel/core` without a version).
    let last_slash = path.rfind('/');
    let (path, version) = match path.rfind('@') {
        Some(at) if last_slash.is_none_or(|sl| at > sl) => (&path[..at], Some(&path[at + 1..])),
        _ => (path, None),
    };
    let mut segments: Vec<String> = Vec::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        segments.push(percent_decode(seg)?);
    }
    let name = segments.pop().filter(|n| !n.is_empty())?;
    let namespace = if segments.is_empty() {
        None
    } else {
        Some(segments.join("/"))
    };
    let version = match version {
        Some(v) if !v.is_empty() => Some(percent_decode(v)?),
        _ => None,
    };
    Some(Purl {
        ty: ty.to_ascii_lowercase(),
        namespace,
        name,
        version,
        qualifiers,
    })
}

/// Maps a purl to the OSV ecosystem and package name that advisories use. `None` for purl types
/// we do not match (OS packages, containers, ...) and for purls missing a required namespace.
pub fn osv_package(purl: &Purl) -> Option<OsvPackage> {
    let ns = purl.namespace.as_deref();
    let joined = |sep: &str| match ns {
        Some(ns) => format!("{ns}{sep}{}", purl.name),
        None => purl.name.clone(),
    };
    let (ecosystem, name) = match purl.ty.as_str() {
        // `%40scope` is decoded by the parser, so the namespace already reads `@scope`.
        "npm" => ("npm", joined("/")),
        "pypi" => ("PyPI", purl.name.clone()),
        "golang" => ("Go", joined("/")),
        "maven" => ("Maven", format!("{}:{}", ns?, purl.name)),
        "cargo" => ("crates.io", purl.name.clone()),
        "gem" => ("RubyGems", purl.name.clone()),
        "composer" => ("Packagist", format!("{}/{}", ns?, purl.name)),
        "nuget" => ("NuGet", purl.name.clone()),
        // Hex purls may carry an organisation as namespace; OSV names the package alone.
        "hex" => ("Hex", purl.name.clone()),
        "pub" => ("Pub", purl.name.clone()),
        // OSV's SwiftURL names are the source URL without scheme: `github.com/apple/swift-nio`.
        "swift" => ("SwiftURL", format!("{}/{}", ns?, purl.name)),
        _ => return None,
    };
    Some(OsvPackage {
        ecosystem,
        name,
        version: purl.version.clone(),
    })
}

/// A distribution package as its distribution's advisories name it: the release it was built
/// for, and the source package and source version (Debian, Ubuntu, Alpine, Wolfi, Chainguard) or
/// the binary package and its version (AlmaLinux, Rocky Linux, whose advisories list binary
/// packages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsPackage {
    /// `Debian`, `Ubuntu`, `Alpine`, `Wolfi`, `Chainguard`, `AlmaLinux` or `Rocky Linux` (the OSV
    /// ecosystem without its release).
    pub family: &'static str,
    /// The release as OSV writes it after the family: `12` (Debian), `22.04` (Ubuntu), `3.19`
    /// (Alpine, without OSV's `v`), `8` (AlmaLinux, Rocky Linux: the major release); empty for
    /// the rolling Wolfi and Chainguard.
    pub release: String,
    /// The package name the advisories use (source package; binary package for RPM).
    pub source: String,
    /// Its version, epoch included.
    pub version: String,
}

/// Maps a `deb` or `apk` purl (and older Trivy's `wolfi` / `chainguard` ones) to the
/// distribution package its advisories name. The release comes from the `distro` qualifier
/// (Trivy: `debian-12.5`, `ubuntu-22.04`, `3.19.1`; syft: `debian-12`, `alpine-3.19.1`; some
/// tools: `bookworm`); the source package from `source` (the SBOM's own statement,
/// see [`crate::sbom::SourcePackage`]), else the purl's `upstream` qualifier (syft:
/// `openssl` or `openssl@3.0.11-1`), else the binary package itself; the version from the same
/// places, else the purl's version with its `epoch` qualifier. A purl without `distro` takes the
/// release from the operating system the SBOM names (`os`), when that is the purl's
/// distribution, as Trivy does. `rpm` purls of AlmaLinux and Rocky Linux (Trivy: `pkg:rpm/alma/…`,
/// `pkg:rpm/rocky/…`; syft: `almalinux`; OSV: `rocky-linux`) keep their binary name and version
/// with the `epoch` qualifier, as AlmaLinux's and Rocky's advisories list binary packages. `None`
/// for other purls, for other distributions, and without a release: a Debian advisory for one
/// release says nothing about another.
pub fn os_package(
    purl: &Purl,
    source: Option<&crate::sbom::SourcePackage>,
    os: Option<&crate::sbom::OperatingSystem>,
) -> Option<OsPackage> {
    use ouk_distro::Family;
    // Without `distro`, the SBOM's one operating system, when it is the purl's distribution.
    // SUSE's purl namespaces (`suse`, `sles`, `opensuse`) do not name the product the operating
    // system does (`sles`, `sle-micro`, `suse linux enterprise server`, `opensuse-leap`): for
    // these the release is spelled as Trivy spells `distro`, `<os name>-<version>`, which the
    // SUSE arms below read.
    // Only when the purl has no `distro` of its own: this runs for every distribution package.
    let fallback: Option<String> = purl.namespace.as_deref().and_then(|ns| {
        if purl.qualifier("distro").is_some() {
            return None;
        }
        let o = os?;
        let (ns, name) = (ns.to_ascii_lowercase(), o.name.to_ascii_lowercase());
        let suse = (matches!(ns.as_str(), "suse" | "sles" | "sled")
            && (name.starts_with("sle") || name.starts_with("suse linux enterprise")))
            || (ns.starts_with("opensuse") && name.starts_with("opensuse"));
        if suse {
            Some(format!("{name}-{}", o.version))
        } else {
            (name == ns).then(|| o.version.clone())
        }
    });
    let distro = purl.qualifier("distro").or(fallback.as_deref());
    let (family, release) = match (purl.ty.as_str(), purl.namespace.as_deref()) {
        ("deb", Some(ns)) if ns.eq_ignore_ascii_case("debian") => {
            let r = distro?.strip_prefix("debian-").unwrap_or(distro?);
            (
                Family::Debian,
                numeric_prefix(codename_release(r).unwrap_or(r), 1)?,
            )
        }
        ("deb", Some(ns)) if ns.eq_ignore_ascii_case("ubuntu") => {
            let r = distro?.strip_prefix("ubuntu-").unwrap_or(distro?);
            (
                Family::Ubuntu,
                numeric_prefix(codename_release(r).unwrap_or(r), 2)?,
            )
        }
        ("apk", Some(ns)) if ns.eq_ignore_ascii_case("alpine") => {
            let r = distro?.strip_prefix("alpine-").unwrap_or(distro?);
            (Family::Alpine, numeric_prefix(r, 2)?)
        }
        // Rolling: no release. Trivy 0.59 writes `pkg:apk/wolfi/…`, older Trivy `pkg:wolfi/…`.
        ("apk", Some(ns)) if ns.eq_ignore_ascii_case("wolfi") => (Family::Wolfi, String::new()),
        ("apk", Some(ns)) if ns.eq_ignore_ascii_case("chainguard") => {
            (Family::Chainguard, String::new())
        }
        ("wolfi", None) => (Family::Wolfi, String::new()),
        ("chainguard", None) => (Family::Chainguard, String::new()),
        // SUSE: Trivy writes `pkg:rpm/suse/…?distro=sles-15.5` (`sle-micro-5.5` for SLE Micro),
        // syft `pkg:rpm/sles/…`; the release is VERSION_ID, as `ouk_distro` maps SUSE's advisories.
        ("rpm", Some(ns))
            if matches!(ns.to_ascii_lowercase().as_str(), "suse" | "sles" | "sled") =>
        {
            let d = distro?;
            match d
                .strip_prefix("sle-micro-")
                .or_else(|| d.strip_prefix("sl-micro-"))
            {
                Some(v) => (Family::Suse, format!("Micro {}", numeric_prefix(v, 2)?)),
                None => {
                    let v = d.rsplit_once('-').map_or(d, |(_, v)| v);
                    let v = numeric_prefix(v, 2).or_else(|| numeric_prefix(v, 1))?;
                    (Family::Suse, v)
                }
            }
        }
        // openSUSE: Trivy `pkg:rpm/opensuse/…?distro=opensuse-leap-15.5` (Tumbleweed:
        // `opensuse-tumbleweed-<snapshot>`; Trivy 0.44 `pkg:rpm/opensuse.leap/…`), syft
        // `pkg:rpm/opensuse-leap/…`.
        ("rpm", Some(ns)) if ns.to_ascii_lowercase().starts_with("opensuse") => {
            let d = distro?;
            if d.starts_with("opensuse-tumbleweed") {
                (Family::OpenSuse, "Tumbleweed".to_string())
            } else {
                // Trivy 0.44 spells the family `opensuse.leap`.
                let v = ["opensuse-leap-", "opensuse.leap-", "opensuse-"]
                    .iter()
                    .find_map(|p| d.strip_prefix(p))?;
                (Family::OpenSuse, format!("Leap {}", numeric_prefix(v, 2)?))
            }
        }
        ("rpm", Some(ns)) => {
            let (family, prefixes): (Family, &[&str]) = match ns.to_ascii_lowercase().as_str() {
                "alma" | "almalinux" => (Family::AlmaLinux, &["almalinux-", "alma-"]),
                "rocky" | "rocky-linux" | "rockylinux" => (
                    Family::RockyLinux,
                    &["rocky-linux-", "rockylinux-", "rocky-"],
                ),
                _ => return None,
            };
            let d = distro?;
            let r = prefixes.iter().find_map(|p| d.strip_prefix(p)).unwrap_or(d);
            (family, numeric_prefix(r, 1)?)
        }
        _ => return None,
    };
    let upstream = purl.qualifier("upstream").map(|u| match u.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (u, None),
    });
    let own_version = purl
        .version
        .as_deref()
        .map(|v| match purl.qualifier("epoch") {
            Some(e) if !e.is_empty() && e != "0" && !v.contains(':') => format!("{e}:{v}"),
            _ => v.to_string(),
        });
    let (name, version) = match (source, upstream) {
        // RPM distributions' advisories name binary packages: the source RPM is not looked up.
        _ if purl.ty == "rpm" => (purl.name.clone(), own_version),
        (Some(s), _) => (s.name.clone(), s.version.clone().or(own_version)),
        (None, Some((n, v))) if !n.is_empty() => {
            (n.to_string(), v.map(str::to_string).or(own_version))
        }
        _ => (purl.name.clone(), own_version),
    };
    Some(OsPackage {
        family: family.osv_name(),
        release,
        source: name,
        version: version.filter(|v| !v.is_empty())?,
    })
}

/// The release of a Debian or Ubuntu codename, as some SBOM tools (and OSV's own Debian purls)
/// spell `distro` (`bookworm`, `jammy`). Releases with OSV data; an unknown codename is not
/// guessed at (the package then stays unmatched).
fn codename_release(codename: &str) -> Option<&'static str> {
    Some(match codename.to_ascii_lowercase().as_str() {
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "xenial" => "16.04",
        "bionic" => "18.04",
        "focal" => "20.04",
        "jammy" => "22.04",
        "noble" => "24.04",
        "oracular" => "24.10",
        "plucky" => "25.04",
        "questing" => "25.10",
        _ => return None,
    })
}

/// The first `parts` dot-separated numeric parts of `s` (`12.5` → `12` for one part,
/// `3.19.1` → `3.19` for two); `None` when there are fewer or they are not numbers.
fn numeric_prefix(s: &str, parts: usize) -> Option<String> {
    let taken: Vec<&str> = s.split('.').take(parts).collect();
    if taken.len() < parts
        || taken
            .iter()
            .any(|p| p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(taken.join("."))
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(s: &str) -> Option<(&'static str, String, Option<String>)> {
        let p = osv_package(&parse_purl(s)?)?;
        Some((p.ecosystem, p.name, p.version))
    }

    fn some(
        eco: &'static str,
        name: &str,
        v: &str,
    ) -> Option<(&'static str, String, Option<String>)> {
        Some((eco, name.to_string(), Some(v.to_string())))
    }

    #[test]
    fn distribution_purls_name_release_source_and_version() {
        let os = |p: &str, src: Option<(&str, Option<&str>)>| {
            let src = src.map(|(n, v)| crate::sbom::SourcePackage {
                name: n.into(),
                version: v.map(str::to_string),
            });
            os_package(&parse_purl(p).unwrap(), src.as_ref(), None)
                .map(|o| (o.family, o.release, o.source, o.version))
        };
        // (purl, source the SBOM states, family, release, source package, source version)
        type Case<'a> = (
            &'a str,
            Option<(&'a str, Option<&'a str>)>,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
        );
        #[rustfmt::skip]
        let cases: [Case<'_>; 19] = [
            // Trivy: release from `distro`, source from its properties.
            ("pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12.5",
             Some(("openssl", Some("3.0.11-1~deb12u1"))), "Debian", "12", "openssl", "3.0.11-1~deb12u1"),
            // No stated source: the binary package, its version with the epoch qualifier.
            ("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1",
             None, "Debian", "12", "zlib1g", "1:1.2.13.dfsg-1"),
            // syft: `upstream`, percent-encoded `@`.
            ("pkg:deb/debian/libssl3@3.0.11-1~deb12u1%2Bb1?arch=amd64&upstream=openssl%403.0.11-1~deb12u1&distro=debian-12",
             None, "Debian", "12", "openssl", "3.0.11-1~deb12u1"),
            ("pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?arch=amd64&distro=ubuntu-22.04",
             Some(("openssl", None)), "Ubuntu", "22.04", "openssl", "3.0.2-0ubuntu1.10"),
            // Codenames, as OSV's own Debian purls and some SBOM tools spell the release.
            ("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=bookworm",
             None, "Debian", "12", "openssl", "3.0.11-1~deb12u2"),
            ("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?distro=ubuntu-jammy",
             None, "Ubuntu", "22.04", "openssl", "3.0.2-0ubuntu1.10"),
            ("pkg:apk/alpine/libssl3@3.1.4-r1?arch=x86_64&upstream=openssl&distro=alpine-3.19.1",
             None, "Alpine", "3.19", "openssl", "3.1.4-r1"),
            ("pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=3.19.1",
             None, "Alpine", "3.19", "busybox", "1.36.1-r15"),
            ("pkg:apk/wolfi/libssl3@3.3.0-r0?arch=x86_64&distro=20230201",
             Some(("openssl", Some("3.3.0-r0"))), "Wolfi", "", "openssl", "3.3.0-r0"),
            ("pkg:chainguard/libssl3@3.3.0-r0?arch=x86_64",
             Some(("openssl", None)), "Chainguard", "", "openssl", "3.3.0-r0"),
            // RPM: the binary package (the stated source RPM is not what ALSA/RLSA list), the
            // major release, the epoch qualifier.
            ("pkg:rpm/alma/openssl-libs@1.1.1k-9.el8_7?arch=x86_64&epoch=1&distro=alma-8.9",
             Some(("openssl", Some("1.1.1k-9.el8_7"))), "AlmaLinux", "8", "openssl-libs", "1:1.1.1k-9.el8_7"),
            ("pkg:rpm/almalinux/bash@4.4.20-4.el8_6?arch=x86_64&distro=almalinux-8.9",
             None, "AlmaLinux", "8", "bash", "4.4.20-4.el8_6"),
            ("pkg:rpm/rocky/libxml2@2.9.13-5.el9_3?arch=x86_64&distro=rocky-9.3",
             None, "Rocky Linux", "9", "libxml2", "2.9.13-5.el9_3"),
            ("pkg:rpm/rocky-linux/openssl-libs@3.0.7-24.el9?distro=rocky-linux-9&epoch=1",
             None, "Rocky Linux", "9", "openssl-libs", "1:3.0.7-24.el9"),
            // SUSE, as Trivy 0.59 and 0.44 write them; the release is VERSION_ID.
            ("pkg:rpm/suse/libopenssl3@3.0.8-150500.5.8.1?arch=x86_64&distro=sles-15.5",
             None, "SUSE", "15.5", "libopenssl3", "3.0.8-150500.5.8.1"),
            ("pkg:rpm/sles/glibc@2.31-150300.63.1?arch=x86_64&distro=sles-15.5",
             None, "SUSE", "15.5", "glibc", "2.31-150300.63.1"),
            ("pkg:rpm/suse/libopenssl3@3.0.8-150400.4.49.1?distro=sle-micro-5.5",
             None, "SUSE", "Micro 5.5", "libopenssl3", "3.0.8-150400.4.49.1"),
            ("pkg:rpm/opensuse/libopenssl3@3.0.8-150500.5.8.1?distro=opensuse-leap-15.5",
             None, "openSUSE", "Leap 15.5", "libopenssl3", "3.0.8-150500.5.8.1"),
            ("pkg:rpm/opensuse.leap/libopenssl3@3.0.8-150500.5.8.1?distro=opensuse.leap-15.5",
             None, "openSUSE", "Leap 15.5", "libopenssl3", "3.0.8-150500.5.8.1"),
        ];
        for (purl, src, family, release, name, version) in cases {
            assert_eq!(
                os(purl, src),
                Some((family, release.into(), name.into(), version.into())),
                "{purl}"
            );
        }
        // A malformed qualifier does not lose the purl, only that qualifier.
        let p = parse_purl("pkg:npm/lodash@4.17.20?vcs_url=git%ZZ&arch=x").unwrap();
        assert_eq!(
            (p.name.as_str(), p.qualifier("arch")),
            ("lodash", Some("x"))
        );
        assert_eq!(p.qualifier("vcs_url"), None);
        for none in [
            "pkg:deb/debian/libssl3@3.0.11-1",
            "pkg:deb/debian/libssl3@3.0.11-1?distro=sid",
            "pkg:rpm/redhat/openssl@3.0.7?distro=rhel-9",
            "pkg:rpm/alma/openssl@3.0.7-27.el9",
            "pkg:rpm/rocky/openssl@3.0.7-27.el9?distro=rocky-latest",
            "pkg:rpm/fedora/openssl@3.0.7-27.fc39?distro=fedora-39",
            "pkg:deb/kali/libssl3@3.0.11-1?distro=kali-2024",
            "pkg:apk/alpine/busybox@1.36?distro=edge",
            "pkg:apk/alpine/busybox?distro=3.19.1",
            "pkg:npm/lodash@4.17.21?distro=debian-12",
        ] {
            assert_eq!(os(none, None), None, "{none}");
        }
    }

    #[test]
    fn suse_purls_without_distro_take_the_sboms_product_and_version() {
        let os = |name: &str, version: &str| crate::sbom::OperatingSystem {
            name: name.into(),
            version: version.into(),
        };
        let release = |purl: &str, o: &crate::sbom::OperatingSystem| {
            os_package(&parse_purl(purl).unwrap(), None, Some(o)).map(|p| (p.family, p.release))
        };
        let suse = "pkg:rpm/suse/libopenssl3@3.0.8-150500.5.8.1?arch=x86_64";
        let leap = "pkg:rpm/opensuse/libopenssl3@3.0.8-150500.5.8.1";
        for (purl, o, want) in [
            (suse, os("sles", "15.5"), Some(("SUSE", "15.5"))),
            // Trivy 0.44: `pkg:rpm/sles/…` under "suse linux enterprise server".
            (
                "pkg:rpm/sles/glibc@2.31-1",
                os("suse linux enterprise server", "15.5"),
                Some(("SUSE", "15.5")),
            ),
            (suse, os("sle-micro", "5.5"), Some(("SUSE", "Micro 5.5"))),
            (
                leap,
                os("opensuse-leap", "15.5"),
                Some(("openSUSE", "Leap 15.5")),
            ),
            (
                "pkg:rpm/opensuse.leap/x@1-1",
                os("opensuse.leap", "15.5"),
                Some(("openSUSE", "Leap 15.5")),
            ),
            // Another distribution's operating system is not taken.
            (suse, os("opensuse-leap", "15.5"), None),
            (leap, os("debian", "12.5"), None),
        ] {
            assert_eq!(
                release(purl, &o),
                want.map(|(f, r)| (f, r.to_string())),
                "{purl} on {}",
                o.name
            );
        }
    }

    #[test]
    fn maps_every_language_ecosystem() {
        assert_eq!(
            map("pkg:npm/lodash@4.17.20"),
            some("npm", "lodash", "4.17.20")
        );
        assert_eq!(
            map("pkg:npm/%40types/node@20.14.10#types/node"),
            some("npm", "@types/node", "20.14.10")
        );
        assert_eq!(
            map("pkg:pypi/typing_extensions@4.6.1"),
            some("PyPI", "typing_extensions", "4.6.1")
        );
        assert_eq!(
            map("pkg:golang/github.com/Masterminds/goutils@v1.1.0"),
            some("Go", "github.com/Masterminds/goutils", "v1.1.0")
        );
        assert_eq!(
            map("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"),
            some("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1")
        );
        assert_eq!(
            map("pkg:cargo/time@0.1.43"),
            some("crates.io", "time", "0.1.43")
        );
        assert_eq!(
            map("pkg:gem/rack@2.2.3.1"),
            some("RubyGems", "rack", "2.2.3.1")
        );
        assert_eq!(
            map("pkg:composer/guzzlehttp/guzzle@7.4.4"),
            some("Packagist", "guzzlehttp/guzzle", "7.4.4")
        );
        assert_eq!(
            map("pkg:nuget/Newtonsoft.Json@12.0.3"),
            some("NuGet", "Newtonsoft.Json", "12.0.3")
        );
        assert_eq!(
            map("pkg:hex/phoenix@1.7.0"),
            some("Hex", "phoenix", "1.7.0")
        );
        assert_eq!(map("pkg:pub/http@0.13.0"), some("Pub", "http", "0.13.0"));
        assert_eq!(
            map("pkg:swift/github.com/apple/swift-nio@2.0.0"),
            some("SwiftURL", "github.com/apple/swift-nio", "2.0.0")
        );
    }

    #[test]
    fn unencoded_scope_and_missing_version() {
        assert_eq!(
            map("pkg:npm/@babel/core@7.0.0"),
            some("npm", "@babel/core", "7.0.0")
        );
        assert_eq!(
            map("pkg:npm/@babel/core"),
            Some(("npm", "@babel/core".into(), None))
        );
        assert_eq!(
            map("pkg:npm/left-pad"),
            Some(("npm", "left-pad".into(), None))
        );
    }

    #[test]
    fn refuses_non_purls_and_unmapped_types() {
        assert_eq!(parse_purl("npm/lodash@1"), None);
        assert_eq!(parse_purl("pkg:npm"), None);
        assert_eq!(parse_purl("pkg:npm/"), None);
        assert_eq!(parse_purl("pkg:npm/bad%zzname"), None);
        assert_eq!(parse_purl(&format!("pkg:npm/{}", "a".repeat(5000))), None);
        // Maven and Packagist need the namespace to name the package.
        assert_eq!(map("pkg:maven/log4j-core@2.14.1"), None);
        assert_eq!(map("pkg:composer/guzzle@7.4.4"), None);
        // OS packages are not matched by this matcher.
        assert_eq!(map("pkg:deb/debian/openssl@3.0.11-1"), None);
        assert_eq!(map("pkg:apk/alpine/musl@1.2.4-r2"), None);
    }

    #[test]
    fn keeps_qualifiers_out_of_the_version() {
        let p = parse_purl("pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar#sub").unwrap();
        assert_eq!(p.version.as_deref(), Some("9.0.14"));
        assert_eq!(p.namespace.as_deref(), Some("com.acme"));
        assert_eq!(p.ty, "maven");
    }
}
