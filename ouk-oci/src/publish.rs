//! What one publication of a kit consists of — the kit manifest, its blobs, and the referrer
//! manifests (signature, SBOM, provenance) — planned once and written identically to a registry
//! or a layout, so both carry the same digests.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::artifact::{
    self, config_blob, kit_manifest, referrer_manifest, Blob, ManifestBytes, Shape,
};
use crate::error::{Error, Result};
use crate::reference::Digest;

/// A small file published as a referrer of the kit (held in memory: signatures, SBOMs and
/// provenance are capped far below the kit).
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The referrer's `artifactType`.
    pub artifact_type: String,
    /// Its layer's media type.
    pub media_type: String,
    /// Its file name (layer title).
    pub title: String,
    /// Content.
    pub data: Vec<u8>,
}

/// A planned publication.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The kit file.
    pub kit_path: PathBuf,
    /// Its blob (digest computed when planned).
    pub kit: Blob,
    /// Manifest shape.
    pub shape: Shape,
    /// The kit manifest.
    pub manifest: ManifestBytes,
    /// Referrer manifests with their attachment and its blob.
    pub referrers: Vec<(ManifestBytes, (Blob, Attachment))>,
    title: String,
    annotations: BTreeMap<String, String>,
    created: Option<String>,
}

impl Publication {
    /// Hashes the kit file and lays out the manifests. `title` names the kit layer (derive it
    /// from the signed kit id, not the local file name, so the digest does not depend on how the
    /// file was renamed); `annotations` go on the kit manifest; a
    /// `created` annotation among them is repeated on the referrers (so pushes are reproducible,
    /// it should come from the signed kit, not the clock).
    pub fn plan(
        kit_path: &Path,
        title: &str,
        annotations: BTreeMap<String, String>,
        attachments: Vec<Attachment>,
        shape: Shape,
    ) -> Result<Publication> {
        let file = File::open(kit_path).map_err(|e| Error::io("opening", kit_path, e))?;
        let (sha, size) =
            ouk_format::digest::Sha256::of_reader(std::io::BufReader::with_capacity(1 << 20, file))
                .map_err(|e| Error::io("reading", kit_path, e))?;
        let kit = Blob {
            media_type: artifact::KIT_LAYER_MEDIA_TYPE.to_owned(),
            digest: Digest(sha),
            size,
        };
        let title = title.to_owned();
        let created = annotations.get(artifact::annotations::CREATED).cloned();
        let mut p = Publication {
            kit_path: kit_path.to_path_buf(),
            manifest: kit_manifest(shape, &kit, &title, annotations.clone()),
            kit,
            shape,
            referrers: Vec::new(),
            title,
            annotations,
            created,
        };
        p.referrers = attachments
            .into_iter()
            .map(|a| {
                let blob = Blob::of(&a.media_type, &a.data);
                let m = referrer_manifest(
                    shape,
                    &a.artifact_type,
                    &blob,
                    &a.title,
                    &p.manifest,
                    p.created.as_deref(),
                );
                (m, (blob, a))
            })
            .collect();
        Ok(p)
    }

    /// An annotation of the kit manifest.
    pub fn manifest_annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// The same publication in another shape (the kit is not hashed again).
    pub fn reshape(&self, shape: Shape) -> Publication {
        let manifest = kit_manifest(shape, &self.kit, &self.title, self.annotations.clone());
        let referrers = self
            .referrers
            .iter()
            .map(|(_, (blob, a))| {
                let m = referrer_manifest(
                    shape,
                    &a.artifact_type,
                    blob,
                    &a.title,
                    &manifest,
                    self.created.as_deref(),
                );
                (m, (blob.clone(), a.clone()))
            })
            .collect();
        Publication {
            manifest,
            referrers,
            shape,
            ..self.clone()
        }
    }

    /// Config and attachment blobs with their content.
    pub fn small_blobs(&self) -> Vec<(Blob, &[u8])> {
        let mut out = vec![(config_blob(self.shape), artifact::EMPTY_CONFIG)];
        out.extend(
            self.referrers
                .iter()
                .map(|(_, (b, a))| (b.clone(), a.data.as_slice())),
        );
        out
    }

    /// The kit manifest, then the referrers' (the order they must be pushed in: a referrer's
    /// subject should exist first).
    pub fn manifests(&self) -> Vec<&ManifestBytes> {
        std::iter::once(&self.manifest)
            .chain(self.referrers.iter().map(|(m, _)| m))
            .collect()
    }
}
