//! `<store>/trust/<N>.json`: every trust root the store has accepted, by version, as the exact
//! bytes that were verified.
//!
//! The newest one is the root the importer trusts next time, whatever file the operator's
//! configuration still names: after a rotation carried in by a kit, the scheduled job keeps
//! running with the old `--trust-root` and gets the new root from here. Files are only ever
//! added (temp + fsync + rename); the version never goes down.

use std::fs;
use std::path::{Path, PathBuf};

use ouk_format::trust_root::{verify_anchor, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::Limits;

use crate::error::{Error, Result};
use crate::fsx::{self, DirRule};

/// Most root files a store may hold (one per rotation; a store with more has been tampered
/// with or misused, and listing it must stay cheap).
const MAX_STORED_ROOTS: usize = 4096;

/// The trust directory of a store.
#[derive(Debug, Clone)]
pub struct TrustStore {
    dir: PathBuf,
}

/// One stored root: its version, bytes and verified model.
#[derive(Debug, Clone)]
pub struct StoredRoot {
    /// Its version (the file name).
    pub version: u64,
    /// The file as verified.
    pub bytes: Vec<u8>,
    /// The model (self-signature verified; expiry not checked).
    pub root: Verified<TrustRoot>,
}

impl TrustStore {
    /// The trust directory of the store at `root`.
    pub fn new(store_root: &Path) -> TrustStore {
        TrustStore {
            dir: store_root.join("trust"),
        }
    }

    /// Stored versions, ascending. A missing directory is an empty list.
    pub fn versions(&self) -> Result<Vec<u64>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing", &self.dir, e)),
        };
        fsx::check_dir(&self.dir, DirRule::Private)?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("listing", &self.dir, e))?;
            let name = entry.file_name();
            let Some(version) = name.to_str().and_then(parse_name) else {
                continue;
            };
            out.push(version);
            if out.len() > MAX_STORED_ROOTS {
                return Err(Error::StoreDamaged {
                    path: self.dir.clone(),
                    reason: format!("more than {MAX_STORED_ROOTS} trust roots"),
                });
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Read and verify (self-signature, structure; not expiry) the stored root `version`.
    pub fn load(&self, version: u64, limits: &Limits) -> Result<StoredRoot> {
        let path = self.path(version);
        let bytes = fsx::read_capped(&path, limits.max_trust_root_bytes)?.ok_or_else(|| {
            Error::StoreDamaged {
                path: path.clone(),
                reason: "trust root vanished".into(),
            }
        })?;
        let root = verify_anchor(&bytes, limits).map_err(|e| Error::StoreDamaged {
            path: path.clone(),
            reason: format!("stored trust root does not verify: {e}"),
        })?;
        if root.version != version {
            return Err(Error::StoreDamaged {
                path,
                reason: format!("file holds version {}", root.version),
            });
        }
        Ok(StoredRoot {
            version,
            bytes,
            root,
        })
    }

    /// The newest stored root, if any.
    pub fn latest(&self, limits: &Limits) -> Result<Option<StoredRoot>> {
        match self.versions()?.last() {
            Some(v) => self.load(*v, limits).map(Some),
            None => Ok(None),
        }
    }

    /// Keep a verified root. An identical file already there is fine; a different one with the
    /// same version is refused (two roots signed for one version: someone equivocated).
    pub fn persist(&self, version: u64, bytes: &[u8]) -> Result<()> {
        fsx::ensure_dir(&self.dir)?;
        let path = self.path(version);
        if let Some(existing) = fsx::read_capped(&path, Limits::default().max_trust_root_bytes)? {
            if existing == bytes {
                return Ok(());
            }
            return Err(Error::TrustRootMismatch { version });
        }
        fsx::write_atomic(&path, bytes)?;
        fsx::sync_dir(&self.dir)
    }

    /// Remove roots this attempt added, when its generation was not published after all
    /// (best effort: a root left behind was verified, so it is harmless, only premature).
    pub fn forget(&self, versions: &[u64]) {
        for v in versions {
            let _ = fs::remove_file(self.path(*v));
        }
        if !versions.is_empty() {
            let _ = fsx::sync_dir(&self.dir);
        }
    }

    fn path(&self, version: u64) -> PathBuf {
        self.dir.join(format!("{version}.json"))
    }
}

/// `<N>.json` with N decimal without a leading zero; anything else in the directory is ignored.
fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    if digits.is_empty() || digits.len() > 16 || digits.starts_with('0') {
        return None;
    }
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("12.json"), Some(12));
        assert_eq!(parse_name("012.json"), None);
        assert_eq!(parse_name("1.json.tmp"), None);
        assert_eq!(parse_name(".json"), None);
        assert_eq!(parse_name("x.json"), None);
    }
}
