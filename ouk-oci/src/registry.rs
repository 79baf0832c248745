//! Push and pull through a registry (distribution-spec 1.1). Push uses `oci-client`'s streaming
//! upload (chunked PATCH from the file, constant memory). The pull path — token exchange,
//! manifests, ranged blob download — uses the capped requests of [`crate::http`] (oci-client
//! reads those bodies whole, see there) and the resumable loop of [`crate::download`]. Nothing
//! is buffered whole but manifests and tokens, which are capped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use reqwest::header::HeaderValue;

use crate::artifact::{
    self, parse_index, parse_kit_manifest, Blob, KitArtifact, Shape, INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES,
};
use crate::download::{self, Budget};
use crate::error::{Error, Result};
use crate::http::{self, Auth};
use crate::publish::Publication;
use crate::reference::{Digest, OciRef};

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Site CA certificates (PEM) trusted in addition to the system's.
    pub ca_certs: Vec<PathBuf>,
    /// Basic-auth user (also used to obtain bearer tokens from a token service).
    pub username: Option<String>,
    /// Its password.
    pub password: Option<String>,
    /// Read and connect timeout (none: reqwest's defaults).
    pub timeout: Option<Duration>,
    /// Attempts per download after a broken transfer (each resumes where the last stopped; the
    /// count starts again whenever an attempt moved the file on by 64 KiB).
    pub retries: u32,
    /// Wall-clock limit for one download (a registry trickling bytes must not hold a scheduled
    /// job for ever); what was fetched is kept for the next run.
    pub deadline: Option<Duration>,
    /// Plain HTTP instead of HTTPS (a test registry, or one on a host-only network). Kits stay
    /// authenticated by their signatures; credentials would travel in clear, so they are refused
    /// with it.
    pub plain_http: bool,
}

/// Which shape `push` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeChoice {
    /// The artifact shape, and the compat shape if the registry refuses it.
    Auto,
    /// Exactly this one.
    Only(Shape),
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct PushReport {
    /// Where the kit manifest was pushed (by tag).
    pub reference: String,
    /// Its digest: pin this when pulling.
    pub manifest: Digest,
    /// The shape the registry accepted.
    pub shape: Shape,
    /// The kit blob.
    pub kit: Blob,
    /// Whether the kit blob was already in the registry (not uploaded again).
    pub kit_reused: bool,
    /// Referrers pushed (artifact type, manifest digest).
    pub referrers: Vec<(String, Digest)>,
    /// The referrers fallback tag maintained (`sha256-<hex>`).
    pub fallback_tag: String,
}

/// What a pull fetched.
#[derive(Debug)]
pub struct PulledKit {
    /// The downloaded kit file (digest and size verified).
    pub path: PathBuf,
    /// The kit manifest's digest (resolved from the tag when none was pinned).
    pub manifest: Digest,
    /// What the manifest says about the kit layer.
    pub artifact: KitArtifact,
    /// Bytes already present from an earlier, interrupted pull.
    pub resumed_from: u64,
    /// Transfers broken and resumed within this pull.
    pub resumes: u32,
}

/// A connected registry client (one repository's registry).
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: Client,
    http: reqwest::Client,
    auth: RegistryAuth,
    conn: Connection,
    registry: String,
    /// `https://host[:port]`.
    base: String,
}

fn install_crypto_provider() {
    // Both clients use rustls without a built-in provider; ring is installed once per process.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Registry {
    /// Builds the clients for `reference`'s registry (HTTPS unless `plain_http`).
    pub fn connect(reference: &OciRef, conn: &Connection) -> Result<Registry> {
        install_crypto_provider();
        if conn.plain_http && (conn.username.is_some() || conn.password.is_some()) {
            return Err(Error::BadReference {
                reference: reference.to_string(),
                reason: "credentials are not sent over plain HTTP; use HTTPS (--ca-cert)".into(),
            });
        }
        let mut pems = Vec::new();
        for path in &conn.ca_certs {
            let data = fs::read(path).map_err(|e| Error::io("reading the site CA", path, e))?;
            reqwest::Certificate::from_pem(&data).map_err(|e| Error::Config {
                what: "site CA",
                path: path.clone(),
                reason: e.to_string(),
            })?;
            pems.push(data);
        }
        let config = ClientConfig {
            protocol: if conn.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            extra_root_certificates: pems
                .iter()
                .map(|p| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: p.clone(),
                })
                .collect(),
            read_timeout: conn.timeout,
            connect_timeout: conn.timeout,
            ..Default::default()
        };
        let client = Client::try_from(config).map_err(|e| Error::Registry {
            registry: reference.registry.clone(),
            operation: "configuring the client".into(),
            reason: e.to_string(),
        })?;
        // HTTPS only, redirects included (registries redirect blob GETs to their storage).
        let mut http = reqwest::Client::builder().https_only(!conn.plain_http);
        let certs = pems
            .iter()
            .map(|p| reqwest::Certificate::from_pem(p))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Registry {
                registry: reference.registry.clone(),
                operation: "configuring the client".into(),
                reason: e.to_string(),
            })?;
        http = http.tls_certs_merge(certs);
        if let Some(t) = conn.timeout {
            http = http.read_timeout(t).connect_timeout(t);
        }
        let http = http.build().map_err(|e| Error::Registry {
            registry: reference.registry.clone(),
            operation: "configuring the client".into(),
            reason: e.to_string(),
        })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the I/O runtime", "", e))?;
        let auth = match (&conn.username, &conn.password) {
            (Some(u), Some(p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            _ => RegistryAuth::Anonymous,
        };
        Ok(Registry {
            rt,
            client,
            http,
            auth,
            conn: conn.clone(),
            registry: reference.registry.clone(),
            base: format!(
                "{}://{}",
                if conn.plain_http { "http" } else { "https" },
                reference.registry
            ),
        })
    }

    fn fail(&self, operation: impl Into<String>, reason: impl std::error::Error) -> Error {
        http::registry_error(&self.registry, operation, http::chain(&reason))
    }

    fn refuse(&self, operation: impl Into<String>, reason: impl Into<String>) -> Error {
        http::registry_error(&self.registry, operation, reason)
    }

    fn credentials(&self) -> Option<(&str, &str)> {
        match (&self.conn.username, &self.conn.password) {
            (Some(u), Some(p)) => Some((u.as_str(), p.as_str())),
            _ => None,
        }
    }

    async fn authenticate(&self, r: &OciRef, actions: &str) -> Result<Auth> {
        http::authenticate(
            &self.http,
            &self.base,
            &r.repository,
            actions,
            self.credentials(),
        )
        .await
        .map_err(|e| self.refuse("authenticating", e))
    }

    /// GET a manifest or index by tag or digest under [`MAX_MANIFEST_BYTES`]; a body fetched by
    /// digest must hash to it. `Ok(None)` on 404.
    async fn get_manifest(
        &self,
        r: &OciRef,
        by: &str,
        auth: &Auth,
    ) -> Result<Option<(Vec<u8>, Digest)>> {
        let accept = format!("{MANIFEST_MEDIA_TYPE}, {INDEX_MEDIA_TYPE}");
        let body = http::get_manifest(
            &self.http,
            &self.base,
            &r.repository,
            by,
            auth,
            &accept,
            MAX_MANIFEST_BYTES,
        )
        .await
        .map_err(|e| {
            if e.contains("larger than") {
                Error::ManifestTooLarge {
                    digest: by.to_owned(),
                    limit: MAX_MANIFEST_BYTES,
                }
            } else {
                self.refuse(format!("fetching manifest {by}"), e)
            }
        })?;
        let Some(body) = body else { return Ok(None) };
        let digest = Digest::of(&body);
        if let Some(pinned) = Digest::parse(by) {
            if pinned != digest {
                return Err(Error::BlobMismatch {
                    expected: pinned.to_string(),
                    what: format!("the registry served a manifest of digest {digest}"),
                });
            }
        }
        Ok(Some((body, digest)))
    }

    /// Pushes `publication` to `reference` (its tag; `latest` when none): blobs the registry
    /// lacks, the kit manifest by digest, each referrer by digest, the referrers fallback index
    /// under tag `sha256-<kit manifest hex>` (distribution 2.8 has no referrers API), and only
    /// then the tag — a push that fails half-way never leaves the tag on a kit without its
    /// referrers.
    pub fn push(
        &self,
        reference: &OciRef,
        publication: &Publication,
        shape: ShapeChoice,
    ) -> Result<PushReport> {
        self.rt
            .block_on(self.push_async(reference, publication, shape))
    }

    async fn push_async(
        &self,
        r: &OciRef,
        publication: &Publication,
        choice: ShapeChoice,
    ) -> Result<PushReport> {
        let tag = r.tag.clone().unwrap_or_else(|| "latest".to_owned());
        let tagged = r.with_tag(&tag);
        self.client
            .auth(&tagged, &self.auth, RegistryOperation::Push)
            .await
            .map_err(|e| self.fail("authenticating for push", e))?;
        let kit_reused = self.push_kit_blob(&tagged, publication).await?;
        let mut p = match choice {
            ShapeChoice::Only(s) if s != publication.shape => publication.reshape(s),
            _ => publication.clone(),
        };
        self.push_small_blobs(&tagged, &p).await?;
        let by_digest = |p: &Publication| r.with_digest(&p.manifest.digest);
        match self
            .put_manifest(&by_digest(&p), &p.manifest.bytes, MANIFEST_MEDIA_TYPE)
            .await
        {
            Ok(()) => {}
            // Only a registry that says the manifest is invalid or unsupported gets the compat
            // shape; any other failure (auth, network, 5xx) is reported as it is.
            Err(e)
                if choice == ShapeChoice::Auto
                    && p.shape == Shape::Artifact
                    && refuses_shape(&e) =>
            {
                tracing::warn!(
                    "registry refused the artifact manifest ({e}); pushing the compat shape"
                );
                p = p.reshape(Shape::Compat);
                self.push_small_blobs(&tagged, &p).await?;
                self.put_manifest(&by_digest(&p), &p.manifest.bytes, MANIFEST_MEDIA_TYPE)
                    .await
                    .map_err(|e| self.fail("pushing the kit manifest", e))?;
            }
            Err(e) => return Err(self.fail("pushing the kit manifest", e)),
        }
        let mut referrers = Vec::new();
        for (m, _) in &p.referrers {
            self.put_manifest(&r.with_digest(&m.digest), &m.bytes, MANIFEST_MEDIA_TYPE)
                .await
                .map_err(|e| self.fail(format!("pushing referrer {}", m.artifact_type), e))?;
            referrers.push((m.artifact_type.clone(), m.digest));
        }
        let fallback_tag = format!("sha256-{}", p.manifest.digest.hex());
        if !p.referrers.is_empty() {
            self.update_fallback_index(r, &fallback_tag, &p).await?;
        }
        self.put_manifest(&tagged, &p.manifest.bytes, MANIFEST_MEDIA_TYPE)
            .await
            .map_err(|e| self.fail(format!("tagging the kit manifest {tag}"), e))?;
        Ok(PushReport {
            reference: format!("oci://{}/{}:{tag}", self.registry, r.repository),
            manifest: p.manifest.digest,
            shape: p.shape,
            kit: p.kit.clone(),
            kit_reused,
            referrers,
            fallback_tag,
        })
    }

    async fn put_manifest(
        &self,
        image: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> std::result::Result<(), OciDistributionError> {
        self.client
            .push_manifest_raw(
                image,
                bytes.to_vec(),
                HeaderValue::from_str(media_type).expect("media types are ASCII"),
            )
            .await
            .map(|_| ())
    }

    async fn blob_exists(&self, image: &Reference, digest: &Digest) -> Result<bool> {
        self.client
            .blob_exists(image, &digest.to_string())
            .await
            .map_err(|e| self.fail(format!("checking blob {digest}"), e))
    }

    async fn push_small_blobs(&self, image: &Reference, p: &Publication) -> Result<()> {
        for (blob, data) in p.small_blobs() {
            if !self.blob_exists(image, &blob.digest).await? {
                self.client
                    .push_blob(image, data.to_vec(), &blob.digest.to_string())
                    .await
                    .map_err(|e| self.fail(format!("pushing blob {}", blob.digest), e))?;
            }
        }
        Ok(())
    }

    /// Streams the kit file to the registry in chunks (constant memory); the registry checks the
    /// digest the upload is committed under.
    async fn push_kit_blob(&self, image: &Reference, p: &Publication) -> Result<bool> {
        if self.blob_exists(image, &p.kit.digest).await? {
            return Ok(true);
        }
        let path = p.kit_path.clone();
        let file = File::open(&path).map_err(|e| Error::io("opening", &path, e))?;
        let stream = futures_util::stream::try_unfold(
            BufReader::with_capacity(1 << 20, file),
            |mut f| async move {
                let mut buf = vec![0u8; 4 << 20];
                let mut filled = 0;
                while filled < buf.len() {
                    let n = f
                        .read(&mut buf[filled..])
                        .map_err(OciDistributionError::IoError)?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    return Ok(None);
                }
                buf.truncate(filled);
                Ok(Some((bytes::Bytes::from(buf), f)))
            },
        );
        self.client
            .push_blob_stream(image, stream, &p.kit.digest.to_string(), Some(p.kit.size))
            .await
            .map_err(|e| self.fail(format!("uploading the kit {}", p.kit_path.display()), e))?;
        Ok(false)
    }

    /// Adds the referrers to the `sha256-<hex>` index (distribution-spec's referrers tag schema),
    /// keeping entries other clients put there.
    async fn update_fallback_index(&self, r: &OciRef, tag: &str, p: &Publication) -> Result<()> {
        let auth = self.authenticate(r, "pull,push").await?;
        let mut index = match self.get_manifest(r, tag, &auth).await? {
            Some((bytes, digest)) => parse_index(&bytes, &format!("{tag} ({digest})"))?,
            None => artifact::empty_index(),
        };
        for (m, _) in &p.referrers {
            if !index
                .manifests
                .iter()
                .any(|e| e.digest == m.digest.to_string())
            {
                index.manifests.push(m.referrer_entry());
            }
        }
        self.put_manifest(
            &r.with_tag(tag),
            &artifact::index_bytes(&index),
            INDEX_MEDIA_TYPE,
        )
        .await
        .map_err(|e| self.fail(format!("pushing the referrers fallback index {tag}"), e))
    }

    /// Resolves `reference` to a kit manifest (a tag is resolved once, then everything is fetched
    /// by digest), checks it, and downloads the kit layer into `dir` as `<hex>.ouk`, resuming a
    /// `<hex>.partial` left by an interrupted pull. The kit is not verified here — only its
    /// digest and size; the caller imports it through the staged reader.
    pub fn pull(
        &self,
        reference: &OciRef,
        dir: &Path,
        max_layer_bytes: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<PulledKit> {
        let (manifest, artifact) = self.resolve(reference, max_layer_bytes)?;
        self.download(reference, manifest, artifact, dir, progress)
    }

    /// Resolves a reference to its manifest digest and checked kit artifact, downloading nothing
    /// else.
    pub fn resolve(
        &self,
        reference: &OciRef,
        max_layer_bytes: u64,
    ) -> Result<(Digest, KitArtifact)> {
        self.rt.block_on(async {
            let r = reference;
            let by = match (&r.digest, &r.tag) {
                (Some(d), _) => d.to_string(),
                (None, Some(t)) => t.clone(),
                (None, None) => "latest".to_owned(),
            };
            let auth = self.authenticate(r, "pull").await?;
            let (bytes, digest) = self
                .get_manifest(r, &by, &auth)
                .await?
                .ok_or_else(|| self.refuse(format!("fetching manifest {by}"), "not found"))?;
            let artifact = parse_kit_manifest(&bytes, &digest.to_string(), max_layer_bytes)?;
            Ok((digest, artifact))
        })
    }

    /// Downloads the kit layer of a manifest [`Registry::resolve`] returned (see
    /// [`Registry::pull`]), so a caller can decide in between whether it needs it.
    pub fn download(
        &self,
        reference: &OciRef,
        manifest: Digest,
        artifact: KitArtifact,
        dir: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<PulledKit> {
        let (path, resumed_from, resumes) = self
            .rt
            .block_on(self.fetch_layer(reference, &artifact.layer, dir, progress))
            .map_err(|e| match e {
                Error::Registry {
                    registry,
                    operation,
                    reason,
                } if registry.is_empty() => http::registry_error(&self.registry, operation, reason),
                e => e,
            })?;
        Ok(PulledKit {
            path,
            manifest,
            artifact,
            resumed_from,
            resumes,
        })
    }

    async fn fetch_layer(
        &self,
        r: &OciRef,
        layer: &Blob,
        dir: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(PathBuf, u64, u32)> {
        fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        let hex = layer.digest.hex();
        let done = dir.join(format!("{hex}.ouk"));
        let partial_path = dir.join(format!("{hex}.partial"));
        // A complete download from an earlier run whose import did not finish: reused if intact.
        if let Ok(f) = File::open(&done) {
            let (sha, size) =
                ouk_format::digest::Sha256::of_reader(BufReader::with_capacity(1 << 20, f))
                    .map_err(|e| Error::io("reading", &done, e))?;
            if Digest(sha) == layer.digest && size == layer.size {
                return Ok((done, size, 0));
            }
            fs::remove_file(&done).map_err(|e| Error::io("removing", &done, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&partial_path)
            .map_err(|e| Error::io("opening", &partial_path, e))?;
        let mut hasher = ouk_format::digest::Hasher::new();
        let mut offset = file
            .metadata()
            .map_err(|e| Error::io("inspecting", &partial_path, e))?
            .len();
        if offset > layer.size {
            file.set_len(0)
                .map_err(|e| Error::io("truncating", &partial_path, e))?;
            offset = 0;
        }
        if offset > 0 {
            // What an earlier pull kept is hashed again, not trusted: the digest covers it all.
            // The download resumes after what could be read (a file that shrank meanwhile).
            file.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io("reading", &partial_path, e))?;
            let mut kept = BufReader::with_capacity(1 << 20, (&file).take(offset));
            offset = io::copy(&mut kept, &mut hasher)
                .map_err(|e| Error::io("reading", &partial_path, e))?;
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seeking", &partial_path, e))?;
        let budget = Budget {
            retries: self.conn.retries,
            deadline: self.conn.deadline,
            backoff: Duration::from_millis(250),
        };
        let auth = Mutex::new(self.authenticate(r, "pull").await?);
        let got = download::run(
            layer,
            &partial_path,
            file,
            offset,
            hasher,
            budget,
            |off| {
                let auth = auth.lock().expect("not poisoned").clone();
                async move {
                    http::get_blob(
                        &self.http,
                        &self.base,
                        &r.repository,
                        &layer.digest,
                        layer.size,
                        off,
                        &auth,
                    )
                    .await
                }
            },
            || async {
                let fresh = http::authenticate(
                    &self.http,
                    &self.base,
                    &r.repository,
                    "pull",
                    self.credentials(),
                )
                .await?;
                *auth.lock().expect("not poisoned") = fresh;
                Ok(())
            },
            progress,
        )
        .await?;
        fs::rename(&partial_path, &done).map_err(|e| Error::io("renaming into", &done, e))?;
        Ok((done, offset, got.resumes))
    }
}

/// Whether a manifest PUT failed because the registry does not accept the manifest's shape (the
/// only reason to fall back to the compat shape).
fn refuses_shape(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                OciErrorCode::ManifestInvalid | OciErrorCode::Unsupported
            )
        }),
        OciDistributionError::ServerError { code, .. } => matches!(code, 400 | 415),
        _ => false,
    }
}
