//! SBOM tests: the real SBOMs in ../shared/feeds/sbom (read in place) must pass, each constructed
//! invalid fixture in testdata/provenance must fail with its own variant, and the generated SPDX document
//! must be valid, deterministic and content-addressed.

use super::*;
use crate::digest::{FileDigester, Sha256Hex};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(p: PathBuf) -> Vec<u8> {
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn shared(rel: &str) -> Vec<u8> {
    read(root().join("../shared/feeds/sbom").join(rel))
}

fn fixture(rel: &str) -> Vec<u8> {
    read(root().join("testdata/provenance").join(rel))
}

fn v(bytes: &[u8]) -> Result<SbomFormat, SbomError> {
    validate_sbom(bytes, &Limits::default())
}

#[test]
fn real_sboms_pass() {
    let cases = [
        (
            "spdx-2.3/SPDXJSONExample-v2.3.spdx.json",
            SbomFormat::Spdx23,
        ),
        ("cyclonedx-1.5/valid-bom-1.5.json", SbomFormat::CycloneDx15),
        (
            "cyclonedx-1.5/cyclonedx-python_requirements_file_with-comments_1.5.json",
            SbomFormat::CycloneDx15,
        ),
        ("cyclonedx-1.6/valid-bom-1.6.json", SbomFormat::CycloneDx16),
        (
            "cyclonedx-1.6/valid-vulnerability-1.6.json",
            SbomFormat::CycloneDx16,
        ),
        (
            "cyclonedx-1.6/cyclonedx-node-npm_dev-dependencies_flat_bom.1.6.json",
            SbomFormat::CycloneDx16,
        ),
    ];
    for (rel, want) in cases {
        assert_eq!(v(&shared(rel)), Ok(want), "{rel}");
    }
}

#[test]
fn constructed_valid_sboms_pass() {
    assert_eq!(
        v(&fixture("sbom-valid/user-app.spdx.json")),
        Ok(SbomFormat::Spdx23)
    );
    assert_eq!(
        v(&fixture("sbom-valid/user-app.cdx-1.5.json")),
        Ok(SbomFormat::CycloneDx15)
    );
    assert_eq!(
        v(&fixture("sbom-valid/user-app.cdx-1.6.json")),
        Ok(SbomFormat::CycloneDx16)
    );
    assert_eq!(
        v(&fixture("sbom-valid/user-app.cdx-1.7.json")),
        Ok(SbomFormat::CycloneDx17)
    );
    assert_eq!(
        v(&fixture("sbom-valid/user-app.spdx-2.2.json")),
        Ok(SbomFormat::Spdx22)
    );
}

#[test]
fn constructed_invalid_sboms_fail_with_their_variant() {
    let cases: Vec<(&str, SbomError)> = vec![
        (
            "both/spdx-missing-namespace.spdx.json",
            SbomError::MissingField {
                path: "/documentNamespace".into(),
            },
        ),
        (
            "both/spdx-wrong-version.spdx.json",
            SbomError::UnsupportedSpdxVersion {
                found: "SPDX-2.1".into(),
            },
        ),
        (
            "both/spdx-duplicate-spdxid.spdx.json",
            SbomError::DuplicateSpdxId {
                id: "SPDXRef-App".into(),
            },
        ),
        (
            "both/spdx-bad-checksum.spdx.json",
            SbomError::InvalidHash {
                path: "/packages/0/checksums/0".into(),
                reason: "checksumValue must be lowercase hex of the algorithm's length",
            },
        ),
        (
            "both/spdx-dangling-relationship.spdx.json",
            SbomError::UnknownReference {
                path: "/relationships/1/relatedSpdxElement".into(),
                id: "SPDXRef-Missing".into(),
            },
        ),
        (
            "both/spdx-package-without-name.spdx.json",
            SbomError::MissingField {
                path: "/packages/0/name".into(),
            },
        ),
        (
            "both/cdx-1.6-component-without-name.cdx.json",
            SbomError::MissingField {
                path: "/components/0/name".into(),
            },
        ),
        (
            "both/cdx-1.6-bad-hash.cdx.json",
            SbomError::InvalidHash {
                path: "/components/0/hashes/0".into(),
                reason: "content must be hex of the algorithm's length",
            },
        ),
        (
            "both/spdx-2.2-primary-package-purpose.spdx.json",
            SbomError::InvalidValue {
                path: "/packages/1/primaryPackagePurpose".into(),
                reason: "not in SPDX 2.2",
            },
        ),
        (
            "both/spdx-2.2-package-without-license-declared.spdx.json",
            SbomError::MissingField {
                path: "/packages/1/licenseDeclared".into(),
            },
        ),
        (
            "both/spdx-2.2-file-without-copyright.spdx.json",
            SbomError::MissingField {
                path: "/files/0/copyrightText".into(),
            },
        ),
        (
            "both/cdx-1.6-streebog-hash.cdx.json",
            SbomError::InvalidHash {
                path: "/components/0/hashes/0".into(),
                reason: "unknown hash algorithm for this specVersion",
            },
        ),
        (
            "both/cdx-unsupported-version.cdx.json",
            SbomError::UnsupportedCycloneDxVersion {
                found: "1.2".into(),
            },
        ),
        (
            "both/cdx-1.5-unknown-component-type.cdx.json",
            SbomError::InvalidValue {
                path: "/components/0/type".into(),
                reason: "unknown component type for this specVersion",
            },
        ),
        (
            "rust-only/cdx-1.6-duplicate-bom-ref.cdx.json",
            SbomError::DuplicateBomRef {
                bom_ref: "app".into(),
            },
        ),
        (
            "rust-only/cdx-1.6-dangling-dependency.cdx.json",
            SbomError::UnknownReference {
                path: "/dependencies/0/dependsOn/1".into(),
                id: "ghost".into(),
            },
        ),
        (
            "rust-only/duplicate-key.cdx.json",
            SbomError::DuplicateKey {
                key: "specVersion".into(),
            },
        ),
        ("rust-only/neither-format.json", SbomError::UnknownFormat),
    ];
    for (rel, want) in cases {
        assert_eq!(
            v(&fixture(&format!("sbom-invalid/{rel}"))),
            Err(want),
            "{rel}"
        );
    }
}

#[test]
fn every_invalid_fixture_is_covered() {
    // A fixture added without a test case would silently test nothing.
    let mut n = 0;
    for sub in ["both", "rust-only"] {
        for e in
            std::fs::read_dir(root().join("testdata/provenance/sbom-invalid").join(sub)).unwrap()
        {
            let bytes = read(e.unwrap().path());
            assert!(v(&bytes).is_err());
            n += 1;
        }
    }
    assert_eq!(n, 18);
}

#[test]
fn limits_and_garbage() {
    let real = shared("spdx-2.3/SPDXJSONExample-v2.3.spdx.json");
    let l = Limits {
        max_sbom_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        validate_sbom(&real, &l),
        Err(SbomError::TooLarge {
            size: real.len(),
            limit: 100
        })
    );
    let l = Limits {
        max_json_values: 50,
        ..Limits::default()
    };
    assert_eq!(
        validate_sbom(&real, &l),
        Err(SbomError::JsonLimit {
            what: "values",
            limit: 50
        })
    );
    assert!(matches!(v(b"{"), Err(SbomError::Json(_))));
    assert_eq!(
        v(b"[]"),
        Err(SbomError::WrongType {
            path: String::new(),
            expected: "object"
        })
    );
    assert_eq!(
        v(br#"{"spdxVersion":"SPDX-2.3","bomFormat":"CycloneDX"}"#),
        Err(SbomError::UnknownFormat)
    );
}

/// Mutations of the real SPDX example, one rule each.
#[test]
fn spdx_rules_on_real_document() {
    let base: serde_json::Value =
        serde_json::from_slice(&shared("spdx-2.3/SPDXJSONExample-v2.3.spdx.json")).unwrap();
    let run = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut d = base.clone();
        f(&mut d);
        v(&serde_json::to_vec(&d).unwrap())
    };
    assert_eq!(
        run(&|d| d["creationInfo"]["created"] = "2010-01-29".into()),
        Err(SbomError::InvalidValue {
            path: "/creationInfo/created".into(),
            reason: "must be YYYY-MM-DDThh:mm:ssZ"
        })
    );
    assert_eq!(
        run(&|d| d["dataLicense"] = "MIT".into()),
        Err(SbomError::InvalidValue {
            path: "/dataLicense".into(),
            reason: "must be CC0-1.0"
        })
    );
    assert!(matches!(
        run(&|d| d["files"][0]["checksums"] = serde_json::json!([])),
        Err(SbomError::InvalidHash { .. })
    ));
    assert!(matches!(
        run(&|d| d["relationships"][0]["relationshipType"] = "LIKES".into()),
        Err(SbomError::InvalidValue { .. })
    ));
    assert!(matches!(
        run(&|d| d["documentDescribes"] = serde_json::json!(["SPDXRef-Nope"])),
        Err(SbomError::UnknownReference { .. })
    ));
}

fn kit_input() -> KitSbomInput {
    let files = ["a/one.json", "b/two.bin"]
        .iter()
        .map(|p| {
            let mut h = FileDigester::new();
            h.update(p.as_bytes());
            let dg = h.finish();
            SbomFile {
                path: (*p).into(),
                sha256: dg.sha256,
                sha1: dg.sha1,
            }
        })
        .collect();
    KitSbomInput {
        kit_name: "kit".into(),
        kit_version: "7".into(),
        files,
        feeds: vec![SbomFeed {
            name: "osv".into(),
            version: "2024-05-01".into(),
            snapshot_sha256: Sha256Hex::digest(b"s"),
            download_location: None,
        }],
        tool: SbomTool {
            name: "ouk-builder".into(),
            version: "0.1.0".into(),
        },
        created: 1_700_000_000,
    }
}

#[test]
fn generated_spdx_is_valid_deterministic_and_content_addressed() {
    let a = generate_kit_spdx(&kit_input()).unwrap();
    assert_eq!(v(&a), Ok(SbomFormat::Spdx23));
    let mut rev = kit_input();
    rev.files.reverse();
    assert_eq!(a, generate_kit_spdx(&rev).unwrap());

    let doc: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    assert_eq!(doc["files"][0]["fileName"], "./a/one.json");
    // SPDX 2.3 §7.9 verification code, recomputed here by hand from the two file SHA1s.
    let mut sums: Vec<String> = kit_input()
        .files
        .iter()
        .map(|f| f.sha1.as_str().to_owned())
        .collect();
    sums.sort();
    use sha1::Digest as _;
    let code = hex::encode(sha1::Sha1::digest(sums.concat().as_bytes()));
    assert_eq!(
        doc["packages"][0]["packageVerificationCode"]["packageVerificationCodeValue"],
        code.as_str()
    );
    let ns = doc["documentNamespace"].as_str().unwrap();
    assert!(ns.starts_with(generate::NAMESPACE_PREFIX));

    let mut other = kit_input();
    other.files[0].sha256 = Sha256Hex::digest(b"changed");
    let b: serde_json::Value = serde_json::from_slice(&generate_kit_spdx(&other).unwrap()).unwrap();
    assert_ne!(b["documentNamespace"].as_str().unwrap(), ns);
}

#[test]
fn generator_refuses_bad_input() {
    let mut i = kit_input();
    i.files.push(i.files[0].clone());
    assert!(matches!(
        generate_kit_spdx(&i),
        Err(SbomError::InvalidInput {
            field: "files.path",
            ..
        })
    ));
    let mut i = kit_input();
    i.files.clear();
    assert!(matches!(
        generate_kit_spdx(&i),
        Err(SbomError::InvalidInput { field: "files", .. })
    ));
    let mut i = kit_input();
    i.feeds[0].download_location = Some("https://u:p@host/x".into());
    assert!(matches!(
        generate_kit_spdx(&i),
        Err(SbomError::InvalidInput { .. })
    ));
}

/// Every fixture and real SBOM, re-serialised with its keys in sorted and in reverse-sorted order at
/// every level: the streaming validator's verdict must not depend on where `spdxVersion`/`bomFormat`
/// or the definitions sit. (The duplicate-key fixture cannot be re-serialised, and `neither-format`
/// has nothing to reorder.)
#[test]
fn verdict_does_not_depend_on_key_order() {
    fn write(v: &serde_json::Value, rev: bool, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                out.push('{');
                let mut entries: Vec<_> = m.iter().collect();
                if rev {
                    entries.reverse();
                }
                for (i, (k, x)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    write(x, rev, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, rev, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut docs: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in ["sbom-valid", "sbom-invalid/both", "sbom-invalid/rust-only"] {
        for e in std::fs::read_dir(root().join("testdata/provenance").join(dir)).unwrap() {
            let p = e.unwrap().path();
            docs.push((p.display().to_string(), read(p)));
        }
    }
    for rel in [
        "spdx-2.3/SPDXJSONExample-v2.3.spdx.json",
        "cyclonedx-1.5/valid-bom-1.5.json",
        "cyclonedx-1.6/valid-bom-1.6.json",
        "cyclonedx-1.6/valid-vulnerability-1.6.json",
    ] {
        docs.push((rel.into(), shared(rel)));
    }
    let mut compared = 0;
    for (name, bytes) in docs {
        if name.ends_with("duplicate-key.cdx.json") || name.ends_with("neither-format.json") {
            continue;
        }
        let want = v(&bytes);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for rev in [false, true] {
            let mut text = String::new();
            write(&value, rev, &mut text);
            assert_eq!(v(text.as_bytes()), want, "{name} (reversed: {rev})");
            compared += 1;
        }
    }
    assert!(compared >= 30, "{compared}");
}

#[test]
fn reader_and_slice_agree_and_reader_errors_are_typed() {
    let real = shared("spdx-2.3/SPDXJSONExample-v2.3.spdx.json");
    assert_eq!(
        validate_sbom_reader(real.as_slice(), &Limits::default()),
        Ok(SbomFormat::Spdx23)
    );
    let l = Limits {
        max_sbom_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        validate_sbom_reader(real.as_slice(), &l),
        Err(SbomError::TooLarge {
            size: 101,
            limit: 100
        })
    );
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    assert!(matches!(
        validate_sbom_reader(Broken, &Limits::default()),
        Err(SbomError::Read(m)) if m.contains("disk on fire")
    ));
}

fn cdx(components: &str, tail: &str) -> Vec<u8> {
    format!(r#"{{"components":[{components}],"bomFormat":"CycloneDX","version":1{tail}}}"#)
        .into_bytes()
}

#[test]
fn cryptographic_asset_waits_for_spec_version() {
    let c = r#"{"type":"cryptographic-asset","name":"aes","bom-ref":"k"}"#;
    assert_eq!(
        v(&cdx(c, r#","specVersion":"1.6""#)),
        Ok(SbomFormat::CycloneDx16)
    );
    assert_eq!(
        v(&cdx(c, r#","specVersion":"1.5""#)),
        Err(SbomError::InvalidValue {
            path: "/components/0/type".into(),
            reason: "unknown component type for this specVersion"
        })
    );
    assert_eq!(
        v(&cdx(c, "")),
        Err(SbomError::MissingField {
            path: "/specVersion".into()
        })
    );
}

/// cdxgen 12 repeats its tool component, bom-ref included, as an annotation's annotator: not a
/// duplicate. The same bom-ref anywhere else still is.
#[test]
fn annotator_copies_are_not_duplicate_bom_refs() {
    let tool =
        r#"{"type":"application","name":"cdxgen","bom-ref":"pkg:npm/@cyclonedx/cdxgen@12.8.4"}"#;
    let doc = |annotation_at: &str| {
        format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.7","version":1,
                "metadata":{{"tools":{{"components":[{tool}]}}}},
                "annotations":[{{"subjects":["a"],"annotator":{{"{annotation_at}":{tool}}},
                  "timestamp":"2026-12-04T00:00:00Z","text":"generated"}}],
                "components":[{{"type":"library","name":"a","bom-ref":"a"}}]}}"#
        )
        .into_bytes()
    };
    assert_eq!(v(&doc("component")), Ok(SbomFormat::CycloneDx17));
    assert_eq!(v(&doc("service")), Ok(SbomFormat::CycloneDx17));
    let twice = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.7","version":1,
            "metadata":{{"tools":{{"components":[{tool}]}}}},"components":[{tool}]}}"#
    );
    assert_eq!(
        v(twice.as_bytes()),
        Err(SbomError::DuplicateBomRef {
            bom_ref: "pkg:npm/@cyclonedx/cdxgen@12.8.4".into()
        })
    );
    assert!(cyclonedx::is_annotator(
        "/annotations/0/annotator/component/bom-ref"
    ));
    assert!(!cyclonedx::is_annotator(
        "/components/0/annotator/component/bom-ref"
    ));
    assert!(!cyclonedx::is_annotator("/annotations/0/subjects/0"));
}

/// What SPDX 2.3 added (a package purpose, a checksum algorithm, a relationship type) and what
/// 2.2 requires (a package's declared license) decide only once `spdxVersion` is known, before or
/// after the elements.
#[test]
fn spdx_2_2_differences_wait_for_the_version() {
    let pkg = |extra: &str| {
        format!(
            r#"{{"SPDXID":"SPDXRef-P","name":"p","downloadLocation":"NOASSERTION","filesAnalyzed":false,
                "licenseConcluded":"MIT","copyrightText":"NOASSERTION"{extra}}}"#
        )
    };
    let doc = |version: &str, package: &str, rel: &str, first: bool| {
        let header = format!(
            r#""spdxVersion":"{version}","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"d",
               "documentNamespace":"https://example.org/d","creationInfo":{{"created":"2024-01-01T00:00:00Z","creators":["Tool: t"]}}"#
        );
        let body = format!(
            r#""packages":[{package}],"relationships":[{{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"{rel}","relatedSpdxElement":"SPDXRef-P"}}]"#
        );
        if first {
            format!("{{{header},{body}}}").into_bytes()
        } else {
            format!("{{{body},{header}}}").into_bytes()
        }
    };
    let declared = r#","licenseDeclared":"MIT""#;
    for first in [true, false] {
        let ok = pkg(declared);
        assert_eq!(
            v(&doc("SPDX-2.2", &ok, "DESCRIBES", first)),
            Ok(SbomFormat::Spdx22)
        );
        // 2.3 allows what 2.2 lacks, and does without what 2.2 requires.
        let purpose = pkg(r#","licenseDeclared":"MIT","primaryPackagePurpose":"LIBRARY""#);
        let sha3 = pkg(&format!(
            r#"{declared},"checksums":[{{"algorithm":"SHA3-256","checksumValue":"{}"}}]"#,
            "a".repeat(64)
        ));
        let bare = pkg("");
        for p in [&purpose, &sha3, &bare] {
            assert_eq!(
                v(&doc("SPDX-2.3", p, "DESCRIBES", first)),
                Ok(SbomFormat::Spdx23)
            );
        }
        assert_eq!(
            v(&doc("SPDX-2.3", &ok, "SPECIFICATION_FOR", first)),
            Ok(SbomFormat::Spdx23)
        );
        let refused = |p: &str, rel: &str| v(&doc("SPDX-2.2", p, rel, first)).unwrap_err();
        assert_eq!(
            refused(&purpose, "DESCRIBES"),
            SbomError::InvalidValue {
                path: "/packages/0/primaryPackagePurpose".into(),
                reason: "not in SPDX 2.2"
            }
        );
        assert_eq!(
            refused(&sha3, "DESCRIBES"),
            SbomError::InvalidHash {
                path: "/packages/0/checksums/0".into(),
                reason: "checksum algorithm not in SPDX 2.2"
            }
        );
        assert_eq!(
            refused(&bare, "DESCRIBES"),
            SbomError::MissingField {
                path: "/packages/0/licenseDeclared".into()
            }
        );
        assert_eq!(
            refused(&ok, "SPECIFICATION_FOR"),
            SbomError::InvalidValue {
                path: "/relationships/0/relationshipType".into(),
                reason: "relationship type not in SPDX 2.2"
            }
        );
    }
}

/// Streebog hashes are CycloneDX 1.7's: refused under 1.5 and 1.6 whether `specVersion` comes
/// before or after them, and wherever the hash sits (a component, or deep in `metadata.tools`).
#[test]
fn streebog_hashes_wait_for_spec_version() {
    let h = r#"{"alg":"Streebog-512","content":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}"#;
    let c = format!(r#"{{"type":"library","name":"a","bom-ref":"a","hashes":[{h}]}}"#);
    for (version, want) in [
        ("1.7", Ok(SbomFormat::CycloneDx17)),
        (
            "1.6",
            Err(SbomError::InvalidHash {
                path: "/components/0/hashes/0".into(),
                reason: "unknown hash algorithm for this specVersion",
            }),
        ),
    ] {
        let tail = format!(r#","specVersion":"{version}""#);
        assert_eq!(v(&cdx(&c, &tail)), want, "version after: {version}");
        let before = format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"{version}","version":1,"components":[{c}]}}"#
        );
        assert_eq!(v(before.as_bytes()), want, "version before: {version}");
    }
    let tools = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
            "metadata":{{"tools":{{"components":[{{"type":"application","name":"t","hashes":[{h}]}}]}}}}}}"#
    );
    assert!(matches!(
        v(tools.as_bytes()),
        Err(SbomError::InvalidHash { reason, .. }) if reason == "unknown hash algorithm for this specVersion"
    ));
    // A wrong length is a wrong length in 1.7 too.
    let short = c.replace(
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011",
        "00",
    );
    assert!(matches!(
        v(&cdx(&short, r#","specVersion":"1.7""#)),
        Err(SbomError::InvalidHash { reason, .. }) if reason == "content must be hex of the algorithm's length"
    ));
}

#[test]
fn forward_references_resolve_at_the_end() {
    let doc = |deps: &str| {
        format!(
            r#"{{"dependencies":[{deps}],"bomFormat":"CycloneDX","specVersion":"1.6",
               "components":[{{"type":"library","name":"a","bom-ref":"a"}}],
               "metadata":{{"component":{{"type":"application","name":"m","bom-ref":"m"}}}}}}"#
        )
        .into_bytes()
    };
    assert_eq!(
        v(&doc(r#"{"ref":"m","dependsOn":["a"]}"#)),
        Ok(SbomFormat::CycloneDx16)
    );
    assert_eq!(
        v(&doc(r#"{"ref":"m","dependsOn":["a","nope"]}"#)),
        Err(SbomError::UnknownReference {
            path: "/dependencies/0/dependsOn/1".into(),
            id: "nope".into()
        })
    );
    let l = Limits {
        max_sbom_forward_ref_bytes: 1,
        ..Limits::default()
    };
    assert_eq!(
        validate_sbom(&doc(r#"{"ref":"m","dependsOn":["a"]}"#), &l),
        Err(SbomError::TooMany {
            what: "forward reference bytes",
            limit: 1
        })
    );
}

/// Each streaming cap refuses with its own variant.
#[test]
fn streaming_caps_have_their_variants() {
    let many = (0..10)
        .map(|i| format!(r#"{{"type":"library","name":"c{i}","bom-ref":"r{i}"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let doc = cdx(&many, r#","specVersion":"1.6""#);
    assert_eq!(v(&doc), Ok(SbomFormat::CycloneDx16));
    let with = |f: &dyn Fn(&mut Limits)| {
        let mut l = Limits::default();
        f(&mut l);
        validate_sbom(&doc, &l)
    };
    assert_eq!(
        with(&|l| l.max_sbom_ids = 9),
        Err(SbomError::TooMany {
            what: "identifiers",
            limit: 9
        })
    );
    assert_eq!(
        with(&|l| l.max_sbom_elements = 9),
        Err(SbomError::JsonLimit {
            what: "array elements",
            limit: 9
        })
    );
    assert_eq!(
        with(&|l| l.max_sbom_element_values = 3),
        Err(SbomError::JsonLimit {
            what: "element values",
            limit: 3
        })
    );
    assert_eq!(
        with(&|l| l.max_sbom_element_bytes = 12),
        Err(SbomError::JsonLimit {
            what: "element bytes",
            limit: 12
        })
    );
    assert_eq!(
        with(&|l| l.max_json_object_keys = 2),
        Err(SbomError::JsonLimit {
            what: "object keys",
            limit: 2
        })
    );
    let long = cdx(
        &format!(r#"{{"type":"library","name":"{}"}}"#, "n".repeat(100)),
        r#","specVersion":"1.6""#,
    );
    let l = Limits {
        max_sbom_element_bytes: 64,
        ..Limits::default()
    };
    assert_eq!(
        validate_sbom(&long, &l),
        Err(SbomError::JsonLimit {
            what: "token bytes",
            limit: 64
        })
    );
}

#[test]
fn duplicate_keys_are_refused_at_every_level_while_streaming() {
    for doc in [
        r#"{"bomFormat":"CycloneDX","bomFormat":"CycloneDX"}"#,
        r#"{"components":[{"name":"a","name":"b"}],"bomFormat":"CycloneDX"}"#,
        r#"{"metadata":{"component":{"x":{"k":1,"k":2}}},"bomFormat":"CycloneDX"}"#,
        r#"{"zzz":[[{"k":1,"k":2}]],"spdxVersion":"SPDX-2.3"}"#,
        r#"[{"k":1,"k":2}]"#,
    ] {
        assert!(
            matches!(v(doc.as_bytes()), Err(SbomError::DuplicateKey { ref key }) if key == "bomFormat" || key == "name" || key == "k"),
            "{doc}"
        );
    }
}
