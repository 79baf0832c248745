//! Kits built by the builder *library* with the dev keys, and the real importer binary: shared by
//! the end-to-end tests of features that need real builder output (change reports, split kits).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ouk_builder::build::{BuildRequest, TrivySource};
use ouk_builder::keyfile::{load_signer, Passwords};
use ouk_feeds::{MergeOptions, SourceKind, SourceSpec};
use ouk_format::time::Timestamp;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The real `ouk-importer` binary with `args` (failpoints off).
pub fn importer(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ouk-importer"))
        .env_remove("FAILPOINTS")
        .args(args)
        .output()
        .unwrap()
}

/// Incompressible but deterministic bytes (xorshift64*): payloads of predictable compressed size.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `ARGS... --trust-root <dev root> --store STORE --json` with the real binary: exit code and
/// the JSON report.
pub fn run_json(args: &[&OsStr], store: &Path) -> (Option<i32>, serde_json::Value) {
    let trust = root().join("keys/dev/trust-root.json");
    let mut all = args.to_vec();
    all.extend([
        "--trust-root".as_ref(),
        trust.as_os_str(),
        "--store".as_ref(),
        store.as_os_str(),
        "--json".as_ref(),
    ]);
    let o = importer(&all);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code(), v)
}

/// `import KIT` (see [`run_json`]).
pub fn import_json(kit: &Path, store: &Path) -> (Option<i32>, serde_json::Value) {
    run_json(&["import".as_ref(), kit.as_os_str()], store)
}

/// A scan of a medium: `import --from DIR` (`cmd` = `import`) or `scan-media DIR` (see
/// [`run_json`]).
pub fn scan_json(cmd: &str, dir: &Path, store: &Path) -> (Option<i32>, serde_json::Value) {
    let mut args: Vec<&OsStr> = vec![cmd.as_ref()];
    if cmd == "import" {
        args.push("--from".as_ref());
    }
    args.push(dir.as_os_str());
    run_json(&args, store)
}

/// `../shared/feeds`, read in place (never copied into the repository).
pub fn shared_feeds() -> PathBuf {
    let p = root().join("../shared/feeds");
    assert!(
        p.join("ghsa").is_dir(),
        "../shared/feeds is missing beside the checkout ({})",
        p.display()
    );
    p
}

/// The real feeds of `../shared/feeds` (GHSA, Go, PyPA, RustSec, NVD) as day 1; with `next_day`,
/// plus the one real advisory of `testdata/changes/next-day` (day 2).
pub fn real_sources(next_day: bool) -> Vec<SourceSpec> {
    let feeds = shared_feeds();
    let mut sources = vec![
        SourceSpec::new(SourceKind::Ghsa, feeds.join("ghsa")),
        SourceSpec::new(SourceKind::Osv, feeds.join("go")),
        SourceSpec::new(SourceKind::Osv, feeds.join("pysec")),
        SourceSpec::new(SourceKind::Osv, feeds.join("rustsec")),
        SourceSpec::new(SourceKind::Nvd, feeds.join("nvd")),
    ];
    if next_day {
        sources.push(SourceSpec::new(
            SourceKind::Ghsa,
            root().join("testdata/changes/next-day"),
        ));
    }
    sources
}

/// Seconds since the epoch by the real clock (the importer checks kit times against it).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A build request signed with the dev keys, for builder id `https://ouk.dev/builders/dev`
/// (the dev trust root's), channel `stable`, no sources, payload or SBOMs, no Trivy DB and no
/// blob signature; callers set what their test is about.
pub fn dev_request(
    out: &Path,
    sequence: u64,
    created: Timestamp,
    expires: Timestamp,
) -> BuildRequest {
    let keys = root().join("keys/dev");
    let pw = Passwords::default();
    BuildRequest {
        payload_dirs: Vec::new(),
        sources: Vec::new(),
        merge: MergeOptions::default(),
        sboms: Vec::new(),
        trivy: TrivySource::None,
        kit_signers: vec![load_signer(&keys.join("kit.key"), &pw).unwrap()],
        attestation_signers: vec![load_signer(&keys.join("attestation.key"), &pw).unwrap()],
        sequence,
        channel: "stable".into(),
        kit_id: None,
        created_at: created,
        expires_at: expires,
        builder_id: "https://ouk.dev/builders/dev".into(),
        previous_kit: None,
        out: out.to_path_buf(),
        chunk_size: ouk_format::archive::writer::DEFAULT_CHUNK_SIZE,
        blob_signature: false,
        trust_chain: Vec::new(),
    }
}
