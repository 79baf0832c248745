//! Builds the kits of bench/delta.sh from already merged feed directories (each holding
//! `advisories.ndjson`, `snapshot.json`, `merge-report.json`), signed with the dev keys:
//!
//!   bench_kit full  MERGED_DIR OUT.ouk SEQUENCE CREATED_UNIX
//!   bench_kit delta MERGED_DIR OUT.ouk SEQUENCE CREATED_UNIX BASE.ouk
//!
//! `full` is what `ouk-builder build` packs (snapshot + exported Trivy DB); `delta` what
//! `ouk-builder delta --base BASE.ouk` packs. Prints the kit size and member sizes as JSON.

use std::path::{Path, PathBuf};

use ouk_builder::build::{build_variant, BuildRequest, BuildVariant, TrivySource};
use ouk_builder::delta::{base_from_kit, DeltaRequest};
use ouk_builder::keyfile::{load_signer, Passwords};
use ouk_builder::progress::Silent;
use ouk_feeds::MergeOptions;
use ouk_format::time::Timestamp;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_kit full|delta MERGED_DIR OUT.ouk SEQUENCE CREATED_UNIX [BASE.ouk]";
    if args.len() < 5 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let (mode, merged, out) = (&args[0], PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let sequence: u64 = args[3].parse().expect("SEQUENCE");
    let created = Timestamp::from_unix(args[4].parse().expect("CREATED_UNIX"));
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../keys/dev");
    let pw = Passwords::default();
    let req = BuildRequest {
        payload_dirs: Vec::new(),
        sources: Vec::new(),
        merge: MergeOptions::default(),
        sboms: Vec::new(),
        trivy: TrivySource::Export,
        kit_signers: vec![load_signer(&keys.join("kit.key"), &pw).expect("kit key")],
        attestation_signers: vec![
            load_signer(&keys.join("attestation.key"), &pw).expect("attestation key")
        ],
        sequence,
        channel: "stable".into(),
        kit_id: None,
        created_at: created,
        expires_at: created.plus_secs(300 * 86_400),
        builder_id: "https://ouk.dev/builders/dev".into(),
        previous_kit: None,
        out: out.clone(),
        chunk_size: ouk_format::archive::writer::DEFAULT_CHUNK_SIZE,
        blob_signature: false,
        trust_chain: Vec::new(),
    };
    let scratch = tempfile::tempdir().expect("tempdir");
    let delta = match mode.as_str() {
        "full" => None,
        "delta" => {
            let base = args.get(5).expect(usage);
            Some(DeltaRequest {
                base: base_from_kit(Path::new(base), scratch.path()).expect("base kit"),
                twin: None,
                hook: None,
            })
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let summary = build_variant(
        &req,
        &BuildVariant {
            merged: Some(merged),
            delta: delta.as_ref(),
        },
        &Silent,
    )
    .expect("build");
    let members: Vec<_> = summary
        .members
        .iter()
        .map(|m| serde_json::json!({"path": m.path, "size": m.size, "compressed": m.compressed_size}))
        .collect();
    println!(
        "{}",
        serde_json::json!({"kit_size": summary.kit_size, "kit_sha256": summary.kit_sha256, "members": members})
    );
}
