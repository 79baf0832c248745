//! `ouk-builder delta`: a kit that carries only what changed in the merged feed snapshot since a
//! base kit (spec/OUK-FORMAT.md §4.7).
//!
//! The new snapshot is merged exactly as for a full kit; then one merge-join pass over the base
//! kit's `feeds/advisories.ndjson` and the new one (both sorted by id, byte order; one line of
//! each in memory) writes
//! * `delta/upserts.ndjson`: the full new line of every added or changed record, in id order;
//! * `delta/removed.ndjson`: the id (a JSON string) of every record gone from the new snapshot,
//!   in id order;
//!
//! and the digest and size of the new snapshot, which the signed `ouk.delta` annotation binds
//! together with the base kit's sha256 and sequence. The importer rebuilds the snapshot from its
//! copy of the base and refuses any other result. Unchanged records are not carried; a withdrawn
//! record is a changed one (its new line carries `withdrawn`).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ouk_format::archive::members::member_entry_name;
use ouk_format::archive::reader::read_manifest_unverified;
use ouk_format::digest::{Hasher, HashingWriter, Sha256};
use ouk_format::lines::{read_capped_line, CappedLine};
use ouk_format::member_path::MemberPath;
use serde::{Deserialize, Serialize};

use crate::build::{BuildRequest, BuildSummary};
use crate::error::BuildError;
use crate::progress::Progress;

pub use ouk_format::delta::{
    DeltaAnnotation, PatchedMember, ANNOTATION, LINE_PATCH_MEDIA_TYPE, PATCH_DIR, REMOVED_PATH,
    REPORT_PATH, SNAPSHOT_PATH, UPSERTS_PATH,
};
/// zstd level of the delta members (small, built once, read at many sites).
pub const DELTA_ZSTD_LEVEL: i32 = 19;
/// Longest snapshot line accepted (the importer's change report uses the same cap).
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// The kit a delta applies to.
#[derive(Debug, Clone)]
pub struct DeltaBase {
    /// sha256 of the base kit file.
    pub kit_sha256: Sha256,
    /// Sequence of the base kit.
    pub sequence: u64,
    /// The base kit's `feeds/advisories.ndjson`.
    pub advisories: PathBuf,
    /// Its sha256: importers may apply the delta on any generation with this snapshot at the
    /// base sequence (the generation a twin delta of the base kit made, say).
    pub advisories_sha256: Sha256,
    /// The base kit's `feeds/merge-report.json`, when known: the new one then travels as a line
    /// patch against it.
    pub report: Option<PathBuf>,
}

/// Test hook: sees the delta files and the annotation before they are packed and signed (tests
/// build deliberately broken deltas with it).
pub type DeltaHook<'a> = dyn Fn(&DeltaFiles, &mut DeltaAnnotation) + Sync + 'a;

/// What `delta` builds against.
pub struct DeltaRequest<'a> {
    /// The base.
    pub base: DeltaBase,
    /// The full kit of the same build, named in the annotation after the builder checked it is
    /// one (spec §4.7, twins): stores then take either kit as already imported once they hold the
    /// other, and a medium may carry both.
    pub twin: Option<Twin>,
    /// Test hook, `None` in production.
    pub hook: Option<&'a DeltaHook<'a>>,
}

/// The full kit of the same build as a delta.
#[derive(Debug, Clone)]
pub struct Twin {
    /// Its manifest (read without verification: the builder's own output).
    pub manifest: ouk_format::manifest::Manifest,
    /// sha256 of its manifest payload, as importers compute it.
    pub manifest_sha256: Sha256,
}

/// The [`Twin`] of a full kit file.
pub fn twin_from_kit(kit: &Path) -> Result<Twin, BuildError> {
    let (_, manifest) = read_manifest_unverified(
        BufReader::new(File::open(kit).map_err(BuildError::io(kit))?),
        &ouk_format::Limits::default(),
    )?;
    let manifest = manifest.0;
    if manifest.annotations.contains_key(ANNOTATION) {
        return Err(BuildError::Delta(format!(
            "--twin {} is a delta kit; name the full kit of this build",
            kit.display()
        )));
    }
    Ok(Twin {
        manifest_sha256: Sha256::of(&manifest.to_payload()),
        manifest,
    })
}

impl Twin {
    /// The uncompressed sha256 of the twin's member `path`.
    pub fn member_sha256(&self, path: &str) -> Option<Sha256> {
        self.manifest
            .members
            .iter()
            .find(|m| m.path.as_str() == path)
            .map(|m| m.uncompressed.sha256)
    }

    /// Refuses a twin that is not the full kit of this build: `what` names the mismatch.
    pub fn mismatch(&self, what: impl std::fmt::Display) -> BuildError {
        BuildError::Delta(format!(
            "the twin kit (manifest sha256 {}) is not the full kit of this build: {what}",
            self.manifest_sha256
        ))
    }
}

/// Counts of one delta.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeltaCounts {
    /// Ids only in the new snapshot.
    pub added: u64,
    /// Ids in both with different lines.
    pub changed: u64,
    /// Ids only in the base.
    pub removed: u64,
    /// Ids in both with identical lines (not carried).
    pub unchanged: u64,
}

/// The delta files written by [`compute`].
#[derive(Debug, Clone)]
pub struct DeltaFiles {
    /// `delta/upserts.ndjson`.
    pub upserts: PathBuf,
    /// `delta/removed.ndjson`.
    pub removed: PathBuf,
    /// sha256 of the new snapshot.
    pub result_sha256: Sha256,
    /// Size of the new snapshot.
    pub result_size: u64,
    /// Counts.
    pub counts: DeltaCounts,
}

/// The base of a delta from a base kit file: its sha256, its sequence (from its manifest), its
/// `feeds/advisories.ndjson` member and (when it has one) its `feeds/merge-report.json`, both
/// decompressed into `work` in one pass over the kit and checked against the digests and sizes
/// the manifest gives. The kit's signatures are not checked here: it is the builder's own
/// earlier output, and importers only apply the delta on top of a generation made from a kit
/// with exactly this sha256 (and check every rebuilt file against a signed digest).
pub fn base_from_kit(kit: &Path, work: &Path) -> Result<DeltaBase, BuildError> {
    let kit_sha256 = Sha256::of_reader(File::open(kit).map_err(BuildError::io(kit))?)
        .map_err(BuildError::io(kit))?
        .0;
    let limits = ouk_format::Limits::default();
    let (_, manifest) = read_manifest_unverified(
        BufReader::new(File::open(kit).map_err(BuildError::io(kit))?),
        &limits,
    )?;
    let manifest = manifest.0;
    let snapshot = MemberPath::new(SNAPSHOT_PATH)?;
    if manifest.member(&snapshot).is_none() {
        return Err(BuildError::Delta(format!(
            "base kit {} has no {SNAPSHOT_PATH} member (a delta needs a full kit built from feeds as its base)",
            kit.display()
        )));
    }
    let advisories_sha256 = manifest
        .member(&snapshot)
        .map(|m| m.uncompressed.sha256)
        .ok_or(BuildError::Delta(
            "internal: snapshot member vanished".into(),
        ))?;
    let mut wanted = vec![(snapshot, work.join("base-advisories.ndjson"))];
    let report = MemberPath::new(REPORT_PATH)?;
    if manifest.member(&report).is_some() {
        wanted.push((report, work.join("base-merge-report.json")));
    }
    let mut found = vec![false; wanted.len()];
    let mut archive = tar::Archive::new(BufReader::new(
        File::open(kit).map_err(BuildError::io(kit))?,
    ));
    for entry in archive.entries().map_err(BuildError::io(kit))? {
        let entry = entry.map_err(BuildError::io(kit))?;
        let Some(i) = wanted
            .iter()
            .position(|(p, _)| entry.path_bytes().as_ref() == member_entry_name(p).as_bytes())
        else {
            continue;
        };
        let (path, out) = &wanted[i];
        let member = manifest
            .member(path)
            .ok_or(BuildError::Delta("internal: member vanished".into()))?;
        let mut decoder = zstd::stream::read::Decoder::new(entry).map_err(BuildError::io(kit))?;
        decoder
            .window_log_max(limits.max_zstd_window_log)
            .map_err(BuildError::io(kit))?;
        let mut hasher = HashingWriter::new(BufWriter::new(
            File::create(out).map_err(BuildError::io(out))?,
        ));
        io::copy(&mut decoder.take(member.uncompressed.size + 1), &mut hasher)
            .map_err(BuildError::io(out))?;
        let (w, sha, size) = hasher.finish();
        w.into_inner()
            .map_err(|e| BuildError::io(out)(e.into_error()))?;
        if sha != member.uncompressed.sha256 || size != member.uncompressed.size {
            return Err(BuildError::Delta(format!(
                "base kit {}: {path} does not match its manifest digest",
                kit.display()
            )));
        }
        found[i] = true;
    }
    if let Some(i) = found.iter().position(|f| !f) {
        return Err(BuildError::Delta(format!(
            "base kit {}: member {} is missing from the container",
            kit.display(),
            wanted[i].0
        )));
    }
    let mut files = wanted.into_iter().map(|(_, f)| f);
    Ok(DeltaBase {
        kit_sha256,
        sequence: manifest.sequence,
        advisories: files.next().ok_or(BuildError::Delta("internal".into()))?,
        advisories_sha256,
        report: files.next(),
    })
}

/// The patch that turns the base's `base_file` into `new_file`, written to `out` and checked by
/// applying it (a delta the importers would refuse is never signed). `None` when the patch is
/// not smaller than the new file, which then travels whole.
pub fn patch_member(
    member: &str,
    base_file: &Path,
    new_file: &Path,
    out: &Path,
) -> Result<Option<PatchedMember>, BuildError> {
    let open = |p: &Path| -> Result<BufReader<File>, BuildError> {
        Ok(BufReader::with_capacity(
            1 << 16,
            File::open(p).map_err(BuildError::io(p))?,
        ))
    };
    let mut w = BufWriter::new(File::create(out).map_err(BuildError::io(out))?);
    ouk_format::line_patch::diff(open(base_file)?, open(new_file)?, &mut w)
        .map_err(BuildError::io(out))?;
    w.into_inner()
        .map_err(|e| BuildError::io(out)(e.into_error()))?
        .sync_all()
        .map_err(BuildError::io(out))?;
    let (want, want_size) = Sha256::of_reader(open(new_file)?).map_err(BuildError::io(new_file))?;
    let (got, got_size, _) =
        ouk_format::line_patch::apply(open(base_file)?, open(out)?, io::sink(), want_size)
            .map_err(|e| {
                BuildError::Delta(format!(
                    "internal: the patch of {member} does not apply: {e}"
                ))
            })?;
    if (got, got_size) != (want, want_size) {
        return Err(BuildError::Delta(format!(
            "internal: the patch of {member} does not rebuild it"
        )));
    }
    let patch_size = std::fs::metadata(out).map_err(BuildError::io(out))?.len();
    if patch_size >= want_size {
        return Ok(None);
    }
    Ok(Some(PatchedMember {
        path: member.to_owned(),
        patch: format!("{PATCH_DIR}{member}"),
        result_sha256: want.to_hex(),
        result_size: want_size,
    }))
}

/// Build a delta kit: `req` as for [`crate::build::build`] (same sources, keys, times; its
/// `trivy` choice decides the annotation's `trivy_db`; an upstream Trivy DB cannot be carried by
/// a delta), against `delta.base`.
pub fn build_delta(
    req: &BuildRequest,
    delta: &DeltaRequest<'_>,
    progress: &dyn Progress,
) -> Result<BuildSummary, BuildError> {
    crate::build::build_variant(
        req,
        &crate::build::BuildVariant {
            merged: None,
            delta: Some(delta),
        },
        progress,
    )
}

/// Writes a [`DeltaFiles`] pair into `dir` from two sorted snapshots, hashing the new one on the
/// way. Refuses input that is not strictly sorted by id.
pub fn compute(base: &Path, new: &Path, dir: &Path) -> Result<DeltaFiles, BuildError> {
    let upserts = dir.join("upserts.ndjson");
    let removed = dir.join("removed.ndjson");
    let mut up = BufWriter::new(File::create(&upserts).map_err(BuildError::io(&upserts))?);
    let mut rm = BufWriter::new(File::create(&removed).map_err(BuildError::io(&removed))?);
    let mut a = Lines::open(base)?;
    let mut b = Lines::open(new)?;
    let mut hasher = Hasher::new();
    let mut size = 0u64;
    let mut counts = DeltaCounts::default();
    let mut la = a.next()?;
    let mut lb = b.next()?;
    let werr = |p: &Path| BuildError::io(p.to_path_buf());
    loop {
        let order = match (&la, &lb) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.id.as_bytes().cmp(y.id.as_bytes()),
        };
        if let (std::cmp::Ordering::Greater | std::cmp::Ordering::Equal, Some(y)) = (order, &lb) {
            hasher.update(&y.raw);
            hasher.update(b"\n");
            size += y.raw.len() as u64 + 1;
        }
        match order {
            std::cmp::Ordering::Less => {
                let x = la.take().ok_or(BuildError::Delta("internal".into()))?;
                serde_json::to_writer(&mut rm, &x.id)
                    .map_err(|e| BuildError::Delta(e.to_string()))?;
                rm.write_all(b"\n").map_err(werr(&removed))?;
                counts.removed += 1;
                la = a.next()?;
            }
            std::cmp::Ordering::Greater => {
                let y = lb.take().ok_or(BuildError::Delta("internal".into()))?;
                up.write_all(&y.raw).map_err(werr(&upserts))?;
                up.write_all(b"\n").map_err(werr(&upserts))?;
                counts.added += 1;
                lb = b.next()?;
            }
            std::cmp::Ordering::Equal => {
                let (x, y) = (la.take(), lb.take());
                if let (Some(x), Some(y)) = (x, y) {
                    if x.raw == y.raw {
                        counts.unchanged += 1;
                    } else {
                        up.write_all(&y.raw).map_err(werr(&upserts))?;
                        up.write_all(b"\n").map_err(werr(&upserts))?;
                        counts.changed += 1;
                    }
                }
                la = a.next()?;
                lb = b.next()?;
            }
        }
    }
    for (w, p) in [(up, &upserts), (rm, &removed)] {
        w.into_inner()
            .map_err(|e| BuildError::io(p.clone())(e.into_error()))?
            .sync_all()
            .map_err(werr(p))?;
    }
    let (result_sha256, hashed) = hasher.finish();
    debug_assert_eq!(hashed, size);
    Ok(DeltaFiles {
        upserts,
        removed,
        result_sha256,
        result_size: size,
        counts,
    })
}

/// The id of a snapshot line: only the top-level `id` is kept (everything else is skipped by
/// the parser, no JSON tree is built).
pub fn line_id(line: &[u8]) -> Result<String, serde_json::Error> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: String,
    }
    serde_json::from_slice::<IdOnly>(line).map(|r| r.id)
}

struct Line {
    id: String,
    raw: Vec<u8>,
}

/// One sorted snapshot, a line at a time.
struct Lines {
    path: PathBuf,
    reader: BufReader<File>,
    line_no: u64,
    last: Option<String>,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, BuildError> {
        Ok(Lines {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(
                1 << 16,
                File::open(path).map_err(BuildError::io(path))?,
            ),
            line_no: 0,
            last: None,
        })
    }

    fn next(&mut self) -> Result<Option<Line>, BuildError> {
        let mut raw = Vec::new();
        self.line_no += 1;
        let read = read_capped_line(&mut self.reader, &mut raw, MAX_LINE_BYTES)
            .map_err(BuildError::io(&self.path))?;
        let bad = |why: String| {
            BuildError::Delta(format!(
                "{} line {}: {why}",
                self.path.display(),
                self.line_no
            ))
        };
        match read {
            CappedLine::End => return Ok(None),
            CappedLine::TooLong => return Err(bad(format!("longer than {MAX_LINE_BYTES} bytes"))),
            CappedLine::Line | CappedLine::Unterminated => {}
        }
        let id = line_id(&raw).map_err(|e| bad(format!("no readable id ({e})")))?;
        if let Some(last) = &self.last {
            if id.as_bytes() <= last.as_bytes() {
                return Err(bad(format!(
                    "id {id:?} is not above the previous id {last:?} (snapshot not sorted)"
                )));
            }
        }
        self.last = Some(id.clone());
        Ok(Some(Line { id, raw }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, extra: &str) -> String {
        format!(r#"{{"id":"{id}","modified":"2026-01-01T00:00:00Z"{extra}}}"#)
    }

    fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
        let p = dir.join(name);
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        std::fs::write(&p, s).unwrap();
        p
    }

    fn lines(p: &Path) -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn carries_added_changed_withdrawn_and_removed_but_not_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let base = write(
            dir.path(),
            "a",
            &[
                rec("A-1", ""),
                rec("A-2", r#","summary":"old""#),
                rec("A-3", ""),
                rec("A-5", ""),
                rec("A-6", ""),
            ],
        );
        let new_lines = [
            rec("A-1", ""),                                       // unchanged
            rec("A-2", r#","summary":"new""#),                    // changed
            rec("A-3", r#","withdrawn":"2026-01-02T00:00:00Z""#), // withdrawn
            rec("A-4", ""),                                       // added
            rec("A-6", ""),                                       // unchanged; A-5 removed
            rec("B-1", ""),                                       // added after the base's end
        ];
        let new = write(dir.path(), "b", &new_lines);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let d = compute(&base, &new, &out).unwrap();
        assert_eq!(
            lines(&d.upserts),
            vec![
                new_lines[1].clone(),
                new_lines[2].clone(),
                new_lines[3].clone(),
                new_lines[5].clone()
            ]
        );
        assert_eq!(lines(&d.removed), vec![r#""A-5""#.to_owned()]);
        assert_eq!(
            d.counts,
            DeltaCounts {
                added: 2,
                changed: 2,
                removed: 1,
                unchanged: 2
            }
        );
        let bytes = std::fs::read(&new).unwrap();
        assert_eq!(d.result_sha256, Sha256::of(&bytes));
        assert_eq!(d.result_size, bytes.len() as u64);

        // Deterministic: the same inputs give the same bytes.
        let out2 = dir.path().join("out2");
        std::fs::create_dir(&out2).unwrap();
        let d2 = compute(&base, &new, &out2).unwrap();
        assert_eq!(
            std::fs::read(&d.upserts).unwrap(),
            std::fs::read(&d2.upserts).unwrap()
        );
        assert_eq!(
            std::fs::read(&d.removed).unwrap(),
            std::fs::read(&d2.removed).unwrap()
        );
        assert_eq!(d.result_sha256, d2.result_sha256);
    }

    #[test]
    fn identical_snapshots_give_an_empty_delta_and_everything_removed_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", &[rec("X", ""), rec("Y", "")]);
        let empty = write(dir.path(), "e", &[]);
        let d = compute(&a, &a, dir.path()).unwrap();
        assert!(lines(&d.upserts).is_empty());
        assert!(lines(&d.removed).is_empty());
        assert_eq!(d.counts.unchanged, 2);
        let sub = dir.path().join("s");
        std::fs::create_dir(&sub).unwrap();
        let d = compute(&a, &empty, &sub).unwrap();
        assert_eq!(lines(&d.removed), vec![r#""X""#, r#""Y""#]);
        assert_eq!(d.result_size, 0);
    }

    #[test]
    fn unsorted_or_duplicate_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", &[rec("X", "")]);
        let unsorted = write(dir.path(), "u", &[rec("B", ""), rec("A", "")]);
        let dup = write(dir.path(), "d", &[rec("B", ""), rec("B", "")]);
        for bad in [&unsorted, &dup] {
            let err = compute(&a, bad, dir.path()).unwrap_err();
            assert!(err.to_string().contains("not sorted"), "{err}");
        }
    }
}
