//! Small filesystem primitives the crash-safety argument rests on: fsync of directories, write
//! to a temporary name + fsync + rename, fresh directories and files that never follow or reuse
//! an existing path.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::failpoint;

/// fsync a directory so that entries created, renamed or removed in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    failpoint!("fsx::sync_dir", dir);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("syncing directory", dir, e))
}

/// Create a directory that must not exist yet (never reuses a leftover).
pub fn create_dir_new(dir: &Path) -> Result<()> {
    failpoint!("fsx::create_dir", dir);
    fs::create_dir(dir).map_err(|e| Error::io("creating directory", dir, e))
}

/// Create a directory if missing; an existing entry must be a real directory (not a symlink).
pub fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::StoreDamaged {
            path: dir.to_path_buf(),
            reason: "expected a directory".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match fs::create_dir(dir) {
            Ok(()) => Ok(()),
            // Another process (before the lock exists) created it in between: fine if a directory.
            Err(e)
                if e.kind() == std::io::ErrorKind::AlreadyExists
                    && !fs::symlink_metadata(dir)
                        .map(|m| m.file_type().is_symlink())
                        .unwrap_or(true)
                    && dir.is_dir() =>
            {
                Ok(())
            }
            Err(e) => Err(Error::io("creating directory", dir, e)),
        },
        Err(e) => Err(Error::io("inspecting", dir, e)),
    }
}

/// Create a file that must not exist yet. `O_CREAT|O_EXCL` never follows a symlink at the last
/// component, so a planted link cannot redirect the write.
pub fn create_file_new(path: &Path) -> Result<File> {
    failpoint!("fsx::create_file", path);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("creating file", path, e))
}

/// Replace `path` atomically with `data`: write `path.tmp` (fresh), fsync it, rename it over
/// `path`, fsync the parent. A crash leaves either the old or the new content, never a mix.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let parent = path
        .parent()
        .ok_or(Error::Internal("atomic write without parent"))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    match fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("removing stale temporary file", tmp, e)),
    }
    let mut f = create_file_new(tmp)?;
    let written = (|| {
        failpoint!("fsx::write_atomic::write", tmp);
        f.write_all(data)
            .map_err(|e| Error::io("writing", tmp, e))?;
        failpoint!("fsx::write_atomic::fsync", tmp);
        f.sync_all().map_err(|e| Error::io("syncing", tmp, e))
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    drop(f);
    failpoint!("fsx::write_atomic::rename", path);
    fs::rename(tmp, path).map_err(|e| {
        let _ = fs::remove_file(tmp);
        Error::io("renaming into place", path, e)
    })?;
    sync_dir(parent)
}

/// Read a small file with a size cap (store files are ours, but a damaged store must not make us
/// read gigabytes).
pub fn read_capped(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("opening", path, e)),
    };
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("reading", path, e))?;
    if buf.len() as u64 > limit {
        return Err(Error::StoreDamaged {
            path: path.to_path_buf(),
            reason: format!("larger than {limit} bytes"),
        });
    }
    Ok(Some(buf))
}

/// fsync every regular file and directory below and including `root` (files first, directories
/// deepest first), without following symlinks. Files the sink already synced cost almost nothing;
/// files written by other code (the Trivy installer) are covered too.
pub fn sync_tree(root: &Path) -> Result<()> {
    let mut dirs = vec![root.to_path_buf()];
    let mut i = 0;
    while i < dirs.len() {
        let dir = dirs[i].clone();
        for entry in fs::read_dir(&dir).map_err(|e| Error::io("listing", &dir, e))? {
            let entry = entry.map_err(|e| Error::io("listing", &dir, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("inspecting", entry.path(), e))?;
            if ft.is_dir() {
                dirs.push(entry.path());
            } else if ft.is_file() {
                let path = entry.path();
                failpoint!("fsx::sync_file", &path);
                File::open(&path)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| Error::io("syncing file", &path, e))?;
            }
        }
        i += 1;
    }
    for dir in dirs.iter().rev() {
        sync_dir(dir)?;
    }
    Ok(())
}
