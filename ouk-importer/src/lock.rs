//! The store lock: one exclusive advisory lock on `<store>/.lock` serialises every command that
//! changes the store (import, rollback, gc). The kernel drops it when the process dies, so a
//! crashed import never leaves the store locked.
//!
//! The lock file is opened through [`fsx::open_store_file`]: a `.lock` planted as a link (to an
//! existing file or a missing one) is refused, never followed or created.

use std::fs::File;
use std::path::Path;

use fs4::fs_std::FileExt;

use crate::error::{Error, Result};
use crate::fsx::{self, Access};

/// A held lock; released on drop (or process exit).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// How to behave when another process holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Block until the lock is free.
    Block,
    /// Fail at once with [`Error::Locked`].
    NoWait,
}

impl StoreLock {
    /// Take the exclusive lock of the store at `store`.
    pub fn exclusive(store: &Path, wait: Wait) -> Result<StoreLock> {
        let path = store.join(".lock");
        let file = fsx::open_store_file(&path, Access::ReadWrite)?
            .ok_or(Error::Internal("lock file missing after create"))?;
        match wait {
            Wait::Block => FileExt::lock_exclusive(&file)
                .map_err(|e| Error::io("locking the store", &path, e))?,
            Wait::NoWait => match FileExt::try_lock_exclusive(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    return Err(Error::Locked {
                        store: store.to_path_buf(),
                    })
                }
                Err(e) => return Err(Error::io("locking the store", &path, e)),
            },
        }
        Ok(StoreLock { _file: file })
    }

    /// Take a shared lock (readers that must not see a half-appended audit record). Returns
    /// `None` when the store has no lock file yet (nothing was ever written).
    pub fn shared(store: &Path) -> Result<Option<StoreLock>> {
        let path = store.join(".lock");
        let Some(file) = fsx::open_store_file(&path, Access::Read)? else {
            return Ok(None);
        };
        FileExt::lock_shared(&file).map_err(|e| Error::io("locking the store", &path, e))?;
        Ok(Some(StoreLock { _file: file }))
    }
}
