//! Importer side: the verified `trivy/db.tar.gz` member → `<cache>/db/{trivy.db,metadata.json}`,
//! with the expanded size capped by the caller (the size the signed manifest declares), and the
//! Bolt file validated before anything is reported as installed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::archive::{copy_entry, read_archive, read_small, DbEntry};
use crate::bolt::{validate_bolt, BoltSummary};
use crate::metadata::Metadata;
use crate::{DbLimits, TrivyError, DB_FILE, METADATA_FILE, REQUIRED_BUCKETS};

/// What [`install_db_tar_gz`] installed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstallSummary {
    /// The parsed `metadata.json`.
    pub metadata: Metadata,
    /// Size of the installed `trivy.db`.
    pub db_bytes: u64,
    /// `trivy.db` + `metadata.json` bytes written (what [`db_tar_gz_expanded_size`] returns).
    pub expanded_bytes: u64,
    /// `<cache>/db/trivy.db`.
    pub db_path: PathBuf,
    /// What the Bolt validator found.
    pub bolt: BoltSummary,
}

/// The name archive errors carry (the kit member).
const MEMBER: &str = "trivy/db.tar.gz";

/// The expanded size of a `db.tar.gz`: the sum of its two regular files' sizes, after the same
/// structural checks as [`install_db_tar_gz`] (which enforces this quantity). The builder puts it
/// into the signed manifest so the importer can cap the expansion before it starts.
pub fn db_tar_gz_expanded_size<R: Read>(r: R, limits: &DbLimits) -> Result<u64, TrivyError> {
    let archive = Path::new(MEMBER);
    let max_total = limits
        .max_db_bytes
        .saturating_add(limits.max_metadata_bytes);
    read_archive(
        r,
        archive,
        limits,
        max_total,
        |which, _size, data| match which {
            DbEntry::Db => copy_entry(data, &mut io::sink(), archive, archive),
            DbEntry::Metadata => {
                let bytes = read_small(data, limits.max_metadata_bytes, archive)?;
                Metadata::parse(&bytes, &archive.join(METADATA_FILE))?;
                Ok(bytes.len() as u64)
            }
        },
    )
}

/// Installs the (already signature-verified) `trivy/db.tar.gz` member as
/// `<cache_dir>/db/trivy.db` and `<cache_dir>/db/metadata.json`, so that
/// `trivy --cache-dir <cache_dir> --skip-db-update --offline-scan` uses it in place.
///
/// Why so strict: the signer may be compromised, and the importer must survive any archive.
/// Only those two regular files; at most `max_expanded_bytes` written in total (pass the size
/// the signed manifest declares), per-file and entry-count caps from `limits`; metadata schema
/// 2; `trivy.db` must pass [`validate_bolt`] with the buckets Trivy needs. `cache_dir` may
/// exist (a real directory, not a symlink); `cache_dir/db` must not exist or be an empty real
/// directory. Files are created with `create_new`, which never follows a symlink (`O_EXCL`).
/// On any error nothing is left behind: the files written and the directories created are
/// removed.
pub fn install_db_tar_gz<R: Read>(
    reader: R,
    cache_dir: &Path,
    max_expanded_bytes: u64,
    limits: &DbLimits,
) -> Result<InstallSummary, TrivyError> {
    let mut undo = Undo::default();
    let result = install(reader, cache_dir, max_expanded_bytes, limits, &mut undo);
    if result.is_err() {
        undo.run();
    }
    result
}

fn install<R: Read>(
    reader: R,
    cache_dir: &Path,
    max_expanded_bytes: u64,
    limits: &DbLimits,
    undo: &mut Undo,
) -> Result<InstallSummary, TrivyError> {
    prepare_dir(cache_dir, false, undo)?;
    let db_dir = cache_dir.join("db");
    prepare_dir(&db_dir, true, undo)?;
    let db_path = db_dir.join(DB_FILE);
    let md_path = db_dir.join(METADATA_FILE);
    let archive = Path::new(MEMBER);
    let mut metadata: Option<(Metadata, Vec<u8>)> = None;
    let mut db_bytes = 0u64;
    let expanded_bytes = read_archive(
        reader,
        archive,
        limits,
        max_expanded_bytes,
        |which, _size, data| match which {
            DbEntry::Db => {
                let file = create_new(&db_path, undo)?;
                let mut w = BufWriter::with_capacity(1 << 20, file);
                let n = copy_entry(data, &mut w, archive, &db_path)?;
                let file = w
                    .into_inner()
                    .map_err(|e| TrivyError::io(&db_path, e.into_error()))?;
                file.sync_all().map_err(|e| TrivyError::io(&db_path, e))?;
                db_bytes = n;
                Ok(n)
            }
            DbEntry::Metadata => {
                let bytes = read_small(data, limits.max_metadata_bytes, archive)?;
                let parsed = Metadata::parse(&bytes, &archive.join(METADATA_FILE))?;
                let n = bytes.len() as u64;
                metadata = Some((parsed, bytes));
                Ok(n)
            }
        },
    )?;
    // `read_archive` refuses an archive without both entries, so this is always `Some`.
    let (metadata, md_raw) = metadata.ok_or(TrivyError::MissingEntry {
        archive: archive.to_path_buf(),
        entry: METADATA_FILE,
    })?;
    let bolt = validate_bolt(&db_path, &REQUIRED_BUCKETS, limits)?;
    // metadata.json last: Trivy refuses a cache without it, so a half-done install is inert.
    let mut f = create_new(&md_path, undo)?;
    f.write_all(&md_raw)
        .and_then(|()| f.sync_all())
        .map_err(|e| TrivyError::io(&md_path, e))?;
    Ok(InstallSummary {
        metadata,
        db_bytes,
        expanded_bytes,
        db_path,
        bolt,
    })
}

/// Makes sure `dir` is a real directory we may write into: created now (and remembered for
/// the undo), or already there as a directory that is not a symlink and, when `must_be_empty`,
/// holds nothing.
fn prepare_dir(dir: &Path, must_be_empty: bool, undo: &mut Undo) -> Result<(), TrivyError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => {
            if must_be_empty {
                let mut entries = fs::read_dir(dir).map_err(|e| TrivyError::io(dir, e))?;
                if entries.next().is_some() {
                    return Err(TrivyError::OutputExists {
                        path: dir.to_path_buf(),
                    });
                }
            }
            Ok(())
        }
        // A symlink, file or anything else: never written through.
        Ok(_) => Err(TrivyError::OutputExists {
            path: dir.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(dir).map_err(|e| TrivyError::io(dir, e))?;
            undo.dirs.push(dir.to_path_buf());
            Ok(())
        }
        Err(e) => Err(TrivyError::io(dir, e)),
    }
}

/// `create_new` fails on any existing path, a dangling symlink included, so it never writes
/// through a link.
fn create_new(path: &Path, undo: &mut Undo) -> Result<File, TrivyError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => TrivyError::OutputExists {
                path: path.to_path_buf(),
            },
            _ => TrivyError::io(path, e),
        })?;
    undo.files.push(path.to_path_buf());
    Ok(file)
}

/// What an install created, removed again (best effort, newest first) when it fails.
#[derive(Default)]
struct Undo {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Undo {
    fn run(self) {
        for f in self.files.iter().rev() {
            let _ = fs::remove_file(f);
        }
        for d in self.dirs.iter().rev() {
            let _ = fs::remove_dir(d);
        }
    }
}
