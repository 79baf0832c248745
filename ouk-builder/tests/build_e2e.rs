//! End-to-end: the real `ouk-builder` binary on the repository's test feeds and dev keys.

use std::path::{Path, PathBuf};
use std::process::Command;

use ouk_format::archive::reader::{verify_kit, NullSink, VerifyOptions};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::verify_trust_root;
use ouk_format::Limits;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn builder() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ouk-builder"));
    c.current_dir(root()).env("SOURCE_DATE_EPOCH", "1764000000");
    c
}

fn build_demo(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = builder();
    c.args([
        "build",
        "--source",
        "osv=testdata/feeds/osv",
        "--source",
        "ghsa=testdata/feeds/ghsa",
        "--source",
        "osv=testdata/trivy/osv",
        "--key",
        "keys/dev/kit.key",
        "--attestation-key",
        "keys/dev/attestation.key",
        "--sequence",
        "5",
        "--expires",
        "400d",
        "--builder-id",
        "https://ouk.dev/builders/dev",
        "--json",
        "--out",
    ])
    .arg(out)
    .args(extra);
    c.output().unwrap()
}

#[test]
fn same_inputs_and_epoch_give_identical_kits_that_verify() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ouk");
    let b = dir.path().join("b.ouk");
    let out = build_demo(&a, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = build_demo(&b, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes_a = std::fs::read(&a).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&a).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "a kit is a public artefact");
    }
    assert_eq!(bytes_a, std::fs::read(&b).unwrap(), "kits differ");

    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = summary["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths[0], "attestation/provenance.dsse.json");
    assert_eq!(paths[1], "sbom/kit.spdx.json");
    for needed in [
        "feeds/advisories.ndjson",
        "feeds/snapshot.json",
        "trivy/db.tar.gz",
    ] {
        assert!(paths.contains(&needed), "{needed} missing from {paths:?}");
    }

    let trust_bytes = std::fs::read(root().join("keys/dev/trust-root.json")).unwrap();
    let now = Timestamp::parse("2026-11-25T00:00:00Z").unwrap();
    let trust = verify_trust_root(&trust_bytes, now, 0, &Limits::default()).unwrap();
    let opts = VerifyOptions {
        revoked: Vec::new(),
        now,
        skew_secs: 0,
        allow_expired: false,
        limits: Limits::default(),
    };
    let v = verify_kit(&bytes_a[..], &trust, &opts, &mut NullSink).unwrap();
    assert_eq!(v.manifest.sequence, 5);
    assert!(v.manifest.annotations.contains_key("ouk.snapshot"));
    // Every payload member links to an SBOM member.
    for m in &v.manifest.members {
        if m.role == ouk_format::manifest::MemberRole::Payload {
            assert!(m.sbom.is_some(), "{} has no SBOM", m.path);
        }
    }
    // The blob signature verifies over the whole file with the kit key.
    let sig_b64 = std::fs::read_to_string(dir.path().join("a.ouk.sig")).unwrap();
    let sig = ouk_format::dsse::decode_base64("sig", sig_b64.trim()).unwrap();
    let kit_pub = ouk_format::keys::PublicKey::from_spki_pem(
        &std::fs::read_to_string(root().join("keys/dev/kit.pub")).unwrap(),
    )
    .unwrap();
    assert!(kit_pub.verify(&bytes_a, &sig));
}

#[test]
fn a_different_epoch_gives_a_different_kit() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ouk");
    assert!(build_demo(&a, &[]).status.success());
    let b = dir.path().join("b.ouk");
    let mut c = builder();
    c.env("SOURCE_DATE_EPOCH", "1764000001");
    let out = c
        .args([
            "build",
            "--source",
            "osv=testdata/feeds/osv",
            "--source",
            "ghsa=testdata/feeds/ghsa",
        ])
        .args(["--source", "osv=testdata/trivy/osv"])
        .args([
            "--key",
            "keys/dev/kit.key",
            "--attestation-key",
            "keys/dev/attestation.key",
        ])
        .args([
            "--sequence",
            "5",
            "--expires",
            "400d",
            "--builder-id",
            "https://ouk.dev/builders/dev",
            "--out",
        ])
        .arg(&b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn failures_leave_no_kit_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.ouk");
    // A missing required source fails the build (no --allow-partial).
    let o = builder()
        .args([
            "build",
            "--source",
            "osv=/nonexistent/osv",
            "--source",
            "ghsa=testdata/feeds/ghsa",
        ])
        .args([
            "--key",
            "keys/dev/kit.key",
            "--attestation-key",
            "keys/dev/attestation.key",
        ])
        .args(["--sequence", "1", "--builder-id", "x", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("osv"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // No attestation key: refused before anything is written.
    let o = builder()
        .args([
            "build",
            "--payload",
            "testdata/feeds/osv",
            "--key",
            "keys/dev/kit.key",
        ])
        .args(["--sequence", "1", "--builder-id", "x", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
}

#[test]
fn payload_symlinks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("p");
    std::fs::create_dir(&payload).unwrap();
    std::fs::write(payload.join("a.json"), b"{}").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", payload.join("link")).unwrap();
    let o = builder()
        .args(["build", "--payload"])
        .arg(&payload)
        .args([
            "--key",
            "keys/dev/kit.key",
            "--attestation-key",
            "keys/dev/attestation.key",
        ])
        .args(["--sequence", "1", "--builder-id", "x", "--out"])
        .arg(dir.path().join("k.ouk"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("only regular files"));
}

#[test]
fn kit_toml_builds_and_chains_the_previous_kit() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.ouk");
    let o = builder()
        .args(["build", "--config", "testdata/kit.toml.example", "--out"])
        .arg(&first)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Flags override the file; --previous-kit chains the first kit's digest.
    let second = dir.path().join("second.ouk");
    let o = builder()
        .args([
            "build",
            "--config",
            "testdata/kit.toml.example",
            "--sequence",
            "2",
            "--json",
        ])
        .arg("--previous-kit")
        .arg(&first)
        .arg("--out")
        .arg(&second)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["sequence"], 2);

    let (_, manifest) = ouk_format::archive::reader::read_manifest_unverified(
        std::fs::File::open(&second).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let first_digest = ouk_format::digest::Sha256::of(&std::fs::read(&first).unwrap());
    assert_eq!(manifest.0.previous_kit_sha256, Some(first_digest));
    assert_eq!(manifest.0.channel, "stable");
    let paths: Vec<String> = manifest
        .0
        .members
        .iter()
        .map(|m| m.path.to_string())
        .collect();
    assert!(
        paths.contains(&"sbom/all-ecosystems.cdx-1.5.json".to_owned()),
        "{paths:?}"
    );
}

/// A source given on purpose that yields nothing (here CVE JSON 5 files under `nvd=`) still
/// builds (NVD is optional) but is warned about on stderr with its first reason; a source whose
/// files all parse gets no warning, and `--json` keeps stdout clean JSON.
#[test]
fn unusable_optional_source_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let cve5 = dir.path().join("cvelistV5");
    std::fs::create_dir(&cve5).unwrap();
    let rec = serde_json::json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2024-1234", "state": "PUBLISHED"},
        "containers": {"cna": {"descriptions": [{"lang": "en", "value": "A flaw."}]}}
    });
    std::fs::write(cve5.join("CVE-2024-1234.json"), rec.to_string()).unwrap();
    let out = dir.path().join("k.ouk");
    let nvd = format!("nvd={}", cve5.display());
    let o = build_demo(&out, &["--source", &nvd]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.contains("warning: source nvd="))
        .unwrap_or_else(|| panic!("no warning for nvd in: {stderr}"));
    assert!(
        warning.contains("no usable record") && warning.contains("CVE JSON 5"),
        "{warning}"
    );
    assert!(!stderr.contains("source ghsa="), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let nvd_status = summary["feed_sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "nvd")
        .map(|s| s["status"].clone());
    assert_eq!(nvd_status, Some(serde_json::json!("empty")));
}

#[test]
fn what_the_trivy_db_leaves_out_is_reported() {
    // testdata/trivy/os/osv: three records Trivy's OS scanners cannot hold (a range starting above
    // 0, a fix built in an AlmaLinux module stream, an unfixed Rocky package) and one entry of
    // Ubuntu Pro, which has no bucket of ours.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.ouk");
    let o = build_demo(&out, &["--source", "osv=testdata/trivy/os/osv"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.contains("the Trivy DB leaves out"))
        .unwrap_or_else(|| panic!("no Trivy DB warning in: {stderr}"));
    assert!(
        warning.contains("leaves out 3 advisory entries"),
        "{warning}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &summary["trivy_export"];
    assert_eq!(t["entries_skipped"], 3, "{t}");
    assert_eq!(t["affected_unsupported"], 1, "{t}");
    let skipped: Vec<&str> = t["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        skipped.iter().any(|s| s.contains("module stream")),
        "{skipped:?}"
    );
    // Without skipped entries there is no warning.
    let clean = dir.path().join("clean.ouk");
    let o = build_demo(&clean, &[]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("the Trivy DB leaves out"));
}
