//! Opening files of an OCI layout on untrusted media without following links: every component is
//! opened with `O_NOFOLLOW` relative to its parent (`openat`), so a layout whose `blobs/` is a
//! link to `/etc` cannot make us read outside it, and a FIFO cannot block us (`O_NONBLOCK`).

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, CWD};

use crate::error::{Error, Result};

/// An open directory of a layout.
pub(crate) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// Opens the layout's top directory (a link given by the operator is followed; nothing below).
    pub(crate) fn open_top(path: &Path) -> Result<Dir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("opening the layout", path, e.into()))?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Opens a subdirectory, refusing links.
    pub(crate) fn dir(&self, name: &str) -> Result<Dir> {
        let path = self.path.join(name);
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
                Error::layout(&path, "not a directory (links are refused)")
            }
            e => Error::io("opening", &path, e.into()),
        })?;
        Ok(Dir { fd, path })
    }

    /// Opens a regular file, refusing links, FIFOs and devices.
    pub(crate) fn file(&self, name: &str) -> Result<(File, PathBuf)> {
        let path = self.path.join(name);
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP => Error::layout(&path, "is a link (refused)"),
            e => Error::io("opening", &path, e.into()),
        })?;
        let file = File::from(fd);
        let meta = file
            .metadata()
            .map_err(|e| Error::io("inspecting", &path, e))?;
        if !meta.file_type().is_file() {
            return Err(Error::layout(&path, "not a regular file"));
        }
        Ok((file, path))
    }

    /// Reads a small regular file whole, refusing it if larger than `cap` (checked on the open
    /// descriptor and again while reading, so a growing file cannot get past it).
    pub(crate) fn read_capped(&self, name: &str, cap: u64) -> Result<Vec<u8>> {
        let (file, path) = self.file(name)?;
        let mut out = Vec::new();
        file.take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io("reading", &path, e))?;
        if out.len() as u64 > cap {
            return Err(Error::layout(&path, format!("larger than {cap} bytes")));
        }
        Ok(out)
    }

    /// Path of an entry, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `path` exists at all (without following a final link).
pub(crate) fn exists(path: &Path) -> bool {
    rustix::fs::statat(CWD, path, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok()
}
