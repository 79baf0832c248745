//! `ouk-builder`: thin CLI over the `ouk_builder` library. Parses flags (and `kit.toml`),
//! reads the environment (`SOURCE_DATE_EPOCH`, key passwords), calls the library, and maps the
//! outcome to an exit code: 0 success, 1 failure, 2 usage error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ouk_builder::build::{build, BuildRequest, SbomArg, TrivySource};
use ouk_builder::config::{parse_duration_secs, KitConfig};
use ouk_builder::keyfile::{keygen, load_public, load_signer, Passwords};
use ouk_builder::progress::{Progress, Silent};
use ouk_builder::{trust, BuildError};
use ouk_feeds::{MergeOptions, SourceSpec};
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
    /// Add a key to a role; bumps the version and drops signatures (re-sign with `trust sign`).
    AddKey {
        /// Trust root file (rewritten unless --out).
        #[arg(long)]
        trust_root: PathBuf,
        /// Role: root, kit or attestation.
        #[arg(long, value_parser = trust::parse_role)]
        role: ouk_format::trust_root::RoleName,
        /// Public key (or private key file).
        #[arg(long)]
        key: PathBuf,
        /// Output file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add signatures by root-role private keys.
    Sign {
        /// Trust root file (rewritten unless --out).
        #[arg(long)]
        trust_root: PathBuf,
        /// Root private keys.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Output file.
        #[arg(long)]
        out: Option<PathBuf>,
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
    /// User SBOM ([MEMBER=]PATH, SPDX 2.3 or CycloneDX 1.5/1.6 JSON). Repeatable.
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
    /// Output kit file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write OUT.sig.
    #[arg(long)]
    no_blob_signature: bool,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
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

fn run(cli: Cli) -> Result<(), BuildError> {
    let pw = passwords();
    match cli.command {
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
        Command::Trust(TrustCommand::AddKey {
            trust_root,
            role,
            key,
            out,
        }) => {
            let bytes = trust::read(&trust_root)?;
            let key = load_public(&key, &pw)?;
            let updated = trust::add_key(&bytes, role, &key)?;
            let out = out.unwrap_or(trust_root);
            std::fs::write(&out, updated).map_err(BuildError::io(&out))?;
            eprintln!(
                "added {} to {}; the trust root is now UNSIGNED: run `ouk-builder trust sign`",
                key.key_id(),
                role.as_str()
            );
        }
        Command::Trust(TrustCommand::Sign {
            trust_root,
            keys,
            out,
        }) => {
            let bytes = trust::read(&trust_root)?;
            let signing = signers(&keys, &pw)?;
            let refs: Vec<&dyn Signer> = signing.iter().map(|s| s.as_ref()).collect();
            let updated = trust::add_signatures(&bytes, &refs)?;
            let out = out.unwrap_or(trust_root);
            std::fs::write(&out, updated).map_err(BuildError::io(&out))?;
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
        Command::Build(args) => run_build(*args, &pw)?,
    }
    Ok(())
}

fn run_build(args: BuildArgs, pw: &Passwords) -> Result<(), BuildError> {
    let cfg = match &args.config {
        Some(p) => KitConfig::load(p)?,
        None => KitConfig::default(),
    };
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
    };
    let summary = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let bar = Bar(bar);
        let s = build(&req, &bar);
        bar.0.finish_and_clear();
        s?
    } else {
        build(&req, &Silent)?
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ouk-builder: error: {e}");
            ExitCode::from(1)
        }
    }
}
