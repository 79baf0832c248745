//! The generation store on disk.
//!
//! ```text
//! <store>/
//!   .lock                       exclusive lock of every changing command
//!   state.json                  high-water marks (anti-rollback floor, time), atomic replace
//!   audit.jsonl                 hash-chained audit log
//!   current -> generations/<sequence>-<12 hex of kit sha256>     (relative symlink)
//!   generations/<name>/         one complete, verified kit per directory:
//!       <member paths...>       the members, as listed in the manifest
//!       trivy/db/trivy.db       installed Trivy DB (when the kit has trivy/db.tar.gz)
//!       trivy/java-db/          beside it, the Java DB stub Trivy needs to analyse JARs offline
//!       .ouk/manifest.json      the verified manifest payload
//!       .ouk/manifest.dsse.json the signed envelope (re-verifiable later)
//!       .ouk/statement.json     the verified in-toto statement
//!       .ouk/generation.json    what was imported, when, under which trust root
//!       .ouk/changes.json       change report against the previously active generation
//!   reports/rescan.json         the last `rescan`
//!   incoming/<kit sha256>/NNN   verified parts of a split kit, kept until it is imported
//!   staging/                    work area on the same filesystem; anything here is garbage
//! ```
//!
//! The commit point of an import is the `current` switch (a new symlink renamed over the old one).
//! [`Store::recover`], run under the lock before any change, finishes or discards whatever a crash
//! interrupted: staging leftovers are removed, a switched-but-unrecorded generation rolls
//! `state.json` forward, a renamed-but-never-activated generation is removed.
//!
//! Before any of that, the store root and its top directories are checked ([`Store::create`],
//! [`Store::open`]): real directories (no links), owned by the effective uid, not writable by group
//! or others. A store anyone else can write is one where links can be planted, so it is refused
//! before the lock is taken or anything is touched.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use ouk_format::digest::Sha256;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{revocations, Revocation};
use serde::{Deserialize, Serialize};

use crate::audit::{Audit, Entry};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::fsx::{self, DirRule};
use crate::state::{State, STATE_FORMAT};

/// `format` of `.ouk/generation.json`.
pub const GENERATION_FORMAT: &str = "ouk-importer-generation/1";

/// What a generation holds, recorded at import (`.ouk/generation.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationInfo {
    /// Always [`GENERATION_FORMAT`].
    pub format: String,
    /// Directory name under `generations/`.
    pub name: String,
    /// Kit sequence.
    pub sequence: u64,
    /// Kit channel.
    pub channel: String,
    /// Kit id.
    pub kit_id: String,
    /// sha256 of the kit file.
    pub kit_sha256: Sha256,
    /// Size of the kit file.
    pub kit_size: u64,
    /// Kit creation time.
    pub created_at: Timestamp,
    /// Kit expiry.
    pub expires_at: Timestamp,
    /// When it was imported (system clock).
    pub imported_at: Timestamp,
    /// Builder id from the manifest.
    pub builder_id: String,
    /// Trust root version used.
    pub trust_root_version: u64,
    /// Trust root expiry.
    pub trust_root_expires: Timestamp,
    /// The kit was past its expiry and accepted with `--allow-expired`.
    pub accepted_expired: bool,
    /// Number of members.
    pub members: usize,
    /// The Trivy DB was installed under `trivy/db/`.
    pub trivy_db: bool,
}

/// A store rooted at a directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// `<sequence>-<12 lowercase hex>`.
pub fn generation_name(sequence: u64, kit_sha256: &Sha256) -> String {
    format!("{sequence}-{}", &kit_sha256.to_hex()[..12])
}

fn valid_generation_name(name: &str) -> bool {
    let Some((seq, hex)) = name.split_once('-') else {
        return false;
    };
    !seq.is_empty()
        && seq.len() <= 20
        && seq.bytes().all(|b| b.is_ascii_digit())
        && hex.len() == 12
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where `pull` keeps registry downloads (`<layer hex>.partial` while it runs, `.ouk` once the
/// digest matched) until the kit is imported.
pub const DOWNLOADS_DIR: &str = "downloads";

impl Store {
    /// The store at `root` (not created).
    pub fn at(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
        }
    }

    /// Create the store layout if missing (the root with mode [`fsx::DIR_MODE`]), after checking
    /// whatever part of it exists ([`Store::open`]'s rule), so nothing is created in an unsafe
    /// store.
    pub fn create(root: &Path) -> Result<Store> {
        if let Err(e) = fs::symlink_metadata(root) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::io("inspecting the store", root, e));
            }
            if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)
                    .map_err(|e| Error::io("creating the store's parent", parent, e))?;
            }
            match fs::DirBuilder::new().mode(fsx::DIR_MODE).create(root) {
                Ok(()) => {}
                // Another importer created it in between; it is checked below like any other.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("creating the store", root, e)),
            }
        }
        let store = Store::open(root)?;
        fsx::ensure_dir(&store.generations_dir())?;
        fsx::ensure_dir(&store.staging_dir())?;
        Ok(store)
    }

    /// The existing store at `root`, checked for the read-only commands: the root, and
    /// `staging/`, `generations/`, `trust/`, `reports/`, `incoming/`, `downloads/` where present, must be real directories owned by the
    /// effective uid and not writable by group or others. A missing root is no store yet (an
    /// empty status), not an error.
    pub fn open(root: &Path) -> Result<Store> {
        let store = Store::at(root);
        match fs::symlink_metadata(root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(store),
            Err(e) => return Err(Error::io("inspecting the store", root, e)),
            Ok(_) => {}
        }
        fsx::check_dir(root, DirRule::Private)?;
        for dir in [
            store.staging_dir(),
            store.generations_dir(),
            store.root.join("trust"),
            store.root.join("reports"),
            store.root.join("incoming"),
            store.root.join(DOWNLOADS_DIR),
        ] {
            match fs::symlink_metadata(&dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("inspecting", &dir, e)),
                Ok(_) => {
                    fsx::check_dir(&dir, DirRule::Private)?;
                }
            }
        }
        Ok(store)
    }

    /// Revocations for a state rolled forward to a generation verified under trust root
    /// `to`: the old state's, plus those between its root and `to` (from the stored roots,
    /// which are written before a generation is published). Best effort: a missing root file
    /// only loses the names of revoked keys, never their revocation.
    fn recovered_revocations(&self, state: Option<&State>, to: u64) -> Vec<Revocation> {
        let mut out = state.map(|s| s.revoked.clone()).unwrap_or_default();
        let Some(from) = state.map(|s| s.trust_root_version).filter(|v| *v < to) else {
            return out;
        };
        let trust = crate::trust_store::TrustStore::new(&self.root);
        let limits = ouk_format::Limits::default();
        if let (Ok(old), Ok(new)) = (trust.load(from, &limits), trust.load(to, &limits)) {
            for r in revocations(&old.root, &new.root) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// The store directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<store>/generations`.
    pub fn generations_dir(&self) -> PathBuf {
        self.root.join("generations")
    }

    /// `<store>/staging`.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// `<store>/current`.
    pub fn current_link(&self) -> PathBuf {
        self.root.join("current")
    }

    /// Directory of a generation.
    pub fn generation_dir(&self, name: &str) -> PathBuf {
        self.generations_dir().join(name)
    }

    /// Name of the active generation, if any. `current` is the one link of the store, and ours:
    /// it is read with `readlink` (never followed) and only a relative `generations/<name>` target
    /// naming a real generation directory is accepted.
    pub fn current(&self) -> Result<Option<String>> {
        let link = self.current_link();
        match fs::symlink_metadata(&link) {
            Ok(m) if m.file_type().is_symlink() => {}
            Ok(m) => {
                return Err(Error::StoreEntryType {
                    path: link,
                    found: crate::error::EntryKind::of(m.file_type()),
                    expected: crate::error::EntryKind::Symlink,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("inspecting the current link", link, e)),
        }
        let target =
            fs::read_link(&link).map_err(|e| Error::io("reading the current link", &link, e))?;
        let mut parts = target.components();
        let (Some(first), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::CurrentOutsideStore { path: link });
        };
        let name = name.as_os_str().to_str().unwrap_or_default().to_owned();
        if first.as_os_str() != "generations" || !valid_generation_name(&name) {
            return Err(Error::CurrentOutsideStore { path: link });
        }
        let dir = self.generation_dir(&name);
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::StoreDamaged {
                path: link,
                reason: "target generation does not exist".to_owned(),
            }),
            Err(e) => Err(Error::io("inspecting", dir, e)),
            Ok(_) => {
                fsx::check_dir(&dir, DirRule::Owned)?;
                Ok(Some(name))
            }
        }
    }

    /// Read a generation's record. The generation directory and its `.ouk/` must be real
    /// directories of ours, so a planted link cannot make us read a record from elsewhere.
    pub fn info(&self, name: &str) -> Result<GenerationInfo> {
        let dir = self.generation_dir(name);
        fsx::check_dir(&dir, DirRule::Owned)?;
        let meta = dir.join(".ouk");
        let path = meta.join("generation.json");
        match fs::symlink_metadata(&meta) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::StoreDamaged {
                    path,
                    reason: "missing".into(),
                })
            }
            Err(e) => return Err(Error::io("inspecting", meta, e)),
            Ok(_) => fsx::check_dir(&meta, DirRule::Owned)?,
        };
        let bytes = fsx::read_capped(&path, 64 * 1024)?.ok_or_else(|| Error::StoreDamaged {
            path: path.clone(),
            reason: "missing".into(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::StoreDamaged {
            path,
            reason: e.to_string(),
        })
    }

    /// Every generation with its record, by ascending sequence.
    pub fn generations(&self) -> Result<Vec<GenerationInfo>> {
        let dir = self.generations_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing generations", dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("listing generations", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if valid_generation_name(&name) {
                out.push(self.info(&name)?);
            }
        }
        out.sort_by(|a, b| a.sequence.cmp(&b.sequence).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    /// Atomically point `current` at `name`: a new symlink renamed over the old, parent fsynced.
    pub fn switch_current(&self, name: &str) -> Result<()> {
        let tmp = self
            .root
            .join(format!("current.tmp-{}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        failpoint!("store::switch::symlink", &tmp);
        std::os::unix::fs::symlink(Path::new("generations").join(name), &tmp)
            .map_err(|e| Error::io("creating the new current link", &tmp, e))?;
        failpoint!("store::switch::rename", &tmp);
        fs::rename(&tmp, self.current_link()).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io("switching the current link", self.current_link(), e)
        })?;
        failpoint!("store::switch::after_rename", &tmp);
        fsx::sync_dir(&self.root)
    }

    /// Remove a directory tree crash-safely: first renamed into `staging/` (atomic, so no half-
    /// deleted generation is ever visible under `generations/`), then deleted.
    pub fn discard(&self, dir: &Path) -> Result<()> {
        let name = dir
            .file_name()
            .ok_or(Error::Internal("discarding a path without a name"))?;
        let mut trash_name = std::ffi::OsString::from("trash-");
        trash_name.push(name);
        let trash = self.staging_dir().join(trash_name);
        if dir.parent() != Some(self.staging_dir().as_path()) {
            failpoint!("store::discard::rename", dir);
            fs::rename(dir, &trash).map_err(|e| Error::io("moving aside", dir, e))?;
            fsx::sync_dir(dir.parent().unwrap_or(&self.root))?;
        } else {
            fs::rename(dir, &trash).map_err(|e| Error::io("moving aside", dir, e))?;
        }
        failpoint!("store::discard::remove", &trash);
        fs::remove_dir_all(&trash).map_err(|e| Error::io("removing", &trash, e))
    }

    /// Finish or undo whatever an interrupted command left behind. Call with the lock held.
    /// Returns the (possibly rolled-forward) state.
    pub fn recover(
        &self,
        state: Option<State>,
        audit: &mut Audit,
        now: Timestamp,
    ) -> Result<Option<State>> {
        let mut state = state;
        // 1. Staging leftovers.
        let staging = self.staging_dir();
        let mut leftovers = Vec::new();
        for entry in fs::read_dir(&staging).map_err(|e| Error::io("listing", &staging, e))? {
            let entry = entry.map_err(|e| Error::io("listing", &staging, e))?;
            leftovers.push(entry.path());
        }
        leftovers.sort();
        for path in &leftovers {
            let removed = match fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(path),
                _ => fs::remove_file(path),
            };
            removed.map_err(|e| Error::io("removing interrupted staging", path, e))?;
        }
        if !leftovers.is_empty() {
            audit.append(
                now,
                Entry {
                    action: "recover",
                    outcome: "removed_staging",
                    ..Entry::default()
                },
            )?;
        }
        // 2. Temporary links of an interrupted switch.
        for entry in fs::read_dir(&self.root).map_err(|e| Error::io("listing", &self.root, e))? {
            let entry = entry.map_err(|e| Error::io("listing", &self.root, e))?;
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("current.tmp-")
            {
                let p = entry.path();
                fs::remove_file(&p).map_err(|e| Error::io("removing", &p, e))?;
            }
        }
        // 3. Activated but not recorded: roll state.json forward.
        if let Some(name) = self.current()? {
            let info = self.info(&name)?;
            // A higher sequence, or (fast-forward recovery after a kit key rotation) a newer
            // trust root than the state records: either way this generation was committed and
            // its state write was lost.
            let behind = state.as_ref().is_none_or(|s| {
                info.sequence > s.highest_sequence
                    || (info.name != s.generation && info.trust_root_version > s.trust_root_version)
            });
            if behind {
                let new = State {
                    format: STATE_FORMAT.to_owned(),
                    channel: info.channel.clone(),
                    highest_sequence: info.sequence,
                    kit_sha256: info.kit_sha256,
                    generation: info.name.clone(),
                    manifest_sha256: fsx::read_capped(
                        &self.generation_dir(&info.name).join(".ouk/manifest.json"),
                        64 << 20,
                    )?
                    .map(|bytes| Sha256::of(&bytes)),
                    trust_root_version: state.as_ref().map_or(info.trust_root_version, |s| {
                        s.trust_root_version.max(info.trust_root_version)
                    }),
                    time_high_water: state
                        .as_ref()
                        .map_or(info.created_at, |s| s.time_high_water.max(info.created_at)),
                    revoked: self.recovered_revocations(state.as_ref(), info.trust_root_version),
                };
                new.save(&self.root)?;
                audit.append(
                    now,
                    Entry {
                        action: "recover",
                        outcome: "recorded_activated_generation",
                        kit_sha256: Some(info.kit_sha256.to_hex()),
                        sequence: Some(info.sequence),
                        generation: Some(info.name.clone()),
                        ..Entry::default()
                    },
                )?;
                state = Some(new);
            }
        }
        // 4. Renamed into generations/ but never activated: never committed, remove.
        let floor = state.as_ref().map(|s| s.highest_sequence);
        let current = self.current()?;
        let gens_dir = self.generations_dir();
        let mut names = Vec::new();
        for entry in fs::read_dir(&gens_dir).map_err(|e| Error::io("listing", &gens_dir, e))? {
            let entry = entry.map_err(|e| Error::io("listing", &gens_dir, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        for name in names {
            if current.as_deref() == Some(name.as_str()) {
                continue;
            }
            let seq = name
                .split_once('-')
                .and_then(|(s, _)| s.parse::<u64>().ok());
            let uncommitted = match (seq, floor) {
                _ if !valid_generation_name(&name) => false,
                (Some(seq), Some(floor)) => seq > floor,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if uncommitted {
                self.discard(&self.generation_dir(&name))?;
                audit.append(
                    now,
                    Entry {
                        action: "recover",
                        outcome: "removed_unactivated_generation",
                        sequence: seq,
                        generation: Some(name.clone()),
                        ..Entry::default()
                    },
                )?;
            }
        }
        Ok(state)
    }

    /// Whether a crash left something for [`Store::recover`] to do (for `status`).
    pub fn needs_recovery(&self, state: Option<&State>) -> Result<bool> {
        let staging_dirty = fs::read_dir(self.staging_dir())
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if staging_dirty {
            return Ok(true);
        }
        let floor = state.map(|s| s.highest_sequence);
        let current = self.current()?;
        for g in self.generations()? {
            let above = floor.is_none_or(|f| g.sequence > f);
            if above && current.as_deref() != Some(g.name.as_str()) {
                return Ok(true);
            }
            if above && current.as_deref() == Some(g.name.as_str()) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names() {
        let d = Sha256::of(b"kit");
        let n = generation_name(7, &d);
        assert!(valid_generation_name(&n), "{n}");
        assert_eq!(n.len(), 2 + 12);
        for bad in [
            "7",
            "x-0123456789ab",
            "7-0123456789AB",
            "7-0123",
            "-0123456789ab",
            "7-0123456789ab/x",
        ] {
            assert!(!valid_generation_name(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod root_tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    #[test]
    fn create_makes_a_private_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b/store");
        let store = Store::create(&root).unwrap();
        for d in [root.clone(), store.staging_dir(), store.generations_dir()] {
            assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, fsx::DIR_MODE);
        }
    }

    #[test]
    fn open_of_a_missing_store_is_empty_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("none")).unwrap();
        assert_eq!(store.current().unwrap(), None);
        assert!(store.generations().unwrap().is_empty());
    }

    #[test]
    fn unsafe_top_directories_are_refused_before_anything_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        let e = Store::create(&root).unwrap_err();
        assert!(
            matches!(e, Error::StorePermissions { mode: 0o777, .. }),
            "{e:?}"
        );
        assert!(
            fs::read_dir(&root).unwrap().next().is_none(),
            "created in it"
        );

        fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        symlink(&elsewhere, root.join("trust")).unwrap();
        let e = Store::create(&root).unwrap_err();
        assert!(
            matches!(&e, Error::StoreSymlink { path } if path.ends_with("trust")),
            "{e:?}"
        );
        assert!(!root.join("staging").exists(), "created before the check");
    }

    #[test]
    fn current_accepts_only_generations_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("store")).unwrap();
        let name = generation_name(1, &Sha256::of(b"kit"));
        fs::create_dir(store.generation_dir(&name)).unwrap();
        store.switch_current(&name).unwrap();
        assert_eq!(store.current().unwrap(), Some(name.clone()));
        for bad in [
            "/tmp",
            "generations",
            "generations/../x",
            "x/1-0123456789ab",
        ] {
            fs::remove_file(store.current_link()).unwrap();
            symlink(bad, store.current_link()).unwrap();
            let e = store.current().unwrap_err();
            assert!(
                matches!(e, Error::CurrentOutsideStore { .. }),
                "{bad}: {e:?}"
            );
        }
        fs::remove_file(store.current_link()).unwrap();
        symlink(
            Path::new("generations").join("9-0123456789ab"),
            store.current_link(),
        )
        .unwrap();
        assert!(matches!(
            store.current().unwrap_err(),
            Error::StoreDamaged { .. }
        ));
    }
}
