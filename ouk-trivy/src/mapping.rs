//! OSV → Trivy mapping, following trivy-db's `pkg/vulnsrc/osv` and `pkg/vulnsrc/ghsa` so that a
//! stock Trivy treats our advisories as it treats its own (see `spec/trivy-db.md`).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::osv::{Affected, Record, Severity};
use crate::trivy_types::{Cvss, Vulnerability, DATA_SOURCE_ID, SEVERITY_NAMES};

/// How a package name is turned into Trivy's lookup key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameRule {
    /// Lower-cased (npm, Maven, crates.io, RubyGems, Packagist, Hex, Pub).
    Lower,
    /// Kept as written (Go module paths are case-sensitive).
    Keep,
    /// Lower-cased with `_` → `-`, dots kept (trivy's `NormalizePkgName` for pip).
    Pip,
    /// Lower-cased, and the original spelling too (older Trivy looked NuGet names up as written).
    NuGet,
    /// The repository path as written, without `https://` and `.git` (trivy-db's
    /// `NormalizePkgName` for Swift: Trivy names a Swift package by its repository URL so trimmed,
    /// and some advisories spell the name as a git URL).
    Swift,
}

/// A Trivy language ecosystem we write advisories for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ecosystem {
    /// Trivy's bucket prefix (`npm`, `pip`, `go`, ...); Trivy scans every root bucket
    /// `<prefix>::*`.
    pub prefix: &'static str,
    /// The OSV ecosystem name, used in the data-source name.
    pub osv_name: &'static str,
    rule: NameRule,
}

const ECOSYSTEMS: &[Ecosystem] = &[
    Ecosystem {
        prefix: "npm",
        osv_name: "npm",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "pip",
        osv_name: "PyPI",
        rule: NameRule::Pip,
    },
    Ecosystem {
        prefix: "go",
        osv_name: "Go",
        rule: NameRule::Keep,
    },
    Ecosystem {
        prefix: "maven",
        osv_name: "Maven",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "cargo",
        osv_name: "crates.io",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "rubygems",
        osv_name: "RubyGems",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "composer",
        osv_name: "Packagist",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "nuget",
        osv_name: "NuGet",
        rule: NameRule::NuGet,
    },
    Ecosystem {
        prefix: "erlang",
        osv_name: "Hex",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "pub",
        osv_name: "Pub",
        rule: NameRule::Lower,
    },
    Ecosystem {
        prefix: "swift",
        osv_name: "SwiftURL",
        rule: NameRule::Swift,
    },
];

/// Maps an OSV ecosystem (`"PyPI"`, `"crates.io"`, `"Debian:12"` ...) to a Trivy ecosystem.
/// As in trivy-db, the match ignores case and any `:suffix`. `None` for ecosystems Trivy has no
/// language bucket for (OS distributions, GitHub Actions, ...).
pub(crate) fn ecosystem(osv: &str) -> Option<&'static Ecosystem> {
    let base = osv.split(':').next().unwrap_or(osv).to_ascii_lowercase();
    ECOSYSTEMS
        .iter()
        .find(|e| e.osv_name.to_ascii_lowercase() == base)
}

impl Ecosystem {
    /// The data-source name, which is also the second half of the root bucket name.
    pub fn source_name(&self) -> String {
        format!("OUK merged advisories {}", self.osv_name)
    }

    /// Root bucket name: `<prefix>::<source name>`.
    pub fn bucket_name(&self) -> String {
        format!("{}::{}", self.prefix, self.source_name())
    }

    /// The package-bucket names for one OSV package. Several when Trivy versions differ in how
    /// they look a name up (NuGet), or when the merged name lost dots that Trivy keeps (PyPI:
    /// the merger applies PEP 503, Trivy only `_` → `-`; the `purl`, if any, still has them).
    pub fn package_keys(
        &self,
        name: &str,
        purl: Option<&str>,
    ) -> Result<Vec<String>, &'static str> {
        if !safe_name(name) {
            return Err("package name empty, too long or with control characters");
        }
        let mut keys = BTreeSet::new();
        match self.rule {
            NameRule::Lower => {
                keys.insert(name.to_lowercase());
            }
            NameRule::Keep => {
                keys.insert(name.to_string());
            }
            NameRule::Swift => {
                keys.insert(ouk_distro::swift_package_path(name).to_string());
            }
            NameRule::NuGet => {
                keys.insert(name.to_lowercase());
                keys.insert(name.to_string());
            }
            NameRule::Pip => {
                keys.insert(pip_trivy(name));
                if let Some(orig) = purl.and_then(|p| purl_name(p, "pypi")) {
                    if safe_name(&orig) && pep503(&orig) == pep503(name) {
                        keys.insert(pip_trivy(&orig));
                    }
                }
            }
        }
        Ok(keys.into_iter().collect())
    }
}

/// The Trivy root bucket of an OSV distribution release, as trivy-db names the buckets its OS
/// scanners read: the scanner for a detected Debian 12.5 looks up `debian 12`, Ubuntu
/// `ubuntu 22.04`, Alpine 3.19.1 `alpine 3.19`, the rolling Wolfi and Chainguard one bucket each,
/// AlmaLinux 8.9 `alma 8`, Rocky Linux `rocky 9`, SLES 15 SP5 `SUSE Linux Enterprise 15.5` (SLE
/// Micro `SUSE Linux Enterprise Micro 5.5`), openSUSE `openSUSE Leap 15.5` or
/// `openSUSE Tumbleweed`. Which release an ecosystem names is `ouk_distro`'s rule, shared with
/// the built-in matcher. `None` for other ecosystems and for releases no Trivy scanner reads.
pub(crate) fn os_bucket(osv: &str) -> Option<OsBucket> {
    use ouk_distro::Family;
    let r = ouk_distro::release_of(osv)?;
    let v = &r.release;
    let name = match r.family {
        Family::Debian => format!("debian {v}"),
        Family::Ubuntu => format!("ubuntu {v}"),
        Family::Alpine => format!("alpine {v}"),
        Family::Wolfi => "wolfi".into(),
        Family::Chainguard => "chainguard".into(),
        Family::AlmaLinux => format!("alma {v}"),
        Family::RockyLinux => format!("rocky {v}"),
        // `Micro 5.5` → `SUSE Linux Enterprise Micro 5.5`, `15.5` → `SUSE Linux Enterprise 15.5`.
        Family::Suse => format!("SUSE Linux Enterprise {v}"),
        Family::OpenSuse => format!("openSUSE {v}"),
    };
    Some(OsBucket {
        name,
        rpm: r.family.is_rpm(),
    })
}

/// A distribution bucket and how Trivy's scanner for it reads advisories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OsBucket {
    /// The root bucket's name.
    pub name: String,
    /// Read by one of Trivy's RPM scanners (AlmaLinux, Rocky Linux, SUSE, openSUSE), whose
    /// advisories need [`rpm_os_fix`].
    pub rpm: bool,
}

/// The fix of an AlmaLinux, Rocky Linux, SUSE or openSUSE entry as Trivy's RPM scanners can use
/// it. They look up
/// the installed *binary* package by name (modular ones as `module:stream::name`), compare its
/// `epoch:version-release` with the fixed version under RPM's ordering, and have no notion of an
/// unfixed package. So:
/// * unfixed entries are refused (an empty fixed version would never be reported);
/// * fixes built in a module (`.module+el8…`, `.module_el8…`) are refused: OSV does not name the
///   module stream, and under the plain name they would be compared with the non-modular package
///   of that name, a different build line;
/// * an explicit zero epoch (`0:4.9.3-2.el9`, as Rocky writes it) is dropped, as trivy-db writes
///   versions; RPM orders both spellings the same.
pub(crate) fn rpm_os_fix(fix: OsFix) -> Result<OsFix, &'static str> {
    match fix {
        OsFix::Unfixed => Err("unfixed entry: Trivy's RPM scanners report only fixed versions"),
        OsFix::Fixed(v) if ouk_distro::is_module_build(&v) => Err(
            "fix built in a module stream: Trivy looks modular packages up by module:stream, \
             which OSV does not name",
        ),
        OsFix::Fixed(v) => Ok(OsFix::Fixed(match v.strip_prefix("0:") {
            Some(rest) => rest.to_string(),
            None => v,
        })),
    }
}

/// What Trivy's OS scanners can hold for one distribution package: one fixed version (installed
/// versions below it are affected) or none (every installed version is affected, "unfixed").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum OsFix {
    Fixed(String),
    Unfixed,
}

/// The OS advisory of one distribution `affected` entry. Trivy's Debian, Ubuntu and Alpine
/// scanners ignore `introduced` and know one fixed version, so only the shapes the distributions'
/// own records have are taken: ECOSYSTEM ranges `introduced: 0` with at most one `fixed`.
/// Anything else (a later `introduced`, several fixes, `last_affected`, a `versions[]` list
/// alone) is refused rather than widened or narrowed. `Ok(None)`: nothing affected.
pub(crate) fn os_fix(a: &Affected) -> Result<Option<OsFix>, &'static str> {
    const SHAPE: &str = "range shape Trivy's OS advisories cannot hold \
                         (they need introduced 0 and at most one fixed version)";
    let mut fix: Option<OsFix> = None;
    for range in &a.ranges {
        if range.kind != "ECOSYSTEM" {
            return Err(SHAPE);
        }
        let mut events = range.events.iter();
        match events.next() {
            Some(e) if e.introduced.as_deref() == Some("0") => {}
            Some(_) => return Err(SHAPE),
            None => continue,
        }
        let this = match (events.next(), events.next()) {
            (None, _) => OsFix::Unfixed,
            (Some(e), None) => match &e.fixed {
                Some(v) => {
                    check(v)?;
                    OsFix::Fixed(v.clone())
                }
                None => return Err(SHAPE),
            },
            _ => return Err(SHAPE),
        };
        if fix.as_ref().is_some_and(|f| *f != this) {
            return Err(SHAPE);
        }
        fix = Some(this);
    }
    if fix.is_none() && !a.versions.is_empty() {
        return Err(SHAPE);
    }
    Ok(fix)
}

/// A distribution source package name as Trivy's OS scanners look it up (`SrcName`, as written).
pub(crate) fn os_package_key(name: &str) -> Result<(), &'static str> {
    if safe_name(name) {
        Ok(())
    } else {
        Err("package name empty, too long or with control characters")
    }
}

/// trivy's pip normalisation: lower case, `_` → `-`, dots kept.
fn pip_trivy(name: &str) -> String {
    name.to_lowercase().replace('_', "-")
}

/// PEP 503: runs of `-`, `_`, `.` become one `-`, lower case.
///
/// The same function as `ouk_feeds::normalize::pep503`, kept as a copy on purpose: the importer
/// links this crate to install (and, for delta kits, export) Trivy DBs, and depending on `ouk-feeds` would put every feed parser
/// (zip, XML, YAML) into the air-gapped binary. If a third user appears, move it to a tiny shared
/// crate instead of copying again.
fn pep503(name: &str) -> String {
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

/// The name part of `pkg:<kind>/<name>[@version][?qualifiers][#subpath]`; `None` when the purl
/// is of another kind or percent-encoded (we do not guess at decoding).
fn purl_name(purl: &str, kind: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let (k, rest) = rest.split_once('/')?;
    if !k.eq_ignore_ascii_case(kind) {
        return None;
    }
    let end = rest.find(['@', '?', '#']).unwrap_or(rest.len());
    let name = &rest[..end];
    if name.is_empty() || name.contains('%') || name.contains('/') {
        return None;
    }
    Some(name.to_string())
}

fn safe_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 1024 && !name.chars().any(char::is_control)
}

/// A version Trivy can take as one operand. Trivy joins constraints with `,` and `||` and
/// parses operators, so a version with spaces, commas, pipes or comparison characters could
/// widen a range; such versions are refused rather than passed on.
pub(crate) fn safe_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && v.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_' | '~' | '!' | ':')
        })
}

/// `VulnerableVersions` and `PatchedVersions` for one affected entry.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct VersionSets {
    pub vulnerable: Vec<String>,
    pub patched: Vec<String>,
}

struct OpenRange {
    from: String,
    to: Option<(String, bool)>,
}

impl OpenRange {
    /// trivy-db's `versionRange.String()`.
    fn render(&self) -> String {
        match &self.to {
            Some((to, true)) if *to == self.from => format!("={to}"),
            None => format!(">={}", self.from),
            Some((to, incl)) => {
                let op = if *incl { "<=" } else { "<" };
                if self.from == "0" {
                    format!("{op}{to}")
                } else {
                    format!(">={}, {op}{to}", self.from)
                }
            }
        }
    }
}

/// Maps `ranges` (ECOSYSTEM and SEMVER; GIT is skipped as Trivy has no commits to compare) and
/// `versions[]` to Trivy constraint strings, then caps open ranges with GHSA's
/// `database_specific.last_known_affected_version_range`.
pub(crate) fn version_sets(a: &Affected) -> Result<VersionSets, &'static str> {
    let mut ranges: Vec<OpenRange> = Vec::new();
    let mut out = VersionSets::default();
    for range in &a.ranges {
        match range.kind.as_str() {
            "GIT" => continue,
            "ECOSYSTEM" | "SEMVER" => {}
            _ => return Err("unknown range type"),
        }
        // Unlike trivy-db, the "current range" does not leak from one range object into the
        // next: a range whose first event is a fix starts at "0".
        let mut current: Option<usize> = None;
        for ev in &range.events {
            if let Some(v) = &ev.introduced {
                check(v)?;
                ranges.push(OpenRange {
                    from: v.clone(),
                    to: None,
                });
                current = Some(ranges.len() - 1);
            } else if let Some((v, incl)) = ev
                .fixed
                .as_ref()
                .map(|v| (v, false))
                .or(ev.last_affected.as_ref().map(|v| (v, true)))
            {
                check(v)?;
                let idx = match current {
                    Some(i) => i,
                    None => {
                        ranges.push(OpenRange {
                            from: "0".into(),
                            to: None,
                        });
                        ranges.len() - 1
                    }
                };
                current = Some(idx);
                if let Some(r) = ranges.get_mut(idx) {
                    r.to = Some((v.clone(), incl));
                }
                if !incl {
                    push_unique(&mut out.patched, v.clone());
                }
            }
            // `limit` is ignored, as in trivy-db.
        }
    }
    let cap = last_known_affected(a)?;
    for r in &ranges {
        let mut s = r.render();
        if let (None, Some(cap)) = (&r.to, &cap) {
            s = format!("{s}, {cap}");
        }
        push_unique(&mut out.vulnerable, s);
    }
    for v in &a.versions {
        check(v)?;
        push_unique(&mut out.vulnerable, format!("={v}"));
    }
    Ok(out)
}

fn check(v: &str) -> Result<(), &'static str> {
    if safe_version(v) {
        Ok(())
    } else {
        Err("version string empty, too long or with characters Trivy treats as operators")
    }
}

/// GHSA's `"< 0.2"` / `"<= 1.2.3"`, spaces removed as trivy-db does. A value in any other form
/// is refused: silently dropping it would turn a capped range into an open one.
fn last_known_affected(a: &Affected) -> Result<Option<String>, &'static str> {
    let Some(raw) = a
        .database_specific
        .as_ref()
        .and_then(|d| d.get("last_known_affected_version_range"))
    else {
        return Ok(None);
    };
    let Some(raw) = raw.as_str() else {
        return Err("last_known_affected_version_range is not a string");
    };
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let (op, ver) = if let Some(v) = compact.strip_prefix("<=") {
        ("<=", v)
    } else if let Some(v) = compact.strip_prefix('<') {
        ("<", v)
    } else {
        return Err("last_known_affected_version_range is not of the form '< V' or '<= V'");
    };
    check(ver)?;
    Ok(Some(format!("{op}{ver}")))
}

pub(crate) fn push_unique(list: &mut Vec<String>, v: String) {
    if !list.contains(&v) {
        list.push(v);
    }
}

fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Keys under which the record is stored, and the other ids (`VendorIDs`). As in trivy-db:
/// every CVE among id + aliases + upstream is a key; with no CVE the record id is. Ids that are
/// not plain identifiers are dropped from `VendorIDs`; a bad record id rejects the record.
pub(crate) fn vuln_keys(rec: &Record) -> Result<(Vec<String>, Vec<String>), &'static str> {
    if !safe_id(&rec.id) {
        return Err("record id empty, too long or with unexpected characters");
    }
    let mut all: BTreeSet<&str> = BTreeSet::new();
    all.insert(&rec.id);
    for a in rec.aliases.iter().chain(&rec.upstream) {
        if safe_id(a) {
            all.insert(a);
        }
    }
    let (cves, others): (Vec<&str>, Vec<&str>) =
        all.into_iter().partition(|a| a.starts_with("CVE-"));
    if cves.is_empty() {
        let vendor = others
            .into_iter()
            .filter(|a| *a != rec.id)
            .map(String::from)
            .collect();
        Ok((vec![rec.id.clone()], vendor))
    } else {
        Ok((
            cves.into_iter().map(String::from).collect(),
            others.into_iter().map(String::from).collect(),
        ))
    }
}

/// Trivy's integer severity from GHSA's `database_specific.severity`.
fn ghsa_severity(db: Option<&Value>) -> u8 {
    match db.and_then(|d| d.get("severity")).and_then(Value::as_str) {
        Some("LOW") => 1,
        Some("MODERATE") | Some("MEDIUM") => 2,
        Some("HIGH") => 3,
        Some("CRITICAL") => 4,
        _ => 0,
    }
}

/// Trivy's `scoreToSeverity`.
fn score_severity(score: f64) -> u8 {
    if score >= 9.0 {
        4
    } else if score >= 7.0 {
        3
    } else if score >= 4.0 {
        2
    } else if score > 0.0 {
        1
    } else {
        0
    }
}

fn first_vector<'a>(sevs: impl Iterator<Item = &'a Severity>, kind: &str) -> Option<&'a str> {
    sevs.filter(|s| s.kind == kind)
        .map(|s| s.score.trim().trim_end_matches('/'))
        .find(|s| !s.is_empty() && s.len() <= 256)
}

/// RFC 3339 → Go's UTC form; `None` for unparsable or placeholder (`0001-01-01`) dates.
pub(crate) fn normalize_time(t: Option<&str>) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(t?).ok()?;
    if t.timestamp() <= 0 {
        return None;
    }
    Some(
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// The `vulnerability` bucket value for a record: summary/details, severity (GHSA's label,
/// else from the CVSS v3 base score), CWE ids, references, dates.
pub(crate) fn vulnerability(rec: &Record) -> Vulnerability {
    let affected_sevs = rec.affected.iter().flat_map(|a| a.severity.iter());
    let v3 = first_vector(rec.severity.iter(), "CVSS_V3").or_else(|| {
        first_vector(
            rec.affected.iter().flat_map(|a| a.severity.iter()),
            "CVSS_V3",
        )
    });
    let v4 = first_vector(rec.severity.iter(), "CVSS_V4")
        .or_else(|| first_vector(affected_sevs, "CVSS_V4"));
    let v3_score = v3
        .and_then(|v| v.parse::<cvss::v3::Base>().ok())
        .map(|b| b.score().value())
        .unwrap_or(0.0);
    let mut sev = ghsa_severity(rec.database_specific.as_ref());
    if sev == 0 {
        sev = score_severity(v3_score);
    }
    if sev == 0 {
        // Ubuntu's records rate by priority only (OSV severity type `Ubuntu`), as trivy-db's
        // Ubuntu source reads its tracker's.
        let priority = first_vector(rec.severity.iter(), "Ubuntu").or_else(|| {
            first_vector(
                rec.affected.iter().flat_map(|a| a.severity.iter()),
                "Ubuntu",
            )
        });
        sev = priority
            .and_then(ouk_distro::ubuntu_priority_rank)
            .unwrap_or(0);
    }
    let mut vuln = Vulnerability {
        title: rec.summary.as_deref().unwrap_or("").trim().to_string(),
        description: rec.details.as_deref().unwrap_or("").trim().to_string(),
        severity: SEVERITY_NAMES[usize::from(sev)].to_string(),
        published_date: normalize_time(rec.published.as_deref()),
        last_modified_date: normalize_time(rec.modified.as_deref()),
        ..Vulnerability::default()
    };
    if sev > 0 {
        vuln.vendor_severity.insert(DATA_SOURCE_ID, sev);
    }
    if v3.is_some() || v4.is_some() {
        vuln.cvss.insert(
            DATA_SOURCE_ID,
            Cvss {
                v3_vector: v3.map(String::from).unwrap_or_default(),
                v40_vector: v4.map(String::from).unwrap_or_default(),
                v3_score,
            },
        );
    }
    if let Some(cwes) = rec
        .database_specific
        .as_ref()
        .and_then(|d| d.get("cwe_ids"))
        .and_then(Value::as_array)
    {
        for c in cwes.iter().filter_map(Value::as_str) {
            if c.len() <= 16
                && c.strip_prefix("CWE-")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            {
                push_unique(&mut vuln.cwe_ids, c.to_string());
            }
        }
    }
    for r in &rec.references {
        if let Some(u) = r.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            push_unique(&mut vuln.references, u.to_string());
        }
    }
    vuln
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(json: &str) -> Affected {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ranges_render_like_trivy_db() {
        let a = affected(
            r#"{"package":{"ecosystem":"npm","name":"semver"},"ranges":[{"type":"SEMVER","events":[
                {"introduced":"0"},{"fixed":"5.7.2"},{"introduced":"6.0.0"},{"fixed":"6.3.1"},
                {"introduced":"7.0.0"},{"last_affected":"7.5.1"},{"introduced":"8.0.0"},{"last_affected":"8.0.0"},
                {"introduced":"9.0.0"}]}]}"#,
        );
        let s = version_sets(&a).unwrap();
        assert_eq!(
            s.vulnerable,
            [
                "<5.7.2",
                ">=6.0.0, <6.3.1",
                ">=7.0.0, <=7.5.1",
                "=8.0.0",
                ">=9.0.0"
            ]
        );
        assert_eq!(s.patched, ["5.7.2", "6.3.1"]);
    }

    #[test]
    fn open_range_capped_by_last_known_affected() {
        let a = affected(
            r#"{"package":{"ecosystem":"crates.io","name":"time"},
                "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0.1.0"}]}],
                "database_specific":{"last_known_affected_version_range":"< 0.2"}}"#,
        );
        assert_eq!(version_sets(&a).unwrap().vulnerable, [">=0.1.0, <0.2"]);
        // A closed range is left alone.
        let a = affected(
            r#"{"package":{"ecosystem":"npm","name":"x"},
                "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.5"}]}],
                "database_specific":{"last_known_affected_version_range":"<= 1.4"}}"#,
        );
        assert_eq!(version_sets(&a).unwrap().vulnerable, [">=1.0, <1.5"]);
        let bad = affected(
            r#"{"package":{"ecosystem":"npm","name":"x"},
                "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"}]}],
                "database_specific":{"last_known_affected_version_range":">= 9"}}"#,
        );
        assert!(version_sets(&bad).is_err());
    }

    #[test]
    fn versions_list_and_git_ranges() {
        let a = affected(
            r#"{"package":{"ecosystem":"PyPI","name":"gradio"},"versions":["4.36.1","4.37.0"],
                "ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"abc"}]}]}"#,
        );
        let s = version_sets(&a).unwrap();
        assert_eq!(s.vulnerable, ["=4.36.1", "=4.37.0"]);
        assert!(s.patched.is_empty());
    }

    #[test]
    fn hostile_versions_refused() {
        for v in ["1.0 || >=0", "1,2", "", ">1", "1 2", "*"] {
            let j = serde_json::json!({"package":{"ecosystem":"npm","name":"x"},
                "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":v}]}]});
            let a: Affected = serde_json::from_value(j).unwrap();
            assert!(version_sets(&a).is_err(), "{v:?} accepted");
        }
    }

    #[test]
    fn fixed_without_introduced_starts_at_zero() {
        let a = affected(
            r#"{"package":{"ecosystem":"npm","name":"x"},"ranges":[
                {"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"1.2.0"}]},
                {"type":"SEMVER","events":[{"fixed":"0.9.0"}]}]}"#,
        );
        assert_eq!(
            version_sets(&a).unwrap().vulnerable,
            [">=1.0.0, <1.2.0", "<0.9.0"]
        );
    }

    #[test]
    fn distribution_releases_map_to_trivys_os_buckets() {
        let bucket = |osv: &str| os_bucket(osv).map(|b| (b.name, b.rpm));
        for (osv, name, rpm) in [
            ("Debian:12", "debian 12", false),
            ("Ubuntu:22.04:LTS", "ubuntu 22.04", false),
            ("Ubuntu:24.10", "ubuntu 24.10", false),
            ("Alpine:v3.19", "alpine 3.19", false),
            ("Wolfi", "wolfi", false),
            ("Chainguard", "chainguard", false),
            ("AlmaLinux:8", "alma 8", true),
            ("Rocky Linux:9", "rocky 9", true),
            (
                "SUSE:Linux Enterprise Server 15 SP5",
                "SUSE Linux Enterprise 15.5",
                true,
            ),
            (
                "SUSE:Linux Enterprise Module for Basesystem 15 SP7",
                "SUSE Linux Enterprise 15.7",
                true,
            ),
            (
                "SUSE:Linux Enterprise Server 12 SP5-LTSS",
                "SUSE Linux Enterprise 12.5",
                true,
            ),
            (
                "SUSE:Linux Enterprise Micro 5.5",
                "SUSE Linux Enterprise Micro 5.5",
                true,
            ),
            ("openSUSE:Leap 15.5", "openSUSE Leap 15.5", true),
            ("openSUSE:Tumbleweed", "openSUSE Tumbleweed", true),
        ] {
            assert_eq!(bucket(osv), Some((name.to_string(), rpm)), "{osv}");
        }
        // The releases left out are ouk_distro's (tested there); two of them here.
        for other in ["Ubuntu:Pro:18.04:LTS", "Debian:sid", "npm"] {
            assert_eq!(bucket(other), None, "{other}");
        }
    }

    #[test]
    fn rpm_fixes_are_fixed_non_modular_versions() {
        let fixed = |v: &str| rpm_os_fix(OsFix::Fixed(v.into()));
        assert_eq!(
            fixed("1:1.1.1k-12.el8_9"),
            Ok(OsFix::Fixed("1:1.1.1k-12.el8_9".into()))
        );
        assert_eq!(
            fixed("0:4.9.3-2.el9_8.1"),
            Ok(OsFix::Fixed("4.9.3-2.el9_8.1".into()))
        );
        assert_eq!(
            fixed("10:2.0-1.el9"),
            Ok(OsFix::Fixed("10:2.0-1.el9".into()))
        );
        assert!(fixed("7.4.19-4.module_el8.6.0+3238+624bf8b8").is_err());
        assert!(fixed("0:2.7.0-10.module+el8.4.0+570+c2eaf144").is_err());
        assert!(rpm_os_fix(OsFix::Unfixed).is_err());
    }

    #[test]
    fn ecosystems_and_names() {
        assert_eq!(ecosystem("PyPI").unwrap().prefix, "pip");
        assert_eq!(ecosystem("crates.io").unwrap().prefix, "cargo");
        assert_eq!(ecosystem("Packagist").unwrap().prefix, "composer");
        assert!(ecosystem("Debian:12").is_none());
        assert!(ecosystem("GitHub Actions").is_none());
        let pip = ecosystem("PyPI").unwrap();
        assert_eq!(pip.bucket_name(), "pip::OUK merged advisories PyPI");
        assert_eq!(
            pip.package_keys("zope-interface", Some("pkg:pypi/zope.interface@5.0"))
                .unwrap(),
            ["zope-interface", "zope.interface"]
        );
        // A purl for another package does not add a key.
        assert_eq!(
            pip.package_keys("requests", Some("pkg:pypi/evil")).unwrap(),
            ["requests"]
        );
        assert_eq!(pip.package_keys("Foo_Bar", None).unwrap(), ["foo-bar"]);
        let go = ecosystem("Go").unwrap();
        assert_eq!(
            go.package_keys("github.com/BurntSushi/toml", None).unwrap(),
            ["github.com/BurntSushi/toml"]
        );
        let nuget = ecosystem("NuGet").unwrap();
        assert_eq!(
            nuget.package_keys("Newtonsoft.Json", None).unwrap(),
            ["Newtonsoft.Json", "newtonsoft.json"]
        );
        assert!(pip.package_keys("a\nb", None).is_err());
    }

    #[test]
    fn an_ubuntu_priority_rates_a_record_without_label_or_cvss() {
        let rate =
            |json: &str| vulnerability(&serde_json::from_str::<Record>(json).unwrap()).severity;
        assert_eq!(
            rate(r#"{"id":"UBUNTU-CVE-2099-1","severity":[{"type":"Ubuntu","score":"medium"}]}"#),
            "MEDIUM"
        );
        assert_eq!(
            rate(
                r#"{"id":"U-2","affected":[{"severity":[{"type":"Ubuntu","score":"negligible"}]}]}"#
            ),
            "LOW"
        );
        assert_eq!(
            rate(r#"{"id":"U-3","severity":[{"type":"Ubuntu","score":"untriaged"}]}"#),
            "UNKNOWN"
        );
        // A GHSA label still wins.
        assert_eq!(
            rate(
                r#"{"id":"U-4","database_specific":{"severity":"HIGH"},"severity":[{"type":"Ubuntu","score":"low"}]}"#
            ),
            "HIGH"
        );
    }

    #[test]
    fn keys_follow_cve_rule() {
        let r: Record = serde_json::from_str(
            r#"{"id":"GHSA-aaaa-bbbb-cccc","aliases":["CVE-2020-1","CVE-2020-2","PYSEC-1","bad id"]}"#,
        )
        .unwrap();
        let (keys, vendor) = vuln_keys(&r).unwrap();
        assert_eq!(keys, ["CVE-2020-1", "CVE-2020-2"]);
        assert_eq!(vendor, ["GHSA-aaaa-bbbb-cccc", "PYSEC-1"]);
        let r: Record =
            serde_json::from_str(r#"{"id":"RUSTSEC-2021-0001","aliases":["GHSA-x"]}"#).unwrap();
        assert_eq!(
            vuln_keys(&r).unwrap(),
            (vec!["RUSTSEC-2021-0001".into()], vec!["GHSA-x".into()])
        );
    }

    #[test]
    fn severity_from_label_then_cvss() {
        let r: Record = serde_json::from_str(
            r#"{"id":"X-1","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                "database_specific":{"severity":"MODERATE","cwe_ids":["CWE-79","junk"]},
                "published":"2023-05-22T20:30:00+02:00","modified":"0001-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let v = vulnerability(&r);
        assert_eq!(v.severity, "MEDIUM");
        assert_eq!(v.cwe_ids, ["CWE-79"]);
        assert_eq!(v.cvss[DATA_SOURCE_ID].v3_score, 9.8);
        assert_eq!(v.published_date.as_deref(), Some("2023-05-22T18:30:00Z"));
        assert_eq!(v.last_modified_date, None);
        let r: Record = serde_json::from_str(
            r#"{"id":"X-2","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#,
        )
        .unwrap();
        assert_eq!(vulnerability(&r).severity, "CRITICAL");
    }
}
