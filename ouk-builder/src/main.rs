//! `ouk-builder`: thin CLI over the `ouk_builder` library. Parses flags (and `kit.toml`),
//! reads the environment (`SOURCE_DATE_EPOCH`, key passwords), calls the library, and maps the
//! outcome to an exit code: 0 success, 1 failure, 2 usage error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ouk_builder::build::{build, BuildRequest, SbomArg, TrivySource};
use ouk_builder::config::{parse_duration_secs, KitConfig};
use ouk_builder::delta::{build_delta, DeltaBase, DeltaRequest};
use ouk_builder::keyfile::{keygen, load_public, load_signer, Passwords};
use ouk_builder::progress::{Progress, Silent};
use ouk_builder::{trust, BuildError};
use ouk_feeds::{MergeOptions, SourceSpec, SourceStatus};
use ouk_format::keys::Signer;
use ouk_format::time::Timestamp;
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "ouk-builder",
    version,
    about = "Build signed Offline Update Kits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an ed25519 key pair: PREFIX.key (PKCS#8 PEM, 0600) and PREFIX.pub (SPKI PEM).
    /// The private key is encrypted when OUK_KEY_PASSWORD is set.
    Keygen {
        /// Output prefix.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create, extend and sign trust roots.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Merge feed sources into advisories.ndjson, snapshot.json and merge-report.json.
    Merge {
        /// Feed source, KIND=PATH (osv, ghsa, nvd, cnnvd, cnvd, enisa, jvn, bdu). Repeatable.
        #[arg(long = "source", required = true)]
        sources: Vec<String>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Continue when a required source is unreadable or empty (recorded in snapshot.json).
        #[arg(long)]
        allow_partial: bool,
        /// Include GHSA unreviewed advisories.
        #[arg(long)]
        include_unreviewed: bool,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
    },
    /// Build and sign a kit.
    Build(Box<BuildArgs>),
    /// Publish a kit to an OCI registry: verified against --trust-root first, pushed as an
    /// image-spec 1.1 artifact (one kit layer, unchanged) under the tag, with the detached
    /// signature (KIT.sig, when present), the kit SBOM and the provenance attached as referrers.
    /// Prints the manifest digest to pin when pulling.
    Push {
        /// Kit file.
        kit: PathBuf,
        /// `oci://host[:port]/repository[:tag]` (tag `latest` when none).
        reference: String,
        #[command(flatten)]
        publish: PublishArgs,
        /// Site CA certificate (PEM) for the registry's TLS, in addition to the system's.
        #[arg(long, value_name = "FILE")]
        ca_cert: Vec<PathBuf>,
        /// Registry user (basic auth, or for a token service).
        #[arg(long, requires = "password_file")]
        username: Option<String>,
        /// File holding the registry password (first line).
        #[arg(long, value_name = "FILE", requires = "username")]
        password_file: Option<PathBuf>,
        /// Network read and connect timeout, seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
        /// Talk plain HTTP to the registry (a test registry). Refused together with credentials.
        #[arg(long)]
        plain_http: bool,
    },
    /// Write a kit into an OCI image layout directory (for media; `ouk-importer import --layout`
    /// reads it), with the same manifests and referrers `push` would publish. An existing layout
    /// is added to; exporting a tag again moves it.
    ExportLayout {
        /// Kit file.
        kit: PathBuf,
        /// Layout directory (created when missing).
        dir: PathBuf,
        /// Tag of the kit in the layout (default: the kit id).
        #[arg(long = "ref", value_name = "TAG")]
        ref_name: Option<String>,
        #[command(flatten)]
        publish: PublishArgs,
    },
    /// Build and sign a delta kit: only the records that changed since a base kit (same flags
    /// as `build`; no Trivy DB member, the importer rebuilds it).
    Delta(Box<DeltaArgs>),
}

/// What `push` and `export-layout` share.
#[derive(clap::Args, Debug)]
struct PublishArgs {
    /// Trust root the kit must verify against before it is published.
    #[arg(long, value_name = "FILE")]
    trust_root: PathBuf,
    /// Manifest shape: `artifact` (image-spec 1.1 artifactType), `compat` (type in the config
    /// media type, for registries that refuse artifactType), `auto` (artifact, compat if
    /// refused; for export-layout, artifact).
    #[arg(long, default_value = "auto", value_parser = ["auto", "artifact", "compat"])]
    shape: String,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

impl PublishArgs {
    fn shape(&self) -> ouk_oci::registry::ShapeChoice {
        use ouk_oci::artifact::Shape;
        use ouk_oci::registry::ShapeChoice;
        match self.shape.as_str() {
            "artifact" => ShapeChoice::Only(Shape::Artifact),
            "compat" => ShapeChoice::Only(Shape::Compat),
            _ => ShapeChoice::Auto,
        }
    }

    fn plan(&self, kit: &std::path::Path) -> Result<ouk_oci::publish::Publication, BuildError> {
        use ouk_oci::artifact::Shape;
        use ouk_oci::registry::ShapeChoice;
        let shape = match self.shape() {
            ShapeChoice::Only(s) => s,
            ShapeChoice::Auto => Shape::Artifact,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        ouk_builder::publish::plan(
            kit,
            &self.trust_root,
            ouk_format::time::Timestamp::from_unix(now),
            shape,
        )
    }
}

#[derive(Args)]
struct DeltaArgs {
    /// The base kit (the one importers hold as their active generation).
    #[arg(long, required_unless_present = "base_snapshot")]
    base: Option<PathBuf>,
    /// Instead of --base: the base kit's feeds/advisories.ndjson (with --base-kit-sha256 and
    /// --base-sequence).
    #[arg(long, conflicts_with = "base", requires_all = ["base_kit_sha256", "base_sequence"])]
    base_snapshot: Option<PathBuf>,
    /// sha256 of the base kit file (with --base-snapshot).
    #[arg(long)]
    base_kit_sha256: Option<String>,
    /// Sequence of the base kit (with --base-snapshot).
    #[arg(long)]
    base_sequence: Option<u64>,
    /// The base kit's feeds/merge-report.json (with --base-snapshot): the new report then
    /// travels as a line patch against it instead of whole.
    #[arg(long, requires = "base_snapshot")]
    base_report: Option<PathBuf>,
    /// The full kit of this same build (same sources, sequence and times), checked and named
    /// in the delta: a store that holds either kit then takes the other as already imported,
    /// and one stick may carry both (scan-media applies the delta where it can, else the full
    /// kit).
    #[arg(long)]
    twin: Option<PathBuf>,
    #[command(flatten)]
    build: BuildArgs,
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Create a new trust root (signed when --sign keys are given).
    Init {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Root-role public keys (or private key files, whose public half is used).
        #[arg(long = "root-key", required = true)]
        root_keys: Vec<PathBuf>,
        /// Kit-role public keys.
        #[arg(long = "kit-key", required = true)]
        kit_keys: Vec<PathBuf>,
        /// Attestation-role public keys.
        #[arg(long = "attestation-key", required = true)]
        attestation_keys: Vec<PathBuf>,
        /// Allowed builder ids.
        #[arg(long = "builder", required = true)]
        builders: Vec<String>,
        /// Root threshold.
        #[arg(long, default_value_t = 1)]
        root_threshold: u32,
        /// Kit threshold.
        #[arg(long, default_value_t = 1)]
        kit_threshold: u32,
        /// Attestation threshold.
        #[arg(long, default_value_t = 1)]
        attestation_threshold: u32,
        /// Lifetime (e.g. 365d) or absolute YYYY-MM-DDTHH:MM:SSZ.
        #[arg(long, default_value = "365d")]
        expires: String,
        /// Version.
        #[arg(long, default_value_t = 1)]
        version: u64,
        /// Root private keys to sign with now.
        #[arg(long = "sign")]
        sign: Vec<PathBuf>,
    },
    /// Make root N+1 from root N (TUF rotation): add/remove keys, change thresholds, expiry or
    /// builders. Signed by the --sign keys given (old and new holders); the rest sign later
    /// with `trust sign`. --dry-run only shows the new root and who must sign.
    Rotate {
        /// The current root (N).
        #[arg(long)]
        trust_root: PathBuf,
        /// Output file for root N+1.
        #[arg(long, required_unless_present = "dry_run")]
        out: Option<PathBuf>,
        /// ROLE=KEYFILE: add a public key (or the public half of a private key file) to a role.
        #[arg(long = "add-key", value_name = "ROLE=FILE")]
        add_keys: Vec<String>,
        /// ROLE=KEYID|KEYFILE: take a key out of a role (revocation).
        #[arg(long = "remove-key", value_name = "ROLE=KEY")]
        remove_keys: Vec<String>,
        /// ROLE=K: new threshold.
        #[arg(long = "threshold", value_name = "ROLE=K")]
        thresholds: Vec<String>,
        /// New expiry: lifetime from now (e.g. 365d) or YYYY-MM-DDTHH:MM:SSZ (default: unchanged).
        #[arg(long)]
        expires: Option<String>,
        /// Allow another builder id.
        #[arg(long = "add-builder")]
        add_builders: Vec<String>,
        /// Stop allowing a builder id.
        #[arg(long = "remove-builder")]
        remove_builders: Vec<String>,
        /// Root private keys (of N or N+1) to sign with now.
        #[arg(long = "sign")]
        sign: Vec<PathBuf>,
        /// Show the new root and the signatures it needs; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Add signatures by root-role private keys (one holder at a time).
    Sign {
        /// Trust root file (rewritten unless --out).
        #[arg(long)]
        trust_root: PathBuf,
        /// The root it rotates from: its outgoing holders may sign too.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Root private keys.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Output file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Who has signed a trust root and who still must (exit 0 when importers will accept it,
    /// 3 when signatures are missing).
    Status {
        /// Trust root file.
        #[arg(long)]
        trust_root: PathBuf,
        /// The root it rotates from.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct BuildArgs {
    /// kit.toml with defaults for every flag below (flags override).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Directory of files to pack as payload/<path>. Repeatable.
    #[arg(long)]
    payload: Vec<PathBuf>,
    /// Feed source KIND=PATH. Repeatable.
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Continue when a required source is unreadable or empty (recorded in the manifest).
    #[arg(long)]
    allow_partial: bool,
    /// Include GHSA unreviewed advisories.
    #[arg(long)]
    include_unreviewed: bool,
    /// User SBOM ([MEMBER=]PATH, SPDX 2.3/2.2 or CycloneDX 1.5/1.6/1.7 JSON). Repeatable.
    #[arg(long = "sbom")]
    sboms: Vec<String>,
    /// Pack this upstream Trivy db.tar.gz instead of exporting one from the feeds.
    #[arg(long)]
    trivy_db: Option<PathBuf>,
    /// Leave the Trivy DB out.
    #[arg(long, conflicts_with = "trivy_db")]
    no_trivy: bool,
    /// Kit-role signing key. Repeatable (k-of-n).
    #[arg(long = "key")]
    keys: Vec<PathBuf>,
    /// Attestation-role signing key. Repeatable.
    #[arg(long = "attestation-key")]
    attestation_keys: Vec<PathBuf>,
    /// Anti-rollback sequence number.
    #[arg(long)]
    sequence: Option<u64>,
    /// Lifetime (e.g. 30d) or absolute YYYY-MM-DDTHH:MM:SSZ.
    #[arg(long)]
    expires: Option<String>,
    /// Release channel.
    #[arg(long)]
    channel: Option<String>,
    /// Kit id (default CHANNEL-SEQUENCE).
    #[arg(long)]
    kit_id: Option<String>,
    /// Builder id (must be allowed by the importers' trust root).
    #[arg(long)]
    builder_id: Option<String>,
    /// Previous kit of the channel (its sha256 is chained into the manifest).
    #[arg(long)]
    previous_kit: Option<PathBuf>,
    /// Trust root file to carry before the manifest (rotation chain from a root importers may
    /// still hold to the one whose keys sign this kit), oldest first. Repeatable.
    #[arg(long = "trust-chain", value_name = "ROOT.json")]
    trust_chain: Vec<PathBuf>,
    /// Output kit file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write OUT.sig.
    #[arg(long)]
    no_blob_signature: bool,
    /// Cut the kit into parts OUT.001, OUT.002, ... of SIZE bytes (the last one shorter) and
    /// write the signed part index OUT.parts.json, for media with a file size limit. SIZE is
    /// plain bytes or has a unit: KiB, MiB, GiB (also K, M, G) or kB, MB, GB, e.g. 4GiB or
    /// 100MiB. It must be 1 MiB to 4 GiB - 1 bytes: FAT32 cannot hold a file of 4 GiB, so
    /// `--split 4GiB` is refused (use `--split 4095MiB`). Import with
    /// `ouk-importer import OUT.parts.json` or `import --from DIR`. OUT itself is removed
    /// unless --keep-whole.
    #[arg(long, value_name = "SIZE", value_parser = parse_split_size)]
    split: Option<u64>,
    /// With --split: keep the whole kit file OUT as well.
    #[arg(long, requires = "split")]
    keep_whole: bool,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

fn parse_split_size(s: &str) -> Result<u64, String> {
    let size = ouk_builder::split::parse_size(s)?;
    ouk_builder::split::check_part_size(size).map_err(|e| e.to_string())?;
    Ok(size)
}

fn passwords() -> Passwords {
    Passwords {
        ouk: std::env::var("OUK_KEY_PASSWORD").ok().map(Zeroizing::new),
        cosign: std::env::var("COSIGN_PASSWORD").ok().map(Zeroizing::new),
    }
}

/// The build time: `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.
fn build_time() -> Result<Timestamp, BuildError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .map(Timestamp::from_unix)
            .map_err(|_| BuildError::Config(format!("SOURCE_DATE_EPOCH={v:?} is not an integer"))),
        Err(_) => Ok(Timestamp::from_unix(chrono::Utc::now().timestamp())),
    }
}

fn expiry(from: Timestamp, spec: &str) -> Result<Timestamp, BuildError> {
    if let Ok(t) = Timestamp::parse(spec) {
        return Ok(t);
    }
    parse_duration_secs(spec)
        .map(|s| from.plus_secs(s))
        .map_err(BuildError::Config)
}

fn signers(paths: &[PathBuf], pw: &Passwords) -> Result<Vec<Box<dyn Signer>>, BuildError> {
    paths.iter().map(|p| load_signer(p, pw)).collect()
}

fn parse_sources(raw: &[String]) -> Result<Vec<SourceSpec>, BuildError> {
    raw.iter()
        .map(|s| s.parse::<SourceSpec>().map_err(BuildError::from))
        .collect()
}

/// indicatif progress on a TTY.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn stage(&self, what: &str) {
        self.0.set_message(what.to_owned());
    }
    fn wrap_read<'a>(&self, r: Box<dyn std::io::Read + 'a>) -> Box<dyn std::io::Read + 'a> {
        Box::new(self.0.wrap_read(r))
    }
}

fn run(cli: Cli) -> Result<ExitCode, BuildError> {
    let pw = passwords();
    match cli.command {
        Command::Push {
            kit,
            reference,
            publish,
            ca_cert,
            username,
            password_file,
            timeout,
            plain_http,
        } => {
            let r = ouk_oci::OciRef::parse(&reference)?;
            if r.digest.is_some() {
                return Err(BuildError::Config(
                    "push to a tag (oci://host/repo:tag); the digest is what push reports".into(),
                ));
            }
            let password = match &password_file {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .map_err(BuildError::io(p))?
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                ),
                None => None,
            };
            let conn = ouk_oci::registry::Connection {
                ca_certs: ca_cert,
                username,
                password,
                timeout: Some(std::time::Duration::from_secs(timeout)),
                retries: 0,
                deadline: None,
                plain_http,
            };
            let plan = publish.plan(&kit)?;
            let registry = ouk_oci::registry::Registry::connect(&r, &conn)?;
            let report = registry.push(&r, &plan, publish.shape())?;
            let pinned = format!("oci://{}/{}@{}", r.registry, r.repository, report.manifest);
            if publish.json {
                let v = serde_json::json!({
                    "reference": report.reference,
                    "pinned": pinned,
                    "manifest": report.manifest.to_string(),
                    "shape": report.shape.name(),
                    "kit": {"digest": report.kit.digest.to_string(), "size": report.kit.size, "reused": report.kit_reused},
                    "referrers": report.referrers.iter().map(|(t, d)| serde_json::json!({"artifactType": t, "digest": d.to_string()})).collect::<Vec<_>>(),
                    "fallback_tag": report.fallback_tag,
                });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!(
                    "pushed {} ({} bytes{}, {} shape) as {}\npin it: {pinned}",
                    kit.display(),
                    report.kit.size,
                    if report.kit_reused {
                        ", already in the registry"
                    } else {
                        ""
                    },
                    report.shape.name(),
                    report.reference
                );
                for (t, d) in &report.referrers {
                    println!("  referrer {t}: {d}");
                }
            }
        }
        Command::ExportLayout {
            kit,
            dir,
            ref_name,
            publish,
        } => {
            let plan = publish.plan(&kit)?;
            let tag = match ref_name {
                Some(t) => t,
                None => plan
                    .manifest_annotation(ouk_oci::artifact::annotations::KIT_ID)
                    .unwrap_or("kit")
                    .to_owned(),
            };
            let report = ouk_oci::layout::export(&dir, &plan, &tag)?;
            if publish.json {
                let v = serde_json::json!({
                    "layout": report.dir,
                    "ref": report.ref_name,
                    "manifest": report.manifest.to_string(),
                    "kit": {"digest": report.kit.digest.to_string(), "size": report.kit.size},
                    "referrers": report.referrers.iter().map(|(t, d)| serde_json::json!({"artifactType": t, "digest": d.to_string()})).collect::<Vec<_>>(),
                });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!(
                    "exported {} to OCI layout {} as {} ({})",
                    kit.display(),
                    report.dir.display(),
                    report.ref_name,
                    report.manifest
                );
            }
        }
        Command::Keygen { out } => {
            let password = pw.ouk.as_ref().map(|p| p.as_str());
            let files = keygen(&out, password)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&files).unwrap_or_default()
            );
        }
        Command::Trust(TrustCommand::Init {
            out,
            root_keys,
            kit_keys,
            attestation_keys,
            builders,
            root_threshold,
            kit_threshold,
            attestation_threshold,
            expires,
            version,
            sign,
        }) => {
            let load = |v: &[PathBuf]| -> Result<Vec<_>, BuildError> {
                v.iter().map(|p| load_public(p, &pw)).collect()
            };
            let now = Timestamp::from_unix(chrono::Utc::now().timestamp());
            let root = trust::init(&trust::InitRequest {
                version,
                expires: expiry(now, &expires)?,
                root_keys: load(&root_keys)?,
                kit_keys: load(&kit_keys)?,
                attestation_keys: load(&attestation_keys)?,
                thresholds: (root_threshold, kit_threshold, attestation_threshold),
                builders,
            })?;
            let signing = signers(&sign, &pw)?;
            let refs: Vec<&dyn Signer> = signing.iter().map(|s| s.as_ref()).collect();
            let bytes = trust::sign_new(&root, &refs)?;
            std::fs::write(&out, bytes).map_err(BuildError::io(&out))?;
            eprintln!(
                "wrote {} (version {}, {} of {} root signatures)",
                out.display(),
                root.version,
                refs.len(),
                root.roles.root.threshold
            );
        }
        Command::Trust(TrustCommand::Rotate {
            trust_root,
            out,
            add_keys,
            remove_keys,
            thresholds,
            expires,
            add_builders,
            remove_builders,
            sign,
            dry_run,
        }) => {
            let previous = trust::read(&trust_root)?;
            let now = Timestamp::from_unix(chrono::Utc::now().timestamp());
            let mut req = trust::RotateRequest {
                expires: expires.map(|e| expiry(now, &e)).transpose()?,
                add_builders,
                remove_builders,
                ..trust::RotateRequest::default()
            };
            for a in &add_keys {
                let (role, file) = trust::parse_role_assignment(a).map_err(BuildError::Config)?;
                req.add.push((role, load_public(Path::new(&file), &pw)?));
            }
            for r in &remove_keys {
                let (role, key) = trust::parse_role_assignment(r).map_err(BuildError::Config)?;
                let key = if Path::new(&key).is_file() {
                    trust::KeyRef::Key(load_public(Path::new(&key), &pw)?)
                } else {
                    trust::KeyRef::Id(key)
                };
                req.remove.push((role, key));
            }
            for t in &thresholds {
                let (role, k) = trust::parse_role_assignment(t).map_err(BuildError::Config)?;
                let k = k
                    .parse()
                    .map_err(|_| BuildError::Config(format!("threshold {k:?} is not a number")))?;
                req.thresholds.push((role, k));
            }
            let next = trust::rotate(&previous, &req)?;
            let signing = signers(&sign, &pw)?;
            let refs: Vec<&dyn Signer> = signing.iter().map(|s| s.as_ref()).collect();
            let unsigned = trust::sign_new(&next, &[])?;
            let bytes = trust::add_signatures(&unsigned, Some(&previous), &refs)?;
            let status = trust::status(&bytes, Some(&previous))?;
            print_trust_status(&status, false);
            if !dry_run {
                if let Some(out) = out {
                    std::fs::write(&out, &bytes).map_err(BuildError::io(&out))?;
                    eprintln!("wrote {} (version {})", out.display(), next.version);
                }
            }
        }
        Command::Trust(TrustCommand::Sign {
            trust_root,
            previous,
            keys,
            out,
        }) => {
            let bytes = trust::read(&trust_root)?;
            let previous = previous.map(|p| trust::read(&p)).transpose()?;
            let signing = signers(&keys, &pw)?;
            let refs: Vec<&dyn Signer> = signing.iter().map(|s| s.as_ref()).collect();
            let updated = trust::add_signatures(&bytes, previous.as_deref(), &refs)?;
            let out = out.unwrap_or(trust_root);
            std::fs::write(&out, &updated).map_err(BuildError::io(&out))?;
            print_trust_status(&trust::status(&updated, previous.as_deref())?, false);
        }
        Command::Trust(TrustCommand::Status {
            trust_root,
            previous,
            json,
        }) => {
            let bytes = trust::read(&trust_root)?;
            let previous = previous.map(|p| trust::read(&p)).transpose()?;
            let status = trust::status(&bytes, previous.as_deref())?;
            print_trust_status(&status, json);
            if !status.complete {
                return Ok(ExitCode::from(3));
            }
        }
        Command::Merge {
            sources,
            out,
            allow_partial,
            include_unreviewed,
            json,
        } => {
            let specs = parse_sources(&sources)?;
            let opts = MergeOptions {
                allow_partial,
                include_unreviewed,
                fallback_modified_unix: std::env::var("SOURCE_DATE_EPOCH")
                    .ok()
                    .and_then(|v| v.parse().ok()),
                ..MergeOptions::default()
            };
            let merged = ouk_feeds::merge_sources(&specs, &opts)?;
            std::fs::create_dir_all(&out).map_err(BuildError::io(&out))?;
            let written = merged.write_to(&out)?;
            warn_feed_sources(
                &merged.snapshot().sources,
                &merged.first_rejections(),
                &written.report.path.display().to_string(),
            );
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "records": merged.record_count(),
                        "partial": merged.is_partial(),
                        "snapshot": merged.snapshot(),
                        "files": {
                            "advisories": written.advisories.path,
                            "snapshot": written.snapshot.path,
                            "report": written.report.path,
                        }
                    }))
                    .unwrap_or_default()
                );
            } else {
                eprintln!(
                    "merged {} records into {}{}",
                    merged.record_count(),
                    out.display(),
                    if merged.is_partial() {
                        " (PARTIAL)"
                    } else {
                        ""
                    }
                );
            }
        }
        Command::Build(args) => run_build(*args, &pw, None)?,
        Command::Delta(args) => {
            let DeltaArgs {
                base,
                base_snapshot,
                base_kit_sha256,
                base_sequence,
                base_report,
                twin,
                build,
            } = *args;
            let scratch = tempfile::tempdir().map_err(BuildError::io(std::env::temp_dir()))?;
            let base = match (base, base_snapshot, base_kit_sha256, base_sequence) {
                (Some(kit), _, _, _) => ouk_builder::delta::base_from_kit(&kit, scratch.path())?,
                (None, Some(advisories), Some(sha), Some(sequence)) => DeltaBase {
                    kit_sha256: ouk_format::digest::Sha256::from_hex(&sha).ok_or_else(|| {
                        BuildError::Config(format!("--base-kit-sha256 {sha:?} is not a sha256"))
                    })?,
                    sequence,
                    advisories_sha256: ouk_format::digest::Sha256::of_reader(
                        std::fs::File::open(&advisories).map_err(BuildError::io(&advisories))?,
                    )
                    .map_err(BuildError::io(&advisories))?
                    .0,
                    advisories,
                    report: base_report,
                },
                _ => return Err(BuildError::Config("give --base KIT or --base-snapshot FILE --base-kit-sha256 HEX --base-sequence N".into())),
            };
            let twin = twin
                .map(|t| ouk_builder::delta::twin_from_kit(&t))
                .transpose()?;
            run_build(build, &pw, Some((base, twin)))?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The ceremony state, for people (who must still sign) or for scripts.
fn print_trust_status(status: &trust::SigningStatus, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(status).unwrap_or_default()
        );
        return;
    }
    let line = |label: &str, r: &trust::RoleSignatures| {
        eprintln!(
            "  {label} (root role of version {}): {} valid signature(s), {} required{}",
            r.of_version,
            r.signed.len(),
            r.threshold,
            if r.met { " - met" } else { " - NOT met" }
        );
        for id in &r.signed {
            eprintln!("    signed:      {id}");
        }
        if !r.met {
            for id in &r.missing {
                eprintln!("    may sign:    {id}");
            }
        }
    };
    eprintln!("trust root version {}:", status.version);
    if let Some(p) = &status.previous {
        line("previous root's holders", p);
    }
    line("its own holders", &status.own);
    match &status.problem {
        None => eprintln!("  complete: importers will accept it"),
        Some(p) => eprintln!("  INCOMPLETE: {p}"),
    }
}

/// Say on stderr which feed sources gave nothing or had files or records rejected. Without it a
/// source given on purpose but unusable (a wrong directory, another format) went into the kit as
/// "empty" with no word on the console; the details stay in the merge report.
fn warn_feed_sources(
    sources: &[ouk_feeds::SourceSnapshot],
    examples: &[ouk_feeds::Rejected],
    reasons_in: &str,
) {
    for s in sources {
        let what = match s.status {
            SourceStatus::Ok if s.rejected == 0 => continue,
            SourceStatus::Ok => format!("{} records or files rejected", s.rejected),
            SourceStatus::Empty => format!(
                "no usable record ({} files read, {} rejected)",
                s.files, s.rejected
            ),
            SourceStatus::Unreadable => {
                format!(
                    "unreadable: {}",
                    s.error.as_deref().unwrap_or("unknown error")
                )
            }
        };
        let first = examples
            .iter()
            .find(|r| r.is_from(s))
            .map(|r| {
                // One console line: a reason can quote a long parser message.
                let reason: String = r.reason.chars().take(300).collect();
                format!("; first: {}: {reason}", r.file)
            })
            .unwrap_or_default();
        eprintln!(
            "ouk-builder: warning: source {}={}: {what}{first}; all reasons in {reasons_in}",
            s.kind.as_str(),
            s.path
        );
    }
}

fn run_build(
    args: BuildArgs,
    pw: &Passwords,
    base: Option<(DeltaBase, Option<ouk_builder::delta::Twin>)>,
) -> Result<(), BuildError> {
    let cfg = match &args.config {
        Some(p) => KitConfig::load(p)?,
        None => KitConfig::default(),
    };
    // Checked before the build, so a bad size fails in a second, not after an hour's merge.
    let split_size = match args.split {
        Some(size) => Some(size),
        None => cfg.split_bytes()?,
    };
    let keep_whole = args.keep_whole || cfg.keep_whole == Some(true);
    let pick_vec =
        |flag: Vec<PathBuf>, file: Vec<PathBuf>| if flag.is_empty() { file } else { flag };
    let sources_raw = if args.sources.is_empty() {
        cfg.sources.clone()
    } else {
        args.sources.clone()
    };
    let sboms_raw = if args.sboms.is_empty() {
        cfg.sboms.clone()
    } else {
        args.sboms.clone()
    };
    let created_at = build_time()?;
    let expires = args.expires.or(cfg.expires).unwrap_or_else(|| "30d".into());
    let sequence = args
        .sequence
        .or(cfg.sequence)
        .ok_or_else(|| BuildError::Config("--sequence is required".into()))?;
    let out = args
        .out
        .or(cfg.out)
        .ok_or_else(|| BuildError::Config("--out is required".into()))?;
    let trivy = if args.no_trivy || cfg.no_trivy == Some(true) {
        TrivySource::None
    } else if let Some(p) = args.trivy_db.or(cfg.trivy_db) {
        TrivySource::Upstream(p)
    } else if sources_raw.is_empty() {
        TrivySource::None
    } else {
        TrivySource::Export
    };
    let req = BuildRequest {
        payload_dirs: pick_vec(args.payload, cfg.payload),
        sources: parse_sources(&sources_raw)?,
        merge: MergeOptions {
            allow_partial: args.allow_partial || cfg.allow_partial == Some(true),
            include_unreviewed: args.include_unreviewed || cfg.include_unreviewed == Some(true),
            fallback_modified_unix: Some(created_at.unix()),
            ..MergeOptions::default()
        },
        sboms: sboms_raw
            .iter()
            .map(|s| s.parse::<SbomArg>().map_err(BuildError::Config))
            .collect::<Result<_, _>>()?,
        trivy,
        kit_signers: signers(&pick_vec(args.keys, cfg.keys), pw)?,
        attestation_signers: signers(&pick_vec(args.attestation_keys, cfg.attestation_keys), pw)?,
        sequence,
        channel: args
            .channel
            .or(cfg.channel)
            .unwrap_or_else(|| "stable".into()),
        kit_id: args.kit_id,
        created_at,
        expires_at: expiry(created_at, &expires)?,
        builder_id: args
            .builder_id
            .or(cfg.builder_id)
            .ok_or_else(|| BuildError::Config("--builder-id is required".into()))?,
        previous_kit: args.previous_kit.or(cfg.previous_kit),
        out,
        chunk_size: ouk_format::archive::writer::DEFAULT_CHUNK_SIZE,
        blob_signature: !args.no_blob_signature,
        trust_chain: trust::check_chain(
            &pick_vec(args.trust_chain, cfg.trust_chain)
                .iter()
                .map(|p| trust::read(p))
                .collect::<Result<Vec<_>, _>>()?,
        )?,
    };
    let delta = base.map(|(base, twin)| DeltaRequest {
        base,
        twin,
        hook: None,
    });
    let run = |p: &dyn Progress| match &delta {
        Some(d) => build_delta(&req, d, p),
        None => build(&req, p),
    };
    let summary = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let bar = Bar(bar);
        let s = run(&bar);
        bar.0.finish_and_clear();
        s?
    } else {
        run(&Silent)?
    };
    let split = match split_size {
        Some(size) => {
            let signers: Vec<&dyn Signer> = req.kit_signers.iter().map(|s| &**s).collect();
            Some(ouk_builder::split::split_kit(
                &summary, size, &signers, keep_whole,
            )?)
        }
        None => None,
    };
    warn_feed_sources(
        &summary.feed_sources,
        &summary.feed_rejection_examples,
        "the kit's feeds/merge-report.json",
    );
    if let Some(t) = summary
        .trivy_export
        .as_ref()
        .filter(|t| t.entries_skipped > 0)
    {
        let first: String = t.skipped.first().map_or(String::new(), |s| {
            format!("; first: {}", s.chars().take(300).collect::<String>())
        });
        eprintln!(
            "ouk-builder: warning: the Trivy DB leaves out {} advisory entries Trivy cannot \
             represent{first}; the feed snapshot keeps them (rescan's built-in matcher reads it); \
             `--json` lists the first {} under trivy_export",
            t.entries_skipped,
            t.skipped.len()
        );
    }
    if args.json {
        let mut value = serde_json::to_value(&summary).unwrap_or_default();
        if let (Some(s), Some(obj)) = (&split, value.as_object_mut()) {
            obj.insert("split".into(), serde_json::to_value(s).unwrap_or_default());
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else if !args.quiet {
        eprintln!(
            "built {} ({} bytes, sequence {}, {} members) sha256 {}",
            summary.kit.display(),
            summary.kit_size,
            summary.sequence,
            summary.members.len(),
            summary.kit_sha256
        );
        if let Some(s) = &split {
            eprintln!(
                "split into {} part(s) of {} bytes, index {}{}",
                s.parts.len(),
                s.part_size,
                s.index.display(),
                if s.kept_whole {
                    " (whole kit kept)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("OUK_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ouk-builder: error: {e}");
            ExitCode::from(1)
        }
    }
}
