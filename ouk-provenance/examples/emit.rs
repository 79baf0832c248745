//! Writes a sample kit SPDX document and provenance statement to OUTDIR, for the outside validators in
//! `.ci/parts/provenance.sh` (`pyspdxtools -i`, `testdata/provenance/verify_statement.py`).
//!
//! Usage: `cargo run -p ouk-provenance --example emit -- OUTDIR`
//! Writes OUTDIR/kit.spdx.json, OUTDIR/statement.json and OUTDIR/subjects.json (the expected subjects,
//! for the Python check).

use ouk_provenance::{
    build_statement, generate_kit_spdx, Dependency, DependencyKind, ExternalParameters,
    FileDigester, KitSbomInput, ProvenanceInput, RequestedSource, SbomFeed, SbomFile, SbomTool,
    Sha256Hex, Subject,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args_os().nth(1).ok_or("usage: emit OUTDIR")?);
    std::fs::create_dir_all(&out)?;

    // Member contents are made up here; a real build hashes the members it writes.
    let members: [(&str, &[u8]); 3] = [
        ("feeds/osv/snapshot.json", b"{\"advisories\":[]}\n"),
        ("feeds/ghsa/snapshot.json", b"{\"advisories\":[1]}\n"),
        ("trivy/db.tar.gz", b"not really a tarball"),
    ];
    let mut files = Vec::new();
    let mut subjects = Vec::new();
    for (path, content) in members {
        let mut d = FileDigester::new();
        d.update(content);
        let dg = d.finish();
        subjects.push(Subject {
            name: path.to_owned(),
            sha256: dg.sha256.clone(),
        });
        files.push(SbomFile {
            path: path.to_owned(),
            sha256: dg.sha256,
            sha1: dg.sha1,
        });
    }
    let feeds = vec![
        SbomFeed {
            name: "osv".into(),
            version: "2024-05-01".into(),
            snapshot_sha256: Sha256Hex::digest(b"osv snapshot"),
            download_location: Some(
                "https://osv-vulnerabilities.storage.googleapis.com/all.zip".into(),
            ),
        },
        SbomFeed {
            name: "ghsa".into(),
            version: "2024-05-01".into(),
            snapshot_sha256: Sha256Hex::digest(b"ghsa snapshot"),
            download_location: None,
        },
    ];
    let created = 1_714_521_600; // 2024-05-01T00:00:00Z, a fixed SOURCE_DATE_EPOCH for the sample
    let spdx = generate_kit_spdx(&KitSbomInput {
        kit_name: "ouk-sample-kit".into(),
        kit_version: "1".into(),
        files,
        feeds: feeds.clone(),
        tool: SbomTool {
            name: "ouk-builder".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        created,
    })?;
    std::fs::write(out.join("kit.spdx.json"), &spdx)?;

    let mut deps: Vec<Dependency> = feeds
        .iter()
        .map(|f| Dependency {
            kind: DependencyKind::Feed,
            name: f.name.clone(),
            uri: f.download_location.clone(),
            version: Some(f.version.clone()),
            sha256: f.snapshot_sha256.clone(),
        })
        .collect();
    deps.push(Dependency {
        kind: DependencyKind::Sbom,
        name: "sbom/kit.spdx.json".into(),
        uri: None,
        version: None,
        sha256: Sha256Hex::digest(&spdx),
    });
    let statement = build_statement(&ProvenanceInput {
        subjects: subjects.clone(),
        external_parameters: ExternalParameters::new(
            vec![
                RequestedSource {
                    name: "osv".into(),
                    uri: None,
                },
                RequestedSource {
                    name: "ghsa".into(),
                    uri: None,
                },
            ],
            BTreeMap::from([("compression".to_owned(), "zstd-19".to_owned())]),
        ),
        resolved_dependencies: deps,
        builder_id: "https://ouk.dev/builders/ci@v1".into(),
        builder_version: BTreeMap::from([(
            "ouk-builder".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        )]),
        invocation_id: "sample-1".into(),
        started_on: created,
        finished_on: created + 60,
    })?;
    std::fs::write(out.join("statement.json"), &statement)?;
    let expected: Vec<_> = subjects
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "sha256": s.sha256}))
        .collect();
    std::fs::write(
        out.join("subjects.json"),
        serde_json::to_vec_pretty(&expected)?,
    )?;
    println!("{}", out.display());
    Ok(())
}
