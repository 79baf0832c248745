//! Statement-level tests: round trip, every tamper case of issue 5, limits, rendering.

use crate::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const BUILDER: &str = "https://ouk.dev/builders/test@v1";

fn d(s: &str) -> Sha256Hex {
    Sha256Hex::digest(s.as_bytes())
}

fn subjects() -> Vec<Subject> {
    vec![
        Subject {
            name: "feeds/osv.json".into(),
            sha256: d("osv"),
        },
        Subject {
            name: "feeds/ghsa.json".into(),
            sha256: d("ghsa"),
        },
        Subject {
            name: "trivy/db.tar.gz".into(),
            sha256: d("trivy"),
        },
    ]
}

fn input() -> ProvenanceInput {
    ProvenanceInput {
        subjects: subjects(),
        external_parameters: ExternalParameters::new(
            vec![RequestedSource {
                name: "osv".into(),
                uri: Some("https://osv.dev/".into()),
            }],
            BTreeMap::from([("compression".into(), "zstd".into())]),
        ),
        resolved_dependencies: vec![
            Dependency {
                kind: DependencyKind::Feed,
                name: "osv".into(),
                uri: None,
                version: Some("2024-05-01".into()),
                sha256: d("snap"),
            },
            Dependency {
                kind: DependencyKind::Sbom,
                name: "sbom/kit.spdx.json".into(),
                uri: None,
                version: None,
                sha256: d("sbom"),
            },
        ],
        builder_id: BUILDER.into(),
        builder_version: BTreeMap::from([("ouk-builder".into(), "0.1.0".into())]),
        invocation_id: "inv-1".into(),
        started_on: 1_700_000_000,
        finished_on: 1_700_000_060,
    }
}

fn allowed() -> Vec<String> {
    vec!["https://other.example/builder".into(), BUILDER.into()]
}

fn check(bytes: &[u8]) -> Result<ProvenanceSummary, ProvenanceError> {
    check_statement(bytes, &subjects(), &allowed(), &Limits::default())
}

/// Builds the valid statement, applies `f` to its JSON, and checks the result.
fn tampered(f: impl FnOnce(&mut Value)) -> Result<ProvenanceSummary, ProvenanceError> {
    let mut v: Value = serde_json::from_slice(&build_statement(&input()).unwrap()).unwrap();
    f(&mut v);
    check(&serde_json::to_vec(&v).unwrap())
}

fn subject_index(v: &Value, name: &str) -> usize {
    v["subject"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["name"] == name)
        .unwrap()
}

#[test]
fn round_trip_summary() {
    let bytes = build_statement(&input()).unwrap();
    let s = check(&bytes).unwrap();
    assert_eq!(s.builder_id, BUILDER);
    assert_eq!(s.build_type, "https://ouk.dev/buildtypes/kit/v1");
    assert_eq!(s.subjects_count, 3);
    assert_eq!(s.started_on, "2023-11-14T22:13:20Z");
    assert_eq!(s.finished_on, "2023-11-14T22:14:20Z");
    assert_eq!(s.sources.len(), 2);
    assert_eq!(s.sources[0].kind, DependencyKind::Feed);
    assert_eq!(s.sources[0].name, "osv");
    assert_eq!(s.sources[0].version.as_deref(), Some("2024-05-01"));
    assert_eq!(s.sources[0].sha256, d("snap"));
    let j = serde_json::to_value(&s).unwrap();
    assert_eq!(j["sources"][1]["kind"], "sbom");
}

#[test]
fn statement_layout_is_the_documented_one() {
    let v: Value = serde_json::from_slice(&build_statement(&input()).unwrap()).unwrap();
    assert_eq!(v["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(v["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(
        v["subject"][0],
        json!({"name": "feeds/ghsa.json", "digest": {"sha256": d("ghsa").as_str()}})
    );
    let p = &v["predicate"];
    assert_eq!(p["runDetails"]["builder"]["id"], BUILDER);
    assert_eq!(p["runDetails"]["metadata"]["invocationId"], "inv-1");
    assert_eq!(
        p["buildDefinition"]["externalParameters"]["options"]["compression"],
        "zstd"
    );
    assert_eq!(
        p["buildDefinition"]["resolvedDependencies"][0]["annotations"]["kind"],
        "feed"
    );
}

#[test]
fn deterministic_regardless_of_input_order() {
    let a = build_statement(&input()).unwrap();
    let mut i = input();
    i.subjects.reverse();
    i.resolved_dependencies.reverse();
    assert_eq!(a, build_statement(&i).unwrap());
    assert_eq!(a, build_statement(&input()).unwrap());
}

#[test]
fn tamper_subject_digest_changed() {
    let r = tampered(|v| {
        let i = subject_index(v, "trivy/db.tar.gz");
        v["subject"][i]["digest"]["sha256"] = json!(d("evil").as_str());
    });
    assert_eq!(
        r,
        Err(ProvenanceError::SubjectDigestMismatch {
            name: "trivy/db.tar.gz".into(),
            expected: d("trivy").to_string(),
            attested: d("evil").to_string(),
        })
    );
}

#[test]
fn tamper_subject_removed() {
    let r = tampered(|v| {
        let i = subject_index(v, "feeds/osv.json");
        v["subject"].as_array_mut().unwrap().remove(i);
    });
    assert_eq!(
        r,
        Err(ProvenanceError::SubjectMissing {
            name: "feeds/osv.json".into()
        })
    );
}

#[test]
fn tamper_extra_subject() {
    let r = tampered(|v| {
        v["subject"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "evil.sh", "digest": {"sha256": d("x").as_str()}}));
    });
    assert_eq!(
        r,
        Err(ProvenanceError::SubjectExtra {
            name: "evil.sh".into()
        })
    );
}

#[test]
fn tamper_duplicate_subject() {
    let r = tampered(|v| {
        let first = v["subject"][0].clone();
        v["subject"].as_array_mut().unwrap().push(first);
    });
    assert_eq!(
        r,
        Err(ProvenanceError::SubjectDuplicate {
            name: "feeds/ghsa.json".into()
        })
    );
}

#[test]
fn tamper_subject_digest_forms() {
    let r = tampered(|v| {
        v["subject"][0]["digest"] = json!({"sha256": d("ghsa").as_str(), "sha512": "00"})
    });
    assert!(
        matches!(r, Err(ProvenanceError::SubjectInvalid { index: 0, .. })),
        "{r:?}"
    );
    let r = tampered(|v| {
        v["subject"][0]["digest"] = json!({"sha256": d("ghsa").as_str().to_uppercase()})
    });
    assert!(
        matches!(r, Err(ProvenanceError::SubjectInvalid { index: 0, .. })),
        "{r:?}"
    );
    let r = tampered(|v| {
        v["subject"][1]
            .as_object_mut()
            .unwrap()
            .remove("name")
            .map(|_| ())
            .unwrap()
    });
    assert_eq!(
        r,
        Err(ProvenanceError::SubjectInvalid {
            index: 1,
            reason: "missing name"
        })
    );
}

#[test]
fn tamper_unknown_builder() {
    let r = tampered(|v| {
        v["predicate"]["runDetails"]["builder"]["id"] = json!("https://evil.example/builder")
    });
    assert_eq!(
        r,
        Err(ProvenanceError::UnknownBuilder {
            id: "https://evil.example/builder".into()
        })
    );
    // And an allowed list that lacks our builder refuses the untouched statement too.
    let bytes = build_statement(&input()).unwrap();
    let r = check_statement(
        &bytes,
        &subjects(),
        &["https://other.example/builder".into()],
        &Limits::default(),
    );
    assert_eq!(
        r,
        Err(ProvenanceError::UnknownBuilder { id: BUILDER.into() })
    );
}

#[test]
fn tamper_wrong_statement_type() {
    let r = tampered(|v| v["_type"] = json!("https://in-toto.io/Statement/v0.1"));
    assert_eq!(
        r,
        Err(ProvenanceError::WrongStatementType {
            found: "https://in-toto.io/Statement/v0.1".into()
        })
    );
    let r = tampered(|v| {
        v.as_object_mut().unwrap().remove("_type");
    });
    assert_eq!(r, Err(ProvenanceError::Malformed("missing _type".into())));
}

#[test]
fn tamper_wrong_predicate_type() {
    let r = tampered(|v| v["predicateType"] = json!("https://slsa.dev/provenance/v0.2"));
    assert_eq!(
        r,
        Err(ProvenanceError::WrongPredicateType {
            found: "https://slsa.dev/provenance/v0.2".into()
        })
    );
}

#[test]
fn tamper_wrong_build_type() {
    let r = tampered(|v| {
        v["predicate"]["buildDefinition"]["buildType"] = json!("https://example.com/other/v1")
    });
    assert!(
        matches!(r, Err(ProvenanceError::WrongBuildType { .. })),
        "{r:?}"
    );
}

#[test]
fn tamper_unknown_field_and_dependency() {
    let r = tampered(|v| v["predicate"]["buildDefinition"]["internalParameters"] = json!({"x": 1}));
    assert!(matches!(r, Err(ProvenanceError::Malformed(_))), "{r:?}");
    let r = tampered(|v| {
        v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["annotations"]["kind"] =
            json!("binary")
    });
    assert!(
        matches!(r, Err(ProvenanceError::DependencyInvalid { index: 0, .. })),
        "{r:?}"
    );
    let r = tampered(|v| {
        v["predicate"]["runDetails"]["metadata"]["finishedOn"] = json!("2000-01-01T00:00:00Z")
    });
    assert_eq!(
        r,
        Err(ProvenanceError::BadTimestamp {
            field: "finishedOn<startedOn"
        })
    );
}

#[test]
fn duplicate_json_key_is_refused() {
    let good = String::from_utf8(build_statement(&input()).unwrap()).unwrap();
    let dup = good.replacen(
        "{\"_type\":",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"_type\":",
        1,
    );
    assert_eq!(
        check(dup.as_bytes()),
        Err(ProvenanceError::DuplicateKey {
            key: "_type".into()
        })
    );
}

#[test]
fn limits_are_enforced() {
    let bytes = build_statement(&input()).unwrap();
    let l = Limits {
        max_statement_bytes: bytes.len() - 1,
        ..Limits::default()
    };
    assert_eq!(
        check_statement(&bytes, &subjects(), &allowed(), &l),
        Err(ProvenanceError::PayloadTooLarge {
            size: bytes.len(),
            limit: bytes.len() - 1
        })
    );
    let l = Limits {
        max_subjects: 2,
        ..Limits::default()
    };
    assert_eq!(
        check_statement(&bytes, &subjects(), &allowed(), &l),
        Err(ProvenanceError::TooManySubjects { count: 3, limit: 2 })
    );
    let l = Limits {
        max_dependencies: 1,
        ..Limits::default()
    };
    assert_eq!(
        check_statement(&bytes, &subjects(), &allowed(), &l),
        Err(ProvenanceError::TooManyDependencies { count: 2, limit: 1 })
    );
    let l = Limits {
        max_json_depth: 3,
        ..Limits::default()
    };
    assert_eq!(
        check_statement(&bytes, &subjects(), &allowed(), &l),
        Err(ProvenanceError::JsonLimit {
            what: "depth",
            limit: 3
        })
    );
    assert!(matches!(check(b"not json"), Err(ProvenanceError::Json(_))));
    assert!(matches!(check(b"[]"), Err(ProvenanceError::Malformed(_))));
}

#[test]
fn builder_refuses_bad_input() {
    let mut i = input();
    i.external_parameters
        .options
        .insert("registry_token".into(), "x".into());
    assert_eq!(
        build_statement(&i),
        Err(ProvenanceError::SecretLikeParameter {
            key: "registry_token".into()
        })
    );
    let mut i = input();
    i.resolved_dependencies[0].uri = Some("https://user:pw@mirror.example/osv".into());
    assert!(matches!(
        build_statement(&i),
        Err(ProvenanceError::SecretLikeParameter { .. })
    ));
    let mut i = input();
    i.subjects.push(i.subjects[0].clone());
    assert!(matches!(
        build_statement(&i),
        Err(ProvenanceError::InvalidInput {
            field: "subjects",
            ..
        })
    ));
    let mut i = input();
    i.subjects.clear();
    assert!(matches!(
        build_statement(&i),
        Err(ProvenanceError::InvalidInput {
            field: "subjects",
            ..
        })
    ));
    let mut i = input();
    i.finished_on = i.started_on - 1;
    assert_eq!(
        build_statement(&i),
        Err(ProvenanceError::BadTimestamp {
            field: "finishedOn<startedOn"
        })
    );
}

#[test]
fn render_shows_fields_and_escapes_control_characters() {
    let text = render_statement(&build_statement(&input()).unwrap());
    assert!(
        text.contains("Builder id:      https://ouk.dev/builders/test@v1"),
        "{text}"
    );
    assert!(
        text.contains(&format!("sha256:{}  trivy/db.tar.gz", d("trivy"))),
        "{text}"
    );
    assert!(text.contains("[feed] osv  version 2024-05-01"), "{text}");
    let evil = br#"{"_type":"x\u001b[31mred","subject":[]}"#;
    let text = render_statement(evil);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("x\\u{1b}[31mred"), "{text}");
    assert!(render_statement(b"\xff").contains("not parseable"));
}

fn fixture(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/provenance")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn committed_sample_statement_still_checks() {
    // Produced once by `cargo run -p ouk-provenance --example emit`; guards the wire format against
    // accidental change (an old kit must keep verifying).
    let bytes = fixture("statements/sample.statement.json");
    let expected: Vec<Value> =
        serde_json::from_slice(&fixture("statements/sample.subjects.json")).unwrap();
    let subjects: Vec<Subject> = expected
        .iter()
        .map(|s| Subject {
            name: s["name"].as_str().unwrap().into(),
            sha256: Sha256Hex::parse(s["sha256"].as_str().unwrap()).unwrap(),
        })
        .collect();
    let s = check_statement(
        &bytes,
        &subjects,
        &["https://ouk.dev/builders/ci@v1".into()],
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.subjects_count, 3);
}

#[test]
fn in_toto_v01_slsa_v02_statement_is_refused() {
    let bytes = fixture("statements/in-toto-v0.1-slsa-v0.2.json");
    assert_eq!(
        check(&bytes),
        Err(ProvenanceError::WrongStatementType {
            found: "https://in-toto.io/Statement/v0.1".into()
        })
    );
}

#[test]
fn subject_list_is_cut_at_expected_count_plus_slack_while_parsing() {
    let mut v: Value = serde_json::from_slice(&build_statement(&input()).unwrap()).unwrap();
    let one = v["subject"][0].clone();
    let list = v["subject"].as_array_mut().unwrap();
    for i in 0..(SUBJECT_SLACK + 10) {
        let mut s = one.clone();
        s["name"] = json!(format!("extra/{i}"));
        list.push(s);
    }
    let cap = subjects().len() + SUBJECT_SLACK;
    assert_eq!(
        check(&serde_json::to_vec(&v).unwrap()),
        Err(ProvenanceError::TooManySubjects {
            count: cap + 1,
            limit: cap
        })
    );
    // Within the slack the precise refusal is kept.
    let r = tampered(|v| {
        let mut s = v["subject"][0].clone();
        s["name"] = json!("extra/one");
        v["subject"].as_array_mut().unwrap().push(s);
    });
    assert_eq!(
        r,
        Err(ProvenanceError::SubjectExtra {
            name: "extra/one".into()
        })
    );
}

#[test]
fn small_maps_and_other_arrays_are_capped_while_parsing() {
    let r = tampered(|v| {
        let d = v["subject"][0]["digest"].as_object_mut().unwrap();
        for i in 0..20 {
            d.insert(format!("alg{i}"), json!("x"));
        }
    });
    assert!(
        matches!(&r, Err(ProvenanceError::Malformed(m)) if m.contains("more than 16 entries")),
        "{r:?}"
    );
    let l = Limits {
        max_dependencies: 4,
        ..Limits::default()
    };
    let mut v: Value = serde_json::from_slice(&build_statement(&input()).unwrap()).unwrap();
    v["predicate"]["buildDefinition"]["externalParameters"]["sources"] =
        json!(vec![json!({"name": "s"}); 50]);
    assert_eq!(
        check_statement(
            &serde_json::to_vec(&v).unwrap(),
            &subjects(),
            &allowed(),
            &l
        ),
        // Arrays are capped at the larger of the subject cap and max_dependencies.
        Err(ProvenanceError::JsonLimit {
            what: "array elements",
            limit: subjects().len() + SUBJECT_SLACK
        })
    );
    let mut v: Value = serde_json::from_slice(&build_statement(&input()).unwrap()).unwrap();
    let opts = v["predicate"]["buildDefinition"]["externalParameters"]["options"]
        .as_object_mut()
        .unwrap();
    for i in 0..1100 {
        opts.insert(format!("o{i}"), json!("v"));
    }
    assert_eq!(
        check(&serde_json::to_vec(&v).unwrap()),
        Err(ProvenanceError::JsonLimit {
            what: "object keys",
            limit: 1024
        })
    );
}

#[test]
fn escaped_type_strings_are_read_like_plain_ones() {
    let good = String::from_utf8(build_statement(&input()).unwrap()).unwrap();
    let escaped = good.replacen(
        "\"_type\":\"https://in-toto.io/Statement/v1\"",
        "\"_type\":\"https:\\/\\/in-toto.io\\/Statement\\/v1\"",
        1,
    );
    assert_ne!(escaped, good);
    assert!(check(escaped.as_bytes()).is_ok());
}

#[test]
fn render_holds_a_bounded_tree() {
    let mut flood = String::from(r#"{"_type":"t","subject":["#);
    for i in 0..200_000 {
        if i > 0 {
            flood.push(',');
        }
        flood.push_str("{}");
    }
    flood.push_str("]}");
    let text = render_statement(flood.as_bytes());
    assert_eq!(
        text,
        "provenance statement is not rendered: TooManyValues(100000)\n"
    );
    let text = render_statement(br#"{"_type":{"a":[1,true,null]},"subject":[]}"#);
    assert!(
        text.contains(r#"Statement type:  {"a":[1,true,null]}"#),
        "{text}"
    );
}
