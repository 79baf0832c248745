//! The kit as an OCI image-spec 1.1 artifact: the manifests we write and the rules a manifest we
//! read must follow before anything it points to is fetched.
//!
//! Shape (spec §18): one manifest, `artifactType` [`KIT_ARTIFACT_TYPE`], the empty config blob
//! `{}`, exactly one layer — the kit file itself, unchanged, as an uncompressed tar layer (a kit
//! *is* a ustar archive). The compat shape for registries that refuse `artifactType` moves the
//! type into `config.mediaType` ([`COMPAT_CONFIG_MEDIA_TYPE`]), as image-spec's artifact guidance
//! prescribes. Signature, SBOM and provenance are separate artifacts whose `subject` is the kit
//! manifest (referrers). Nothing in a manifest is trusted: the kit layer is verified by the
//! importer's staged reader like any kit file; the manifest only tells us which blob to fetch,
//! its size and digest.

use std::collections::BTreeMap;

use oci_client::manifest::{ImageIndexEntry, OciDescriptor, OciImageIndex, OciImageManifest};

use crate::error::{Error, Result};
use crate::reference::Digest;

/// `artifactType` of a kit manifest.
pub const KIT_ARTIFACT_TYPE: &str = "application/vnd.ouk.kit.v1";
/// Media type of the kit layer: the kit file is an uncompressed ustar archive.
pub const KIT_LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// Config media type of the compat shape (registries that refuse `artifactType`).
pub const COMPAT_CONFIG_MEDIA_TYPE: &str = "application/vnd.ouk.kit.config.v1+json";
/// image-spec 1.1's empty descriptor media type.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The empty config's content.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// `artifactType` of the detached Ed25519 signature over the kit file (`KIT.ouk.sig`).
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.ouk.kit.signature.v1";
/// Layer media type of that signature (the `.sig` file: base64 text).
pub const SIGNATURE_MEDIA_TYPE: &str = "application/vnd.ouk.kit.signature.v1+base64";
/// `artifactType` and layer media type of the kit SBOM referrer.
pub const SBOM_MEDIA_TYPE: &str = "application/spdx+json";
/// `artifactType` of the provenance referrer (an in-toto statement)...
pub const PROVENANCE_ARTIFACT_TYPE: &str = "application/vnd.in-toto+json";
/// ...carried in its DSSE envelope, exactly as in the kit.
pub const PROVENANCE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// Largest manifest or index we read (ours are under 2 KiB; distribution-spec registries accept
/// 4 MiB). Checked before parsing.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Largest config blob we accept in a kit manifest (ours is `{}`).
pub const MAX_CONFIG_BYTES: i64 = 4096;
/// Most entries read from one index (a layout's `index.json`, a referrers fallback index).
pub const MAX_INDEX_ENTRIES: usize = 4096;

/// Annotation keys we write (hints for people browsing a registry; never trusted by the importer).
pub mod annotations {
    /// File name of the layer, as `oras` and skopeo show it.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// Kit creation time (the signed manifest's `created_at`, so pushes are reproducible).
    pub const CREATED: &str = "org.opencontainers.image.created";
    /// Tag of a manifest inside an OCI layout's `index.json`.
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    /// Kit id, channel and sequence from the signed manifest.
    pub const KIT_ID: &str = "dev.ouk.kit.id";
    /// See [`KIT_ID`].
    pub const CHANNEL: &str = "dev.ouk.kit.channel";
    /// See [`KIT_ID`].
    pub const SEQUENCE: &str = "dev.ouk.kit.sequence";
}

/// Which manifest shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// image-spec 1.1: `artifactType`, empty config.
    Artifact,
    /// For registries that refuse `artifactType`: the type is the config media type.
    Compat,
}

impl Shape {
    /// Name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Artifact => "artifact",
            Shape::Compat => "compat",
        }
    }
}

/// A blob as a descriptor names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Media type.
    pub media_type: String,
    /// Content digest.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
}

impl Blob {
    /// The blob of a byte slice.
    pub fn of(media_type: &str, data: &[u8]) -> Blob {
        Blob {
            media_type: media_type.to_owned(),
            digest: Digest::of(data),
            size: data.len() as u64,
        }
    }

    fn descriptor(&self, annotations: Option<BTreeMap<String, String>>) -> OciDescriptor {
        OciDescriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.to_string(),
            // Sizes of files we wrote: far below i64::MAX.
            size: i64::try_from(self.size).unwrap_or(i64::MAX),
            urls: None,
            annotations,
            artifact_type: None,
        }
    }
}

/// The config blob of a shape.
pub fn config_blob(shape: Shape) -> Blob {
    match shape {
        Shape::Artifact => Blob::of(EMPTY_MEDIA_TYPE, EMPTY_CONFIG),
        Shape::Compat => Blob::of(COMPAT_CONFIG_MEDIA_TYPE, EMPTY_CONFIG),
    }
}

/// A manifest as bytes, with its digest: the bytes are what gets pushed or written, so the digest
/// is the one a registry will report.
#[derive(Debug, Clone)]
pub struct ManifestBytes {
    /// Serialized manifest.
    pub bytes: Vec<u8>,
    /// Its digest.
    pub digest: Digest,
    /// Its type as index entries list it: `artifactType`, or for the compat shape the config
    /// media type (distribution-spec's rule for referrers lists).
    pub artifact_type: String,
    /// Its annotations (copied into referrers index entries, as distribution-spec requires).
    pub annotations: BTreeMap<String, String>,
}

impl ManifestBytes {
    fn new(manifest: &OciImageManifest) -> ManifestBytes {
        // serde_json writes struct fields in declaration order and BTreeMap keys sorted: the
        // same manifest always gives the same bytes.
        let bytes = serde_json::to_vec(manifest).expect("a manifest always serializes");
        ManifestBytes {
            digest: Digest::of(&bytes),
            bytes,
            artifact_type: manifest
                .artifact_type
                .clone()
                .unwrap_or_else(|| manifest.config.media_type.clone()),
            annotations: manifest.annotations.clone().unwrap_or_default(),
        }
    }

    /// A descriptor of this manifest (for `subject`, indexes and layouts).
    pub fn descriptor(&self) -> OciDescriptor {
        OciDescriptor {
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            digest: self.digest.to_string(),
            size: self.bytes.len() as i64,
            urls: None,
            annotations: None,
            artifact_type: None,
        }
    }

    /// An index entry for this manifest with the given annotations.
    pub fn index_entry(&self, annotations: Option<BTreeMap<String, String>>) -> ImageIndexEntry {
        ImageIndexEntry {
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            digest: self.digest.to_string(),
            size: self.bytes.len() as i64,
            platform: None,
            annotations,
            artifact_type: Some(self.artifact_type.clone()),
        }
    }

    /// The entry of a referrers list (API response or `sha256-<hex>` fallback index): type and
    /// all annotations of the manifest.
    pub fn referrer_entry(&self) -> ImageIndexEntry {
        self.index_entry((!self.annotations.is_empty()).then(|| self.annotations.clone()))
    }
}

fn manifest(
    config: Blob,
    artifact_type: Option<&str>,
    layer: OciDescriptor,
    subject: Option<OciDescriptor>,
    annotations: BTreeMap<String, String>,
) -> ManifestBytes {
    let m = OciImageManifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
        config: config.descriptor(None),
        layers: vec![layer],
        subject,
        artifact_type: artifact_type.map(str::to_owned),
        annotations: (!annotations.is_empty()).then_some(annotations),
    };
    ManifestBytes::new(&m)
}

/// The kit manifest: `kit` is the kit file's blob, `title` its file name.
pub fn kit_manifest(
    shape: Shape,
    kit: &Blob,
    title: &str,
    annotations: BTreeMap<String, String>,
) -> ManifestBytes {
    let layer_annotations = BTreeMap::from([(annotations::TITLE.to_owned(), title.to_owned())]);
    let mut kit = kit.clone();
    kit.media_type = KIT_LAYER_MEDIA_TYPE.to_owned();
    manifest(
        config_blob(shape),
        (shape == Shape::Artifact).then_some(KIT_ARTIFACT_TYPE),
        kit.descriptor(Some(layer_annotations)),
        None,
        annotations,
    )
}

/// A referrer (signature, SBOM, provenance) of the kit manifest `subject`. In the compat shape its
/// type is its config media type (image-spec's artifact guidance); the config is `{}` either way.
pub fn referrer_manifest(
    shape: Shape,
    artifact_type: &str,
    layer: &Blob,
    title: &str,
    subject: &ManifestBytes,
    created: Option<&str>,
) -> ManifestBytes {
    let layer_annotations = BTreeMap::from([(annotations::TITLE.to_owned(), title.to_owned())]);
    let mut annotations = BTreeMap::new();
    if let Some(c) = created {
        annotations.insert(annotations::CREATED.to_owned(), c.to_owned());
    }
    let config = match shape {
        Shape::Artifact => config_blob(shape),
        Shape::Compat => Blob::of(artifact_type, EMPTY_CONFIG),
    };
    manifest(
        config,
        (shape == Shape::Artifact).then_some(artifact_type),
        layer.descriptor(Some(layer_annotations)),
        Some(subject.descriptor()),
        annotations,
    )
}

/// What a kit manifest we read tells us to fetch.
#[derive(Debug, Clone)]
pub struct KitArtifact {
    /// The kit layer (media type, digest, size).
    pub layer: Blob,
    /// Which shape it was written in.
    pub shape: Shape,
    /// The manifest's annotations (unverified hints).
    pub annotations: BTreeMap<String, String>,
}

/// Checks the form of a descriptor we might act on.
fn check_descriptor(fetched_as: &str, what: &str, d: &OciDescriptor) -> Result<Digest> {
    // A descriptor with `urls` would make a client fetch content from anywhere (and oci-client
    // would follow them); our artifacts never have them.
    if d.urls.is_some() {
        return Err(Error::manifest(
            fetched_as,
            format!("the {what} descriptor has `urls`, which are refused"),
        ));
    }
    if d.size < 0 {
        return Err(Error::manifest(
            fetched_as,
            format!("the {what} size is negative"),
        ));
    }
    Digest::parse(&d.digest).ok_or_else(|| {
        Error::manifest(
            fetched_as,
            format!(
                "the {what} digest {:?} is not sha256:<64 lower-case hex>",
                d.digest
            ),
        )
    })
}

/// Parses and checks a kit manifest: size cap, schema 2, OCI manifest media type, our type (either
/// shape), exactly one layer of the kit layer type, no `urls`, strict digests, and the layer no
/// larger than `max_layer_bytes`. `fetched_as` names the manifest in errors.
pub fn parse_kit_manifest(
    bytes: &[u8],
    fetched_as: &str,
    max_layer_bytes: u64,
) -> Result<KitArtifact> {
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::ManifestTooLarge {
            digest: fetched_as.to_owned(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let m: OciImageManifest = serde_json::from_slice(bytes)
        .map_err(|e| Error::manifest(fetched_as, format!("not an OCI image manifest: {e}")))?;
    if m.schema_version != 2 {
        return Err(Error::manifest(
            fetched_as,
            format!("schemaVersion {} (2 expected)", m.schema_version),
        ));
    }
    if m.media_type.as_deref() != Some(MANIFEST_MEDIA_TYPE) {
        return Err(Error::manifest(
            fetched_as,
            format!(
                "mediaType {:?} ({MANIFEST_MEDIA_TYPE} expected)",
                m.media_type
            ),
        ));
    }
    let shape = match (m.artifact_type.as_deref(), m.config.media_type.as_str()) {
        (Some(KIT_ARTIFACT_TYPE), EMPTY_MEDIA_TYPE | COMPAT_CONFIG_MEDIA_TYPE) => Shape::Artifact,
        (None, COMPAT_CONFIG_MEDIA_TYPE) => Shape::Compat,
        (t, c) => {
            return Err(Error::manifest(
                fetched_as,
                format!(
                    "not an OUK kit (artifactType {t:?}, config mediaType {c:?}; \
                     {KIT_ARTIFACT_TYPE} or config {COMPAT_CONFIG_MEDIA_TYPE} expected)"
                ),
            ))
        }
    };
    check_descriptor(fetched_as, "config", &m.config)?;
    if m.config.size > MAX_CONFIG_BYTES {
        return Err(Error::manifest(
            fetched_as,
            format!("config of {} bytes", m.config.size),
        ));
    }
    if let Some(s) = &m.subject {
        check_descriptor(fetched_as, "subject", s)?;
    }
    let [layer] = m.layers.as_slice() else {
        return Err(Error::manifest(
            fetched_as,
            format!("{} layers (exactly one, the kit, expected)", m.layers.len()),
        ));
    };
    let digest = check_descriptor(fetched_as, "layer", layer)?;
    if layer.media_type != KIT_LAYER_MEDIA_TYPE {
        return Err(Error::manifest(
            fetched_as,
            format!(
                "layer mediaType {:?} ({KIT_LAYER_MEDIA_TYPE} expected)",
                layer.media_type
            ),
        ));
    }
    let size = layer.size as u64;
    if size > max_layer_bytes {
        return Err(Error::LayerTooLarge {
            digest: digest.to_string(),
            size,
            limit: max_layer_bytes,
        });
    }
    Ok(KitArtifact {
        layer: Blob {
            media_type: layer.media_type.clone(),
            digest,
            size,
        },
        shape,
        annotations: m.annotations.unwrap_or_default(),
    })
}

/// Parses an image index under the size and entry caps (a layout's `index.json`, a referrers
/// fallback index).
pub fn parse_index(bytes: &[u8], fetched_as: &str) -> Result<OciImageIndex> {
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::ManifestTooLarge {
            digest: fetched_as.to_owned(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let index: OciImageIndex = serde_json::from_slice(bytes)
        .map_err(|e| Error::manifest(fetched_as, format!("not an OCI image index: {e}")))?;
    if index.schema_version != 2 {
        return Err(Error::manifest(
            fetched_as,
            format!("schemaVersion {} (2 expected)", index.schema_version),
        ));
    }
    if index.manifests.len() > MAX_INDEX_ENTRIES {
        return Err(Error::manifest(
            fetched_as,
            format!(
                "{} entries (at most {MAX_INDEX_ENTRIES})",
                index.manifests.len()
            ),
        ));
    }
    Ok(index)
}

/// An empty index to add referrers to.
pub fn empty_index() -> OciImageIndex {
    OciImageIndex {
        schema_version: 2,
        media_type: Some(INDEX_MEDIA_TYPE.to_owned()),
        manifests: Vec::new(),
        artifact_type: None,
        annotations: None,
    }
}

/// Serializes an index (deterministically, like manifests).
pub fn index_bytes(index: &OciImageIndex) -> Vec<u8> {
    serde_json::to_vec(index).expect("an index always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kit_blob() -> Blob {
        Blob::of("x", b"a kit")
    }

    fn annotated() -> BTreeMap<String, String> {
        BTreeMap::from([(annotations::SEQUENCE.to_owned(), "7".to_owned())])
    }

    #[test]
    fn kit_manifest_round_trips_in_both_shapes() {
        for shape in [Shape::Artifact, Shape::Compat] {
            let m = kit_manifest(shape, &kit_blob(), "day-7.ouk", annotated());
            let got = parse_kit_manifest(&m.bytes, "m", 1 << 30).unwrap();
            assert_eq!(got.shape, shape);
            assert_eq!(got.layer.digest, kit_blob().digest);
            assert_eq!(got.layer.size, 5);
            assert_eq!(got.layer.media_type, KIT_LAYER_MEDIA_TYPE);
            assert_eq!(got.annotations, annotated());
            let v: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
            assert_eq!(v.get("artifactType").is_some(), shape == Shape::Artifact);
        }
    }

    #[test]
    fn manifests_are_deterministic() {
        let a = kit_manifest(Shape::Artifact, &kit_blob(), "k.ouk", annotated());
        let b = kit_manifest(Shape::Artifact, &kit_blob(), "k.ouk", annotated());
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.digest, Digest::of(&a.bytes));
    }

    fn mutate(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let m = kit_manifest(Shape::Artifact, &kit_blob(), "k.ouk", annotated());
        let mut v: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn refuses_hostile_or_foreign_manifests() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "urls",
                mutate(|v| v["layers"][0]["urls"] = serde_json::json!(["https://evil.example/x"])),
            ),
            (
                "config urls",
                mutate(|v| v["config"]["urls"] = serde_json::json!(["https://e.example/"])),
            ),
            (
                "two layers",
                mutate(|v| {
                    let l = v["layers"][0].clone();
                    v["layers"].as_array_mut().unwrap().push(l);
                }),
            ),
            ("no layer", mutate(|v| v["layers"] = serde_json::json!([]))),
            (
                "other type",
                mutate(|v| v["artifactType"] = "application/vnd.example+type".into()),
            ),
            (
                "gzip layer",
                mutate(|v| {
                    v["layers"][0]["mediaType"] =
                        "application/vnd.oci.image.layer.v1.tar+gzip".into()
                }),
            ),
            (
                "sha512",
                mutate(|v| v["layers"][0]["digest"] = format!("sha512:{}", "a".repeat(128)).into()),
            ),
            (
                "upper hex",
                mutate(|v| {
                    let d = v["layers"][0]["digest"]
                        .as_str()
                        .unwrap()
                        .to_uppercase()
                        .replace("SHA256", "sha256");
                    v["layers"][0]["digest"] = d.into();
                }),
            ),
            (
                "negative size",
                mutate(|v| v["layers"][0]["size"] = (-1).into()),
            ),
            ("schema 1", mutate(|v| v["schemaVersion"] = 1.into())),
            (
                "docker media type",
                mutate(|v| {
                    v["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json".into()
                }),
            ),
            (
                "big config",
                mutate(|v| v["config"]["size"] = 1_000_000.into()),
            ),
            ("not json", b"{\"schemaVersion\":2,".to_vec()),
        ];
        for (name, bytes) in cases {
            let e = parse_kit_manifest(&bytes, "sha256:m", 1 << 30).unwrap_err();
            assert!(matches!(e, Error::BadManifest { .. }), "{name}: {e}");
        }
        let big =
            mutate(|v| v["annotations"]["pad"] = "x".repeat(MAX_MANIFEST_BYTES as usize).into());
        assert!(matches!(
            parse_kit_manifest(&big, "m", 1 << 30),
            Err(Error::ManifestTooLarge { .. })
        ));
        let e = parse_kit_manifest(&mutate(|_| {}), "m", 4).unwrap_err();
        assert!(
            matches!(
                e,
                Error::LayerTooLarge {
                    size: 5,
                    limit: 4,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn referrer_points_at_the_kit_manifest() {
        let kit = kit_manifest(Shape::Artifact, &kit_blob(), "k.ouk", annotated());
        let sig = Blob::of(SIGNATURE_MEDIA_TYPE, b"c2ln");
        let r = referrer_manifest(
            Shape::Artifact,
            SIGNATURE_ARTIFACT_TYPE,
            &sig,
            "k.ouk.sig",
            &kit,
            None,
        );
        let v: serde_json::Value = serde_json::from_slice(&r.bytes).unwrap();
        assert_eq!(v["subject"]["digest"], kit.digest.to_string());
        assert_eq!(v["subject"]["size"], kit.bytes.len());
        assert_eq!(v["artifactType"], SIGNATURE_ARTIFACT_TYPE);
        assert_eq!(v["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        // Not a kit: a puller given the referrer's digest refuses it.
        assert!(parse_kit_manifest(&r.bytes, "r", 1 << 30).is_err());
    }
}
