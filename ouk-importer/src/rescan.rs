//! `rescan`: which of the site's SBOMs are affected by the active generation's advisories that
//! were not affected under the previous generation. An image that was clean yesterday and is
//! not today is the headline of the nightly job.
//!
//! Two engines: the project's own matcher over the merged OSV snapshot (always available,
//! `ouk_changes::matcher`), or the site's installed Trivy run fully offline on each
//! generation's installed Trivy DB. Either way each SBOM is scanned under both generations and
//! only the difference is "new", so a newly added SBOM is not reported as newly affected for
//! advisories that were already known.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ouk_changes::matcher::{Finding, Matcher};
use ouk_changes::sbom::{read_sbom_dir, Sbom};
use ouk_format::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::changes::{MAX_LINE_BYTES, SNAPSHOT_MEMBER};
use crate::error::{Error, Result};
use crate::fsx::{self, Access};
use crate::lock::{StoreLock, Wait};
use crate::store::{GenerationInfo, Store};

/// `format` of the re-scan report (`<store>/reports/rescan.json`).
pub const RESCAN_FORMAT: &str = "ouk-rescan/1";
/// Where the last re-scan is kept for the status page.
pub const RESCAN_FILE: &str = "reports/rescan.json";
/// Largest SBOM read from the SBOM directory.
pub const MAX_SBOM_BYTES: u64 = 64 * 1024 * 1024;
/// Largest Trivy JSON report read back per SBOM.
const MAX_TRIVY_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// Which matcher decides what an SBOM is affected by.
#[derive(Debug, Clone)]
pub enum Engine {
    /// `ouk_changes::matcher` over the generation's `feeds/advisories.ndjson`.
    Own,
    /// The site's Trivy binary, offline, on the generation's `trivy/` cache directory.
    Trivy {
        /// The `trivy` executable.
        binary: PathBuf,
        /// Longest one scan may take.
        timeout: Duration,
    },
}

/// What to re-scan.
#[derive(Debug, Clone)]
pub struct RescanOptions {
    /// Directory of CycloneDX / SPDX JSON SBOMs (walked recursively).
    pub sboms: PathBuf,
    /// The matcher.
    pub engine: Engine,
    /// Keep the result in the store for the status page.
    pub record: bool,
}

/// One finding as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingRow {
    /// Advisory id (Trivy: the vulnerability id it reports, usually the CVE).
    pub advisory: String,
    /// Its aliases (own matcher only: Trivy reports one id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Package name.
    pub package: String,
    /// Installed version.
    pub installed: String,
    /// First fixed version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Qualitative severity, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

impl FindingRow {
    fn key(&self) -> (&str, &str, &str) {
        (&self.advisory, &self.package, &self.installed)
    }
}

/// The result for one SBOM.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SbomResult {
    /// File, relative to the SBOM directory.
    pub sbom: String,
    /// Components read from it.
    pub components: usize,
    /// Components no engine could check against the kit, by kind (`rpm/redhat`, `conan`):
    /// not clean, just not compared ([`ouk_changes::matcher::unchecked_components`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unchecked: std::collections::BTreeMap<String, usize>,
    /// Findings under the active generation.
    pub findings: usize,
    /// Findings under the previous generation.
    pub previous_findings: usize,
    /// Clean under the previous generation, affected under the active one.
    pub newly_affected: bool,
    /// Findings that are new with the active generation.
    pub new: Vec<FindingRow>,
    /// Findings of the previous generation that are gone.
    pub resolved: Vec<FindingRow>,
}

/// What `rescan` reports (and keeps in the store).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RescanReport {
    /// Always [`RESCAN_FORMAT`].
    pub format: String,
    /// When it ran.
    pub at: Timestamp,
    /// The active generation.
    pub generation: String,
    /// The generation compared against (the newest with a lower sequence), if any.
    pub previous: Option<String>,
    /// `ouk` or `trivy <version>`.
    pub engine: String,
    /// SBOMs scanned.
    pub sboms_scanned: usize,
    /// SBOM files that could not be read, with the reason.
    pub unreadable: Vec<String>,
    /// SBOMs with at least one new finding (the ones to look at).
    pub with_new_findings: Vec<String>,
    /// Per SBOM, sorted by file name.
    pub sboms: Vec<SbomResult>,
}

impl RescanReport {
    /// Whether any SBOM has a finding that is new with the active generation (exit code 4).
    pub fn has_new_findings(&self) -> bool {
        !self.with_new_findings.is_empty()
    }

    /// Whether an SBOM of the directory was not scanned (exit code 5): a nightly job must not
    /// read "no new findings" when part of the site was not looked at.
    pub fn is_incomplete(&self) -> bool {
        !self.unreadable.is_empty()
    }
}

fn previous_of(store: &Store, current: &GenerationInfo) -> Result<Option<GenerationInfo>> {
    Ok(store
        .generations()?
        .into_iter()
        .filter(|g| g.sequence < current.sequence)
        .max_by_key(|g| g.sequence))
}

/// Own matcher: findings per SBOM for one generation, streaming its snapshot.
fn own_findings(
    store: &Store,
    generation: &GenerationInfo,
    matcher: &Matcher,
) -> Result<BTreeMap<String, BTreeSet<FindingRow>>> {
    let path = store.generation_dir(&generation.name).join(SNAPSHOT_MEMBER);
    let mut out: BTreeMap<String, BTreeSet<FindingRow>> = BTreeMap::new();
    let Some(file) = fsx::open_store_file(&path, Access::Read)? else {
        return Ok(out);
    };
    let findings = matcher
        .scan(BufReader::with_capacity(1 << 16, file), MAX_LINE_BYTES)
        .map_err(|e| Error::Rescan(format!("{}: {e}", path.display())))?;
    for f in findings {
        out.entry(f.sbom.clone()).or_default().insert(row_of(f));
    }
    Ok(out)
}

fn row_of(f: Finding) -> FindingRow {
    FindingRow {
        advisory: f.advisory,
        aliases: f.aliases,
        package: f.package,
        installed: f.installed,
        fixed: f.fixed,
        severity: f.severity,
    }
}

/// The subset of Trivy's JSON report a re-scan needs.
#[derive(Deserialize)]
struct TrivyReport {
    #[serde(rename = "Results", default)]
    results: Vec<TrivyResult>,
}

#[derive(Deserialize)]
struct TrivyResult {
    #[serde(rename = "Vulnerabilities", default)]
    vulnerabilities: Vec<TrivyVuln>,
}

#[derive(Deserialize)]
struct TrivyVuln {
    #[serde(rename = "VulnerabilityID")]
    id: String,
    #[serde(rename = "PkgName")]
    package: String,
    #[serde(rename = "InstalledVersion", default)]
    installed: String,
    #[serde(rename = "FixedVersion", default)]
    fixed: String,
    #[serde(rename = "Severity", default)]
    severity: String,
}

/// Runs `trivy sbom` offline on one SBOM with a generation's cache directory. The outer error
/// stops the re-scan: Trivy cannot be started, the scratch directory fails, or Trivy outlasts
/// the timeout (a hung Trivy, a held cache lock, is the scanner's state, not the SBOM's: going on
/// would cost the timeout once per SBOM). The inner one is this SBOM's alone: Trivy refused it
/// (e.g. a CycloneDX version it does not know) or wrote no readable report; the SBOM is reported
/// unreadable and the others are scanned.
fn trivy_scan(
    binary: &Path,
    timeout: Duration,
    cache_dir: &Path,
    sbom: &Path,
    scratch: &Path,
) -> Result<std::result::Result<BTreeSet<FindingRow>, String>> {
    let out_path = scratch.join("trivy-report.json");
    let _ = std::fs::remove_file(&out_path);
    // Stderr goes to a file, not a pipe: a chatty Trivy would otherwise fill the pipe and stall
    // until the timeout, since nothing reads it while the child runs.
    let err_path = scratch.join("trivy-stderr.txt");
    let err_file = File::create(&err_path).map_err(|e| Error::io("creating", &err_path, e))?;
    let mut child = Command::new(binary)
        .args(["sbom", "--offline-scan", "--skip-db-update", "--quiet"])
        .args(["--format", "json", "--output"])
        .arg(&out_path)
        .arg("--cache-dir")
        .arg(cache_dir)
        .arg(sbom)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| Error::Rescan(format!("starting {}: {e}", binary.display())))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::Rescan(format!("waiting for trivy: {e}")))?
        {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Rescan(format!(
                "trivy took longer than {}s on {}",
                timeout.as_secs(),
                sbom.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if !status.success() {
        let mut err = String::new();
        if let Ok(f) = File::open(&err_path) {
            let _ = f.take(4096).read_to_string(&mut err);
        }
        return Ok(Err(format!(
            "trivy failed on it ({status}): {}",
            err.trim()
        )));
    }
    let report: TrivyReport = match File::open(&out_path) {
        Ok(file) => {
            match serde_json::from_reader(BufReader::new(file.take(MAX_TRIVY_REPORT_BYTES))) {
                Ok(r) => r,
                Err(e) => return Ok(Err(format!("trivy's report on it is unreadable: {e}"))),
            }
        }
        Err(e) => return Ok(Err(format!("trivy wrote no report on it: {e}"))),
    };
    Ok(Ok(report
        .results
        .into_iter()
        .flat_map(|r| r.vulnerabilities)
        .map(|v| FindingRow {
            advisory: v.id,
            aliases: Vec::new(),
            package: v.package,
            installed: v.installed,
            fixed: Some(v.fixed).filter(|s| !s.is_empty()),
            severity: Some(v.severity).filter(|s| !s.is_empty()),
        })
        .collect()))
}

fn trivy_version(binary: &Path) -> String {
    Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Version: ").map(|v| v.trim().to_owned()))
        })
        .map_or_else(|| "trivy".to_owned(), |v| format!("trivy {v}"))
}

type PerSbom = BTreeMap<String, BTreeSet<FindingRow>>;

/// SBOMs an engine could not scan, with the reason (keyed by file, like [`PerSbom`]).
type Failed = BTreeMap<String, String>;

/// Trivy writes into its cache directory (fanal/, locks): it gets a scratch one whose `db` is a
/// link to the generation's, so the published generation is never written to.
fn scratch_cache(generation_trivy: &Path, scratch: &Path) -> Result<PathBuf> {
    let cache_dir = scratch.join("cache");
    std::fs::create_dir(&cache_dir).map_err(|e| Error::io("creating", &cache_dir, e))?;
    // The link target must be absolute: a relative store path (`--store store`) would otherwise
    // resolve against the scratch directory and Trivy would see no DB ("first run").
    let db = std::fs::canonicalize(generation_trivy.join("db"))
        .map_err(|e| Error::io("resolving", generation_trivy, e))?;
    std::os::unix::fs::symlink(&db, cache_dir.join("db"))
        .map_err(|e| Error::io("linking", cache_dir.join("db"), e))?;
    Ok(cache_dir)
}

fn trivy_findings(
    store: &Store,
    generation: &GenerationInfo,
    sboms: &[(String, Sbom)],
    dir: &Path,
    binary: &Path,
    timeout: Duration,
    failed: &mut Failed,
) -> Result<PerSbom> {
    let cache = store.generation_dir(&generation.name).join("trivy");
    if !cache.join("db/trivy.db").is_file() {
        return Err(Error::Rescan(format!(
            "generation {} has no installed Trivy DB; re-scan with the own matcher (no --trivy)",
            generation.name
        )));
    }
    let scratch = tempfile::tempdir().map_err(|e| Error::io("creating", "a temp dir", e))?;
    let cache_dir = scratch_cache(&cache, scratch.path())?;
    let mut out = PerSbom::new();
    for (name, _) in sboms {
        if failed.contains_key(name) {
            continue;
        }
        match trivy_scan(binary, timeout, &cache_dir, &dir.join(name), scratch.path())? {
            Ok(found) => {
                out.insert(name.clone(), found);
            }
            Err(why) => {
                failed.insert(
                    name.clone(),
                    format!("{why} (generation {})", generation.name),
                );
            }
        }
    }
    Ok(out)
}

/// Re-scans every SBOM in `opts.sboms` against the active generation and the one before it.
pub fn rescan(store_root: &Path, opts: &RescanOptions, now: Timestamp) -> Result<RescanReport> {
    let store = Store::open(store_root)?;
    let current_name = store.current()?.ok_or(Error::NoGeneration)?;
    let current = store.info(&current_name)?;
    let previous = previous_of(&store, &current)?;
    let listed =
        read_sbom_dir(&opts.sboms, MAX_SBOM_BYTES).map_err(|e| Error::Rescan(e.to_string()))?;
    let mut sboms = Vec::new();
    let mut unreadable = Vec::new();
    for (name, result) in listed {
        match result {
            Ok(s) => sboms.push((name, s)),
            Err(e) => unreadable.push(format!("{name}: {e}")),
        }
    }
    // SBOMs the engine could not scan under either generation: no finding of theirs can be
    // called new or resolved, so they are reported unreadable, not clean.
    let mut failed = Failed::new();
    let (engine, now_found, before_found) = match &opts.engine {
        Engine::Own => {
            let matcher = Matcher::new(&sboms);
            let a = own_findings(&store, &current, &matcher)?;
            let b = match &previous {
                Some(p) => own_findings(&store, p, &matcher)?,
                None => PerSbom::new(),
            };
            ("ouk".to_owned(), a, b)
        }
        Engine::Trivy { binary, timeout } => {
            let (dir, t) = (&opts.sboms, *timeout);
            let a = trivy_findings(&store, &current, &sboms, dir, binary, t, &mut failed)?;
            let b = match &previous {
                Some(p) => trivy_findings(&store, p, &sboms, dir, binary, t, &mut failed)?,
                None => PerSbom::new(),
            };
            (trivy_version(binary), a, b)
        }
    };
    for (name, why) in &failed {
        unreadable.push(format!("{name}: {why}"));
    }
    unreadable.sort();
    sboms.retain(|(name, _)| !failed.contains_key(name));
    let empty = BTreeSet::new();
    let mut results = Vec::new();
    for (name, sbom) in &sboms {
        let now_set = now_found.get(name).unwrap_or(&empty);
        let before_set = before_found.get(name).unwrap_or(&empty);
        let before_keys: BTreeSet<_> = before_set.iter().map(FindingRow::key).collect();
        let now_keys: BTreeSet<_> = now_set.iter().map(FindingRow::key).collect();
        let new: Vec<FindingRow> = now_set
            .iter()
            .filter(|f| !before_keys.contains(&f.key()))
            .cloned()
            .collect();
        let resolved: Vec<FindingRow> = before_set
            .iter()
            .filter(|f| !now_keys.contains(&f.key()))
            .cloned()
            .collect();
        results.push(SbomResult {
            sbom: name.clone(),
            components: sbom.components.len(),
            unchecked: ouk_changes::matcher::unchecked_components(sbom),
            findings: now_set.len(),
            previous_findings: before_set.len(),
            newly_affected: previous.is_some() && before_set.is_empty() && !now_set.is_empty(),
            new,
            resolved,
        });
    }
    let report = RescanReport {
        format: RESCAN_FORMAT.to_owned(),
        at: now,
        generation: current.name.clone(),
        previous: previous.map(|p| p.name),
        engine,
        sboms_scanned: sboms.len(),
        unreadable,
        with_new_findings: results
            .iter()
            .filter(|r| !r.new.is_empty())
            .map(|r| r.sbom.clone())
            .collect(),
        sboms: results,
    };
    if opts.record {
        record(&store, &report)?;
    }
    Ok(report)
}

/// Keeps the report for the status page, under the store lock (a concurrent import must not
/// see a half-written file; the write itself is atomic).
fn record(store: &Store, report: &RescanReport) -> Result<()> {
    let _lock = StoreLock::exclusive(store.root(), Wait::Block)?;
    let dir = store.root().join("reports");
    fsx::ensure_dir(&dir)?;
    let bytes = serde_json::to_vec_pretty(report)
        .map_err(|_| Error::Internal("re-scan report serialisation"))?;
    fsx::write_atomic(&store.root().join(RESCAN_FILE), &bytes)
}

/// The last recorded re-scan, if any (bounded read).
pub fn last(store: &Store) -> Result<Option<RescanReport>> {
    let path = store.root().join(RESCAN_FILE);
    let Some(bytes) = fsx::read_capped(&path, 256 * 1024 * 1024)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::StoreDamaged {
            path,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for Trivy that fails like Trivy does when `--cache-dir` has no readable
    /// `db/metadata.json`, writes 256 KiB to stderr (more than a pipe holds) and reports one
    /// finding.
    fn fake_trivy(dir: &Path) -> PathBuf {
        let path = dir.join("trivy");
        std::fs::write(
            &path,
            r#"#!/bin/sh
out=; cache=
while [ $# -gt 0 ]; do
  case "$1" in --output) out="$2"; shift;; --cache-dir) cache="$2"; shift;; esac; shift
done
[ -r "$cache/db/metadata.json" ] || { echo "--skip-update cannot be specified on the first run" >&2; exit 1; }
head -c 262144 /dev/zero | tr '\0' x >&2
printf '%s' '{"Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","FixedVersion":"2","Severity":"HIGH"}]}]}' > "$out"
"#,
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn trivy_sees_the_generation_db_through_a_relative_store_path() {
        // The store lives under the test's working directory and is named relatively, as
        // `--store store` does; the scratch cache is elsewhere (the system temp dir).
        let store = tempfile::tempdir_in(".").unwrap();
        let relative = PathBuf::from(store.path().file_name().unwrap()).join("trivy");
        std::fs::create_dir_all(relative.join("db")).unwrap();
        std::fs::write(relative.join("db/metadata.json"), b"{}").unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let cache = scratch_cache(&relative, scratch.path()).unwrap();
        let trivy = fake_trivy(scratch.path());
        let sbom = scratch.path().join("a.cdx.json");
        std::fs::write(&sbom, b"{}").unwrap();
        let found = trivy_scan(
            &trivy,
            Duration::from_secs(60),
            &cache,
            &sbom,
            scratch.path(),
        )
        .unwrap()
        .expect("the fake trivy finds the DB and is not stalled by its stderr");
        let rows: Vec<_> = found.into_iter().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].advisory, "CVE-1");
        assert_eq!(rows[0].fixed.as_deref(), Some("2"));
    }

    /// A Trivy that hangs stops the re-scan at the timeout instead of hanging once per SBOM.
    #[test]
    fn a_hung_trivy_stops_the_rescan() {
        use std::os::unix::fs::PermissionsExt;
        let scratch = tempfile::tempdir().unwrap();
        let trivy = scratch.path().join("hung-trivy");
        std::fs::write(&trivy, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&trivy, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sbom = scratch.path().join("a.cdx.json");
        let started = Instant::now();
        let err = trivy_scan(
            &trivy,
            Duration::from_millis(200),
            scratch.path(),
            &sbom,
            scratch.path(),
        )
        .expect_err("a timeout is the scanner's failure, not the SBOM's")
        .to_string();
        assert!(
            err.contains("took longer than") && err.contains("a.cdx.json"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the child was not killed"
        );
    }

    /// Trivy failing on one SBOM is that SBOM's failure (the re-scan goes on with the others),
    /// with Trivy's own words.
    #[test]
    fn trivy_failure_carries_its_message() {
        let scratch = tempfile::tempdir().unwrap();
        let trivy = fake_trivy(scratch.path());
        let empty_cache = scratch.path().join("cache");
        std::fs::create_dir(&empty_cache).unwrap();
        let sbom = scratch.path().join("a.cdx.json");
        let err = trivy_scan(
            &trivy,
            Duration::from_secs(60),
            &empty_cache,
            &sbom,
            scratch.path(),
        )
        .expect("a failing Trivy is not a failed re-scan")
        .unwrap_err();
        assert!(
            err.starts_with("trivy failed on it") && err.contains("first run"),
            "{err}"
        );
    }
}
