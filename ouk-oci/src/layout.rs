//! OCI image layout (image-spec `image-layout.md`) on media: written by us, not by skopeo, because
//! skopeo 1.9 rewrites the referrers fallback index and drops `artifactType`.
//!
//! A layout holds `oci-layout`, `index.json` and `blobs/sha256/<hex>`. We list the kit manifest in
//! `index.json` under its tag (`org.opencontainers.image.ref.name`) and its referrers beside it
//! (their `subject` names the kit manifest). Several kits can share one layout; exporting a tag
//! again moves it. Reading trusts nothing: every file is opened without following links, every
//! document is size-capped before parsing, every blob read is checked against its digest, and the
//! kit blob is returned open so the importer verifies exactly the file that was checked.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use oci_client::manifest::{ImageIndexEntry, OciImageIndex};

use crate::artifact::{
    self, annotations, parse_index, parse_kit_manifest, Blob, KitArtifact, ManifestBytes,
    COMPAT_CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, KIT_ARTIFACT_TYPE, MANIFEST_MEDIA_TYPE,
    MAX_MANIFEST_BYTES,
};
use crate::error::{Error, Result};
use crate::fsafe::{self, Dir};
use crate::publish::Publication;
use crate::reference::Digest;

/// Content of `oci-layout`.
const LAYOUT_FILE: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// The layout directory.
    pub dir: PathBuf,
    /// The tag the kit manifest is listed under.
    pub ref_name: String,
    /// The kit manifest's digest.
    pub manifest: Digest,
    /// The kit blob.
    pub kit: Blob,
    /// Referrer manifests written (artifact type, digest).
    pub referrers: Vec<(String, Digest)>,
}

/// A new temporary file in a layout being written: whatever is at that name is removed first
/// (a planted link is removed, not followed) and the file is created exclusively, without
/// following links, so an existing layout on untrusted media cannot redirect our writes.
fn create_temp(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("removing a stale temporary file", path, e)),
    }
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io("creating", path, e))
}

/// `dir` must be a real directory, not a link to one (it is created when missing).
fn real_dir(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::layout(dir, "not a directory (links are refused)")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir(dir).map_err(|e| Error::io("creating", dir, e))
        }
        Err(e) => Err(Error::io("inspecting", dir, e)),
    }
}

fn write_file_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = create_temp(&tmp)?;
    f.write_all(data)
        .map_err(|e| Error::io("writing", &tmp, e))?;
    f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
    let dest = dir.join(name);
    fs::rename(&tmp, &dest).map_err(|e| Error::io("renaming into", &dest, e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("syncing", dir, e))
}

/// Copies the kit into the blob store, hashing as it copies, and checks the digest against the
/// one the publication was planned with (the file must not change in between).
fn copy_kit_blob(blobs: &Path, kit_path: &Path, kit: &Blob) -> Result<()> {
    let dest = blobs.join(kit.digest.hex());
    let tmp = blobs.join(format!(".{}.tmp", kit.digest.hex()));
    let mut src = File::open(kit_path).map_err(|e| Error::io("opening", kit_path, e))?;
    let mut out = ouk_format::digest::HashingWriter::new(create_temp(&tmp)?);
    std::io::copy(&mut src, &mut out).map_err(|e| Error::io("copying the kit into", &tmp, e))?;
    let (out, sha, size) = out.finish();
    if Digest(sha) != kit.digest || size != kit.size {
        let _ = fs::remove_file(&tmp);
        return Err(Error::BlobMismatch {
            expected: kit.digest.to_string(),
            what: format!(
                "{} changed while it was exported (now {size} bytes, sha256:{})",
                kit_path.display(),
                sha.to_hex()
            ),
        });
    }
    out.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
    fs::rename(&tmp, &dest).map_err(|e| Error::io("renaming into", &dest, e))
}

/// Writes `publication` (a kit and its referrers) into the layout at `dir` under `ref_name`,
/// creating the layout if needed. Blobs first, `index.json` last (atomically), so an interrupted
/// export leaves the previous index in force.
pub fn export(dir: &Path, publication: &Publication, ref_name: &str) -> Result<ExportReport> {
    if ref_name.is_empty() || ref_name.len() > 128 || ref_name.contains(['/', '\0']) {
        return Err(Error::layout(dir, format!("bad tag {ref_name:?}")));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let layout_file = dir.join("oci-layout");
    if fsafe::exists(&layout_file) {
        let top = Dir::open_top(dir)?;
        check_layout_file(&top)?;
    } else {
        write_file_atomic(dir, "oci-layout", LAYOUT_FILE)?;
    }
    let blobs = dir.join("blobs").join("sha256");
    real_dir(&dir.join("blobs"))?;
    real_dir(&blobs)?;

    copy_kit_blob(&blobs, &publication.kit_path, &publication.kit)?;
    for (blob, data) in publication.small_blobs() {
        write_file_atomic(&blobs, &blob.digest.hex(), data)?;
    }
    for m in publication.manifests() {
        write_file_atomic(&blobs, &m.digest.hex(), &m.bytes)?;
    }
    sync_dir(&blobs)?;

    let mut index = if fsafe::exists(&dir.join("index.json")) {
        let top = Dir::open_top(dir)?;
        let bytes = top.read_capped("index.json", MAX_MANIFEST_BYTES)?;
        parse_index(&bytes, "index.json")?
    } else {
        artifact::empty_index()
    };
    // The tag moves to this kit; referrers of any kit stay listed.
    index.manifests.retain(|e| {
        e.annotations
            .as_ref()
            .and_then(|a| a.get(annotations::REF_NAME))
            .is_none_or(|r| r != ref_name)
    });
    let add = |m: &ManifestBytes,
               a: Option<BTreeMap<String, String>>,
               index: &mut Vec<ImageIndexEntry>| {
        if !index
            .iter()
            .any(|e| e.digest == m.digest.to_string() && e.annotations == a)
        {
            index.push(m.index_entry(a));
        }
    };
    let tag = BTreeMap::from([(annotations::REF_NAME.to_owned(), ref_name.to_owned())]);
    add(&publication.manifest, Some(tag), &mut index.manifests);
    for (r, _) in &publication.referrers {
        add(r, None, &mut index.manifests);
    }
    // One canonical order whatever the history: tagged manifests by tag, then the rest by digest.
    index.manifests.sort_by(|a, b| {
        let key = |e: &ImageIndexEntry| {
            let tag = e
                .annotations
                .as_ref()
                .and_then(|a| a.get(annotations::REF_NAME))
                .cloned();
            (tag.is_none(), tag, e.digest.clone())
        };
        key(a).cmp(&key(b))
    });
    index.media_type = Some(INDEX_MEDIA_TYPE.to_owned());
    write_file_atomic(dir, "index.json", &artifact::index_bytes(&index))?;
    sync_dir(dir)?;
    Ok(ExportReport {
        dir: dir.to_path_buf(),
        ref_name: ref_name.to_owned(),
        manifest: publication.manifest.digest,
        kit: publication.kit.clone(),
        referrers: publication
            .referrers
            .iter()
            .map(|(m, _)| (m.artifact_type.clone(), m.digest))
            .collect(),
    })
}

fn check_layout_file(top: &Dir) -> Result<()> {
    let bytes = top.read_capped("oci-layout", 4096)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::layout(top.path().join("oci-layout"), format!("not JSON: {e}")))?;
    match v.get("imageLayoutVersion").and_then(|v| v.as_str()) {
        Some("1.0.0") => Ok(()),
        other => Err(Error::layout(
            top.path().join("oci-layout"),
            format!("imageLayoutVersion {other:?} (1.0.0 expected)"),
        )),
    }
}

/// A kit found in a layout, its blob open and its size checked; the importer pins the digest.
#[derive(Debug)]
pub struct LayoutKit {
    /// The open kit blob.
    pub file: File,
    /// Its path (for messages).
    pub path: PathBuf,
    /// What the manifest says about it.
    pub artifact: KitArtifact,
    /// The kit manifest's digest.
    pub manifest: Digest,
    /// The tag it is listed under, if any.
    pub ref_name: Option<String>,
}

/// Reads one blob of at most `cap` bytes and checks it against `digest` and `size`.
fn read_blob(blobs: &Dir, digest: &Digest, size: i64, cap: u64) -> Result<Vec<u8>> {
    if size < 0 || size as u64 > cap {
        return Err(Error::ManifestTooLarge {
            digest: digest.to_string(),
            limit: cap,
        });
    }
    let bytes = blobs.read_capped(&digest.hex(), cap)?;
    if Digest::of(&bytes) != *digest || bytes.len() as u64 != size as u64 {
        return Err(Error::BlobMismatch {
            expected: digest.to_string(),
            what: format!(
                "{} holds {} bytes of {}",
                blobs.path().join(digest.hex()).display(),
                bytes.len(),
                Digest::of(&bytes)
            ),
        });
    }
    Ok(bytes)
}

/// Most kit manifests named in an error listing the choice.
const MAX_LISTED: usize = 8;

/// Most distinct manifests read from one layout (1 MiB each at most): a hostile `index.json` on
/// a stick could otherwise list thousands of large untyped entries and keep a scan reading.
const MAX_MANIFEST_READS: usize = 256;

/// Whether `digest` is seen for the first time (then it is to be read); refuses a layout that
/// would have more than [`MAX_MANIFEST_READS`] manifests read.
fn first_sight(
    seen: &mut std::collections::BTreeSet<Digest>,
    digest: Digest,
    dir: &Path,
) -> Result<bool> {
    if !seen.insert(digest) {
        return Ok(false);
    }
    if seen.len() > MAX_MANIFEST_READS {
        return Err(Error::layout(
            dir.join("index.json"),
            format!("more than {MAX_MANIFEST_READS} distinct manifests to read"),
        ));
    }
    Ok(true)
}

/// Finds the kit to import in the layout at `dir`: the manifest tagged `ref_name`, or, without
/// one, the only kit manifest listed (several are an error that lists them: the operator
/// chooses). Referrers and foreign manifests are skipped by their `artifactType` without being
/// read; manifests without one (as skopeo writes them) are read and checked; unreadable foreign
/// entries are skipped unless the operator's tag names them.
///
/// Bounded: each distinct manifest is read once (1 MiB cap), only digests and tags are kept
/// while scanning, and the scan stops at the second distinct kit when no tag was given.
pub fn open_kit(dir: &Path, ref_name: Option<&str>, max_layer_bytes: u64) -> Result<LayoutKit> {
    let (index, blobs) = open_index(dir)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut found: Vec<(Digest, Option<String>)> = Vec::new();
    for entry in &index.manifests {
        let tag = entry
            .annotations
            .as_ref()
            .and_then(|a| a.get(annotations::REF_NAME))
            .cloned();
        let chosen = ref_name.is_some();
        if ref_name.is_some_and(|want| tag.as_deref() != Some(want)) {
            continue;
        }
        let Some((digest, typed_as_kit)) = kit_entry(entry, chosen)? else {
            continue;
        };
        if !first_sight(&mut seen, digest, dir)? {
            continue;
        }
        let checked = read_blob(&blobs, &digest, entry.size, MAX_MANIFEST_BYTES)
            .and_then(|bytes| parse_kit_manifest(&bytes, &digest.to_string(), max_layer_bytes));
        match checked {
            Ok(_) => found.push((digest, tag)),
            // Tagged by the operator's choice, or typed as a kit: its faults are reported.
            Err(e) if chosen || typed_as_kit => return Err(e),
            Err(_) => {}
        }
        if found.len() > MAX_LISTED || (found.len() > 1 && !chosen) {
            break;
        }
    }
    let (manifest, tag) = match found.len() {
        1 => found.remove(0),
        0 => {
            return Err(Error::LayoutChoice {
                path: dir.to_path_buf(),
                reason: match ref_name {
                    Some(r) => format!("no kit tagged {r:?}"),
                    None => "no kit manifest listed in index.json".to_owned(),
                },
            })
        }
        _ => {
            let names: Vec<String> = index
                .manifests
                .iter()
                .filter(|e| {
                    e.artifact_type
                        .as_deref()
                        .is_none_or(|t| t == KIT_ARTIFACT_TYPE || t == COMPAT_CONFIG_MEDIA_TYPE)
                })
                .filter_map(|e| {
                    e.annotations
                        .as_ref()
                        .and_then(|a| a.get(annotations::REF_NAME))
                        .cloned()
                })
                .take(MAX_LISTED)
                .collect();
            return Err(Error::LayoutChoice {
                path: dir.to_path_buf(),
                reason: match ref_name {
                    Some(r) => format!("several different kits are tagged {r:?}"),
                    None => format!(
                        "several kits listed ({}); choose one with --ref",
                        names.join(", ")
                    ),
                },
            });
        }
    };
    // The chosen manifest once more (it was not kept): checked exactly as above.
    let bytes = blobs.read_capped(&manifest.hex(), MAX_MANIFEST_BYTES)?;
    if Digest::of(&bytes) != manifest {
        return Err(Error::BlobMismatch {
            expected: manifest.to_string(),
            what: format!(
                "{} changed while the layout was read",
                blobs.path().join(manifest.hex()).display()
            ),
        });
    }
    let artifact = parse_kit_manifest(&bytes, &manifest.to_string(), max_layer_bytes)?;
    open_layer(&blobs, artifact, manifest, tag)
}

/// The layout at `dir`, checked (`oci-layout`), its `index.json` (1 MiB cap) and its
/// `blobs/sha256` directory, every component opened without following links.
fn open_index(dir: &Path) -> Result<(OciImageIndex, Dir)> {
    let top = Dir::open_top(dir)?;
    check_layout_file(&top)?;
    let index_bytes = top.read_capped("index.json", MAX_MANIFEST_BYTES)?;
    let index = parse_index(
        &index_bytes,
        &top.path().join("index.json").display().to_string(),
    )?;
    drop(index_bytes);
    let blobs = top.dir("blobs")?.dir("sha256")?;
    Ok((index, blobs))
}

/// An `index.json` entry that may list a kit: its digest, and whether its `artifactType` says it
/// is one. `None` for entries skipped unread (other media or artifact types, or a malformed
/// digest on an untyped entry nobody asked for); a malformed digest is an error when the entry
/// is typed as a kit or `chosen` by the operator's tag.
fn kit_entry(entry: &ImageIndexEntry, chosen: bool) -> Result<Option<(Digest, bool)>> {
    let typed_as_kit = entry
        .artifact_type
        .as_deref()
        .is_some_and(|t| t == KIT_ARTIFACT_TYPE || t == COMPAT_CONFIG_MEDIA_TYPE);
    if entry.media_type != MANIFEST_MEDIA_TYPE || (entry.artifact_type.is_some() && !typed_as_kit) {
        return Ok(None);
    }
    match Digest::parse(&entry.digest) {
        Some(d) => Ok(Some((d, typed_as_kit))),
        None if chosen || typed_as_kit => Err(Error::manifest(
            &entry.digest,
            "index.json entry digest is not sha256:<64 lower-case hex>",
        )),
        None => Ok(None),
    }
}

/// Opens the kit layer blob of a checked kit manifest and checks its size.
fn open_layer(
    blobs: &Dir,
    artifact: KitArtifact,
    manifest: Digest,
    ref_name: Option<String>,
) -> Result<LayoutKit> {
    let (file, path) = blobs.file(&artifact.layer.digest.hex())?;
    let size = file
        .metadata()
        .map_err(|e| Error::io("inspecting", &path, e))?
        .len();
    if size != artifact.layer.size {
        return Err(Error::BlobMismatch {
            expected: artifact.layer.digest.to_string(),
            what: format!(
                "{} has {size} bytes, the manifest says {}",
                path.display(),
                artifact.layer.size
            ),
        });
    }
    Ok(LayoutKit {
        file,
        path,
        artifact,
        manifest,
        ref_name,
    })
}

/// Every kit listed in the layout at `dir` (at most `max_kits`, in `index.json` order, each
/// distinct kit manifest once), for a scan of a medium that chooses among them itself
/// (`import --from`, `scan-media`). Entries are judged as in [`open_kit`]: other
/// `artifactType`s are skipped unread; an entry typed as a kit whose manifest or blob is not
/// right fails the whole layout (a damaged or hostile layout is reported, not half-used); an
/// untyped entry that is not a kit manifest is skipped. Each kit's blob is returned open
/// (through `openat`, no link followed), its size checked; its content is for the caller to
/// authenticate.
pub fn list_kits(dir: &Path, max_layer_bytes: u64, max_kits: usize) -> Result<Vec<LayoutKit>> {
    let (index, blobs) = open_index(dir)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for entry in &index.manifests {
        if out.len() >= max_kits {
            break;
        }
        let Some((digest, typed_as_kit)) = kit_entry(entry, false)? else {
            continue;
        };
        if !first_sight(&mut seen, digest, dir)? {
            continue;
        }
        let tag = entry
            .annotations
            .as_ref()
            .and_then(|a| a.get(annotations::REF_NAME))
            .cloned();
        let checked = read_blob(&blobs, &digest, entry.size, MAX_MANIFEST_BYTES)
            .and_then(|bytes| parse_kit_manifest(&bytes, &digest.to_string(), max_layer_bytes));
        match checked {
            Ok(artifact) => out.push(open_layer(&blobs, artifact, digest, tag)?),
            Err(e) if typed_as_kit => return Err(e),
            Err(_) => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::Shape;
    use crate::publish::Attachment;
    use std::io::Read;

    fn publication(dir: &Path, name: &str, content: &[u8]) -> Publication {
        let kit = dir.join(name);
        fs::write(&kit, content).unwrap();
        let sig = Attachment {
            artifact_type: artifact::SIGNATURE_ARTIFACT_TYPE.into(),
            media_type: artifact::SIGNATURE_MEDIA_TYPE.into(),
            title: format!("{name}.sig"),
            data: b"c2lnbmF0dXJl".to_vec(),
        };
        Publication::plan(&kit, name, BTreeMap::new(), vec![sig], Shape::Artifact).unwrap()
    }

    fn read_all(mut f: File) -> Vec<u8> {
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn export_then_open_finds_the_kit_by_tag_or_alone() {
        let t = tempfile::tempdir().unwrap();
        let layout = t.path().join("layout");
        let p1 = publication(t.path(), "a.ouk", b"kit one");
        let r = export(&layout, &p1, "day-1").unwrap();
        assert_eq!(r.referrers.len(), 1);
        let k = open_kit(&layout, None, 1 << 20).unwrap();
        assert_eq!(k.manifest, p1.manifest.digest);
        assert_eq!(k.ref_name.as_deref(), Some("day-1"));
        assert_eq!(read_all(k.file), b"kit one");
        // Exporting is deterministic: the same kit again changes nothing.
        let before = fs::read(layout.join("index.json")).unwrap();
        export(&layout, &p1, "day-1").unwrap();
        assert_eq!(before, fs::read(layout.join("index.json")).unwrap());
        // A second kit: without --ref the choice is the operator's.
        let p2 = publication(t.path(), "b.ouk", b"kit two");
        export(&layout, &p2, "day-2").unwrap();
        let e = open_kit(&layout, None, 1 << 20).unwrap_err();
        assert!(
            e.to_string().contains("day-1") && e.to_string().contains("day-2"),
            "{e}"
        );
        let k = open_kit(&layout, Some("day-2"), 1 << 20).unwrap();
        assert_eq!(read_all(k.file), b"kit two");
        assert!(matches!(
            open_kit(&layout, Some("day-3"), 1 << 20),
            Err(Error::LayoutChoice { .. })
        ));
        // Moving a tag.
        export(&layout, &p2, "day-1").unwrap();
        let k = open_kit(&layout, Some("day-1"), 1 << 20).unwrap();
        assert_eq!(k.manifest, p2.manifest.digest);
    }

    #[test]
    fn hostile_layouts_are_refused_with_the_offending_file() {
        let t = tempfile::tempdir().unwrap();
        let fresh = |name: &str| {
            let layout = t.path().join(name);
            let p = publication(t.path(), &format!("{name}.ouk"), b"kit bytes");
            export(&layout, &p, "k").unwrap();
            (layout, p)
        };
        // A corrupted kit blob of the right size passes here (the importer's pin catches it);
        // one of another size is refused before the import.
        let (l, p) = fresh("short");
        fs::write(l.join("blobs/sha256").join(p.kit.digest.hex()), b"kit").unwrap();
        assert!(matches!(
            open_kit(&l, None, 1 << 20),
            Err(Error::BlobMismatch { .. })
        ));
        // A manifest blob that does not hash to its name.
        let (l, p) = fresh("manifest");
        let path = l.join("blobs/sha256").join(p.manifest.digest.hex());
        let mut m = fs::read(&path).unwrap();
        let n = m.len();
        m[n - 2] ^= 1;
        fs::write(&path, m).unwrap();
        assert!(matches!(
            open_kit(&l, None, 1 << 20),
            Err(Error::BlobMismatch { .. })
        ));
        // blobs/ as a link elsewhere: refused by the reader, and by the writer adding to it.
        let (l, _) = fresh("link");
        fs::rename(l.join("blobs"), t.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(t.path().join("elsewhere"), l.join("blobs")).unwrap();
        let e = open_kit(&l, None, 1 << 20).unwrap_err();
        assert!(
            matches!(e, Error::BadLayout { .. }) && e.to_string().contains("blobs"),
            "{e}"
        );
        // The kit blob as a link.
        let (l, p) = fresh("bloblink");
        let blob = l.join("blobs/sha256").join(p.kit.digest.hex());
        fs::rename(&blob, t.path().join("kit-elsewhere")).unwrap();
        std::os::unix::fs::symlink(t.path().join("kit-elsewhere"), &blob).unwrap();
        assert!(matches!(
            open_kit(&l, None, 1 << 20),
            Err(Error::BadLayout { .. })
        ));
        // An oversized index.json, a wrong layout version, a kit over the size cap.
        let (l, _) = fresh("bigindex");
        fs::write(
            l.join("index.json"),
            vec![b' '; MAX_MANIFEST_BYTES as usize + 1],
        )
        .unwrap();
        assert!(matches!(
            open_kit(&l, None, 1 << 20),
            Err(Error::BadLayout { .. })
        ));
        let (l, _) = fresh("version");
        fs::write(l.join("oci-layout"), br#"{"imageLayoutVersion":"2.0.0"}"#).unwrap();
        assert!(matches!(
            open_kit(&l, None, 1 << 20),
            Err(Error::BadLayout { .. })
        ));
        let (l, _) = fresh("cap");
        assert!(matches!(
            open_kit(&l, None, 4),
            Err(Error::LayerTooLarge { .. })
        ));
        // A digest with a path in it never becomes a path.
        let (l, _) = fresh("traversal");
        let mut index: serde_json::Value =
            serde_json::from_slice(&fs::read(l.join("index.json")).unwrap()).unwrap();
        index["manifests"][0]["digest"] = "sha256:../../../etc/passwd".into();
        fs::write(l.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        assert!(matches!(
            open_kit(&l, None, 1 << 20),
            Err(Error::BadManifest { .. })
        ));
        // An index listing more untyped manifests than a scan reads: refused, for one kit or all.
        let (l, _) = fresh("many");
        let mut index: serde_json::Value =
            serde_json::from_slice(&fs::read(l.join("index.json")).unwrap()).unwrap();
        let entries = index["manifests"].as_array_mut().unwrap();
        for i in 0..MAX_MANIFEST_READS + 1 {
            entries.insert(
                0,
                serde_json::json!({
                    "mediaType": MANIFEST_MEDIA_TYPE,
                    "digest": format!("sha256:{:064x}", i),
                    "size": 100,
                }),
            );
        }
        fs::write(l.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        for r in [
            open_kit(&l, None, 1 << 20).map(drop),
            list_kits(&l, 1 << 20, 8).map(drop),
        ] {
            assert!(
                matches!(&r, Err(Error::BadLayout { reason, .. }) if reason.contains("more than 256")),
                "{r:?}"
            );
        }
    }

    #[test]
    fn list_kits_returns_every_kit_of_a_layout() {
        let t = tempfile::tempdir().unwrap();
        let layout = t.path().join("l");
        for (name, body) in [("a", &b"kit a"[..]), ("b", b"kit b"), ("c", b"kit c")] {
            let p = publication(t.path(), &format!("{name}.ouk"), body);
            export(&layout, &p, name).unwrap();
        }
        let kits = list_kits(&layout, 1 << 20, 8).unwrap();
        let mut bodies: Vec<Vec<u8>> = kits.into_iter().map(|k| read_all(k.file)).collect();
        bodies.sort();
        assert_eq!(
            bodies,
            vec![b"kit a".to_vec(), b"kit b".to_vec(), b"kit c".to_vec()]
        );
        assert_eq!(list_kits(&layout, 1 << 20, 2).unwrap().len(), 2);
    }
}
