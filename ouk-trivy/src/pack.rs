//! Builder side of `db.tar.gz`: deterministic packing, and validation of an upstream archive
//! before it is packed (`--trivy-db PATH`). Behind the `export` feature: the importer never packs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use flate2::{Compression, GzBuilder};

use crate::metadata::Metadata;
use crate::{install_db_tar_gz, DbLimits, TrivyError, DB_FILE, METADATA_FILE};

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

/// Validates an upstream `db.tar.gz` (from `oras pull` of Trivy's DB image) before the builder
/// packs it with `--trivy-db PATH`: exactly what the importer will check, by installing it into
/// a temporary directory that is removed afterwards (so a DB the importer would refuse fails the
/// build instead).
pub fn validate_upstream_db_tar_gz(path: &Path, limits: &DbLimits) -> Result<DbInfo, TrivyError> {
    let file = File::open(path).map_err(|e| TrivyError::io(path, e))?;
    let tmp = tempfile::Builder::new()
        .prefix("ouk-trivy-validate")
        .tempdir()
        .map_err(|e| TrivyError::io(std::env::temp_dir(), e))?;
    let max = limits
        .max_db_bytes
        .saturating_add(limits.max_metadata_bytes);
    let s = install_db_tar_gz(io::BufReader::new(file), tmp.path(), max, limits).map_err(|e| {
        // Name the archive's member, not the temporary copy.
        match e {
            TrivyError::InvalidBolt {
                bucket, problem, ..
            } => TrivyError::InvalidBolt {
                path: path.join(DB_FILE),
                bucket,
                problem,
            },
            other => other,
        }
    })?;
    Ok(DbInfo {
        metadata: s.metadata,
        db_bytes: s.db_bytes,
        page_size: s.bolt.page_size,
        root_buckets: s.bolt.root_buckets,
    })
}
