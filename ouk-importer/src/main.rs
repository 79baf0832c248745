//! `ouk-importer`: thin CLI over the `ouk_importer` library.
//!
//! clap parses flags; [`Args`] validation is clap's (types, ranges, conflicts); this file then
//! reads what the library must not (system clock, trust-root file, operator identity, TTY), calls
//! one library function, prints its report, and turns the outcome into an exit code with the one
//! table in [`exit_code`]. Exit codes are part of the interface (docs/importer.md).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ouk_format::time::Timestamp;
use ouk_format::Limits;
use ouk_importer::report::ScanReport;
use ouk_importer::{Class, Context, Error, Operator, Progress, TrustOptions, Wait};
use serde::Serialize;

/// Verify Offline Update Kits and install them crash-safely into a generation store.
#[derive(Parser, Debug)]
#[command(name = "ouk-importer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show a kit's manifest (UNVERIFIED unless --trust-root is given).
    Inspect {
        /// Kit file.
        kit: PathBuf,
        /// Verify the kit against this trust root first.
        #[arg(long, value_name = "FILE")]
        trust_root: Option<PathBuf>,
        /// Print the provenance statement readably.
        #[arg(long)]
        provenance: bool,
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Verify a kit completely (signatures, digests, provenance, SBOMs), writing nothing.
    Verify {
        /// Kit file, or the signed part index KIT.parts.json of a split kit.
        kit: PathBuf,
        /// Trust root file.
        #[arg(long, value_name = "FILE")]
        trust_root: PathBuf,
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Verify and install a kit (or the newest new kit in --from DIR, or the kit of an OCI
    /// image layout) into the store.
    Import {
        /// Kit file, or the signed part index KIT.parts.json of a split kit (its parts KIT.001,
        /// KIT.002, ... beside it; verified parts are kept in STORE/incoming/ so an interrupted
        /// import reads only the missing ones again).
        #[arg(required_unless_present_any = ["from", "layout"], conflicts_with_all = ["from", "layout"])]
        kit: Option<PathBuf>,
        /// Import the kit of this OCI image layout (as `ouk-builder export-layout` writes it);
        /// the kit blob's digest is pinned by the layout's manifest and checked on the verified
        /// pass.
        #[arg(long, value_name = "DIR", conflicts_with = "from")]
        layout: Option<PathBuf>,
        /// With --layout: the tag (`org.opencontainers.image.ref.name`) of the kit to import, when
        /// the layout lists several.
        #[arg(long = "ref", value_name = "TAG", requires = "layout")]
        layout_ref: Option<String>,
        /// With --layout: largest kit blob accepted, in bytes.
        #[arg(long, value_name = "BYTES", default_value_t = ouk_importer::oci::DEFAULT_MAX_KIT_BYTES)]
        max_kit_size: u64,
        /// Scan this directory (a mounted stick) for `*.ouk` kits, `*.parts.json` split-kit
        /// indexes and the kits of OCI image layouts (the directory itself or its
        /// subdirectories, as `ouk-builder export-layout` writes them) and import the newest
        /// valid one.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// With --from: seconds allowed for listing and authenticating the kits on the medium
        /// (what is left unexamined is reported).
        #[arg(long, value_name = "SECS", default_value_t = 600, requires = "from")]
        scan_timeout: u64,
        #[command(flatten)]
        install: InstallArgs,
    },
    /// Pull a kit from an OCI registry and import it: the reference is resolved once to a
    /// manifest digest, the kit layer downloads into STORE/downloads/ (an interrupted pull
    /// resumes there), and the kit is verified and installed exactly like a kit file, its digest
    /// pinned.
    Pull {
        /// `oci://host[:port]/repository[:tag|@sha256:<hex>]` (a digest pins the kit; a tag is
        /// resolved once and the digest reported). A kit the store already has is not
        /// downloaded again (exit 3, nothing new).
        #[arg(env = "OUK_PULL_REF")]
        reference: String,
        /// Site CA certificate (PEM) for the registry's TLS, in addition to the system's.
        #[arg(long, value_name = "FILE", env = "OUK_REGISTRY_CA")]
        ca_cert: Vec<PathBuf>,
        /// Registry user (basic auth, or for a token service).
        #[arg(long, requires = "password_file", env = "OUK_REGISTRY_USER")]
        username: Option<String>,
        /// File holding the registry password (first line).
        #[arg(
            long,
            value_name = "FILE",
            requires = "username",
            env = "OUK_REGISTRY_PASSWORD_FILE"
        )]
        password_file: Option<PathBuf>,
        /// Resumed attempts after a broken transfer before giving up (the next pull resumes too).
        #[arg(long, default_value_t = 5)]
        retries: u32,
        /// Network read and connect timeout, seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
        /// Wall-clock limit for the download, seconds (0: none); what was fetched is kept and
        /// the next pull resumes it.
        #[arg(long, value_name = "SECS", default_value_t = 43_200)]
        deadline: u64,
        /// Talk plain HTTP to the registry (a test registry; the kit is still verified by its
        /// signatures). Refused together with credentials.
        #[arg(long, env = "OUK_REGISTRY_PLAIN_HTTP")]
        plain_http: bool,
        /// Largest kit layer accepted, in bytes (checked before downloading).
        #[arg(long, value_name = "BYTES", default_value_t = ouk_importer::oci::DEFAULT_MAX_KIT_BYTES)]
        max_kit_size: u64,
        #[command(flatten)]
        install: InstallArgs,
    },
    /// Bring the store up to date from a mounted stick: imports the newest applicable kit (full,
    /// split or delta) again and again until nothing applicable is left (a chain of deltas).
    ScanMedia {
        /// The stick's directory.
        dir: PathBuf,
        /// Seconds allowed per round for listing and authenticating the kits on the medium.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        scan_timeout: u64,
        #[command(flatten)]
        install: InstallArgs,
    },
    /// Show the active generation, anti-rollback floor and expiry countdowns.
    Status {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// List local generations.
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Activate an older local generation (does not lower the anti-rollback floor).
    Rollback {
        /// Sequence of the generation to activate.
        #[arg(long = "to", value_name = "SEQUENCE")]
        to: u64,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Lower the anti-rollback floor (audited administrator recovery, e.g. after a compromised
    /// signer published an absurdly high sequence): kits above the new floor import again.
    ResetFloor {
        /// The new floor: the next kit must have a higher sequence.
        #[arg(long = "to", value_name = "SEQUENCE")]
        to: u64,
        /// Why (recorded in the audit log; required).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Remove old generations, keeping the N newest and the active one.
    Gc {
        /// How many generations to keep (at least 1).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        keep: u64,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// What changed between two generations: advisories added / changed / withdrawn / removed
    /// per ecosystem and severity, and the SBOM component delta.
    Diff {
        /// Older generation (directory name or sequence); default: the newest one below NEWER.
        older: Option<String>,
        /// Newer generation (directory name or sequence); default: the active one.
        newer: Option<String>,
        /// Advisory entries listed in the text view (all of them are in --json).
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Check a directory of SBOMs (CycloneDX / SPDX JSON) against the active generation and report
    /// the findings that are new since the previous one. Exit 4 when there are any, 5 when an SBOM
    /// could not be read or scanned.
    Rescan {
        /// Directory of SBOMs (walked recursively; `*.json`).
        #[arg(long, value_name = "DIR", required_unless_present = "config")]
        sboms: Option<PathBuf>,
        /// Scan with this Trivy binary (offline, on each generation's installed Trivy DB) instead
        /// of the built-in matcher over the merged OSV snapshot.
        #[arg(long, value_name = "FILE")]
        trivy: Option<PathBuf>,
        /// Seconds one Trivy scan may take.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        trivy_timeout: u64,
        /// Read the settings from this file (TOML, `[rescan]`: sboms, trivy, trivy_timeout_secs,
        /// html); command-line flags win. Used by the post-import hook.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// With --config: do nothing (exit 0) when the file does not exist: the hook is optional.
        #[arg(long, requires = "config")]
        if_configured: bool,
        /// Do not keep the result in the store (the status page shows the last kept one).
        #[arg(long)]
        no_record: bool,
        /// Also rewrite this status page afterwards.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Write a self-contained static HTML status page of the store (no network, no scripts).
    Report {
        /// Output file.
        #[arg(long, value_name = "FILE")]
        html: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Trust roots: what the store trusts, how it got there, and dry runs of rotation chains.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
}

#[derive(Subcommand, Debug)]
enum TrustCommand {
    /// The root the next import starts from, revoked keys and the trusted-time mark.
    Status {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Every trust root the store has accepted, oldest first, with the key changes.
    History {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
    /// Walk a rotation chain from a trust root as an import would (writes nothing).
    VerifyChain {
        /// The root to start from (as an importer holds it).
        #[arg(long, value_name = "FILE")]
        trust_root: PathBuf,
        /// The newer roots, oldest first.
        chain: Vec<PathBuf>,
        /// Decide expiry at this instant (YYYY-MM-DDTHH:MM:SSZ) instead of now.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Tolerated clock skew in seconds for the final root's expiry.
        #[arg(long, value_name = "SECS", default_value_t = 0,
              value_parser = clap::value_parser!(i64).range(0..=7 * 86_400))]
        clock_skew: i64,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the audit log's hash chain; names the first broken record.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        out: Output,
    },
}

/// What every command that installs a kit takes (`import`, `pull`, `scan-media`): one
/// definition, so the three cannot drift apart in flags or help.
#[derive(Args, Debug)]
struct InstallArgs {
    /// Trust root file: needed for the first import; afterwards the store's newest root is used
    /// (kits carry rotations), and this file only matters if it is newer (an out-of-band
    /// replacement, audited).
    #[arg(long, value_name = "FILE")]
    trust_root: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    out: Output,
}

impl InstallArgs {
    /// The trust options and store context an install starts from.
    fn start(&self) -> Result<(TrustOptions, Context), Error> {
        Ok((
            trust_options(self.trust_root.as_deref(), &self.time)?,
            context(&self.store),
        ))
    }
}

#[derive(Args, Debug)]
struct StoreArgs {
    /// Store directory.
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
    /// Fail at once (exit 31) if another import holds the store lock.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Args, Debug)]
struct TimeArgs {
    /// Accept a kit past its expiry (recorded in the audit log).
    #[arg(long)]
    allow_expired: bool,
    /// Tolerated clock skew in seconds for expiry and creation times.
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(i64).range(0..=7 * 86_400))]
    clock_skew: i64,
}

#[derive(Args, Debug)]
struct Output {
    /// Print one machine-readable JSON report on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bar and no text output on success.
    #[arg(long)]
    quiet: bool,
}

/// The one error-class → exit-code table (contract: "Importer exit codes").
fn exit_code(class: Class) -> u8 {
    match class {
        Class::Internal => 1,
        Class::Usage => 2,
        Class::NothingNew => 3,
        Class::Verification => 10,
        Class::Trust => 11,
        Class::Policy => 20,
        Class::Io => 30,
        Class::Locked => 31,
    }
}

fn class_name(class: Class) -> &'static str {
    match class {
        Class::Internal => "internal",
        Class::Usage => "usage",
        Class::NothingNew => "nothing_new",
        Class::Verification => "verification",
        Class::Trust => "trust",
        Class::Policy => "policy",
        Class::Io => "io",
        Class::Locked => "locked",
    }
}

fn main() -> ExitCode {
    #[cfg(feature = "failpoints")]
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let cli = Cli::parse();
    let json = match &cli.command {
        Command::Inspect { out, .. }
        | Command::Verify { out, .. }
        | Command::Status { out, .. }
        | Command::List { out, .. }
        | Command::Rollback { out, .. }
        | Command::ResetFloor { out, .. }
        | Command::Gc { out, .. }
        | Command::Diff { out, .. }
        | Command::Rescan { out, .. }
        | Command::Report { out, .. } => out.json,
        Command::Import { install, .. }
        | Command::Pull { install, .. }
        | Command::ScanMedia { install, .. } => install.out.json,
        Command::Audit {
            command: AuditCommand::Verify { out, .. },
        } => out.json,
        Command::Trust {
            command:
                TrustCommand::Status { out, .. }
                | TrustCommand::History { out, .. }
                | TrustCommand::VerifyChain { out, .. },
        } => out.json,
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = exit_code(e.class());
            if json {
                print_json(&ErrorReport {
                    ok: false,
                    exit_code: code,
                    error: ErrorBody {
                        kind: e.kind(),
                        class: class_name(e.class()),
                        message: e.to_string(),
                    },
                });
            } else {
                eprintln!("ouk-importer: error: {e}");
            }
            ExitCode::from(code)
        }
    }
}

#[derive(Serialize)]
struct ErrorReport {
    ok: bool,
    exit_code: u8,
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    kind: &'static str,
    class: &'static str,
    message: String,
}

fn print_json<T: Serialize>(value: &T) {
    let mut out = std::io::stdout().lock();
    // Serializing our own report types cannot fail; a closed stdout is not worth a panic.
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = writeln!(out);
}

fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Login name (the sudo caller when run through sudo) and host name, for the audit log.
fn operator() -> Operator {
    let user = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self").map_or("unknown".into(), |m| format!("uid:{}", m.uid()))
        });
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let bound = |s: String| s.chars().filter(|c| !c.is_control()).take(128).collect();
    Operator {
        user: bound(user),
        host: bound(host),
    }
}

fn read_trust_root(path: &Path) -> Result<Vec<u8>, Error> {
    let limit = Limits::default().max_trust_root_bytes;
    let f = std::fs::File::open(path).map_err(|e| Error::io("opening the trust root", path, e))?;
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("reading the trust root", path, e))?;
    // An oversized file is refused by the verifier with a precise limit error.
    Ok(buf)
}

fn trust_options(path: Option<&Path>, time: &TimeArgs) -> Result<TrustOptions, Error> {
    Ok(TrustOptions {
        trust_root: path.map(read_trust_root).transpose()?,
        skew_secs: time.clock_skew,
        allow_expired: time.allow_expired,
        limits: Limits::default(),
    })
}

fn context(store: &StoreArgs) -> Context {
    Context {
        store: store.store.clone(),
        now: now(),
        operator: operator(),
        wait: if store.no_wait {
            Wait::NoWait
        } else {
            Wait::Block
        },
    }
}

/// An indicatif bar on stderr, only when stderr is a terminal and not `--quiet`.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(out: &Output) -> Bar {
        if out.quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} verifying [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar(Some(bar))
    }
}

impl Progress for Bar {
    fn start(&mut self, total: u64) {
        if let Some(b) = &self.0 {
            b.set_length(total);
        }
    }
    fn advance(&mut self, bytes: u64) {
        if let Some(b) = &self.0 {
            b.inc(bytes);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// The text form of an import report (`import`, `import --layout`, `pull`).
fn import_text(r: &ouk_importer::report::ImportReport) -> String {
    match r.outcome {
        ouk_importer::report::Outcome::Imported => format!(
            "imported kit {} sequence {} as generation {}{}\n{}{}",
            r.kit.kit_id,
            r.kit.sequence,
            r.generation,
            if r.accepted_expired {
                " [EXPIRED, accepted by --allow-expired]"
            } else {
                ""
            },
            r.parts
                .as_ref()
                .map(|p| format!(
                    "split kit: {} part(s) read from the medium, {} verified local copies reused\n",
                    p.read_from_medium.len(),
                    p.reused.len()
                ))
                .unwrap_or_default(),
            r.changes.as_ref().map(changes_line).unwrap_or_default()
        ),
        ouk_importer::report::Outcome::AlreadyImported => {
            let active = match r.current.as_deref() {
                Some(c) if c == r.generation => String::new(),
                Some(c) => format!(
                    " (not active: current is {c}; `rollback --to {}` re-activates it)",
                    r.kit.sequence
                ),
                None => " (no generation is active)".to_owned(),
            };
            format!(
                "already imported: kit {} sequence {} is generation {}{active}; nothing changed\n",
                r.kit.kit_id, r.kit.sequence, r.generation
            )
        }
    }
}

/// The registry password from a file (first line; a trailing newline is not part of it), so it
/// never appears in a process listing.
fn read_password(path: &std::path::Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io("reading the password file", path, e))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

fn emit<T: Serialize>(out: &Output, value: &T, text: impl FnOnce() -> String) {
    if out.json {
        print_json(value);
    } else if !out.quiet {
        print!("{}", text());
    }
}

fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Inspect {
            kit,
            trust_root,
            provenance,
            out,
            time,
        } => {
            let opts = trust_root
                .as_deref()
                .map(|p| trust_options(Some(p), &time))
                .transpose()?;
            let r = ouk_importer::inspect(now(), opts.as_ref(), &kit, provenance)?;
            emit(&out, &r, || {
                let mut s = String::new();
                if !r.verified {
                    s.push_str("*** UNVERIFIED: no --trust-root given; nothing below is authenticated ***\n");
                }
                s.push_str(&format!(
                    "kit {} channel {} sequence {}\ncreated {} expires {}\nbuilder {} {}\n{} signature(s), {} member(s):\n",
                    r.kit.kit_id, r.kit.channel, r.kit.sequence, r.kit.created_at, r.kit.expires_at,
                    r.kit.builder_id, r.kit.builder_version, r.signatures, r.member_list.len()
                ));
                for m in &r.member_list {
                    s.push_str(&format!(
                        "  {:<11} {:>12}  {}  {}\n",
                        format!("{:?}", m.role).to_lowercase(),
                        m.size,
                        m.sha256,
                        m.path
                    ));
                }
                if let Some(p) = &r.provenance_text {
                    s.push_str("provenance:\n");
                    s.push_str(p);
                }
                s
            });
            Ok(0)
        }
        Command::Verify {
            kit,
            trust_root,
            out,
            time,
        } => {
            let opts = trust_options(Some(&trust_root), &time)?;
            let r = ouk_importer::verify(now(), &opts, &kit, &mut Bar::new(&out))?;
            emit(&out, &r, || {
                format!(
                    "verified kit {} sequence {} ({} bytes, sha256 {}){}\nprovenance: builder {} ({} subjects)\n{}",
                    r.kit.kit_id,
                    r.kit.sequence,
                    r.kit.kit_size.unwrap_or(0),
                    r.kit.kit_sha256.as_deref().unwrap_or(""),
                    if r.expired { " [EXPIRED, accepted by --allow-expired]" } else { "" },
                    r.provenance.builder_id,
                    r.provenance.subjects_count,
                    r.parts
                        .as_ref()
                        .map(|p| format!(
                            "split kit: {} part(s) verified ({})\n",
                            p.parts,
                            p.read_from_medium.join(", ")
                        ))
                        .unwrap_or_default(),
                )
            });
            Ok(0)
        }
        Command::ScanMedia {
            dir,
            scan_timeout,
            install,
        } => {
            let (opts, ctx) = install.start()?;
            let out = install.out;
            let mut bar = Bar::new(&out);
            let budget = ouk_importer::ScanBudget {
                max_duration: std::time::Duration::from_secs(scan_timeout),
                ..ouk_importer::ScanBudget::default()
            };
            let (report, error) =
                ouk_importer::scan_media::scan_media(&ctx, &opts, &dir, &budget, &mut bar)?;
            emit(&out, &report, || {
                let mut s = String::new();
                for r in &report.rounds {
                    s.push_str(&scan_text(r));
                }
                match report.imported.len() {
                    0 => s.push_str("nothing imported\n"),
                    n => s.push_str(&format!(
                        "{n} kit(s) imported: {}\n",
                        report.imported.join(" -> ")
                    )),
                }
                if let Some(why) = &report.stopped_by {
                    s.push_str(&format!("stopped: {why}\n"));
                }
                s
            });
            Ok(match error {
                Some(e) => exit_code(e.class()),
                None if report.imported.is_empty() => exit_code(ouk_importer::Class::NothingNew),
                None => 0,
            })
        }
        Command::Import {
            kit,
            from,
            layout,
            layout_ref,
            max_kit_size,
            scan_timeout,
            install,
        } => {
            let (opts, ctx) = install.start()?;
            let out = install.out;
            let mut bar = Bar::new(&out);
            if let Some(dir) = from {
                let budget = ouk_importer::ScanBudget {
                    max_duration: std::time::Duration::from_secs(scan_timeout),
                    ..ouk_importer::ScanBudget::default()
                };
                let outcome = ouk_importer::import_from_dir(&ctx, &opts, &dir, &budget, &mut bar)?;
                emit(&out, &outcome.report, || scan_text(&outcome.report));
                return match outcome.error {
                    None => Ok(0),
                    Some(e) => {
                        if !out.json {
                            eprintln!("ouk-importer: {e}");
                        }
                        Ok(exit_code(e.class()))
                    }
                };
            }
            if let Some(dir) = layout {
                let r = ouk_importer::oci::import_layout(
                    &ctx,
                    &opts,
                    &dir,
                    layout_ref.as_deref(),
                    max_kit_size,
                    &mut bar,
                )?;
                emit(&out, &r, || {
                    format!(
                        "OCI layout {} ({}{}):\n{}",
                        r.layout.display(),
                        r.ref_name
                            .as_deref()
                            .map(|t| format!("{t} = "))
                            .unwrap_or_default(),
                        r.manifest,
                        import_text(&r.import)
                    )
                });
                return Ok(0);
            }
            let kit = kit.ok_or(Error::Internal("clap let import run without a kit"))?;
            let r = ouk_importer::import(&ctx, &opts, &kit, &mut bar)?;
            emit(&out, &r, || import_text(&r));
            Ok(0)
        }
        Command::Pull {
            reference,
            ca_cert,
            username,
            password_file,
            retries,
            timeout,
            deadline,
            plain_http,
            max_kit_size,
            install,
        } => {
            let (opts, ctx) = install.start()?;
            let out = install.out;
            let conn = ouk_oci::registry::Connection {
                ca_certs: ca_cert,
                username,
                password: password_file.as_deref().map(read_password).transpose()?,
                timeout: Some(std::time::Duration::from_secs(timeout)),
                retries,
                deadline: (deadline > 0).then(|| std::time::Duration::from_secs(deadline)),
                plain_http,
            };
            let mut bar = Bar::new(&out);
            let r =
                ouk_importer::oci::pull(&ctx, &opts, &reference, &conn, max_kit_size, &mut bar)?;
            emit(&out, &r, || {
                format!(
                    "pulled {} ({} bytes{}{})\n{}",
                    r.pinned,
                    r.kit_size,
                    if r.resumed_from > 0 {
                        format!(", resumed at byte {}", r.resumed_from)
                    } else {
                        String::new()
                    },
                    if r.resumes > 0 {
                        format!(", {} broken transfer(s) resumed", r.resumes)
                    } else {
                        String::new()
                    },
                    import_text(&r.import)
                )
            });
            Ok(0)
        }
        Command::Diff {
            older,
            newer,
            limit,
            store,
            out,
        } => {
            let st = ouk_importer::store::Store::open(&store.store)?;
            let (a, b) = ouk_importer::changes::pick_pair(&st, older.as_deref(), newer.as_deref())?;
            if out.json {
                let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
                ouk_importer::changes::diff_json(&st, a.as_ref(), &b, &mut stdout)?;
                stdout
                    .flush()
                    .map_err(|e| Error::io("writing", "<stdout>", e))?;
            } else {
                let d = ouk_importer::changes::diff_text(&st, a.as_ref(), &b, limit)?;
                if !out.quiet {
                    print!("{}", diff_text(&d));
                }
            }
            Ok(0)
        }
        Command::Rescan {
            sboms,
            trivy,
            trivy_timeout,
            config,
            if_configured,
            no_record,
            html,
            store,
            out,
        } => {
            let settings = match &config {
                Some(path) => match ouk_importer::rescan_config::load(path)? {
                    Some(c) => c,
                    None if if_configured => return Ok(0),
                    None => {
                        return Err(Error::Rescan(format!(
                            "configuration file {} does not exist",
                            path.display()
                        )))
                    }
                },
                None => ouk_importer::rescan_config::RescanConfig::default(),
            };
            let sboms = sboms.or(settings.sboms).ok_or_else(|| {
                Error::Rescan("no SBOM directory (--sboms, or `sboms` in --config)".into())
            })?;
            let engine = match trivy.or(settings.trivy) {
                Some(binary) => ouk_importer::rescan::Engine::Trivy {
                    binary,
                    timeout: std::time::Duration::from_secs(
                        settings.trivy_timeout_secs.unwrap_or(trivy_timeout),
                    ),
                },
                None => ouk_importer::rescan::Engine::Own,
            };
            let opts = ouk_importer::rescan::RescanOptions {
                sboms,
                engine,
                record: !no_record,
            };
            let r = ouk_importer::rescan::rescan(&store.store, &opts, now())?;
            if let Some(page) = html.or(settings.html) {
                ouk_importer::status_page::write_html(&store.store, &page, now())?;
            }
            emit(&out, &r, || rescan_text(&r));
            // An incomplete re-scan outranks new findings: the findings are in the report
            // either way, and "4" must not let a job read the whole site as looked at.
            Ok(if r.is_incomplete() {
                5
            } else if r.has_new_findings() {
                4
            } else {
                0
            })
        }
        Command::Report { html, store, out } => {
            let r = ouk_importer::status_page::write_html(&store.store, &html, now())?;
            emit(&out, &r, || format!("wrote {}\n", html.display()));
            Ok(0)
        }
        Command::Status { store, out } => {
            let r = ouk_importer::status(&store.store, now())?;
            emit(&out, &r, || {
                let mut s = String::new();
                match &r.current {
                    Some(c) => s.push_str(&format!(
                        "current generation {} (kit {}, sequence {})\nkit expires {} (in {}s)\ntrust root v{} expires {} (in {}s)\n",
                        c.name, c.kit_id, c.sequence, c.expires_at, r.expires_in_secs.unwrap_or(0),
                        c.trust_root_version, c.trust_root_expires, r.trust_root_expires_in_secs.unwrap_or(0)
                    )),
                    None => s.push_str("no generation imported yet\n"),
                }
                if let Some(h) = r.highest_sequence {
                    s.push_str(&format!("highest sequence imported: {h}\n"));
                }
                s.push_str(&format!("{} local generation(s)\n", r.generations));
                if r.needs_recovery {
                    s.push_str("an interrupted command left work behind; the next import/rollback/gc recovers it\n");
                }
                s
            });
            Ok(0)
        }
        Command::List { store, out } => {
            let (gens, current) = ouk_importer::list(&store.store)?;
            #[derive(Serialize)]
            struct ListReport<'a> {
                current: Option<&'a str>,
                generations: &'a [ouk_importer::store::GenerationInfo],
            }
            let r = ListReport {
                current: current.as_deref(),
                generations: &gens,
            };
            emit(&out, &r, || {
                gens.iter()
                    .map(|g| {
                        format!(
                            "{} {:<24} seq {:<6} created {} expires {} imported {}\n",
                            if current.as_deref() == Some(g.name.as_str()) {
                                "*"
                            } else {
                                " "
                            },
                            g.name,
                            g.sequence,
                            g.created_at,
                            g.expires_at,
                            g.imported_at
                        )
                    })
                    .collect()
            });
            Ok(0)
        }
        Command::Rollback { to, store, out } => {
            let r = ouk_importer::rollback(&context(&store), to)?;
            emit(&out, &r, || {
                format!(
                    "activated generation {} (anti-rollback floor stays at {}){}\n",
                    r.current,
                    r.highest_sequence,
                    if r.expired {
                        " [this kit is EXPIRED]"
                    } else {
                        ""
                    }
                )
            });
            Ok(0)
        }
        Command::ResetFloor {
            to,
            reason,
            store,
            out,
        } => {
            let r = ouk_importer::reset_floor(&context(&store), to, &reason)?;
            emit(&out, &r, || {
                format!(
                    "anti-rollback floor lowered from {} to {} (audited); the next kit must have a sequence above {}\n",
                    r.previous_floor, r.floor, r.floor
                )
            });
            Ok(0)
        }
        Command::Gc { keep, store, out } => {
            let keep = usize::try_from(keep).unwrap_or(usize::MAX);
            let r = ouk_importer::gc(&context(&store), keep)?;
            emit(&out, &r, || {
                format!(
                    "removed {} generation(s), kept {}\n",
                    r.removed.len(),
                    r.kept.len()
                )
            });
            Ok(0)
        }
        Command::Audit {
            command: AuditCommand::Verify { store, out },
        } => {
            let r = ouk_importer::audit_verify(&store.store)?;
            emit(&out, &r, || {
                format!(
                    "audit log intact: {} record(s), head {}\n",
                    r.records, r.head
                )
            });
            Ok(0)
        }
        Command::Trust { command } => run_trust(command),
    }
}

fn run_trust(command: TrustCommand) -> Result<u8, Error> {
    match command {
        TrustCommand::Status { store, out } => {
            let r = ouk_importer::trust_info::status(&store.store, now())?;
            emit(&out, &r, || match &r.root {
                None => {
                    "no trust root stored yet (the first import keeps its --trust-root)\n".into()
                }
                Some(root) => {
                    let mut s = format!(
                        "trust root version {} ({}), expires {} (in {}s)\n",
                        root.version,
                        root.format,
                        root.expires,
                        r.expires_in_secs.unwrap_or(0)
                    );
                    for (name, role) in [
                        ("root", &root.root),
                        ("kit", &root.kit),
                        ("attestation", &root.attestation),
                    ] {
                        s.push_str(&format!(
                            "  {name}: {} of {}\n",
                            role.threshold,
                            role.keyids.len()
                        ));
                        for k in &role.keyids {
                            s.push_str(&format!("    {k}\n"));
                        }
                    }
                    s.push_str(&format!("  builders: {}\n", root.builders.join(", ")));
                    for rv in &r.revoked {
                        s.push_str(&format!(
                            "  revoked in v{}: {} ({})\n",
                            rv.revoked_in, rv.keyid, rv.role
                        ));
                    }
                    s
                }
            });
            Ok(0)
        }
        TrustCommand::History { store, out } => {
            let r = ouk_importer::trust_info::history(&store.store)?;
            emit(&out, &r, || {
                let mut s = String::new();
                for e in &r.roots {
                    s.push_str(&format!(
                        "v{} expires {} {}\n",
                        e.root.version,
                        e.root.expires,
                        if e.chained {
                            "(rotation, signed by the previous root)"
                        } else {
                            "(anchor / out of band)"
                        }
                    ));
                    for a in &e.added {
                        s.push_str(&format!("  + {a}\n"));
                    }
                    for rv in &e.revoked {
                        s.push_str(&format!("  - {}:{}\n", rv.role, rv.keyid));
                    }
                }
                s
            });
            Ok(0)
        }
        TrustCommand::VerifyChain {
            trust_root,
            chain,
            at,
            clock_skew,
            out,
        } => {
            let when = match at {
                Some(t) => Timestamp::parse(&t).map_err(Error::TrustRoot)?,
                None => now(),
            };
            let anchor = read_trust_root(&trust_root)?;
            let files = chain
                .iter()
                .map(|p| read_trust_root(p))
                .collect::<Result<Vec<_>, _>>()?;
            let r =
                ouk_importer::trust_info::verify_chain_files(&anchor, &files, when, clock_skew)?;
            emit(&out, &r, || {
                let v = r.root.as_ref().map_or(0, |x| x.version);
                format!(
                    "chain accepted: trust root version {v} ({} step(s))\n",
                    r.steps.len()
                )
            });
            Ok(0)
        }
    }
}

fn changes_line(c: &ouk_importer::changes::ChangesSummary) -> String {
    let t = &c.advisories.totals;
    let [added, removed, changed] = c.sbom_components;
    format!(
        "changes since {}: {} advisories added, {} changed, {} withdrawn, {} removed; SBOM components +{added} -{removed} ~{changed}{} (`ouk-importer diff` lists them)\n",
        c.from.as_deref().unwrap_or("an empty store"),
        t.added,
        t.changed,
        t.withdrawn,
        t.removed,
        if c.complete { "" } else { " [advisory comparison incomplete: see .ouk/changes.json]" }
    )
}

fn diff_text(d: &ouk_importer::changes::DiffText) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let sm = &d.summary;
    let _ = writeln!(
        s,
        "{} -> {}: {} records before, {} after, {} unchanged",
        d.from.as_deref().unwrap_or("(nothing)"),
        d.to,
        sm.records_before,
        sm.records_after,
        sm.unchanged
    );
    let row = |s: &mut String, name: &str, c: &ouk_changes::snapshot_diff::Counts| {
        let _ = writeln!(
            s,
            "  {name:<14} {:>8} {:>8} {:>9} {:>8}",
            c.added, c.changed, c.withdrawn, c.removed
        );
    };
    let _ = writeln!(
        s,
        "\n  {:<14} {:>8} {:>8} {:>9} {:>8}",
        "advisories", "added", "changed", "withdrawn", "removed"
    );
    row(&mut s, "total", &sm.totals);
    let _ = writeln!(s, "  by ecosystem:");
    for (eco, c) in &sm.by_ecosystem {
        row(&mut s, eco, c);
    }
    let _ = writeln!(s, "  by severity:");
    for (sev, c) in &sm.by_severity {
        row(&mut s, sev, c);
    }
    if !d.entries.is_empty() {
        let _ = writeln!(s);
    }
    for e in &d.entries {
        let kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {kind:<9} {:<24} {:<8} {}{}{}",
            e.id,
            e.severity,
            e.ecosystems.join(","),
            if e.fields.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.fields.join(", "))
            },
            if e.aliases.is_empty() {
                String::new()
            } else {
                format!("  aka {}", e.aliases.join(", "))
            }
        );
    }
    if d.more > 0 {
        let _ = writeln!(s, "  ... and {} more (--limit, or --json for all)", d.more);
    }
    let sb = &d.sboms;
    let _ = writeln!(
        s,
        "\nSBOMs: {} added, {} removed; components {} added, {} removed, {} version changed",
        sb.sboms_added.len(),
        sb.sboms_removed.len(),
        sb.added.len(),
        sb.removed.len(),
        sb.changed.len()
    );
    for c in sb.added.iter().take(20) {
        let _ = writeln!(s, "  + {} {}@{}", c.sbom, c.component, c.version);
    }
    for c in sb.removed.iter().take(20) {
        let _ = writeln!(s, "  - {} {}@{}", c.sbom, c.component, c.version);
    }
    for c in sb.changed.iter().take(20) {
        let _ = writeln!(s, "  ~ {} {} {} -> {}", c.sbom, c.component, c.from, c.to);
    }
    for u in &sb.unreadable {
        let _ = writeln!(s, "  ! unreadable: {u}");
    }
    s
}

fn rescan_text(r: &ouk_importer::rescan::RescanReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "re-scan of {} SBOMs with {}: generation {} against {}",
        r.sboms_scanned,
        r.engine,
        r.generation,
        r.previous.as_deref().unwrap_or("(no previous generation)")
    );
    if r.with_new_findings.is_empty() {
        let _ = writeln!(s, "no scanned SBOM has new findings");
    }
    for sb in r.sboms.iter().filter(|x| !x.new.is_empty()) {
        let _ = writeln!(
            s,
            "\n{}{}: {} new finding(s) ({} in all, {} before)",
            if sb.newly_affected {
                "NEWLY AFFECTED "
            } else {
                ""
            },
            sb.sbom,
            sb.new.len(),
            sb.findings,
            sb.previous_findings
        );
        for f in &sb.new {
            let _ = writeln!(
                s,
                "  {:<22} {}{} {} {}{}",
                f.advisory,
                if f.aliases.is_empty() {
                    String::new()
                } else {
                    format!("({}) ", f.aliases.join(", "))
                },
                f.severity.as_deref().unwrap_or("UNKNOWN"),
                f.package,
                f.installed,
                f.fixed
                    .as_deref()
                    .map(|v| format!(" (fixed in {v})"))
                    .unwrap_or_default()
            );
        }
    }
    for sb in r.sboms.iter().filter(|x| !x.unchecked.is_empty()) {
        let kinds: Vec<String> = sb
            .unchecked
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "\n{}: {} of {} components not checked, the kit has no advisories for them ({})",
            sb.sbom,
            sb.unchecked.values().sum::<usize>(),
            sb.components,
            kinds.join(", ")
        );
    }
    if r.is_incomplete() {
        let _ = writeln!(
            s,
            "\nINCOMPLETE: {} SBOM file(s) not scanned:",
            r.unreadable.len()
        );
    }
    for u in &r.unreadable {
        let _ = writeln!(s, "  unreadable SBOM: {u}");
    }
    s
}

fn scan_text(r: &ScanReport) -> String {
    let mut s = String::new();
    for c in &r.candidates {
        s.push_str(&format!(
            "{:<24} {} {}\n",
            c.status,
            c.sequence.map_or("-".into(), |q| q.to_string()),
            c.path
        ));
    }
    if let Some(why) = &r.budget_exhausted {
        s.push_str(&format!(
            "scan stopped early ({why}) after {} directory entries; files marked skipped_budget were not examined\n",
            r.entries_seen
        ));
    }
    if let Some(i) = &r.imported {
        s.push_str(&format!("imported generation {}\n", i.generation));
    }
    s
}
