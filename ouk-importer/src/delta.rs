//! Applying a delta kit (spec/OUK-FORMAT.md §4.7): a kit whose signed `ouk.delta` annotation
//! binds it to one base kit (its sha256 and sequence) and to the digest of the snapshot it
//! produces, and whose payload carries `delta/upserts.ndjson` (the full new lines of added and
//! changed records) and `delta/removed.ndjson` (ids of records gone) instead of
//! `feeds/advisories.ndjson` and `trivy/db.tar.gz`.
//!
//! A delta is verified by the same staged reader as any kit ([`crate::kit`]); this module only
//! adds two steps to the normal import:
//! * [`prepare`], before any member streams: find the local generation made from the base kit
//!   (the active one normally), else refuse with `delta_base_missing` (policy);
//! * [`apply`], once every member verified: one merge-join pass over the base generation's
//!   `feeds/advisories.ndjson`, the staged `delta/upserts.ndjson` and `delta/removed.ndjson`
//!   (one line of each in memory) writes the staged `feeds/advisories.ndjson`, refusing unsorted
//!   or duplicate delta lines, an id both upserted and removed, the removal of an id the base does
//!   not hold, and a result whose sha256 or size is not the signed one; then the Trivy DB is
//!   exported from the rebuilt snapshot with the builder's code and parameters (`UpdatedAt` =
//!   the kit's `created_at`), so the generation's `feeds/*` and `trivy/db/*` are byte-identical
//!   to what the full kit of the same build installs.
//!
//! The verified delta members stay in the generation under `delta/` (they are small, and every
//! member of the kit is then where the manifest says); the generation has no `trivy/db.tar.gz`.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use ouk_format::digest::{Hasher, Sha256};
use ouk_format::lines::{read_capped_line, CappedLine};
use ouk_format::manifest::Manifest;
use serde::Deserialize;

use crate::error::{Class, Error, Result};
use crate::fsx::{self, Access};
use crate::store::Store;

pub use ouk_format::delta::{
    DeltaAnnotation, PatchedMember, ANNOTATION, MAX_PATCHED, PATCH_DIR, REMOVED_PATH,
    SNAPSHOT_PATH, UPSERTS_PATH,
};

/// Longest line read from any input (the change report's cap).
pub const MAX_LINE_BYTES: usize = crate::changes::MAX_LINE_BYTES;

/// Why a delta kit was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeltaError {
    /// No local generation was made from the base kit.
    #[error("delta kit applies on top of kit sha256 {base_kit_sha256} (sequence {base_sequence}), which no local generation holds{detail}; import the full kit instead")]
    BaseMissing {
        /// The base kit named by the delta.
        base_kit_sha256: String,
        /// Its sequence.
        base_sequence: u64,
        /// What was found instead.
        detail: String,
    },
    /// The annotation or the member set of a delta kit is not what §4.7 requires.
    #[error("delta kit is malformed: {0}")]
    Invalid(String),
    /// A delta member line is not above the previous one (unsorted or duplicate id).
    #[error("{member} line {line}: id {id:?} is not above the previous id {previous:?} (unsorted or duplicate)")]
    Unsorted {
        /// The member.
        member: &'static str,
        /// 1-based line.
        line: u64,
        /// The id.
        id: String,
        /// The id before it.
        previous: String,
    },
    /// A delta member line is not a record with a string id (or, in `removed`, a JSON string).
    #[error("{member} line {line}: {reason}")]
    BadLine {
        /// The member.
        member: &'static str,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// An id is both upserted and removed.
    #[error("delta both upserts and removes id {id:?}")]
    Conflict {
        /// The id.
        id: String,
    },
    /// A removal names an id the base generation does not hold.
    #[error("delta removes id {id:?}, which the base generation does not hold")]
    RemoveUnknown {
        /// The id.
        id: String,
    },
    /// A line patch does not apply to the base generation's copy of its member.
    #[error("patch {patch} for {member}: {source}")]
    Patch {
        /// The member rebuilt.
        member: String,
        /// The patch member.
        patch: String,
        /// Why.
        #[source]
        source: ouk_format::line_patch::LinePatchError,
    },
    /// The rebuilt snapshot (or patched member) is not the one the signed annotation names.
    #[error("rebuilt {member} is {actual_size} bytes with sha256 {actual}, the signed delta says {expected_size} bytes with sha256 {expected}")]
    ResultMismatch {
        /// The member rebuilt.
        member: String,
        /// Signed digest.
        expected: String,
        /// Signed size.
        expected_size: u64,
        /// Digest of what was rebuilt (of the prefix written, when it grew past the size).
        actual: String,
        /// Bytes rebuilt (stopped one line past the signed size).
        actual_size: u64,
    },
}

impl DeltaError {
    /// Stable snake_case kind.
    pub fn kind(&self) -> &'static str {
        match self {
            DeltaError::BaseMissing { .. } => "delta_base_missing",
            DeltaError::Invalid(_) => "delta_invalid",
            DeltaError::Unsorted { .. } => "delta_unsorted",
            DeltaError::BadLine { .. } => "delta_bad_line",
            DeltaError::Conflict { .. } => "delta_conflict",
            DeltaError::RemoveUnknown { .. } => "delta_remove_unknown",
            DeltaError::Patch { .. } => "delta_patch",
            DeltaError::ResultMismatch { .. } => "delta_result_mismatch",
        }
    }

    /// The class: a missing base is policy (exit 20: the kit is fine, this store cannot take
    /// it), everything else a verification failure of the kit.
    pub fn class(&self) -> Class {
        match self {
            DeltaError::BaseMissing { .. } => Class::Policy,
            _ => Class::Verification,
        }
    }
}

/// A delta kit matched to its base generation, ready to [`apply`].
#[derive(Debug)]
pub struct Prepared {
    /// The signed annotation.
    pub spec: DeltaAnnotation,
    /// The base generation's name.
    pub base_generation: String,
    /// The base generation's snapshot.
    pub base_snapshot: PathBuf,
    /// Each patched member with the base generation's copy of it.
    pub patched: Vec<(PatchedMember, PathBuf)>,
}

/// The delta annotation of a manifest, checked against the member set; `None` for a full kit.
pub fn spec(m: &Manifest) -> Result<Option<DeltaAnnotation>> {
    let Some(value) = m.annotations.get(ANNOTATION) else {
        return Ok(None);
    };
    let invalid = |s: String| Error::from(DeltaError::Invalid(s));
    let spec: DeltaAnnotation = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("annotation {ANNOTATION}: {e}")))?;
    for (what, hex) in [
        ("base_kit_sha256", &spec.base_kit_sha256),
        ("result_advisories_sha256", &spec.result_advisories_sha256),
    ] {
        if Sha256::from_hex(hex).is_none() {
            return Err(invalid(format!("{what} is not a sha256")));
        }
    }
    for (what, hex) in [
        ("twin_manifest_sha256", &spec.twin_manifest_sha256),
        ("base_advisories_sha256", &spec.base_advisories_sha256),
    ] {
        if hex
            .as_deref()
            .is_some_and(|h| Sha256::from_hex(h).is_none())
        {
            return Err(invalid(format!("{what} is not a sha256")));
        }
    }
    let has = |p: &str| m.members.iter().any(|x| x.path.as_str() == p);
    for p in [UPSERTS_PATH, REMOVED_PATH] {
        if !has(p) {
            return Err(invalid(format!("member {p} is missing")));
        }
    }
    for p in [SNAPSHOT_PATH, crate::sink::TRIVY_MEMBER_PATH] {
        if has(p) {
            return Err(invalid(format!("a delta kit must not carry {p}")));
        }
    }
    check_patched(&spec, &has)?;
    if spec.base_sequence >= m.sequence {
        return Err(invalid(format!(
            "base sequence {} is not below the kit's sequence {}",
            spec.base_sequence, m.sequence
        )));
    }
    Ok(Some(spec))
}

/// Whether two kits of one sequence are *twins* (spec §4.7): a delta and the full kit of the
/// same build, which give byte-identical generations. Decided from the two signed manifests
/// alone: the delta names the full kit's manifest digest, and the full kit's members are what
/// the delta carries or rebuilds (same channel, times, payload digests; the full kit's snapshot
/// and patched members have the delta's signed result digests; a Trivy DB member exactly when
/// the delta exports one). A twin claim that does not hold is an equivocation like any other.
pub fn twins(a: &Manifest, a_digest: &Sha256, b: &Manifest, b_digest: &Sha256) -> bool {
    match (spec(a), spec(b)) {
        (Ok(Some(d)), Ok(None)) => delta_twin_of(a, &d, b, b_digest),
        (Ok(None), Ok(Some(d))) => delta_twin_of(b, &d, a, a_digest),
        _ => false,
    }
}

fn delta_twin_of(
    delta_m: &Manifest,
    delta: &DeltaAnnotation,
    full: &Manifest,
    full_digest: &Sha256,
) -> bool {
    if delta.twin_manifest_sha256.as_deref() != Some(full_digest.to_hex().as_str())
        || delta_m.channel != full.channel
        || delta_m.sequence != full.sequence
        || delta_m.created_at != full.created_at
        || delta_m.expires_at != full.expires_at
    {
        return false;
    }
    let digest_in_full = |path: &str| {
        full.members
            .iter()
            .find(|x| x.path.as_str() == path)
            .map(|x| x.uncompressed.sha256.to_hex())
    };
    let payload =
        |x: &&ouk_format::manifest::Member| x.role == ouk_format::manifest::MemberRole::Payload;
    // Every payload member the delta carries (outside delta/) is in the full kit, identical.
    let carried_match = delta_m
        .members
        .iter()
        .filter(payload)
        .filter(|x| !x.path.as_str().starts_with("delta/"))
        .all(|x| digest_in_full(x.path.as_str()) == Some(x.uncompressed.sha256.to_hex()));
    let rebuilt_match = digest_in_full(SNAPSHOT_PATH).as_deref()
        == Some(delta.result_advisories_sha256.as_str())
        && delta
            .patched
            .iter()
            .all(|p| digest_in_full(&p.path).as_deref() == Some(p.result_sha256.as_str()));
    // ... and the full kit carries nothing else but the snapshot, the patched members and the
    // Trivy DB the delta exports.
    let nothing_else = full.members.iter().filter(payload).all(|x| {
        let p = x.path.as_str();
        p == SNAPSHOT_PATH
            || (p == crate::sink::TRIVY_MEMBER_PATH && delta.trivy_db)
            || delta.patched.iter().any(|q| q.path == p)
            || delta_m.members.iter().any(|y| y.path.as_str() == p)
    });
    let trivy_match = delta.trivy_db
        == full
            .members
            .iter()
            .any(|x| x.path.as_str() == crate::sink::TRIVY_MEMBER_PATH);
    carried_match && rebuilt_match && nothing_else && trivy_match
}

/// sha256 (hex) of the `feeds/advisories.ndjson` a generation holds, from the manifest it was
/// made from: the member's digest, or a delta's signed result digest.
fn generation_snapshot_sha256(
    store: &Store,
    generation: &str,
    limits: &ouk_format::Limits,
) -> Result<Option<String>> {
    let Some(m) = generation_manifest(store, generation, limits)? else {
        return Ok(None);
    };
    Ok(match spec(&m) {
        Ok(Some(d)) => Some(d.result_advisories_sha256),
        Ok(None) => m
            .members
            .iter()
            .find(|x| x.path.as_str() == SNAPSHOT_PATH)
            .map(|x| x.uncompressed.sha256.to_hex()),
        Err(_) => None,
    })
}

/// The manifest a generation was made from (`.ouk/manifest.json`, read capped); `None` when it
/// is missing or unreadable (a twin is then simply not recognised).
pub fn generation_manifest(
    store: &Store,
    generation: &str,
    limits: &ouk_format::Limits,
) -> Result<Option<Manifest>> {
    let path = store
        .generation_dir(generation)
        .join(".ouk")
        .join("manifest.json");
    let Some(bytes) = fsx::read_capped(&path, limits.max_envelope_bytes)? else {
        return Ok(None);
    };
    // The store's own copy, verified when the generation was imported (the store is private).
    Ok(ouk_format::manifest::Unverified::parse(&bytes, limits)
        .ok()
        .map(|m| m.0))
}

/// §4.8's rules for `patched`: a few distinct members, each a valid path outside `delta/` that
/// the delta neither carries nor rebuilds otherwise, patched by the member `delta/patch/<path>`.
fn check_patched(spec: &DeltaAnnotation, has: &dyn Fn(&str) -> bool) -> Result<()> {
    let invalid = |s: String| Error::from(DeltaError::Invalid(s));
    if spec.patched.len() > MAX_PATCHED {
        return Err(invalid(format!(
            "{} patched members (at most {MAX_PATCHED})",
            spec.patched.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in &spec.patched {
        ouk_format::member_path::MemberPath::new(&p.path)
            .map_err(|e| invalid(format!("patched path {:?}: {e}", p.path)))?;
        if p.path.starts_with("delta/")
            || p.path == SNAPSHOT_PATH
            || p.path == crate::sink::TRIVY_MEMBER_PATH
            || p.path.starts_with(".ouk")
        {
            return Err(invalid(format!("{} cannot be patched", p.path)));
        }
        if !seen.insert(p.path.as_str()) {
            return Err(invalid(format!("{} is patched twice", p.path)));
        }
        if has(&p.path) {
            return Err(invalid(format!("{} is both carried and patched", p.path)));
        }
        if p.patch != format!("{PATCH_DIR}{}", p.path) || !has(&p.patch) {
            return Err(invalid(format!(
                "the patch of {} must be the member {PATCH_DIR}{}",
                p.path, p.path
            )));
        }
        if Sha256::from_hex(&p.result_sha256).is_none() {
            return Err(invalid(format!(
                "result_sha256 of {} is not a sha256",
                p.path
            )));
        }
    }
    Ok(())
}

/// Before anything streams: for a delta kit, the local generation made from its base kit (the
/// active one is looked at first, then the others), or `delta_base_missing`. `None` for a full
/// kit.
pub fn prepare(
    store: &Store,
    m: &Manifest,
    limits: &ouk_format::Limits,
) -> Result<Option<Prepared>> {
    let Some(spec) = spec(m)? else {
        return Ok(None);
    };
    let base = Sha256::from_hex(&spec.base_kit_sha256)
        .ok_or(Error::Internal("checked sha256 did not parse"))?;
    let current = store.current()?;
    let mut candidates = Vec::new();
    if let Some(name) = &current {
        candidates.push(store.info(name)?);
    }
    let found = match candidates.pop().filter(|g| g.kit_sha256 == base) {
        Some(g) => Some(g),
        None => store
            .generations()?
            .into_iter()
            .find(|g| g.kit_sha256 == base),
    };
    // Else a generation of the base sequence with the base's snapshot: the one a twin delta of
    // the base kit made (tomorrow's delta is built against today's full kit, the store applied
    // today's delta). Safe whatever it is: the result is checked against the signed digests.
    let found = match (found, &spec.base_advisories_sha256) {
        (Some(g), _) => Some(g),
        (None, Some(want)) => {
            let mut gens = store.generations()?;
            gens.retain(|g| g.sequence == spec.base_sequence);
            gens.sort_by_key(|g| Some(&g.name) != current.as_ref());
            let mut hit = None;
            for g in gens {
                if generation_snapshot_sha256(store, &g.name, limits)?.as_ref() == Some(want) {
                    hit = Some(g);
                    break;
                }
            }
            hit
        }
        (None, None) => None,
    };
    let missing = |detail: String| {
        Error::from(DeltaError::BaseMissing {
            base_kit_sha256: spec.base_kit_sha256.clone(),
            base_sequence: spec.base_sequence,
            detail,
        })
    };
    let Some(g) = found else {
        return Err(missing(match current {
            Some(c) => format!(" (the active generation is {c})"),
            None => " (the store has no generation)".to_owned(),
        }));
    };
    if g.sequence != spec.base_sequence {
        return Err(missing(format!(
            " (generation {} has that kit sha256 but sequence {})",
            g.name, g.sequence
        )));
    }
    let base_snapshot = store.generation_dir(&g.name).join(SNAPSHOT_PATH);
    if fsx::open_store_file(&base_snapshot, Access::Read)?.is_none() {
        return Err(missing(format!(
            " (generation {} has no {SNAPSHOT_PATH})",
            g.name
        )));
    }
    let mut patched = Vec::new();
    for p in &spec.patched {
        let file = store.generation_dir(&g.name).join(&p.path);
        if fsx::open_store_file(&file, Access::Read)?.is_none() {
            return Err(missing(format!(
                " (generation {} has no {}, which the delta patches)",
                g.name, p.path
            )));
        }
        patched.push((p.clone(), file));
    }
    // The rebuilt snapshot and patched members (and the Trivy DB, about the base's) come on top
    // of the members the free-space check counted.
    let trivy = store
        .generation_dir(&g.name)
        .join("trivy/db")
        .join(ouk_trivy::DB_FILE);
    let needed = spec
        .patched
        .iter()
        .fold(spec.result_advisories_size, |n, p| {
            n.saturating_add(p.result_size)
        })
        .saturating_add(if spec.trivy_db {
            std::fs::symlink_metadata(&trivy).map_or(0, |m| m.len())
        } else {
            0
        });
    fsx::ensure_free_space(&store.staging_dir(), needed)?;
    Ok(Some(Prepared {
        spec,
        base_generation: g.name,
        base_snapshot,
        patched,
    }))
}

/// After every member verified: rebuild `<staging>/feeds/advisories.ndjson` from the base and
/// the staged delta members, check it against the signed digest, and export the Trivy DB into
/// `<staging>/trivy/db/` when the annotation says so. Returns the installed DB file, relative to
/// `staging`, like the full-kit install.
pub fn apply(p: &Prepared, staging: &Path, m: &Manifest) -> Result<Option<String>> {
    let out_path = staging.join(SNAPSHOT_PATH);
    // A delta need not carry any other `feeds/` member (it may patch them all).
    let out = create_staged(staging, SNAPSHOT_PATH)?;
    let mut out = BufWriter::with_capacity(1 << 16, out);
    merge(
        open(&p.base_snapshot)?,
        &p.base_snapshot,
        open(&staging.join(UPSERTS_PATH))?,
        open(&staging.join(REMOVED_PATH))?,
        &p.spec,
        &mut out,
    )
    .map_err(|e| match e {
        MergeError::Delta(d) => Error::from(d),
        MergeError::Write(e) => Error::io("writing", &out_path, e),
        MergeError::Other(e) => e,
    })?;
    out.into_inner()
        .map_err(|e| Error::io("writing", &out_path, e.into_error()))?;
    for (patched, base_file) in &p.patched {
        apply_patch(patched, base_file, staging)?;
    }
    if !p.spec.trivy_db {
        return Ok(None);
    }
    // The builder's export, with the builder's parameters (build.rs: `created_at`, clamped at 0).
    let when = m.created_at.unix().max(0) as u64;
    ouk_trivy::export_trivy_db(
        &out_path,
        &staging.join("trivy"),
        &ouk_trivy::ExportOptions::new(when),
    )
    .map_err(Error::Trivy)?;
    // As the full-kit install: Trivy needs a Java DB to analyse JAR files offline.
    ouk_trivy::install_java_db_stub(&staging.join("trivy")).map_err(Error::Trivy)?;
    Ok(Some(format!("trivy/db/{}", ouk_trivy::DB_FILE)))
}

/// A store or staged file opened for reading (never through a link), buffered.
fn open(path: &Path) -> Result<BufReader<File>> {
    fsx::open_store_file(path, Access::Read)?
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .ok_or_else(|| Error::io("opening", path, std::io::ErrorKind::NotFound.into()))
}

/// Creates the new file `<staging>/<rel>` (`rel` a checked member path), its directories created
/// one level at a time below the staging directory, never through a link.
fn create_staged(staging: &Path, rel: &str) -> Result<File> {
    let path = staging.join(rel);
    if let Some(parent) = Path::new(rel).parent() {
        let mut dir = staging.to_path_buf();
        for part in parent.components() {
            dir.push(part);
            fsx::ensure_dir(&dir)?;
        }
    }
    fsx::create_file_new(&path)
}

/// Rebuilds `<staging>/<path>` from the base generation's copy and the verified patch member,
/// writing nothing past the signed size, and checks the signed digest.
fn apply_patch(spec: &PatchedMember, base_file: &Path, staging: &Path) -> Result<()> {
    let out_path = staging.join(&spec.path);
    let out = BufWriter::with_capacity(1 << 16, create_staged(staging, &spec.path)?);
    let patch = staging.join(&spec.patch);
    let (sha, size, _) =
        ouk_format::line_patch::apply(open(base_file)?, open(&patch)?, out, spec.result_size)
            .map_err(|e| match e {
                ouk_format::line_patch::LinePatchError::Write(e) => {
                    Error::io("writing", &out_path, e)
                }
                ouk_format::line_patch::LinePatchError::ReadBase(e) => {
                    Error::io("reading", base_file, e)
                }
                ouk_format::line_patch::LinePatchError::ReadPatch(e) => {
                    Error::io("reading", &patch, e)
                }
                // Growing past the signed size is a wrong result, as for the merge-join.
                ouk_format::line_patch::LinePatchError::TooLarge { limit } => {
                    Error::from(DeltaError::ResultMismatch {
                        member: spec.path.clone(),
                        expected: spec.result_sha256.clone(),
                        expected_size: limit,
                        actual: "(not computed: writing stopped at the signed size)".to_owned(),
                        actual_size: limit.saturating_add(1),
                    })
                }
                source => Error::from(DeltaError::Patch {
                    member: spec.path.clone(),
                    patch: spec.patch.clone(),
                    source,
                }),
            })?;
    if sha.to_hex() != spec.result_sha256 || size != spec.result_size {
        return Err(DeltaError::ResultMismatch {
            member: spec.path.clone(),
            expected: spec.result_sha256.clone(),
            expected_size: spec.result_size,
            actual: sha.to_hex(),
            actual_size: size,
        }
        .into());
    }
    Ok(())
}

/// Why [`merge`] stopped.
#[derive(Debug)]
pub enum MergeError {
    /// The delta is refused.
    Delta(DeltaError),
    /// Writing the output failed.
    Write(std::io::Error),
    /// Reading an input failed, or the base is damaged.
    Other(Error),
}

impl From<DeltaError> for MergeError {
    fn from(e: DeltaError) -> Self {
        MergeError::Delta(e)
    }
}

/// The merge-join: `base` (a sorted snapshot) with `upserts` and `removed` into `out`, checked
/// against `spec`'s result digest and size. One line per input in memory; stops writing one line
/// past the signed size.
pub fn merge(
    base: impl BufRead,
    base_path: &Path,
    upserts: impl BufRead,
    removed: impl BufRead,
    spec: &DeltaAnnotation,
    out: &mut impl Write,
) -> std::result::Result<(), MergeError> {
    let mut base = Lines::new(base, Side::Base(base_path.to_path_buf()));
    let mut ups = Lines::new(upserts, Side::Upserts);
    let mut rms = Lines::new(removed, Side::Removed);
    let mut hasher = Hasher::new();
    let mut written = 0u64;
    let mut emit = |raw: &[u8], hasher: &mut Hasher| -> std::result::Result<(), MergeError> {
        let (expected, actual_size) = (spec.result_advisories_size, written + raw.len() as u64 + 1);
        if actual_size > expected {
            return Err(DeltaError::ResultMismatch {
                member: SNAPSHOT_PATH.to_owned(),
                expected: spec.result_advisories_sha256.clone(),
                expected_size: expected,
                actual: hasher.clone().finish().0.to_hex(),
                actual_size,
            }
            .into());
        }
        hasher.update(raw);
        hasher.update(b"\n");
        out.write_all(raw).map_err(MergeError::Write)?;
        out.write_all(b"\n").map_err(MergeError::Write)?;
        written = actual_size;
        Ok(())
    };
    let mut b = base.next()?;
    let mut u = ups.next()?;
    let mut r = rms.next()?;
    loop {
        // A removal below the next base id (or past the base's end) names an id it lacks.
        if let Some(rm) = &r {
            let below = match &b {
                Some(bl) => rm.id.as_bytes() < bl.id.as_bytes(),
                None => true,
            };
            if below {
                let id = rm.id.clone();
                if u.as_ref().is_some_and(|ul| ul.id == id) {
                    return Err(DeltaError::Conflict { id }.into());
                }
                return Err(DeltaError::RemoveUnknown { id }.into());
            }
        }
        let order = match (&b, &u) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(bl), Some(ul)) => bl.id.as_bytes().cmp(ul.id.as_bytes()),
        };
        let removing = |id: &str, r: &Option<Line>| r.as_ref().is_some_and(|rm| rm.id == id);
        match order {
            std::cmp::Ordering::Less => {
                let bl = b
                    .take()
                    .ok_or(MergeError::Other(Error::Internal("merge")))?;
                if removing(&bl.id, &r) {
                    r = rms.next()?;
                } else {
                    emit(&bl.raw, &mut hasher)?;
                }
                b = base.next()?;
            }
            std::cmp::Ordering::Greater => {
                let ul = u
                    .take()
                    .ok_or(MergeError::Other(Error::Internal("merge")))?;
                emit(&ul.raw, &mut hasher)?;
                u = ups.next()?;
            }
            std::cmp::Ordering::Equal => {
                let ul = u
                    .take()
                    .ok_or(MergeError::Other(Error::Internal("merge")))?;
                if removing(&ul.id, &r) {
                    return Err(DeltaError::Conflict { id: ul.id }.into());
                }
                emit(&ul.raw, &mut hasher)?;
                b = base.next()?;
                u = ups.next()?;
            }
        }
    }
    let (sha, size) = hasher.finish();
    if sha.to_hex() != spec.result_advisories_sha256 || size != spec.result_advisories_size {
        return Err(DeltaError::ResultMismatch {
            member: SNAPSHOT_PATH.to_owned(),
            expected: spec.result_advisories_sha256.clone(),
            expected_size: spec.result_advisories_size,
            actual: sha.to_hex(),
            actual_size: size,
        }
        .into());
    }
    Ok(())
}

enum Side {
    Base(PathBuf),
    Upserts,
    Removed,
}

struct Line {
    id: String,
    raw: Vec<u8>,
}

/// One sorted input, a line at a time, its order checked as it goes.
struct Lines<R> {
    reader: R,
    side: Side,
    line_no: u64,
    last: Option<String>,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R, side: Side) -> Self {
        Lines {
            reader,
            side,
            line_no: 0,
            last: None,
            buf: Vec::new(),
        }
    }

    fn member(&self) -> &'static str {
        match self.side {
            Side::Upserts => UPSERTS_PATH,
            Side::Removed => REMOVED_PATH,
            Side::Base(_) => SNAPSHOT_PATH,
        }
    }

    /// A problem with this input: the kit's fault for delta members, the store's for the base.
    fn fail(&self, reason: String) -> MergeError {
        match &self.side {
            Side::Base(path) => MergeError::Other(Error::StoreDamaged {
                path: path.clone(),
                reason: format!("line {}: {reason}", self.line_no),
            }),
            _ => MergeError::Delta(DeltaError::BadLine {
                member: self.member(),
                line: self.line_no,
                reason,
            }),
        }
    }

    fn next(&mut self) -> std::result::Result<Option<Line>, MergeError> {
        self.line_no += 1;
        let read =
            read_capped_line(&mut self.reader, &mut self.buf, MAX_LINE_BYTES).map_err(|e| {
                let path = match &self.side {
                    Side::Base(p) => p.clone(),
                    _ => PathBuf::from(self.member()),
                };
                MergeError::Other(Error::io("reading", path, e))
            })?;
        match read {
            CappedLine::End => return Ok(None),
            CappedLine::Line => {}
            CappedLine::TooLong => {
                return Err(self.fail(format!("longer than {MAX_LINE_BYTES} bytes")))
            }
            CappedLine::Unterminated => {
                return Err(self.fail("the last line has no newline".to_owned()))
            }
        }
        let id = match self.side {
            Side::Removed => serde_json::from_slice::<String>(&self.buf)
                .map_err(|e| self.fail(format!("not a JSON string ({e})")))?,
            _ => {
                #[derive(Deserialize)]
                struct IdOnly {
                    id: String,
                }
                serde_json::from_slice::<IdOnly>(&self.buf)
                    .map_err(|e| self.fail(format!("no readable string id ({e})")))?
                    .id
            }
        };
        if let Some(last) = &self.last {
            if id.as_bytes() <= last.as_bytes() {
                return Err(match self.side {
                    Side::Base(_) => self.fail(format!(
                        "id {id:?} is not above the previous id {last:?} (not sorted)"
                    )),
                    _ => MergeError::Delta(DeltaError::Unsorted {
                        member: self.member(),
                        line: self.line_no,
                        id,
                        previous: last.clone(),
                    }),
                });
            }
        }
        self.last = Some(id.clone());
        Ok(Some(Line {
            id,
            raw: std::mem::take(&mut self.buf),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, v: u32) -> String {
        format!(r#"{{"id":"{id}","v":{v}}}"#)
    }

    fn text(lines: &[String]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect()
    }

    fn spec_for(result: &[u8]) -> DeltaAnnotation {
        DeltaAnnotation {
            base_kit_sha256: "00".repeat(32),
            base_sequence: 1,
            result_advisories_sha256: Sha256::of(result).to_hex(),
            result_advisories_size: result.len() as u64,
            trivy_db: false,
            upserts: 0,
            patched: Vec::new(),
            base_advisories_sha256: None,
            twin_manifest_sha256: None,
            removed: 0,
        }
    }

    fn run(base: &[u8], up: &[u8], rm: &[u8], spec: &DeltaAnnotation) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        merge(base, Path::new("base"), up, rm, spec, &mut out)
            .map(|()| out)
            .map_err(|e| match e {
                MergeError::Delta(d) => d.kind().to_owned(),
                MergeError::Write(e) => e.to_string(),
                MergeError::Other(e) => e.kind().to_owned(),
            })
    }

    #[test]
    fn merge_join_rebuilds_the_new_snapshot() {
        let base = text(&[rec("A", 1), rec("B", 1), rec("C", 1), rec("E", 1)]);
        let want = text(&[
            rec("A", 1),
            rec("B", 2),
            rec("D", 1),
            rec("E", 1),
            rec("F", 1),
        ]);
        let up = text(&[rec("B", 2), rec("D", 1), rec("F", 1)]);
        let rm = b"\"C\"\n".to_vec();
        assert_eq!(run(&base, &up, &rm, &spec_for(&want)).unwrap(), want);
    }

    #[test]
    fn bad_deltas_get_named_errors() {
        let base = text(&[rec("A", 1), rec("B", 1)]);
        let good = text(&[rec("A", 1), rec("B", 1), rec("C", 1)]);
        let s = spec_for(&good);
        let unsorted = text(&[rec("C", 1), rec("BB", 1)]);
        assert_eq!(
            run(&base, &unsorted, b"", &s).unwrap_err(),
            "delta_unsorted"
        );
        let dup = text(&[rec("C", 1), rec("C", 1)]);
        assert_eq!(run(&base, &dup, b"", &s).unwrap_err(), "delta_unsorted");
        assert_eq!(
            run(&base, b"", b"\"B\"\n\"A\"\n", &s).unwrap_err(),
            "delta_unsorted"
        );
        assert_eq!(
            run(&base, b"", b"\"Z\"\n", &s).unwrap_err(),
            "delta_remove_unknown"
        );
        assert_eq!(
            run(&base, b"", b"\"AA\"\n", &s).unwrap_err(),
            "delta_remove_unknown"
        );
        assert_eq!(
            run(&base, &text(&[rec("B", 2)]), b"\"B\"\n", &s).unwrap_err(),
            "delta_conflict"
        );
        assert_eq!(
            run(&base, b"not json\n", b"", &s).unwrap_err(),
            "delta_bad_line"
        );
        // The right lines against another signed result.
        let other = spec_for(&text(&[rec("A", 1), rec("B", 1), rec("C", 2)]));
        assert_eq!(
            run(&base, &text(&[rec("C", 1)]), b"", &other).unwrap_err(),
            "delta_result_mismatch"
        );
        // A result growing past the signed size stops early.
        let short = spec_for(b"");
        assert_eq!(
            run(&base, b"", b"", &short).unwrap_err(),
            "delta_result_mismatch"
        );
        assert_eq!(run(&base, &text(&[rec("C", 1)]), b"", &s).unwrap(), good);
        // A damaged base is the store's problem.
        let unsorted_base = text(&[rec("B", 1), rec("A", 1)]);
        assert_eq!(
            run(&unsorted_base, b"", b"", &s).unwrap_err(),
            "store_damaged"
        );
    }
}
