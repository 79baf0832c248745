//! Test kits and trust roots, built in the test from fixed seeds (nothing here is a fixture file).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ouk_format::dsse::Envelope;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::manifest::MemberRole;
use ouk_format::media_types::{
    ATTESTATION_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, SPDX_JSON_MEDIA_TYPE, TRUST_ROOT_PAYLOAD_TYPE,
};
use ouk_format::testkit::{self, KitSpec, MemberSpec};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{RoleName, TrustRoot};
use ouk_provenance::{
    build_statement, generate_kit_spdx, ExternalParameters, FileDigester, KitSbomInput,
    ProvenanceInput, RequestedSource, SbomFile, SbomTool, Sha256Hex, Subject,
};

pub const BUILDER: &str = "https://ouk.example/builder/test";

pub fn root_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[1; 32])
}
pub fn kit_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[2; 32])
}
pub fn attestation_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[3; 32])
}

/// A trust root (version, expiry) signed by the root key.
pub fn trust_root(version: u64, expires: &str) -> Vec<u8> {
    let mut root = TrustRoot::new(version, Timestamp::parse(expires).unwrap());
    root.add_key(RoleName::Root, &root_key().public_key());
    root.add_key(RoleName::Kit, &kit_key().public_key());
    root.add_key(RoleName::Attestation, &attestation_key().public_key());
    root.builders.push(BUILDER.into());
    Envelope::sign(TRUST_ROOT_PAYLOAD_TYPE, root.to_payload(), &[&root_key()])
        .unwrap()
        .to_json()
}

/// A TUF-layout trust root: root role = keys with these seeds (threshold `k`), kit role = the
/// key with seed `kit`, attestation role = [`attestation_key`].
pub fn tuf_root(version: u64, root_seeds: &[u8], k: u32, kit: &[u8]) -> TrustRoot {
    let mut root = TrustRoot::new(version, Timestamp::parse("2099-01-01T00:00:00Z").unwrap());
    for s in root_seeds {
        root.add_key(
            RoleName::Root,
            &Ed25519Signer::from_seed(&[*s; 32]).public_key(),
        );
    }
    for s in kit {
        root.add_key(
            RoleName::Kit,
            &Ed25519Signer::from_seed(&[*s; 32]).public_key(),
        );
    }
    root.add_key(RoleName::Attestation, &attestation_key().public_key());
    root.roles.root.threshold = k;
    root.builders.push(BUILDER.into());
    root
}

/// Sign a trust root (TUF layout) with the keys of these seeds.
pub fn sign_root(root: TrustRoot, by: &[u8]) -> Vec<u8> {
    let signers: Vec<Ed25519Signer> = by
        .iter()
        .map(|s| Ed25519Signer::from_seed(&[*s; 32]))
        .collect();
    let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
    let mut doc = ouk_format::trust_root::RootDocument::new(root);
    doc.sign(&refs).unwrap();
    doc.to_bytes()
}

/// What to put in / break in a test kit.
#[derive(Clone)]
pub struct Build {
    pub sequence: u64,
    pub created_at: i64,
    pub expires_at: i64,
    pub payload_len: usize,
    pub salt: u64,
    pub with_attestation: bool,
    pub attestation_signer: u8, // 3 = attestation key, 2 = kit key
    pub statement_builder: String,
    pub drop_subject: bool,
    pub extra_subject: bool,
    pub tamper_subject_digest: bool,
    pub sbom_valid: bool,
    pub payload_without_sbom: bool,
    pub extra: Vec<MemberSpec>,
    /// Seed of the kit-role key that signs the manifest (2 = [`kit_key`]).
    pub kit_signer: u8,
    /// Trust roots carried before the manifest (version, file bytes).
    pub trust_chain: Vec<(u64, Vec<u8>)>,
}

/// Midnight UTC today, in Unix seconds.
fn today_start() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    now - now.rem_euclid(86_400)
}

impl Build {
    pub fn new(sequence: u64) -> Build {
        Build {
            sequence,
            // Yesterday and in 300 days, day-aligned: the importer uses the real clock and a kit
            // may be valid for at most 400 days (spec §4.5 #8); the same all day, so two builds
            // of one `Build` stay byte-identical.
            created_at: today_start() - 86_400,
            expires_at: today_start() + 300 * 86_400,
            payload_len: 300_000,
            salt: sequence,
            with_attestation: true,
            attestation_signer: 3,
            statement_builder: BUILDER.into(),
            drop_subject: false,
            extra_subject: false,
            tamper_subject_digest: false,
            sbom_valid: true,
            payload_without_sbom: false,
            extra: Vec::new(),
            kit_signer: 2,
            trust_chain: Vec::new(),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let sbom_path = "sbom/kit.spdx.json";
        let mut payloads = vec![
            MemberSpec::payload(
                "feeds/advisories.ndjson",
                &testkit::sample_data(self.payload_len, self.salt),
            ),
            MemberSpec::payload("feeds/snapshot.json", b"{\"sources\":[]}"),
        ];
        payloads.extend(self.extra.iter().cloned());
        for p in &mut payloads {
            if !(self.payload_without_sbom && p.path == "feeds/snapshot.json") {
                p.sbom = Some(sbom_path.into());
            }
        }
        let files = payloads
            .iter()
            .map(|p| {
                let mut d = FileDigester::new();
                d.update(&p.data);
                let f = d.finish();
                SbomFile {
                    path: p.path.clone(),
                    sha256: f.sha256,
                    sha1: f.sha1,
                }
            })
            .collect();
        let sbom = if self.sbom_valid {
            generate_kit_spdx(&KitSbomInput {
                kit_name: "stable".into(),
                kit_version: self.sequence.to_string(),
                files,
                feeds: vec![],
                tool: SbomTool {
                    name: "ouk-builder".into(),
                    version: "test".into(),
                },
                created: self.created_at,
            })
            .unwrap()
        } else {
            b"{\"spdxVersion\":\"SPDX-2.3\"}".to_vec()
        };
        let sbom_member = MemberSpec {
            path: sbom_path.into(),
            media_type: SPDX_JSON_MEDIA_TYPE.into(),
            role: MemberRole::Sbom,
            sbom: None,
            data: sbom,
            unpacked_size: None,
        };
        let mut members = vec![sbom_member];
        members.extend(payloads);
        let mut subjects: Vec<Subject> = members
            .iter()
            .map(|m| Subject {
                name: m.path.clone(),
                sha256: Sha256Hex::digest(&m.data),
            })
            .collect();
        if self.drop_subject {
            subjects.pop();
        }
        if self.extra_subject {
            subjects.push(Subject {
                name: "feeds/ghost.json".into(),
                sha256: Sha256Hex::digest(b"ghost"),
            });
        }
        if self.tamper_subject_digest {
            subjects[1].sha256 = Sha256Hex::digest(b"other");
        }
        let mut all = Vec::new();
        if self.with_attestation {
            let statement = build_statement(&ProvenanceInput {
                subjects,
                external_parameters: ExternalParameters::new(
                    vec![RequestedSource {
                        name: "osv".into(),
                        uri: None,
                    }],
                    BTreeMap::new(),
                ),
                resolved_dependencies: vec![],
                builder_id: self.statement_builder.clone(),
                builder_version: BTreeMap::from([("ouk-builder".into(), "test".into())]),
                invocation_id: format!("test-{}", self.sequence),
                started_on: self.created_at,
                finished_on: self.created_at,
            })
            .unwrap();
            let signer = Ed25519Signer::from_seed(&[self.attestation_signer; 32]);
            let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement, &[&signer as &dyn Signer])
                .unwrap()
                .to_json();
            all.push(MemberSpec {
                path: "attestation/provenance.dsse.json".into(),
                media_type: ATTESTATION_MEDIA_TYPE.into(),
                role: MemberRole::Attestation,
                sbom: None,
                data: env,
                unpacked_size: None,
            });
        }
        all.extend(members);
        let spec = KitSpec {
            channel: "stable".into(),
            sequence: self.sequence,
            created_at: Timestamp::from_unix(self.created_at),
            expires_at: Timestamp::from_unix(self.expires_at),
            builder_id: BUILDER.into(),
            chunk_size: 64 * 1024,
            members: all,
        };
        let signer = Ed25519Signer::from_seed(&[self.kit_signer; 32]);
        let roots: Vec<(u64, &[u8])> = self
            .trust_chain
            .iter()
            .map(|(v, b)| (*v, b.as_slice()))
            .collect();
        testkit::build_with_trust_chain(&spec, &[&signer], &roots).unwrap()
    }

    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, self.bytes()).unwrap();
        p
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
    pub trust: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let trust = dir.path().join("trust-root.json");
        std::fs::write(&trust, trust_root(1, "2099-01-01T00:00:00Z")).unwrap();
        Env { dir, store, trust }
    }

    pub fn kit(&self, b: &Build) -> PathBuf {
        b.write(
            self.dir.path(),
            &format!("kit-{}-{}.ouk", b.sequence, b.salt),
        )
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ouk-importer"));
        c.env_remove("FAILPOINTS");
        c
    }

    pub fn import(&self, kit: &Path, extra: &[&str]) -> Output {
        self.cmd()
            .arg("import")
            .arg(kit)
            .arg("--trust-root")
            .arg(&self.trust)
            .arg("--store")
            .arg(&self.store)
            .arg("--json")
            .args(extra)
            .output()
            .unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn store_arg(&self) -> &str {
        self.store.to_str().unwrap()
    }
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Assert the exit code, printing the output on failure.
pub fn expect(o: &Output, want: i32) -> serde_json::Value {
    assert_eq!(
        code(o),
        want,
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null)
}

/// The store invariants the crash tests assert after every interruption.
pub fn check_store(store: &Path, min_seq: u64) -> Option<u64> {
    // state.json parses (or is absent) and never regresses.
    let state = std::fs::read(store.join("state.json")).ok().map(|b| {
        let v: serde_json::Value = serde_json::from_slice(&b).expect("state.json parses");
        v["highest_sequence"].as_u64().expect("highest_sequence")
    });
    if let Some(s) = state {
        assert!(s >= min_seq, "state.json regressed: {s} < {min_seq}");
    }
    // current points to a complete generation.
    if let Ok(target) = std::fs::read_link(store.join("current")) {
        let gen = store.join(&target);
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(gen.join(".ouk/manifest.json")).expect("manifest"),
        )
        .unwrap();
        for m in manifest["members"].as_array().unwrap() {
            let path = gen.join(m["path"].as_str().unwrap());
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let want = m["uncompressed"]["sha256"].as_str().unwrap();
            let got = ouk_format::digest::Sha256::of(&data).to_hex();
            assert_eq!(got, want, "{} incomplete", path.display());
        }
        let info: serde_json::Value = serde_json::from_slice(
            &std::fs::read(gen.join(".ouk/generation.json")).expect("generation.json"),
        )
        .unwrap();
        return Some(info["sequence"].as_u64().unwrap());
    }
    None
}

/// `audit verify` through the binary must succeed.
pub fn audit_ok(env: &Env) {
    let o = env.run(&["audit", "verify", "--store", env.store_arg(), "--json"]);
    expect(&o, 0);
}

/// The system clock, as the importer binary reads it (seconds since the Unix epoch).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
