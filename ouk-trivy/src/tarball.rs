//! `db.tar.gz`: the layout of Trivy's official OCI layer (media type
//! `application/vnd.aquasec.trivy.db.layer.v1.tar+gzip`): two regular files, `trivy.db` and
//! `metadata.json`, at the top level. Packing is deterministic; reading is strict (only those
//! two names, regular files only, sizes capped, raw headers so no PAX/GNU extension bodies are
//! ever buffered) and never goes through `tar::Archive::unpack`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};

use crate::bolt_check::check_bolt;
use crate::limits::DbLimits;
use crate::metadata::Metadata;
use crate::trivy_types::VULNERABILITY_BUCKET;
use crate::TrivyError;

/// Name of the Bolt file inside `db/` and inside the archive.
pub const DB_FILE: &str = "trivy.db";
/// Name of the metadata file inside `db/` and inside the archive.
pub const METADATA_FILE: &str = "metadata.json";
/// Most bytes accepted after the tar end-of-archive marker (tar pads to 10 KiB records).
const MAX_TRAILER: u64 = 1 << 20;

/// What [`pack_db_tar_gz`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackSummary {
    /// Size of the `.tar.gz`.
    pub compressed_bytes: u64,
    /// Size of `trivy.db`.
    pub db_bytes: u64,
    /// Size of `metadata.json`.
    pub metadata_bytes: u64,
}

/// What [`validate_upstream_db_tar_gz`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbInfo {
    /// The parsed `metadata.json`.
    pub metadata: Metadata,
    /// Size of `trivy.db` unpacked.
    pub db_bytes: u64,
    /// Bolt page size.
    pub page_size: u32,
    /// Root bucket names (at most 10 000 listed).
    pub root_buckets: Vec<String>,
}

/// What [`install_db_tar_gz`] installed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstallSummary {
    /// The parsed `metadata.json`.
    pub metadata: Metadata,
    /// Size of the installed `trivy.db`.
    pub db_bytes: u64,
    /// `<cache>/db/trivy.db`.
    pub db_path: PathBuf,
}

/// Packs `db_dir/trivy.db` and `db_dir/metadata.json` into `out` (created new).
///
/// Deterministic: entries in the official order (`trivy.db`, `metadata.json`), GNU headers with
/// mode 0644, uid/gid 0, empty owner names and `mtime` as given; gzip header without name and
/// with timestamp 0. `metadata.json` must be valid schema-2 metadata.
pub fn pack_db_tar_gz(db_dir: &Path, out: &Path, mtime: u64) -> Result<PackSummary, TrivyError> {
    let db_path = db_dir.join(DB_FILE);
    let md_path = db_dir.join(METADATA_FILE);
    let md_bytes = read_regular_capped(&md_path, DbLimits::default().max_metadata_bytes)?;
    Metadata::parse(&md_bytes, &md_path)?;
    let db_meta = regular_file_meta(&db_path)?;

    let out_file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => TrivyError::OutputExists {
                path: out.to_path_buf(),
            },
            _ => TrivyError::io(out, e),
        })?;
    let write = || -> io::Result<File> {
        let gz = GzBuilder::new()
            .mtime(0)
            .write(BufWriter::new(out_file), Compression::default());
        let mut tar = tar::Builder::new(gz);
        let db_file = File::open(&db_path)?;
        append(&mut tar, DB_FILE, db_meta.len(), db_file, mtime)?;
        append(
            &mut tar,
            METADATA_FILE,
            md_bytes.len() as u64,
            &md_bytes[..],
            mtime,
        )?;
        let gz = tar.into_inner()?;
        let buf = gz.finish()?;
        let f = buf.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(f)
    };
    let f = match write() {
        Ok(f) => f,
        Err(e) => {
            let _ = fs::remove_file(out);
            return Err(TrivyError::io(out, e));
        }
    };
    let compressed_bytes = f.metadata().map_err(|e| TrivyError::io(out, e))?.len();
    Ok(PackSummary {
        compressed_bytes,
        db_bytes: db_meta.len(),
        metadata_bytes: md_bytes.len() as u64,
    })
}

fn append<W: Write, R: Read>(
    tar: &mut tar::Builder<W>,
    name: &str,
    size: u64,
    data: R,
    mtime: u64,
) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_username("")?;
    h.set_groupname("")?;
    // The size is fixed in the header: a file that changes while being packed fails here
    // instead of producing a corrupt archive.
    let mut limited = data.take(size);
    tar.append_data(&mut h, name, &mut limited)?;
    if limited.limit() != 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{name} shrank while packing"),
        ));
    }
    Ok(())
}

fn regular_file_meta(path: &Path) -> Result<fs::Metadata, TrivyError> {
    let m = fs::symlink_metadata(path).map_err(|e| TrivyError::io(path, e))?;
    if !m.file_type().is_file() {
        return Err(TrivyError::io(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
        ));
    }
    Ok(m)
}

fn read_regular_capped(path: &Path, cap: u64) -> Result<Vec<u8>, TrivyError> {
    regular_file_meta(path)?;
    let f = File::open(path).map_err(|e| TrivyError::io(path, e))?;
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| TrivyError::io(path, e))?;
    if buf.len() as u64 > cap {
        return Err(TrivyError::BadMetadata {
            path: path.to_path_buf(),
            reason: format!("larger than {cap} bytes"),
        });
    }
    Ok(buf)
}

/// Reads a `db.tar.gz` stream strictly, writing `trivy.db` into `dest` (created new) and
/// returning the parsed metadata, its raw bytes and the DB size. `archive` names the input in
/// errors. On error, a partly written `dest/trivy.db` is removed.
fn extract<R: Read>(
    reader: R,
    archive: &Path,
    dest: &Path,
    limits: &DbLimits,
) -> Result<(Metadata, Vec<u8>, u64), TrivyError> {
    let db_path = dest.join(DB_FILE);
    let result = extract_inner(reader, archive, &db_path, limits);
    if result.is_err() {
        let _ = fs::remove_file(&db_path);
    }
    result
}

fn extract_inner<R: Read>(
    reader: R,
    archive: &Path,
    db_path: &Path,
    limits: &DbLimits,
) -> Result<(Metadata, Vec<u8>, u64), TrivyError> {
    let malformed = |e: io::Error| TrivyError::MalformedArchive {
        archive: archive.to_path_buf(),
        reason: e.to_string().chars().take(200).collect(),
    };
    let mut tar = tar::Archive::new(GzDecoder::new(reader));
    let mut metadata: Option<(Metadata, Vec<u8>)> = None;
    let mut db_bytes: Option<u64> = None;
    {
        // Raw mode: PAX and GNU long-name headers come back as entries of their own (and are
        // refused below) instead of being read whole by the tar crate.
        let entries = tar.entries().map_err(malformed)?.raw(true);
        for (n, entry) in entries.enumerate() {
            let mut entry = entry.map_err(malformed)?;
            if n >= limits.max_entries {
                return Err(TrivyError::UnexpectedEntry {
                    archive: archive.to_path_buf(),
                    entry: String::new(),
                    reason: "too many entries",
                });
            }
            let name_bytes = entry.path_bytes().into_owned();
            let shown: String = String::from_utf8_lossy(&name_bytes)
                .chars()
                .take(200)
                .collect();
            let unexpected = |reason| TrivyError::UnexpectedEntry {
                archive: archive.to_path_buf(),
                entry: shown.clone(),
                reason,
            };
            if !entry.header().entry_type().is_file() {
                return Err(unexpected("not a regular file"));
            }
            let size = entry.header().size().map_err(malformed)?;
            match name_bytes.as_slice() {
                b"metadata.json" => {
                    if metadata.is_some() {
                        return Err(TrivyError::DuplicateEntry {
                            archive: archive.to_path_buf(),
                            entry: METADATA_FILE,
                        });
                    }
                    if size > limits.max_metadata_bytes {
                        return Err(too_large(archive, METADATA_FILE, limits.max_metadata_bytes));
                    }
                    let mut buf = Vec::new();
                    (&mut entry)
                        .take(limits.max_metadata_bytes + 1)
                        .read_to_end(&mut buf)
                        .map_err(malformed)?;
                    let shown_path = archive.join(METADATA_FILE);
                    metadata = Some((Metadata::parse(&buf, &shown_path)?, buf));
                }
                b"trivy.db" => {
                    if db_bytes.is_some() {
                        return Err(TrivyError::DuplicateEntry {
                            archive: archive.to_path_buf(),
                            entry: DB_FILE,
                        });
                    }
                    if size > limits.max_db_bytes {
                        return Err(too_large(archive, DB_FILE, limits.max_db_bytes));
                    }
                    let out = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(db_path)
                        .map_err(|e| TrivyError::io(db_path, e))?;
                    let mut w = BufWriter::with_capacity(1 << 20, out);
                    let copied = io::copy(&mut (&mut entry).take(limits.max_db_bytes + 1), &mut w)
                        .map_err(malformed)?;
                    if copied != size {
                        return Err(malformed(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "trivy.db shorter than its header says",
                        )));
                    }
                    let f = w
                        .into_inner()
                        .map_err(|e| TrivyError::io(db_path, e.into_error()))?;
                    f.sync_all().map_err(|e| TrivyError::io(db_path, e))?;
                    db_bytes = Some(copied);
                }
                _ => return Err(unexpected("only trivy.db and metadata.json are allowed")),
            }
        }
    }
    // Read the gzip stream to its end so its CRC and length are checked, with a cap on what may
    // follow the tar end marker.
    let mut gz = tar.into_inner();
    let rest =
        io::copy(&mut (&mut gz).take(MAX_TRAILER + 1), &mut io::sink()).map_err(malformed)?;
    if rest > MAX_TRAILER {
        return Err(too_large(
            archive,
            "data after the tar end marker",
            MAX_TRAILER,
        ));
    }
    let (metadata, md_raw) = metadata.ok_or(TrivyError::MissingEntry {
        archive: archive.to_path_buf(),
        entry: METADATA_FILE,
    })?;
    let db_bytes = db_bytes.ok_or(TrivyError::MissingEntry {
        archive: archive.to_path_buf(),
        entry: DB_FILE,
    })?;
    Ok((metadata, md_raw, db_bytes))
}

fn too_large(archive: &Path, entry: &'static str, limit: u64) -> TrivyError {
    TrivyError::TooLarge {
        archive: archive.to_path_buf(),
        entry,
        limit,
    }
}

fn require_vulnerability_bucket(path: &Path, buckets: &[String]) -> Result<(), TrivyError> {
    if buckets.iter().any(|b| b == VULNERABILITY_BUCKET) {
        Ok(())
    } else {
        Err(TrivyError::NotBolt {
            path: path.to_path_buf(),
            reason: "no 'vulnerability' bucket (Trivy crashes on such a DB)",
        })
    }
}

/// Validates an upstream `db.tar.gz` (from `oras pull` of Trivy's DB image) before the builder
/// packs it with `--trivy-db PATH`: only `trivy.db` and `metadata.json`, metadata schema 2,
/// and `trivy.db` a Go-compatible Bolt file that bbolt opens read-only and finds consistent,
/// with a `vulnerability` bucket. The DB is unpacked into a temporary directory that is removed
/// afterwards.
pub fn validate_upstream_db_tar_gz(path: &Path, limits: &DbLimits) -> Result<DbInfo, TrivyError> {
    let file = File::open(path).map_err(|e| TrivyError::io(path, e))?;
    let tmp = tempfile::Builder::new()
        .prefix("ouk-trivy-validate")
        .tempdir()
        .map_err(|e| TrivyError::io(std::env::temp_dir(), e))?;
    let (metadata, _raw, db_bytes) = extract(io::BufReader::new(file), path, tmp.path(), limits)?;
    let db_path = tmp.path().join(DB_FILE);
    let info = check_bolt(&db_path, true).map_err(|e| rename_path(e, path))?;
    require_vulnerability_bucket(&path.join(DB_FILE), &info.root_buckets)?;
    Ok(DbInfo {
        metadata,
        db_bytes,
        page_size: info.page_size,
        root_buckets: info.root_buckets,
    })
}

/// Errors about the temporary copy name the archive member instead.
fn rename_path(e: TrivyError, archive: &Path) -> TrivyError {
    let shown = archive.join(DB_FILE);
    match e {
        TrivyError::NotBolt { reason, .. } => TrivyError::NotBolt {
            path: shown,
            reason,
        },
        TrivyError::Bolt { message, .. } => TrivyError::Bolt {
            path: shown,
            message,
        },
        TrivyError::Io { source, .. } => TrivyError::Io {
            path: shown,
            source,
        },
        other => other,
    }
}

/// Installs the (already signature-verified) `trivy/db.tar.gz` member as
/// `<cache_dir>/db/trivy.db` and `<cache_dir>/db/metadata.json`, so that
/// `trivy --cache-dir <cache_dir> --skip-db-update --offline-scan` uses it in place.
///
/// Strict: only those two regular files, sizes capped, metadata schema 2, `trivy.db` a
/// Go-compatible Bolt file with a `vulnerability` bucket. Neither file may exist yet (the
/// importer installs into a fresh generation); on error nothing is left behind in `db/`.
pub fn install_db_tar_gz(
    reader: impl Read,
    cache_dir: &Path,
    limits: &DbLimits,
) -> Result<InstallSummary, TrivyError> {
    let db_dir = cache_dir.join("db");
    fs::create_dir_all(&db_dir).map_err(|e| TrivyError::io(&db_dir, e))?;
    let db_path = db_dir.join(DB_FILE);
    let md_path = db_dir.join(METADATA_FILE);
    for p in [&db_path, &md_path] {
        if p.symlink_metadata().is_ok() {
            return Err(TrivyError::OutputExists { path: p.clone() });
        }
    }
    let archive = Path::new("trivy/db.tar.gz");
    let (metadata, md_raw, db_bytes) = extract(reader, archive, &db_dir, limits)?;
    let finish = || -> Result<(), TrivyError> {
        let info = check_bolt(&db_path, false)?;
        require_vulnerability_bucket(&db_path, &info.root_buckets)?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&md_path)
            .map_err(|e| TrivyError::io(&md_path, e))?;
        f.write_all(&md_raw)
            .map_err(|e| TrivyError::io(&md_path, e))?;
        f.sync_all().map_err(|e| TrivyError::io(&md_path, e))?;
        Ok(())
    };
    if let Err(e) = finish() {
        let _ = fs::remove_file(&db_path);
        let _ = fs::remove_file(&md_path);
        return Err(e);
    }
    Ok(InstallSummary {
        metadata,
        db_bytes,
        db_path,
    })
}
