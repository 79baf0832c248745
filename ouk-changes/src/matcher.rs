//! The project's own vulnerability matcher: which components of the site's SBOMs are affected by
//! which records of a merged OSV snapshot. It lets the importer say "these SBOMs are newly
//! affected" without running a scanner, and it is checked against real Trivy on the same data
//! (`tests/trivy_oracle.rs`).
//!
//! The snapshot (NDJSON, one OSV record per line) is streamed: each line is parsed, matched
//! against an index built from the SBOMs and dropped, so memory depends on the SBOMs and the
//! findings, not on the snapshot. Matching follows the OSV schema's evaluation algorithm, plus
//! GHSA's `last_known_affected_version_range` cap on open ranges as Trivy applies it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::purl::{os_package, osv_package, parse_purl};
use crate::record_facts::read_facts;
use crate::sbom::Sbom;
use crate::versions;

/// One affected component: which SBOM, which advisory, which package at which version, and what
/// to upgrade to. This is what a report lists and what a re-scan diff compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    /// The SBOM's name as given to [`Matcher::new`].
    pub sbom: String,
    /// The OSV record id (in a merged snapshot, its canonical id).
    pub advisory: String,
    /// The record's `aliases`, sorted (CVE ids among them are what Trivy reports by).
    pub aliases: Vec<String>,
    /// The OSV ecosystem of the package (`npm`, `PyPI`, ...; `Debian:12`, `Alpine:v3.19` as
    /// the advisory writes it).
    pub ecosystem: String,
    /// The package name as the SBOM's purl gives it, in OSV form (Maven `group:artifact`); for a
    /// distribution package the source package the advisories name (`openssl` for `libssl3`).
    pub package: String,
    /// The installed version, as the SBOM gives it (a distribution package's source version).
    pub installed: String,
    /// The `fixed` event closing the range the installed version is in, if there is one.
    pub fixed: Option<String>,
    /// `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`: the record's `database_specific.severity`, else
    /// derived from its CVSS v3 / v4 base score; `None` when neither is there.
    pub severity: Option<String>,
}

/// Why a snapshot could not be scanned. Each variant names the 1-based line, so a corrupt
/// snapshot can be located.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// Reading the snapshot failed.
    #[error("snapshot line {line}: {source}")]
    Io {
        /// The line being read.
        line: u64,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line is longer than the caller's cap (the rest of the snapshot is not read).
    #[error("snapshot line {line}: longer than {max} bytes")]
    LineTooLong {
        /// The offending line.
        line: u64,
        /// The cap.
        max: usize,
    },
    /// A line is not an OSV record (invalid JSON or a field of the wrong type).
    #[error("snapshot line {line}: not an OSV record: {source}")]
    Json {
        /// The offending line.
        line: u64,
        /// The parser's error.
        source: serde_json::Error,
    },
}

/// One SBOM component the index can be asked about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Installed {
    sbom: usize,
    ecosystem: &'static str,
    /// The distribution release a distribution package was built for (`12`, `22.04`, `3.19`,
    /// `8`); `None` for language packages.
    release: Option<String>,
    package: String,
    version: String,
}

/// The components of `sbom` that no engine can check against the kit, counted by what they are:
/// `rpm/redhat`, `deb/kali`, `apk/postmarketos` for packages of a distribution (or release) the
/// kit has no advisories for, the purl type (`conan`, `cocoapods`, `github`) for a package kind
/// it has none for. Components without a purl are not counted: in the SBOMs scanners write they
/// are the image, its operating system and its lock files, not packages. Why: a Red Hat image's
/// packages would otherwise come out of a re-scan as clean when nothing was compared at all.
pub fn unchecked_components(sbom: &Sbom) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for c in &sbom.components {
        let label = match c.purl.as_deref().and_then(parse_purl) {
            None => continue,
            Some(p) if osv_package(&p).is_some() => continue,
            Some(p) if os_package(&p, c.source.as_ref(), sbom.os.as_ref()).is_some() => continue,
            Some(p) => match (p.ty.as_str(), p.namespace.as_deref()) {
                ("deb" | "rpm" | "apk", Some(ns)) => format!("{}/{}", p.ty, ns.to_lowercase()),
                _ => p.ty,
            },
        };
        *out.entry(label).or_insert(0) += 1;
    }
    out
}

/// Matches SBOM components against OSV records. Built once from all SBOMs; a scan then costs
/// one hash lookup per affected package of each record.
#[derive(Debug, Clone)]
pub struct Matcher {
    sbom_names: Vec<String>,
    /// (ecosystem, normalised package name) → the components with that package.
    index: HashMap<(&'static str, String), Vec<Installed>>,
}

impl Matcher {
    /// Indexes every component that has a purl of a supported ecosystem and a version.
    /// Components without a purl are not matched (as in Trivy: the name alone does not say
    /// which ecosystem a package is from). Debian, Ubuntu and Alpine packages are indexed by
    /// their source package and release (see [`os_package`]).
    pub fn new(sboms: &[(String, Sbom)]) -> Self {
        let mut index: HashMap<(&'static str, String), Vec<Installed>> = HashMap::new();
        for (i, (_, sbom)) in sboms.iter().enumerate() {
            for c in &sbom.components {
                let Some(pkg) = c.purl.as_deref().and_then(parse_purl) else {
                    continue;
                };
                let Some(osv) = osv_package(&pkg) else {
                    if let Some(os) = os_package(&pkg, c.source.as_ref(), sbom.os.as_ref()) {
                        index
                            .entry((os.family, os.source.clone()))
                            .or_default()
                            .push(Installed {
                                sbom: i,
                                ecosystem: os.family,
                                release: Some(os.release),
                                package: os.source,
                                version: os.version,
                            });
                    }
                    continue;
                };
                // The purl's version is the one the package manager resolved; the component's
                // `version` field is a fallback.
                let version = osv
                    .version
                    .clone()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| c.version.clone());
                if version.is_empty() {
                    continue;
                }
                let key = (osv.ecosystem, normalise_name(osv.ecosystem, &osv.name));
                index.entry(key).or_default().push(Installed {
                    sbom: i,
                    ecosystem: osv.ecosystem,
                    release: None,
                    package: osv.name,
                    version,
                });
            }
        }
        for list in index.values_mut() {
            list.sort();
            list.dedup();
        }
        Matcher {
            sbom_names: sboms.iter().map(|(n, _)| n.clone()).collect(),
            index,
        }
    }

    /// Streams an NDJSON snapshot and returns every finding, sorted by (sbom, advisory,
    /// package, installed) and deduplicated. Blank lines are skipped; a line longer than
    /// `max_line_bytes` or that is not an OSV record stops the scan with an error naming it.
    pub fn scan<R: BufRead>(
        &self,
        mut snapshot: R,
        max_line_bytes: usize,
    ) -> Result<Vec<Finding>, MatchError> {
        let mut found: BTreeMap<FindingKey, Finding> = BTreeMap::new();
        let mut buf = Vec::new();
        let mut line_no: u64 = 0;
        loop {
            line_no += 1;
            buf.clear();
            let got =
                read_line_capped(&mut snapshot, &mut buf, max_line_bytes).map_err(|source| {
                    MatchError::Io {
                        line: line_no,
                        source,
                    }
                })?;
            match got {
                Line::Eof => break,
                Line::TooLong => {
                    return Err(MatchError::LineTooLong {
                        line: line_no,
                        max: max_line_bytes,
                    })
                }
                Line::Complete => {}
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let facts = read_facts(&buf).map_err(|source| MatchError::Json {
                line: line_no,
                source,
            })?;
            if facts.withdrawn {
                continue;
            }
            let mut aliases = facts.aliases.clone();
            aliases.sort();
            aliases.dedup();
            let rec = RecordHead {
                id: &facts.id,
                aliases: &aliases,
                severity: match facts.severity() {
                    "UNKNOWN" => None,
                    s => Some(s.to_owned()),
                },
            };
            // `affected[]` is visited one element at a time: memory is one element, whatever
            // the record's size (a signed snapshot can come from a compromised builder).
            let outer: AffectedOnly<'_> =
                serde_json::from_slice(&buf).map_err(|source| MatchError::Json {
                    line: line_no,
                    source,
                })?;
            if let Some(raw) = outer.affected {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                ForEachAffected(&mut |aff: LazyAffected<'_>| {
                    self.match_affected(&rec, aff, &mut found)
                })
                .deserialize(&mut de)
                .map_err(|source| MatchError::Json {
                    line: line_no,
                    source,
                })?;
            }
        }
        Ok(found.into_values().collect())
    }

    /// Matches one `affected[]` element: its ranges and versions are parsed (with caps) only
    /// when an SBOM has the package.
    fn match_affected(
        &self,
        rec: &RecordHead<'_>,
        lazy: LazyAffected<'_>,
        found: &mut BTreeMap<FindingKey, Finding>,
    ) -> Result<(), serde_json::Error> {
        let Some(pkg) = &lazy.package else {
            return Ok(());
        };
        let eco_base = pkg.ecosystem.split(':').next().unwrap_or("");
        let (eco, release) = match LANGUAGE_ECOSYSTEMS.iter().find(|e| **e == eco_base) {
            Some(eco) => (*eco, None),
            None => match os_release(&pkg.ecosystem) {
                Some((family, release)) => (family, Some(release)),
                None => return Ok(()),
            },
        };
        let key = (eco, normalise_name(eco, &pkg.name));
        let Some(installed) = self.index.get(&key) else {
            return Ok(());
        };
        // Of a distribution package, only the installs of the advisory's release.
        let installed: Vec<&Installed> =
            installed.iter().filter(|i| i.release == release).collect();
        if installed.is_empty() {
            return Ok(());
        }
        let aff = lazy.materialise()?;
        if matches!(eco, "AlmaLinux" | "Rocky Linux") && rpm_module_build(&aff) {
            return Ok(());
        }
        for inst in installed {
            let Some(fixed) = affects(eco, &aff, &inst.version) else {
                continue;
            };
            let finding = Finding {
                sbom: self.sbom_names[inst.sbom].clone(),
                advisory: rec.id.to_owned(),
                aliases: rec.aliases.to_vec(),
                ecosystem: match &release {
                    Some(_) => pkg.ecosystem.clone(),
                    None => inst.ecosystem.to_string(),
                },
                package: inst.package.clone(),
                installed: inst.version.clone(),
                fixed,
                severity: rec.severity.clone(),
            };
            let k = FindingKey {
                sbom: finding.sbom.clone(),
                advisory: finding.advisory.clone(),
                package: finding.package.clone(),
                installed: finding.installed.clone(),
                ecosystem: finding.ecosystem.clone(),
            };
            match found.get_mut(&k) {
                // The same record twice, or two affected entries for one package: keep one
                // finding, with the lowest fix any of them names.
                Some(prev) => {
                    prev.fixed = lower_fix(eco, prev.fixed.take(), finding.fixed);
                }
                None => {
                    found.insert(k, finding);
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FindingKey {
    sbom: String,
    advisory: String,
    package: String,
    installed: String,
    ecosystem: String,
}

fn lower_fix(eco: &str, a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => match versions::compare(eco, &a, &b) {
            Some(Ordering::Greater) => Some(b),
            Some(_) => Some(a),
            None => Some(a.min(b)),
        },
        (a, b) => a.or(b),
    }
}

/// The distribution and release an advisory ecosystem names, as [`os_package`] gives them for
/// an installed package (`Debian:12` → `12`, `Ubuntu:22.04:LTS` → `22.04`, `Alpine:v3.19` →
/// `3.19`, `AlmaLinux:8` → `8`, `SUSE:Linux Enterprise Module for Basesystem 15 SP5` → `15.5`,
/// `Wolfi` → empty), by `ouk_distro`'s rule, which the Trivy DB export shares. `None` for others,
/// including Ubuntu Pro (ESM builds are other packages than the archive's, and Trivy does not
/// read them either).
fn os_release(ecosystem: &str) -> Option<(&'static str, String)> {
    ouk_distro::release_of(ecosystem).map(|r| (r.family.osv_name(), r.release))
}

/// Whether an AlmaLinux or Rocky Linux `affected[]` entry names a build of a module stream
/// (`.module+el8…`, `.module_el8…`). Such an entry is not matched: OSV does not say which stream
/// it is for, and comparing it with the install of another stream (or the non-modular package of
/// that name) would report builds that were never affected. Trivy's AlmaLinux scanner skips
/// modular packages for the same reason, and the Trivy DB export leaves these entries out.
fn rpm_module_build(aff: &Affected) -> bool {
    let module = |v: &Option<String>| v.as_deref().is_some_and(ouk_distro::is_module_build);
    aff.ranges.iter().any(|r| {
        r.events
            .0
            .iter()
            .any(|e| module(&e.introduced) || module(&e.fixed) || module(&e.last_affected))
    }) || aff.versions.iter().any(|v| ouk_distro::is_module_build(v))
}

/// The language ecosystems the SBOM side can produce (see [`crate::purl::osv_package`]);
/// distributions go through [`os_release`]; records of any other ecosystem are skipped.
const LANGUAGE_ECOSYSTEMS: [&str; 11] = [
    "npm",
    "PyPI",
    "Go",
    "Maven",
    "crates.io",
    "RubyGems",
    "Packagist",
    "NuGet",
    "Hex",
    "Pub",
    "SwiftURL",
];

/// The name under which a package is looked up, so spelling variants of one package meet:
/// PyPI per PEP 503 (lower case, runs of `-_.` → `-`), NuGet and Packagist case-insensitive,
/// SwiftURL without `https://` and `.git` (as trivy-db). npm, Go module paths, Maven, crates.io
/// and the rest are compared exactly.
pub fn normalise_name(ecosystem: &str, name: &str) -> String {
    match ecosystem {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        "NuGet" | "Packagist" => name.to_lowercase(),
        // Some Swift advisories name the repository as a git URL; purls give the path alone.
        "SwiftURL" => ouk_distro::swift_package_path(name).to_string(),
        _ => name.to_string(),
    }
}

enum Line {
    Complete,
    TooLong,
    Eof,
}

/// Reads one line (without holding more than `max + 1` bytes of it) into `buf`.
fn read_line_capped<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Line> {
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(if any { Line::Complete } else { Line::Eof });
        }
        any = true;
        let (chunk, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], i + 1),
            None => (avail, avail.len()),
        };
        let newline = done > chunk.len();
        if buf.len() + chunk.len() > max {
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(chunk);
        r.consume(done);
        if newline {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Line::Complete);
        }
    }
}

/// What a finding takes from its record: id, aliases (the first few, sorted), severity.
struct RecordHead<'a> {
    id: &'a str,
    aliases: &'a [String],
    severity: Option<String>,
}

/// The record's `affected` array, borrowed raw; every other field is skipped unkept.
#[derive(Deserialize)]
struct AffectedOnly<'a> {
    #[serde(borrow, default)]
    affected: Option<&'a RawValue>,
}

/// Most elements to keep of one `ranges`, `events` or `versions` array: real records have a
/// few hundred at most; a signed hostile one must not turn 8 MiB of `"1",` into 160 MiB of
/// `String`s. Over the cap the line is refused, naming it.
pub const MAX_ELEMENTS: usize = 100_000;

/// One `affected[]` element with its bulky parts still raw.
#[derive(Deserialize)]
struct LazyAffected<'a> {
    package: Option<Package>,
    #[serde(borrow, default)]
    ranges: Option<&'a RawValue>,
    #[serde(borrow, default)]
    versions: Option<&'a RawValue>,
    #[serde(borrow, default)]
    database_specific: Option<&'a RawValue>,
}

impl LazyAffected<'_> {
    fn materialise(&self) -> Result<Affected, serde_json::Error> {
        let ranges = match self.ranges {
            Some(r) => serde_json::from_str::<Capped<Range>>(r.get())?.0,
            None => Vec::new(),
        };
        let versions = match self.versions {
            Some(r) => serde_json::from_str::<Capped<String>>(r.get())?.0,
            None => Vec::new(),
        };
        let database_specific = match self.database_specific {
            Some(r) => {
                serde_json::from_str::<LastKnown>(r.get())?.last_known_affected_version_range
            }
            None => None,
        };
        Ok(Affected {
            ranges,
            versions,
            last_known_affected_version_range: database_specific.and_then(|s| s.0),
        })
    }
}

/// GHSA's `database_specific`, reduced to the one field matching reads.
#[derive(Deserialize)]
struct LastKnown {
    last_known_affected_version_range: Option<crate::record_facts::StrOrIgnore>,
}

/// An array of at most [`MAX_ELEMENTS`] elements (an error beyond).
struct Capped<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Capped<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Capped<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Capped<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = s.next_element()? {
                    if out.len() == MAX_ELEMENTS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_ELEMENTS} elements in one array"
                        )));
                    }
                    out.push(x);
                }
                Ok(Capped(out))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// Calls `f` for each element of an `affected` array, one element alive at a time.
struct ForEachAffected<'f>(&'f mut dyn FnMut(LazyAffected<'_>) -> Result<(), serde_json::Error>);

impl<'de> DeserializeSeed<'de> for ForEachAffected<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ForEachAffected<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of affected packages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        while let Some(aff) = s.next_element::<LazyAffected<'de>>()? {
            (self.0)(aff).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// One `affected[]` element, parsed for matching.
struct Affected {
    ranges: Vec<Range>,
    versions: Vec<String>,
    last_known_affected_version_range: Option<String>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "no_events")]
    events: Capped<Event>,
}

fn no_events() -> Capped<Event> {
    Capped(Vec::new())
}

#[derive(Deserialize)]
struct Event {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
}

/// Whether `version` is affected under one `affected[]` entry; `Some(fixed)` when it is, with
/// the `fixed` event closing the matching range (if any).
///
/// OSV's algorithm: listed in `versions[]` (exact string), or inside a `SEMVER` / `ECOSYSTEM`
/// range: events sorted by version (`introduced: "0"` first), `introduced` opens, `fixed` closes
/// (exclusive), `last_affected` closes (inclusive), and with `limit` events the version must be
/// below one of them. `GIT` ranges name commits, not versions, and are skipped. A range whose
/// events do not all parse for the ecosystem is skipped rather than evaluated in a guessed order.
///
/// GHSA leaves a range open (`introduced` only) when no fix exists yet and records the last
/// version it knows to be affected in `database_specific.last_known_affected_version_range`
/// (`"< 0.2"`, `"<= 1.2.3"`). Read literally, OSV would flag every later version; Trivy caps the
/// open range with it, and so do we. A cap in another form is ignored (the range stays open).
fn affects(eco: &str, aff: &Affected, version: &str) -> Option<Option<String>> {
    let cap = last_known_affected(aff);
    let mut hit: Option<Option<String>> = None;
    for range in &aff.ranges {
        // A SEMVER range is ordered by SemVer when every version in it parses as SemVer, else
        // (e.g. a PyPI record typed SEMVER) by the ecosystem's order: one order per range, as a
        // sort needs a consistent one.
        let by_semver = match range.kind.as_str() {
            "SEMVER" => {
                let is_semver = |x: &str| versions::compare_semver(x, x).is_some();
                is_semver(version)
                    && range.events.0.iter().all(|e| {
                        let intro_zero = e.introduced.as_deref() == Some("0");
                        let limit_star = e.limit.as_deref() == Some("*");
                        intro_zero
                            || limit_star
                            || [&e.introduced, &e.fixed, &e.last_affected, &e.limit]
                                .into_iter()
                                .flatten()
                                .all(|x| is_semver(x))
                    })
            }
            "ECOSYSTEM" => false,
            _ => continue,
        };
        let cmp = |a: &str, b: &str| {
            if by_semver {
                versions::compare_semver(a, b)
            } else {
                versions::compare(eco, a, b)
            }
        };
        if let Some(fixed) = in_range(range, version, cap.as_ref(), &cmp) {
            // Several matching ranges: report the lowest fix.
            hit = Some(match hit {
                Some(prev) => lower_fix(eco, prev, fixed),
                None => fixed,
            });
        }
    }
    if hit.is_none() && aff.versions.iter().any(|v| v == version) {
        hit = Some(None);
    }
    hit
}

type Cmp<'a> = dyn Fn(&str, &str) -> Option<Ordering> + 'a;

fn in_range(
    range: &Range,
    v: &str,
    cap: Option<&(bool, String)>,
    cmp: &Cmp<'_>,
) -> Option<Option<String>> {
    // The version must be below at least one limit, if there are any ("*" is infinity).
    let limits: Vec<&str> = range
        .events
        .0
        .iter()
        .filter_map(|e| e.limit.as_deref())
        .collect();
    if !limits.is_empty()
        && !limits
            .iter()
            .any(|l| *l == "*" || cmp(v, l) == Some(Ordering::Less))
    {
        return None;
    }
    let mut events: Vec<(EventKind, &str)> = Vec::new();
    for e in &range.events.0 {
        if let Some(x) = &e.introduced {
            events.push((EventKind::Introduced, x));
        } else if let Some(x) = &e.fixed {
            events.push((EventKind::Fixed, x));
        } else if let Some(x) = &e.last_affected {
            events.push((EventKind::LastAffected, x));
        }
    }
    // Every event version must parse (or be the introduced "0"), else the order is unknown.
    let zero = |k: EventKind, x: &str| k == EventKind::Introduced && x == "0";
    if events
        .iter()
        .any(|(k, x)| !zero(*k, x) && cmp(x, x).is_none())
        || cmp(v, v).is_none()
    {
        return None;
    }
    events.sort_by(|(ka, a), (kb, b)| match (zero(*ka, a), zero(*kb, b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => cmp(a, b).unwrap_or(Ordering::Equal),
    });
    let mut vulnerable = false;
    let mut opened_at = 0;
    for (i, (kind, x)) in events.iter().enumerate() {
        let ge = |x: &str| matches!(cmp(v, x), Some(Ordering::Greater | Ordering::Equal));
        match kind {
            EventKind::Introduced if zero(*kind, x) || ge(x) => {
                vulnerable = true;
                opened_at = i;
            }
            EventKind::Fixed if ge(x) => vulnerable = false,
            EventKind::LastAffected if cmp(v, x) == Some(Ordering::Greater) => vulnerable = false,
            _ => {}
        }
    }
    if !vulnerable {
        return None;
    }
    let closing = events[opened_at + 1..]
        .iter()
        .find(|(k, _)| *k != EventKind::Introduced);
    match closing {
        Some((EventKind::Fixed, x)) => Some(Some(x.to_string())),
        Some(_) => Some(None),
        // An open range: capped by GHSA's last known affected version, if given.
        None => match cap {
            Some((inclusive, bound)) => match cmp(v, bound)? {
                Ordering::Less => Some(None),
                Ordering::Equal if *inclusive => Some(None),
                _ => None,
            },
            None => Some(None),
        },
    }
}

/// GHSA's `"< V"` / `"<= V"` as (inclusive, V).
fn last_known_affected(aff: &Affected) -> Option<(bool, String)> {
    let raw = aff.last_known_affected_version_range.as_deref()?;
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(v) = compact.strip_prefix("<=") {
        Some((true, v.to_string()))
    } else {
        compact.strip_prefix('<').map(|v| (false, v.to_string()))
    }
    .filter(|(_, v)| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::{Component, SbomFormat};
    use serde_json::Value;

    fn sbom(purls: &[&str]) -> Vec<(String, Sbom)> {
        let components = purls
            .iter()
            .map(|p| Component {
                name: String::new(),
                version: String::new(),
                purl: Some(p.to_string()),
                source: None,
            })
            .collect();
        vec![(
            "s.json".to_string(),
            Sbom {
                format: SbomFormat::CycloneDx,
                name: "s".into(),
                components,
                os: None,
            },
        )]
    }

    /// (package, installed, fixed) of every finding of one record against the purls.
    fn hits(purls: &[&str], record: &str) -> Vec<(String, String, Option<String>)> {
        let m = Matcher::new(&sbom(purls));
        let line: Value = serde_json::from_str(record).unwrap();
        m.scan(line.to_string().as_bytes(), 1 << 20)
            .unwrap()
            .into_iter()
            .map(|f| (f.package, f.installed, f.fixed))
            .collect()
    }

    fn installed(h: &[(String, String, Option<String>)]) -> Vec<&str> {
        h.iter().map(|(_, v, _)| v.as_str()).collect()
    }

    fn rec(eco: &str, name: &str, affected_extra: &str) -> String {
        format!(
            r#"{{"id":"T-1","aliases":["CVE-2099-1"],"affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}}{affected_extra}}}]}}"#
        )
    }

    const NPM_X: [&str; 6] = [
        "pkg:npm/x@0.9.0",
        "pkg:npm/x@1.0.0",
        "pkg:npm/x@1.5.0",
        "pkg:npm/x@2.0.0",
        "pkg:npm/x@2.5.0",
        "pkg:npm/x@3.0.0",
    ];

    /// A matcher over one CycloneDX SBOM `img.json` of `comps` that names no operating system.
    fn image_matcher(comps: Vec<Component>) -> Matcher {
        Matcher::new(&[(
            "img.json".to_string(),
            Sbom {
                format: SbomFormat::CycloneDx,
                name: "img".into(),
                components: comps,
                os: None,
            },
        )])
    }

    /// A distribution purl without `distro` takes its release from the operating system the
    /// SBOM names, as Trivy does, but only when that is the purl's distribution.
    #[test]
    fn release_from_the_sboms_operating_system_when_the_purl_has_no_distro() {
        let sbom = |os: &str, version: &str| {
            (
                format!("{os}.json"),
                Sbom {
                    format: SbomFormat::CycloneDx,
                    name: os.into(),
                    components: vec![Component {
                        name: "openssl".into(),
                        version: String::new(),
                        purl: Some("pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64".into()),
                        source: None,
                    }],
                    os: Some(crate::sbom::OperatingSystem {
                        name: os.into(),
                        version: version.into(),
                    }),
                },
            )
        };
        let m = Matcher::new(&[sbom("debian", "12.4"), sbom("ubuntu", "22.04")]);
        let record = |id: &str, eco: &str| {
            format!(
                r#"{{"id":"{id}","affected":[{{"package":{{"ecosystem":"{eco}","name":"openssl"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"3.0.13-1~deb12u1"}}]}}]}}]}}"#
            )
        };
        let snapshot = [record("D-12", "Debian:12"), record("D-11", "Debian:11")].join("\n");
        let got: Vec<(String, String)> = m
            .scan(snapshot.as_bytes(), 1 << 20)
            .unwrap()
            .into_iter()
            .map(|f| (f.sbom, f.advisory))
            .collect();
        assert_eq!(got, [("debian.json".to_string(), "D-12".to_string())]);
    }

    #[test]
    fn distribution_packages_match_by_release_source_and_distro_order() {
        let comps = vec![
            // Trivy: binary libssl3 built from openssl, release from `distro`.
            Component {
                name: "libssl3".into(),
                version: "3.0.11-1~deb12u1".into(),
                purl: Some(
                    "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12.5".into(),
                ),
                source: Some(crate::sbom::SourcePackage {
                    name: "openssl".into(),
                    version: Some("3.0.11-1~deb12u1".into()),
                }),
            },
            // No stated source: the binary package and its version with the epoch qualifier.
            Component {
                name: "zlib".into(),
                version: String::new(),
                purl: Some("pkg:deb/debian/zlib@1.2.13.dfsg-1?distro=debian-12&epoch=1".into()),
                source: None,
            },
            Component {
                name: "libssl3".into(),
                version: String::new(),
                purl: Some(
                    "pkg:apk/alpine/libssl3@3.1.4-r1?upstream=openssl&distro=alpine-3.19.1".into(),
                ),
                source: None,
            },
        ];
        let m = image_matcher(comps);
        let line = |id: &str, eco: &str, name: &str, events: &str| {
            format!(
                r#"{{"id":"{id}","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":{events}}}]}}]}}"#
            )
        };
        let fixed = |v: &str| format!(r#"[{{"introduced":"0"}},{{"fixed":"{v}"}}]"#);
        let snapshot = [
            line("D-1", "Debian:12", "openssl", &fixed("3.0.13-1~deb12u1")),
            // Same package, other release: not this image's.
            line("D-2", "Debian:11", "openssl", &fixed("9.9.9-1")),
            // Fixed in exactly the installed version, and below it only through the epoch.
            line("D-3", "Debian:12", "openssl", &fixed("3.0.11-1~deb12u1")),
            line("D-4", "Debian:12", "zlib", &fixed("1:1.2.12-1")),
            // Unfixed.
            line("D-5", "Debian:12", "zlib", r#"[{"introduced":"0"}]"#),
            // Alpine by origin package and apk order; Ubuntu Pro is not the archive.
            line("A-1", "Alpine:v3.19", "openssl", &fixed("3.1.4-r5")),
            line("A-2", "Alpine:v3.18", "openssl", &fixed("3.1.4-r5")),
            line("U-1", "Ubuntu:Pro:22.04:LTS", "openssl", &fixed("9.9.9")),
            // The binary name is not what Debian advisories name.
            line("D-6", "Debian:12", "libssl3", &fixed("9.9.9-1")),
        ]
        .join("\n");
        let got: Vec<(String, String, String, String, Option<String>)> = m
            .scan(snapshot.as_bytes(), 1 << 20)
            .unwrap()
            .into_iter()
            .map(|f| (f.advisory, f.ecosystem, f.package, f.installed, f.fixed))
            .collect();
        let want = |a: &str, e: &str, p: &str, i: &str, f: Option<&str>| {
            (
                a.into(),
                e.into(),
                p.into(),
                i.into(),
                f.map(str::to_string),
            )
        };
        assert_eq!(
            got,
            [
                want(
                    "A-1",
                    "Alpine:v3.19",
                    "openssl",
                    "3.1.4-r1",
                    Some("3.1.4-r5")
                ),
                want(
                    "D-1",
                    "Debian:12",
                    "openssl",
                    "3.0.11-1~deb12u1",
                    Some("3.0.13-1~deb12u1")
                ),
                want("D-5", "Debian:12", "zlib", "1:1.2.13.dfsg-1", None),
            ]
        );
    }

    #[test]
    fn rpm_packages_match_by_binary_name_major_release_and_rpm_order() {
        let comp = |purl: &str, source: Option<&str>| Component {
            name: String::new(),
            version: String::new(),
            purl: Some(purl.into()),
            source: source.map(|n| crate::sbom::SourcePackage {
                name: n.into(),
                version: None,
            }),
        };
        let comps = vec![
            // Trivy: epoch in its qualifier, source RPM in a property (not what ALSA names).
            comp(
                "pkg:rpm/alma/openssl-libs@1.1.1k-9.el8_7?arch=x86_64&epoch=1&distro=alma-8.9",
                Some("openssl"),
            ),
            comp(
                "pkg:rpm/alma/nodejs@16.20.2-1.module_el8.8.0+3613+4a7b2ad0?epoch=1&distro=alma-8.9",
                None,
            ),
            comp("pkg:rpm/rocky/libxml2@2.9.13-5.el9_3?distro=rocky-9.3", None),
        ];
        let m = image_matcher(comps);
        let line = |id: &str, eco: &str, name: &str, fixed: &str| {
            format!(
                r#"{{"id":"{id}","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
            )
        };
        let snapshot = [
            line("ALSA-1", "AlmaLinux:8", "openssl-libs", "1:1.1.1k-12.el8_9"),
            // Without the epoch the fix is below the installed 1:… build.
            line("ALSA-2", "AlmaLinux:8", "openssl-libs", "1.1.1k-12.el8_9"),
            // Another major release; the source RPM's name.
            line("ALSA-3", "AlmaLinux:9", "openssl-libs", "1:3.0.7-27.el9"),
            line("ALSA-4", "AlmaLinux:8", "openssl", "1:1.1.1k-12.el8_9"),
            // A module stream's build: not matched.
            line(
                "ALSA-5",
                "AlmaLinux:8",
                "nodejs",
                "1:18.19.0-1.module_el8.9.0+3712+d1b3cd47",
            ),
            // Rocky's explicit zero epoch.
            line("RLSA-1", "Rocky Linux:9", "libxml2", "0:2.9.13-6.el9_4"),
            line("RLSA-2", "Rocky Linux:9", "libxml2", "0:2.9.13-5.el9_3"),
        ]
        .join("\n");
        let got: Vec<(String, String, String, Option<String>)> = m
            .scan(snapshot.as_bytes(), 1 << 20)
            .unwrap()
            .into_iter()
            .map(|f| (f.advisory, f.package, f.installed, f.fixed))
            .collect();
        let want = |a: &str, p: &str, i: &str, f: &str| {
            (a.into(), p.into(), i.into(), Some(f.to_string()))
        };
        assert_eq!(
            got,
            [
                want(
                    "ALSA-1",
                    "openssl-libs",
                    "1:1.1.1k-9.el8_7",
                    "1:1.1.1k-12.el8_9"
                ),
                want("RLSA-1", "libxml2", "2.9.13-5.el9_3", "0:2.9.13-6.el9_4"),
            ]
        );
    }

    #[test]
    fn advisory_releases_are_ouk_distros() {
        // The rule itself is tested in ouk-distro; here, that the matcher names families as
        // os_package does.
        assert_eq!(
            os_release("SUSE:Linux Enterprise Module for Basesystem 15 SP5"),
            Some(("SUSE", "15.5".to_string()))
        );
        assert_eq!(
            os_release("Rocky Linux:9"),
            Some(("Rocky Linux", "9".to_string()))
        );
        assert_eq!(os_release("Ubuntu:Pro:22.04:LTS"), None);
    }

    #[test]
    fn components_no_engine_can_check_are_counted_by_kind() {
        let comp = |purl: Option<&str>| Component {
            name: "x".into(),
            version: "1".into(),
            purl: purl.map(str::to_string),
            source: None,
        };
        let sbom = Sbom {
            format: SbomFormat::CycloneDx,
            name: "img".into(),
            components: vec![
                comp(Some("pkg:npm/lodash@4.17.20")),
                comp(Some("pkg:rpm/alma/bash@4.4.20-4.el8_6?distro=alma-8.9")),
                comp(Some("pkg:rpm/redhat/bash@4.4.20-4.el8_6?distro=redhat-8.9")),
                comp(Some("pkg:rpm/redhat/glibc@2.28-225.el8?distro=redhat-8.9")),
                comp(Some("pkg:deb/debian/zlib@1.2.13?distro=debian-sid")),
                comp(Some("pkg:conan/zlib@1.3")),
                comp(None),
            ],
            os: None,
        };
        let got = unchecked_components(&sbom);
        let want: std::collections::BTreeMap<String, usize> =
            [("rpm/redhat", 2), ("deb/debian", 1), ("conan", 1)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn fixed_is_exclusive_and_introduced_inclusive() {
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"2.0.0"}]}]"#,
        );
        let h = hits(&NPM_X, &r);
        assert_eq!(installed(&h), ["1.0.0", "1.5.0"]);
        assert!(h.iter().all(|(_, _, f)| f.as_deref() == Some("2.0.0")));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"2.0.0"}]}]"#,
        );
        let h = hits(&NPM_X, &r);
        assert_eq!(installed(&h), ["1.0.0", "1.5.0", "2.0.0"]);
        assert!(h.iter().all(|(_, _, f)| f.is_none()));
    }

    #[test]
    fn several_introduced_fixed_pairs_unsorted_and_introduced_zero() {
        // Events out of order on purpose: OSV sorts them before evaluating.
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"2.5.0"},{"fixed":"1.0.0"},{"introduced":"0"},{"fixed":"3.0.0"}]}]"#,
        );
        let h = hits(&NPM_X, &r);
        assert_eq!(installed(&h), ["0.9.0", "2.5.0"]);
        assert_eq!(h[0].2.as_deref(), Some("1.0.0"));
        assert_eq!(h[1].2.as_deref(), Some("3.0.0"));
    }

    #[test]
    fn open_range_affects_everything_above_introduced() {
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"}]}]"#,
        );
        assert_eq!(installed(&hits(&NPM_X, &r)), ["2.0.0", "2.5.0", "3.0.0"]);
    }

    #[test]
    fn ghsa_cap_closes_an_open_range() {
        let lt = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"}]}],"database_specific":{"last_known_affected_version_range":"< 2.0.0"}"#,
        );
        assert_eq!(installed(&hits(&NPM_X, &lt)), ["1.0.0", "1.5.0"]);
        let le = lt.replace("< 2.0.0", "<= 2.0.0");
        assert_eq!(installed(&hits(&NPM_X, &le)), ["1.0.0", "1.5.0", "2.0.0"]);
        // Only open ranges are capped: a fixed range is left as it is.
        let closed = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"3.0.0"}]}],"database_specific":{"last_known_affected_version_range":"< 1.2"}"#,
        );
        assert_eq!(
            installed(&hits(&NPM_X, &closed)),
            ["1.0.0", "1.5.0", "2.0.0", "2.5.0"]
        );
        // A cap in another form is ignored: the range stays open rather than closing silently.
        let odd = lt.replace("< 2.0.0", ">= 9");
        assert_eq!(
            installed(&hits(&NPM_X, &odd)),
            ["1.0.0", "1.5.0", "2.0.0", "2.5.0", "3.0.0"]
        );
    }

    #[test]
    fn limit_bounds_the_range() {
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"2.5.0"}]}]"#,
        );
        assert_eq!(installed(&hits(&NPM_X, &r)), ["1.0.0", "1.5.0", "2.0.0"]);
        let star = r.replace("2.5.0\"}]", "*\"}]");
        assert_eq!(
            installed(&hits(&NPM_X, &star)),
            ["1.0.0", "1.5.0", "2.0.0", "2.5.0", "3.0.0"]
        );
    }

    #[test]
    fn semver_range_falls_back_to_the_ecosystem_order_as_a_whole() {
        // A PyPI record typed SEMVER with a PEP 440 fix: not all of it is SemVer, so the whole
        // range is ordered by PEP 440 (1.0 < 2.0.0rc1 < 2.0.0).
        let r = rec(
            "PyPI",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0rc1"}]}]"#,
        );
        let h = hits(
            &["pkg:pypi/x@1.0", "pkg:pypi/x@2.0.0", "pkg:pypi/x@2.0.0b1"],
            &r,
        );
        assert_eq!(installed(&h), ["1.0", "2.0.0b1"]);
    }

    #[test]
    fn versions_list_is_exact() {
        let r = rec("npm", "x", r#","versions":["1.5.0","2.5"]"#);
        assert_eq!(installed(&hits(&NPM_X, &r)), ["1.5.0"]);
    }

    #[test]
    fn withdrawn_and_git_ranges_never_match() {
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#,
        );
        assert_eq!(hits(&NPM_X, &r).len(), 6);
        let withdrawn = r.replacen('{', r#"{"withdrawn":"2024-01-01T00:00:00Z","#, 1);
        assert!(hits(&NPM_X, &withdrawn).is_empty());
        let git = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"GIT","repo":"https://example.invalid/x","events":[{"introduced":"0"},{"fixed":"abc"}]}]"#,
        );
        assert!(hits(&NPM_X, &git).is_empty());
    }

    #[test]
    fn unparsable_versions_do_not_guess() {
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"not-a-version"}]}]"#,
        );
        assert!(hits(&NPM_X, &r).is_empty());
        let r = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#,
        );
        assert!(hits(&["pkg:npm/x@latest"], &r).is_empty());
    }

    #[test]
    fn names_are_normalised_per_ecosystem() {
        let all = r#","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]"#;
        assert_eq!(
            hits(
                &["pkg:pypi/Typing.Extensions@1.0"],
                &rec("PyPI", "typing_extensions", all)
            )
            .len(),
            1
        );
        assert_eq!(
            hits(
                &["pkg:nuget/newtonsoft.json@1.0"],
                &rec("NuGet", "Newtonsoft.Json", all)
            )
            .len(),
            1
        );
        // Go module paths and npm names are case-sensitive.
        assert!(hits(
            &["pkg:golang/github.com/masterminds/goutils@v1.0.0"],
            &rec("Go", "github.com/Masterminds/goutils", all)
        )
        .is_empty());
        assert!(hits(&["pkg:npm/Lodash@1.0.0"], &rec("npm", "lodash", all)).is_empty());
        // Distribution ecosystems with a release suffix are not language packages.
        assert!(hits(&["pkg:npm/x@1.0.0"], &rec("Debian:11", "x", all)).is_empty());
        // A language ecosystem with a suffix compares on the part before ':'.
        assert_eq!(
            hits(
                &["pkg:maven/g/a@1.0"],
                &rec("Maven:https://maven.google.com", "g:a", all)
            )
            .len(),
            1
        );
    }

    #[test]
    fn duplicates_merge_and_output_is_sorted() {
        let sboms = vec![
            ("b.json".to_string(), sbom(&["pkg:npm/x@1.0.0"]).remove(0).1),
            (
                "a.json".to_string(),
                sbom(&["pkg:npm/x@1.0.0", "pkg:npm/x@1.0.0"]).remove(0).1,
            ),
        ];
        let m = Matcher::new(&sboms);
        let r1 = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"3.0.0"}]}]"#,
        );
        let r2 = rec(
            "npm",
            "x",
            r#","ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]"#,
        );
        let compact = |s: &str| serde_json::from_str::<Value>(s).unwrap().to_string();
        let snapshot = format!("{}\n\n{}\r\n{}", compact(&r1), compact(&r2), compact(&r1));
        let f = m.scan(snapshot.as_bytes(), 4096).unwrap();
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.sbom.as_str(), f.fixed.as_deref()))
            .collect();
        assert_eq!(got, [("a.json", Some("2.0.0")), ("b.json", Some("2.0.0"))]);
        assert_eq!(f[0].aliases, ["CVE-2099-1"]);
    }

    #[test]
    fn long_and_malformed_lines_are_errors_naming_the_line() {
        let m = Matcher::new(&sbom(&NPM_X));
        let ok = r#"{"id":"A"}"#;
        let long = format!("{ok}\n{}\n", "x".repeat(100));
        match m.scan(long.as_bytes(), 50) {
            Err(MatchError::LineTooLong { line: 2, max: 50 }) => {}
            other => panic!("{other:?}"),
        }
        let bad = format!("{ok}\n{ok}\n{{\"id\":\n");
        match m.scan(bad.as_bytes(), 50) {
            Err(e @ MatchError::Json { line: 3, .. }) => assert!(e.to_string().contains("line 3")),
            other => panic!("{other:?}"),
        }
        // A line of exactly the cap is fine (the newline does not count).
        assert!(m.scan(format!("{ok}\n").as_bytes(), ok.len()).is_ok());
        assert!(m.scan(&b""[..], 1).unwrap().is_empty());
    }

    #[test]
    fn bulky_elements_are_parsed_only_for_installed_packages_and_capped() {
        let m = Matcher::new(&sbom(&["pkg:npm/x@1.0.0"]));
        let many = |name: &str| {
            let versions = vec!["\"0.1\""; MAX_ELEMENTS + 1].join(",");
            format!(
                r#"{{"id":"T","affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},"versions":[{versions}]}}]}}"#
            )
        };
        // Another package: its versions are never parsed, so the cap does not apply.
        assert!(m.scan(many("y").as_bytes(), 1 << 24).unwrap().is_empty());
        // The installed package: over the cap, the line is refused, named.
        match m.scan(
            format!("{{\"id\":\"A\"}}\n{}", many("x")).as_bytes(),
            1 << 24,
        ) {
            Err(e @ MatchError::Json { line: 2, .. }) => {
                assert!(e.to_string().contains("more than"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn severity_from_label_then_cvss() {
        let m = Matcher::new(&sbom(&["pkg:npm/x@1.0.0"]));
        let scan = |extra: &str| {
            let r = format!(
                r#"{{"id":"T","affected":[{{"package":{{"ecosystem":"npm","name":"x"}},"versions":["1.0.0"]}}]{extra}}}"#
            );
            m.scan(r.as_bytes(), 1 << 16).unwrap()[0].severity.clone()
        };
        assert_eq!(
            scan(r#","database_specific":{"severity":"MODERATE"}"#).as_deref(),
            Some("MEDIUM")
        );
        let v3 = r#","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]"#;
        assert_eq!(scan(v3).as_deref(), Some("CRITICAL"));
        let v4 = r#","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"}]"#;
        assert_eq!(scan(v4).as_deref(), Some("MEDIUM"));
        assert_eq!(scan(""), None);
    }
}
