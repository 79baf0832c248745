//! Small filesystem primitives the crash-safety argument rests on: fsync of directories, write
//! to a temporary name + fsync + rename, fresh directories and files that never follow or reuse
//! an existing path.
//!
//! It is also the one place that opens an existing store entry (issue 11, item 3). A local user
//! who can plant entries in the store must not redirect our writes: every open uses
//! `O_NOFOLLOW` (a link at the last component fails with `ELOOP`), `O_NONBLOCK` (a planted FIFO
//! cannot hang us) and `O_CLOEXEC`, and the opened handle is `fstat`ed: it must be of the expected
//! type, owned by our effective uid and, for files, have a single hard link. The entry is also
//! `lstat`ed before it is opened, so a device or socket is refused without being opened at all.
//! Intermediate components are not re-checked here: the store root and its top directories are
//! verified (owner, mode, no link) before anything is opened, so only their owner could swap
//! them.

use std::fs::{self, File, Metadata};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::error::{EntryKind, Error, Result};
use crate::failpoint;

/// Mode of the directories the importer creates at the top of the store: the owner writes, a
/// group (e.g. a scanner's) may read, others get nothing.
pub const DIR_MODE: u32 = 0o750;

/// Mode of the store files created by [`open_store_file`] (`.lock`, `audit.jsonl`).
pub const FILE_MODE: u32 = 0o640;

/// Permission bits that let someone other than the owner add, remove or rename entries.
const GROUP_OTHER_WRITE: u32 = 0o022;

/// The effective uid: every store entry must belong to it, or its owner could change it under us.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// How [`open_store_file`] opens a store file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read only; a missing file is `Ok(None)`.
    Read,
    /// Read and write, created (mode [`FILE_MODE`]) when missing, never truncated (`.lock`).
    ReadWrite,
    /// Read and append, created when missing (`audit.jsonl`).
    Append,
}

/// How strictly [`check_dir`] judges a store directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirRule {
    /// A real directory owned by us (generation directories and what lies below them).
    Owned,
    /// Also not writable by group or others (the store root, `staging/`, `generations/`,
    /// `trust/`), so nobody else can plant entries in it.
    Private,
}

/// Open a store file without following a link, then check the handle: a regular file, owned by
/// our effective uid, with one hard link. Returns `None` only for [`Access::Read`] of a missing
/// file. Planted links, FIFOs, devices, sockets and hard links are refused with a `Store*` error
/// naming the path.
pub fn open_store_file(path: &Path, access: Access) -> Result<Option<File>> {
    match fs::symlink_metadata(path) {
        Ok(m) => check_kind(path, &m, EntryKind::File)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if access == Access::Read {
                return Ok(None);
            }
        }
        Err(e) => return Err(Error::io("inspecting", path, e)),
    }
    let flags = match access {
        Access::Read => OFlags::RDONLY,
        Access::ReadWrite => OFlags::RDWR | OFlags::CREATE,
        Access::Append => OFlags::RDWR | OFlags::APPEND | OFlags::CREATE,
    } | OFlags::NOFOLLOW
        | OFlags::NONBLOCK
        | OFlags::NOCTTY
        | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(path, flags, Mode::from_raw_mode(FILE_MODE)) {
        Ok(fd) => fd,
        Err(Errno::NOENT) if access == Access::Read => return Ok(None),
        Err(e) => return Err(open_error(path, e, EntryKind::File)),
    };
    let file = File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| Error::io("inspecting", path, e))?;
    check_kind(path, &meta, EntryKind::File)?;
    check_owner(path, &meta)?;
    if meta.nlink() != 1 {
        return Err(Error::StoreHardLinked {
            path: path.to_path_buf(),
            links: meta.nlink(),
        });
    }
    Ok(Some(file))
}

/// Open an existing store directory without following a link and check the handle against
/// `rule`. The handle is returned for callers that fsync it.
pub fn check_dir(path: &Path, rule: DirRule) -> Result<File> {
    let m = fs::symlink_metadata(path).map_err(|e| Error::io("inspecting", path, e))?;
    check_kind(path, &m, EntryKind::Directory)?;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = File::from(
        rustix::fs::open(path, flags, Mode::empty())
            .map_err(|e| open_error(path, e, EntryKind::Directory))?,
    );
    let meta = dir
        .metadata()
        .map_err(|e| Error::io("inspecting", path, e))?;
    check_kind(path, &meta, EntryKind::Directory)?;
    check_owner(path, &meta)?;
    if rule == DirRule::Private && meta.mode() & GROUP_OTHER_WRITE != 0 {
        return Err(Error::StorePermissions {
            path: path.to_path_buf(),
            mode: meta.mode() & 0o7777,
        });
    }
    Ok(dir)
}

/// Refuse an entry of another type than `expected`; a link gets its own variant because it is
/// the planted entry an operator most needs to recognise.
fn check_kind(path: &Path, meta: &Metadata, expected: EntryKind) -> Result<()> {
    match EntryKind::of(meta.file_type()) {
        found if found == expected => Ok(()),
        EntryKind::Symlink => Err(Error::StoreSymlink {
            path: path.to_path_buf(),
        }),
        found => Err(Error::StoreEntryType {
            path: path.to_path_buf(),
            found,
            expected,
        }),
    }
}

fn check_owner(path: &Path, meta: &Metadata) -> Result<()> {
    let euid = euid();
    if meta.uid() != euid {
        return Err(Error::StoreOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            euid,
        });
    }
    Ok(())
}

/// Turn a failed no-follow open into the precise refusal: `ELOOP` is a link at the last
/// component; `ENXIO`/`ENOTDIR` mean the entry was swapped for another type after the `lstat`.
fn open_error(path: &Path, e: Errno, expected: EntryKind) -> Error {
    match e {
        Errno::LOOP => Error::StoreSymlink {
            path: path.to_path_buf(),
        },
        Errno::NXIO | Errno::NOTDIR => match fs::symlink_metadata(path) {
            Ok(m) => match check_kind(path, &m, expected) {
                Err(refusal) => refusal,
                Ok(()) => Error::io("opening", path, e.into()),
            },
            Err(_) => Error::io("opening", path, e.into()),
        },
        _ => Error::io("opening", path, e.into()),
    }
}

/// fsync a directory so that entries created, renamed or removed in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    failpoint!("fsx::sync_dir", dir);
    check_dir(dir, DirRule::Owned)?
        .sync_all()
        .map_err(|e| Error::io("syncing directory", dir, e))
}

/// Create a directory that must not exist yet (never reuses a leftover).
pub fn create_dir_new(dir: &Path) -> Result<()> {
    failpoint!("fsx::create_dir", dir);
    fs::create_dir(dir).map_err(|e| Error::io("creating directory", dir, e))
}

/// Create a store directory (mode [`DIR_MODE`]) if missing, then check it with
/// [`DirRule::Private`]: an existing entry must be a real directory of ours that nobody else can
/// write. `mkdir` never follows a link, so a planted one is refused, not used.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("creating directory", dir, e)),
    }
    check_dir(dir, DirRule::Private).map(drop)
}

/// Create a file that must not exist yet. `O_CREAT|O_EXCL` already refuses a symlink at the last
/// component; `O_NOFOLLOW` says so explicitly, so a planted link cannot redirect the write.
pub fn create_file_new(path: &Path) -> Result<File> {
    failpoint!("fsx::create_file", path);
    let flags = OFlags::WRONLY
        | OFlags::CREATE
        | OFlags::EXCL
        | OFlags::NOFOLLOW
        | OFlags::NOCTTY
        | OFlags::CLOEXEC;
    // 0666 less the umask, as `File::create` would.
    rustix::fs::open(path, flags, Mode::from_raw_mode(0o666))
        .map(File::from)
        .map_err(|e| Error::io("creating file", path, e.into()))
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

/// Read a small store file with a size cap (store files are ours, but a damaged store must not
/// make us read gigabytes), opened by [`open_store_file`] so a planted link is refused.
pub fn read_capped(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let Some(f) = open_store_file(path, Access::Read)? else {
        return Ok(None);
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

/// Refuses with `insufficient_space` unless the file system of `dir` has `needed` bytes free: checked
/// against signed or declared sizes before anything is written, so a large kit fails cleanly
/// instead of filling the disk half-way.
pub fn ensure_free_space(dir: &Path, needed: u64) -> Result<()> {
    let available =
        fs4::available_space(dir).map_err(|e| Error::io("measuring free space", dir, e))?;
    if needed > available {
        return Err(Error::InsufficientSpace {
            path: dir.to_path_buf(),
            needed,
            available,
        });
    }
    Ok(())
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
                // No-follow, non-blocking: an entry swapped after the readdir is refused, not
                // followed or waited on.
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
                let f = File::from(
                    rustix::fs::open(&path, flags, Mode::empty())
                        .map_err(|e| open_error(&path, e, EntryKind::File))?,
                );
                f.sync_all()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn mkfifo(path: &Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
    }

    #[test]
    fn missing_file_is_none_for_read_and_created_for_write() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        assert!(open_store_file(&p, Access::Read).unwrap().is_none());
        assert!(open_store_file(&p, Access::Append).unwrap().is_some());
        let mode = fs::metadata(&p).unwrap().mode() & 0o777;
        assert_eq!(mode & !FILE_MODE, 0, "mode {mode:o}");
        assert!(open_store_file(&p, Access::Read).unwrap().is_some());
    }

    #[test]
    fn symlink_is_refused_and_its_target_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        symlink(&target, &link).unwrap();
        for access in [Access::Read, Access::ReadWrite, Access::Append] {
            let e = open_store_file(&link, access).unwrap_err();
            assert!(
                matches!(&e, Error::StoreSymlink { path } if path == &link),
                "{e:?}"
            );
            assert!(fs::symlink_metadata(&target).is_err());
        }
        fs::write(&target, b"x").unwrap();
        let e = open_store_file(&link, Access::Append).unwrap_err();
        assert!(matches!(e, Error::StoreSymlink { .. }), "{e:?}");
        assert_eq!(fs::read(&target).unwrap(), b"x");
    }

    #[test]
    fn fifo_is_refused_without_opening() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        mkfifo(&p);
        for access in [Access::Read, Access::Append] {
            let e = open_store_file(&p, access).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::StoreEntryType {
                        found: EntryKind::Fifo,
                        expected: EntryKind::File,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }

    #[test]
    fn directory_where_a_file_belongs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_store_file(dir.path(), Access::ReadWrite).unwrap_err();
        assert!(
            matches!(
                e,
                Error::StoreEntryType {
                    found: EntryKind::Directory,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn hard_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, b"x").unwrap();
        fs::hard_link(&a, &b).unwrap();
        let e = open_store_file(&b, Access::Append).unwrap_err();
        assert!(
            matches!(e, Error::StoreHardLinked { links: 2, .. }),
            "{e:?}"
        );
        let e = read_capped(&b, 10).unwrap_err();
        assert!(matches!(e, Error::StoreHardLinked { .. }), "{e:?}");
    }

    #[test]
    fn private_dir_rule_refuses_group_and_other_write() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        ensure_dir(&d).unwrap();
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, DIR_MODE);
        for mode in [0o770, 0o702, 0o1777] {
            fs::set_permissions(&d, fs::Permissions::from_mode(mode)).unwrap();
            let e = check_dir(&d, DirRule::Private).unwrap_err();
            assert!(
                matches!(e, Error::StorePermissions { mode: m, .. } if m == mode),
                "{e:?}"
            );
            assert!(check_dir(&d, DirRule::Owned).is_ok());
            assert!(matches!(
                ensure_dir(&d).unwrap_err(),
                Error::StorePermissions { .. }
            ));
        }
    }

    #[test]
    fn dir_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        let link = dir.path().join("link");
        fs::create_dir(&real).unwrap();
        symlink(&real, &link).unwrap();
        for rule in [DirRule::Owned, DirRule::Private] {
            let e = check_dir(&link, rule).unwrap_err();
            assert!(matches!(e, Error::StoreSymlink { .. }), "{e:?}");
        }
        assert!(matches!(
            ensure_dir(&link).unwrap_err(),
            Error::StoreSymlink { .. }
        ));
        assert!(matches!(
            sync_dir(&link).unwrap_err(),
            Error::StoreSymlink { .. }
        ));
    }

    #[test]
    fn read_capped_refuses_oversize() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"0123456789").unwrap();
        assert_eq!(read_capped(&p, 10).unwrap().unwrap(), b"0123456789");
        assert!(matches!(
            read_capped(&p, 9).unwrap_err(),
            Error::StoreDamaged { .. }
        ));
    }
}
