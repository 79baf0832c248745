//! `pull` and `import --layout`: the OCI transports (`ouk-oci`) deliver a kit file and the digest
//! its descriptor pins; the kit is then imported exactly like a kit file, through the single
//! staged reader, with the pin checked on the same verified pass (before activation).
//!
//! A pull downloads into `<store>/downloads/` only (`<hex>.partial`, resumed by the next run after
//! a broken transfer); nothing reaches a generation before the kit verified.

use std::fs;
use std::path::{Path, PathBuf};

use ouk_oci::registry::{Connection, Registry};
use ouk_oci::{layout, OciRef};
use serde::Serialize;

use crate::error::{Class, Error, Result};
use crate::fsx;
use crate::import::{self, Context, KitPin, TrustOptions};
use crate::kit::{self, Links};
use crate::lock::StoreLock;
use crate::report::ImportReport;
use crate::store::{Store, DOWNLOADS_DIR};
use crate::Progress;

/// Default cap on the kit layer a manifest may name (64 GiB: a kit holding the largest member the
/// format allows). Checked before anything is downloaded.
pub const DEFAULT_MAX_KIT_BYTES: u64 = 64 << 30;

/// What `pull` did.
#[derive(Debug, Serialize)]
pub struct PullReport {
    /// The reference pulled, pinned to the manifest digest it resolved to.
    pub pinned: String,
    /// The kit layer's digest.
    pub kit_digest: String,
    /// Its size.
    pub kit_size: u64,
    /// Bytes an earlier, interrupted pull had already fetched.
    pub resumed_from: u64,
    /// Broken transfers resumed during this pull.
    pub resumes: u32,
    /// The import of the downloaded kit.
    pub import: ImportReport,
}

/// Free space kept beyond the download itself.
const DOWNLOAD_MARGIN: u64 = 64 << 20;

/// `pull oci://host/repo[:tag|@sha256:…]`: download the kit layer, then import it pinned.
///
/// One pull at a time per store (`downloads/.lock`); before any byte of the layer: the clock and
/// trust root are checked, a kit the store already has is not fetched again, downloads of other
/// layers left by earlier pulls are removed, and the free space must hold the rest of the layer.
pub fn pull(
    ctx: &Context,
    opts: &TrustOptions,
    reference: &str,
    conn: &Connection,
    max_kit_bytes: u64,
    progress: &mut dyn Progress,
) -> Result<PullReport> {
    let r = OciRef::parse(reference)?;
    import::check_ready(ctx, opts)?;
    let store = Store::create(&ctx.store)?;
    let downloads = store.root().join(DOWNLOADS_DIR);
    fsx::ensure_dir(&downloads)?;
    let _lock = StoreLock::exclusive(&downloads, ctx.wait)?;
    let registry = Registry::connect(&r, conn)?;
    let (manifest, artifact) = registry.resolve(&r, max_kit_bytes)?;
    let pinned = format!("oci://{}/{}@{}", r.registry, r.repository, manifest);
    // A scheduled pull of a tag that has not moved must not download gigabytes to learn that:
    // a generation whose kit file has the layer's digest is this kit (the digest identifies it;
    // nothing is trusted from the manifest beyond skipping the download).
    let layer_sha = artifact.layer.digest.0;
    if let Some(g) = store
        .generations()?
        .into_iter()
        .find(|g| g.kit_sha256 == layer_sha)
    {
        return Err(Error::AlreadyPulled {
            pinned,
            generation: g.name,
        });
    }
    let hex = artifact.layer.digest.hex();
    let kept = remove_other_downloads(&downloads, &hex)?;
    let needed = artifact.layer.size.saturating_sub(kept) + DOWNLOAD_MARGIN;
    crate::fsx::ensure_free_space(&downloads, needed)?;
    let mut seen: Option<u64> = None;
    let pulled = registry.download(&r, manifest, artifact, &downloads, &mut |done, total| {
        // The transport reports totals; the bar wants increments.
        let last = *seen.get_or_insert_with(|| {
            progress.start(total);
            0
        });
        progress.advance(done.saturating_sub(last));
        seen = Some(done.max(last));
    });
    progress.finish();
    let pulled = pulled?;
    let layer = &pulled.artifact.layer;
    let (file, _) = kit::open_file(&pulled.path, Links::Refuse)?;
    let pin = KitPin {
        sha256: layer.digest.0,
        size: layer.size,
        origin: pinned.clone(),
    };
    let result = import::import_pinned(ctx, opts, &pulled.path, file, pin, &mut crate::NoProgress);
    discard_download(&pulled.path, &result);
    Ok(PullReport {
        pinned,
        kit_digest: layer.digest.to_string(),
        kit_size: layer.size,
        resumed_from: pulled.resumed_from,
        resumes: pulled.resumes,
        import: result?,
    })
}

/// Removes what earlier pulls left in `downloads/` for other layers (a tag that moved on, an
/// abandoned kit), so the directory cannot fill the disk over time; returns the bytes kept for
/// `hex` (its partial download).
fn remove_other_downloads(dir: &Path, hex: &str) -> Result<u64> {
    let keep = [
        format!("{hex}.partial"),
        format!("{hex}.ouk"),
        ".lock".to_owned(),
    ];
    let mut kept = 0;
    let entries = fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing", dir, e))?;
        let name = entry.file_name();
        let path = entry.path();
        if keep.iter().any(|k| name == std::ffi::OsStr::new(k)) {
            if name == std::ffi::OsStr::new(&keep[0]) {
                kept = fs::symlink_metadata(&path).map_or(0, |m| m.len());
            }
            continue;
        }
        let removed = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
        removed.map_err(|e| Error::io("removing an old download", &path, e))?;
    }
    Ok(kept)
}

/// A download is kept only when the import failed for a reason another run may not meet (lock
/// held, disk full): then the next pull does not fetch it again. A kit that imported, or that was
/// refused, is removed.
fn discard_download(path: &Path, result: &Result<ImportReport>) {
    let keep = matches!(result, Err(e) if matches!(e.class(), Class::Io | Class::Locked));
    if !keep {
        let _ = fs::remove_file(path);
    }
}

/// What `import --layout` imported.
#[derive(Debug, Serialize)]
pub struct LayoutImportReport {
    /// The layout directory.
    pub layout: PathBuf,
    /// The tag of the kit in the layout, if it has one.
    pub ref_name: Option<String>,
    /// The kit manifest's digest.
    pub manifest: String,
    /// The import.
    pub import: ImportReport,
}

/// `import --layout DIR [--ref TAG]`: find the kit in an OCI image layout and import it pinned to
/// its layer digest.
pub fn import_layout(
    ctx: &Context,
    opts: &TrustOptions,
    dir: &Path,
    ref_name: Option<&str>,
    max_kit_bytes: u64,
    progress: &mut dyn Progress,
) -> Result<LayoutImportReport> {
    let found = layout::open_kit(dir, ref_name, max_kit_bytes)?;
    let layer = &found.artifact.layer;
    let pin = KitPin {
        sha256: layer.digest.0,
        size: layer.size,
        origin: format!("OCI layout {} ({})", dir.display(), found.manifest),
    };
    let import = import::import_pinned(ctx, opts, &found.path, found.file, pin, progress)?;
    Ok(LayoutImportReport {
        layout: dir.to_path_buf(),
        ref_name: found.ref_name,
        manifest: found.manifest.to_string(),
        import,
    })
}
