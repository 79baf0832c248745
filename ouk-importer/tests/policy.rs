//! Every policy case of issue 3 end to end with the real binary.

mod common;
use common::*;

#[test]
fn import_then_idempotent_then_newer() {
    let env = Env::new();
    let k1 = env.kit(&Build::new(1));
    let r = expect(&env.import(&k1, &[]), 0);
    assert_eq!(r["outcome"], "imported");
    let gen1 = r["generation"].as_str().unwrap().to_owned();
    assert!(env.store.join("current/feeds/advisories.ndjson").is_file());
    assert!(env.store.join("current/.ouk/manifest.json").is_file());
    // The signed envelope is kept byte for byte, so it can be verified again later.
    let kit_bytes = std::fs::read(&k1).unwrap();
    let mut ar = tar::Archive::new(&kit_bytes[..]);
    let mut first = ar.entries().unwrap().next().unwrap().unwrap();
    let mut envelope = Vec::new();
    std::io::Read::read_to_end(&mut first, &mut envelope).unwrap();
    assert_eq!(
        std::fs::read(env.store.join("current/.ouk/manifest.dsse.json")).unwrap(),
        envelope
    );
    assert_eq!(r["provenance"]["builder_id"], BUILDER);
    assert_eq!(r["sboms"]["sbom/kit.spdx.json"], "spdx-2.3");

    let r = expect(&env.import(&k1, &[]), 0);
    assert_eq!(r["outcome"], "already_imported");
    assert_eq!(r["generation"], gen1.as_str());

    let k2 = env.kit(&Build::new(2));
    let r = expect(&env.import(&k2, &[]), 0);
    assert_eq!(r["outcome"], "imported");
    assert_eq!(
        std::fs::read_link(env.store.join("current")).unwrap(),
        std::path::Path::new("generations").join(r["generation"].as_str().unwrap())
    );
    let st = expect(
        &env.run(&["status", "--store", env.store_arg(), "--json"]),
        0,
    );
    assert_eq!(st["highest_sequence"], 2);
    assert_eq!(st["generations"], 2);
    audit_ok(&env);
}

#[test]
fn same_signed_kit_in_other_container_bytes_is_already_imported_not_equivocation() {
    let env = Env::new();
    let k1 = env.kit(&Build::new(1));
    let r = expect(&env.import(&k1, &[]), 0);
    let gen1 = r["generation"].as_str().unwrap().to_owned();
    // Record padding added by a transfer tool: every signed byte unchanged, file digest changed.
    let mut bytes = std::fs::read(&k1).unwrap();
    bytes.extend_from_slice(&[0u8; 512]);
    let padded = k1.with_file_name("kit-1-padded.ouk");
    std::fs::write(&padded, &bytes).unwrap();
    let r = expect(&env.import(&padded, &[]), 0);
    assert_eq!(r["outcome"], "already_imported");
    assert_eq!(r["generation"], gen1.as_str());
    let st = expect(
        &env.run(&["status", "--store", env.store_arg(), "--json"]),
        0,
    );
    assert_eq!(st["generations"], 1);
    assert_eq!(
        std::fs::read_dir(env.store.join("staging"))
            .unwrap()
            .count(),
        0,
        "staging left behind"
    );
    audit_ok(&env);
}

#[test]
fn rollback_and_equivocation_refused() {
    let env = Env::new();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    expect(&env.import(&env.kit(&Build::new(3)), &[]), 0);
    let r = expect(&env.import(&env.kit(&Build::new(2)), &[]), 20);
    assert_eq!(r["error"]["kind"], "rollback");
    let mut other = Build::new(3);
    other.salt = 99;
    let r = expect(&env.import(&env.kit(&other), &[]), 20);
    assert_eq!(r["error"]["kind"], "equivocation");
    let st = expect(
        &env.run(&["status", "--store", env.store_arg(), "--json"]),
        0,
    );
    assert_eq!(st["highest_sequence"], 3);
    assert_eq!(st["generations"], 2);
    // The audit log recorded the refusals.
    let log = std::fs::read_to_string(env.store.join("audit.jsonl")).unwrap();
    assert!(log.contains("\"error_kind\":\"rollback\""));
    assert!(log.contains("\"error_kind\":\"equivocation\""));
    audit_ok(&env);
}

#[test]
fn expired_kit_refused_unless_allowed_and_audited() {
    let env = Env::new();
    let mut b = Build::new(1);
    b.created_at = 1_690_000_000;
    b.expires_at = 1_700_000_000; // 2023, within the 400-day validity cap
    let k = env.kit(&b);
    let r = expect(&env.import(&k, &[]), 20);
    assert_eq!(r["error"]["kind"], "kit_expired");
    assert!(!env.store.join("current").exists());
    let r = expect(&env.import(&k, &["--allow-expired"]), 0);
    assert_eq!(r["accepted_expired"], true);
    let log = std::fs::read_to_string(env.store.join("audit.jsonl")).unwrap();
    assert!(log.contains("\"allow_expired\":true"));
}

#[test]
fn created_in_future_and_clock_skew() {
    let env = Env::new();
    let now = now_unix();
    let mut b = Build::new(1);
    b.created_at = now + 3600;
    let k = env.kit(&b);
    let r = expect(&env.import(&k, &["--clock-skew", "60"]), 20);
    assert_eq!(r["error"]["kind"], "created_in_future");
    expect(&env.import(&k, &["--clock-skew", "7200"]), 0);
}

#[test]
fn expired_and_older_trust_roots_refused() {
    let env = Env::new();
    std::fs::write(&env.trust, trust_root(1, "2020-01-01T00:00:00Z")).unwrap();
    let r = expect(&env.import(&env.kit(&Build::new(1)), &[]), 11);
    assert_eq!(r["error"]["kind"], "trust_root_expired");

    std::fs::write(&env.trust, trust_root(2, "2099-01-01T00:00:00Z")).unwrap();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    // The store now holds v2: an older --trust-root (a configuration not updated after a
    // rotation) is superseded by it, never used.
    assert!(env.store.join("trust/2.json").is_file());
    std::fs::write(&env.trust, trust_root(1, "2099-01-01T00:00:00Z")).unwrap();
    expect(&env.import(&env.kit(&Build::new(2)), &[]), 0);
    // A store from before rotation kept only the version number: an older root is refused.
    std::fs::remove_dir_all(env.store.join("trust")).unwrap();
    let r = expect(&env.import(&env.kit(&Build::new(3)), &[]), 11);
    assert_eq!(r["error"]["kind"], "trust_root_rollback");
}

#[test]
fn clock_skew_does_not_ratchet_the_time_high_water_mark() {
    // Kit 1 was created "tomorrow" (accepted thanks to a 2-day skew). The high-water mark must
    // not jump to tomorrow: one kit could otherwise age every later kit by up to the skew, for
    // good. It moves to the local clock at most.
    let env = Env::new();
    let now = now_unix();
    let mut b1 = Build::new(1);
    b1.created_at = now + 86_400;
    expect(&env.import(&env.kit(&b1), &["--clock-skew", "172800"]), 0);
    let st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.store.join("state.json")).unwrap()).unwrap();
    let mark = ouk_format::time::Timestamp::parse(st["time_high_water"].as_str().unwrap())
        .unwrap()
        .unix();
    assert!(
        mark >= now && mark < now + 600,
        "high-water mark {mark}, now {now}"
    );
    // A kit that expires in an hour is fresh: the future-dated kit did not age it.
    let mut b2 = Build::new(2);
    b2.created_at = now - 7200;
    b2.expires_at = now + 3600;
    expect(&env.import(&env.kit(&b2), &[]), 0);
}

#[test]
fn clock_set_back_is_refused() {
    // The store saw time T (an earlier import); the system clock has since been set back a day.
    // The importer refuses to run at all (issue 12: "refuse to run if the clock goes backwards
    // beyond the skew tolerance"), so nothing is decided on the wrong clock.
    let env = Env::new();
    let now = now_unix();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    // Simulate the clock moving back: the recorded high-water mark is a day ahead of the clock.
    let path = env.store.join("state.json");
    let mut st: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    st["time_high_water"] = ouk_format::time::Timestamp::from_unix(now + 86_400)
        .to_string()
        .into();
    std::fs::write(&path, serde_json::to_vec_pretty(&st).unwrap()).unwrap();
    let mut b2 = Build::new(2);
    b2.created_at = now - 7200;
    b2.expires_at = now + 3600;
    // Fresh by the system clock: `verify` (no store, no high-water mark) accepts it.
    let k2 = env.kit(&b2);
    expect(
        &env.run(&[
            "verify",
            k2.to_str().unwrap(),
            "--trust-root",
            env.trust.to_str().unwrap(),
        ]),
        0,
    );
    let r = expect(&env.import(&k2, &[]), 11);
    assert_eq!(r["error"]["kind"], "clock_behind");
    // Within the skew tolerance the run goes ahead, on the high-water mark rather than the
    // clock: a kit that expired before the mark stays expired.
    st["time_high_water"] = ouk_format::time::Timestamp::from_unix(now + 200)
        .to_string()
        .into();
    std::fs::write(&path, serde_json::to_vec_pretty(&st).unwrap()).unwrap();
    let mut b3 = Build::new(3);
    b3.created_at = now - 7200;
    b3.expires_at = now - 150;
    let r = expect(&env.import(&env.kit(&b3), &["--clock-skew", "0"]), 11);
    assert_eq!(r["error"]["kind"], "clock_behind");
    let r = expect(&env.import(&env.kit(&b3), &[]), 20);
    assert_eq!(r["error"]["kind"], "kit_expired");
}

#[test]
fn provenance_and_sbom_tamper_cases_refused() {
    type Tweak = Box<dyn Fn(&mut Build)>;
    let cases: Vec<(&str, Tweak, i32, &str)> = vec![
        (
            "no attestation",
            Box::new(|b| b.with_attestation = false),
            10,
            "missing_attestation",
        ),
        (
            "subject digest",
            Box::new(|b| b.tamper_subject_digest = true),
            10,
            "provenance_subject_digest_mismatch",
        ),
        (
            "subject removed",
            Box::new(|b| b.drop_subject = true),
            10,
            "provenance_subject_missing",
        ),
        (
            "extra subject",
            Box::new(|b| b.extra_subject = true),
            10,
            "provenance_subject_extra",
        ),
        (
            "signed by kit key",
            Box::new(|b| b.attestation_signer = 2),
            10,
            "threshold_not_met",
        ),
        (
            "unknown builder",
            Box::new(|b| b.statement_builder = "https://evil.example/b".into()),
            20,
            "provenance_unknown_builder",
        ),
        (
            "sbom invalid",
            Box::new(|b| b.sbom_valid = false),
            10,
            "sbom_invalid",
        ),
        (
            "sbom link missing",
            Box::new(|b| b.payload_without_sbom = true),
            10,
            "missing_sbom_link",
        ),
    ];
    for (name, tweak, want_code, want_kind) in cases {
        let env = Env::new();
        let mut b = Build::new(1);
        tweak(&mut b);
        let o = env.import(&env.kit(&b), &[]);
        assert_eq!(
            code(&o),
            want_code,
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_eq!(json(&o)["error"]["kind"], want_kind, "{name}");
        assert!(!env.store.join("current").exists(), "{name}");
        let staging = std::fs::read_dir(env.store.join("staging"))
            .unwrap()
            .count();
        assert_eq!(staging, 0, "{name}: staging left behind");
        // verify agrees with import.
        let o = env.run(&[
            "verify",
            env.kit(&b).to_str().unwrap(),
            "--trust-root",
            env.trust.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code(&o), want_code, "{name} (verify)");
    }
}

#[test]
fn corrupted_kit_is_verification_failure() {
    let env = Env::new();
    let mut bytes = Build::new(1).bytes();
    let n = bytes.len();
    bytes[n / 2] ^= 0x55;
    let p = env.dir.path().join("bad.ouk");
    std::fs::write(&p, bytes).unwrap();
    let r = expect(&env.import(&p, &[]), 10);
    assert!(
        r["error"]["kind"].as_str().unwrap().contains("digest"),
        "{r}"
    );
    assert_eq!(
        std::fs::read_dir(env.store.join("generations"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn admin_commands_rollback_list_gc() {
    let env = Env::new();
    for s in 1..=3 {
        expect(&env.import(&env.kit(&Build::new(s)), &[]), 0);
    }
    let s = env.store_arg();
    let r = expect(
        &env.run(&["rollback", "--to", "1", "--store", s, "--json"]),
        0,
    );
    assert!(r["current"].as_str().unwrap().starts_with("1-"));
    assert_eq!(r["highest_sequence"], 3);
    // The floor did not move: sequence 2 is still a rollback.
    let r = expect(&env.import(&env.kit(&Build::new(2)), &[]), 20);
    assert_eq!(r["error"]["kind"], "rollback");
    let r = expect(
        &env.run(&["rollback", "--to", "9", "--store", s, "--json"]),
        2,
    );
    assert_eq!(r["error"]["kind"], "unknown_generation");
    let l = expect(&env.run(&["list", "--store", s, "--json"]), 0);
    assert_eq!(l["generations"].as_array().unwrap().len(), 3);
    // gc keeps the newest one and the active one (sequence 1).
    let g = expect(&env.run(&["gc", "--keep", "1", "--store", s, "--json"]), 0);
    assert_eq!(g["removed"].as_array().unwrap().len(), 1);
    let l = expect(&env.run(&["list", "--store", s, "--json"]), 0);
    let seqs: Vec<u64> = l["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 3]);
    expect(&env.run(&["gc", "--keep", "0", "--store", s]), 2);
    audit_ok(&env);
}

#[test]
fn import_from_dir_picks_newest_valid() {
    let env = Env::new();
    let stick = env.dir.path().join("stick");
    std::fs::create_dir(&stick).unwrap();
    let trust = env.trust.to_str().unwrap().to_owned();
    let s = env.store_arg().to_owned();
    let scan = |env: &Env| {
        env.run(&[
            "import",
            "--from",
            stick.to_str().unwrap(),
            "--trust-root",
            &trust,
            "--store",
            &s,
            "--json",
        ])
    };
    // Empty stick: nothing new.
    expect(&scan(&env), 3);
    Build::new(1).write(&stick, "a.ouk");
    Build::new(2).write(&stick, "b.ouk");
    // A newer but broken kit is tried first, reported, and the newest valid one imported.
    let mut bad = Build::new(3).bytes();
    let n = bad.len();
    bad[n - 3000] ^= 1;
    std::fs::write(stick.join("c.ouk"), bad).unwrap();
    std::fs::write(stick.join("notes.txt"), b"hello").unwrap();
    let r = expect(&scan(&env), 0);
    assert_eq!(r["imported"]["kit"]["sequence"], 2, "{r}");
    let statuses: Vec<&str> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["not_newest", "imported", "failed"]);
    // Second run: nothing above the floor except the broken one, which fails again.
    std::fs::remove_file(stick.join("c.ouk")).unwrap();
    let r = expect(&scan(&env), 3);
    let statuses: Vec<&str> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["below_floor", "already_imported"]);
}

#[test]
fn inspect_without_trust_root_is_marked_unverified() {
    let env = Env::new();
    let k = env.kit(&Build::new(1));
    let o = env.run(&["inspect", k.to_str().unwrap(), "--provenance"]);
    expect(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("UNVERIFIED"), "{text}");
    assert!(text.contains("feeds/advisories.ndjson"));
    let r = expect(
        &env.run(&[
            "inspect",
            k.to_str().unwrap(),
            "--json",
            "--provenance",
            "--trust-root",
            env.trust.to_str().unwrap(),
        ]),
        0,
    );
    assert_eq!(r["verified"], true);
    assert_eq!(r["provenance"]["builder_id"], BUILDER);
}

#[test]
fn two_concurrent_imports_are_serialized() {
    let env = Env::new();
    let k1 = env.kit(&Build::new(1));
    let mut big = Build::new(2);
    big.payload_len = 8_000_000;
    let k2 = env.kit(&big);
    let spawn = |k: &std::path::Path| {
        env.cmd()
            .arg("import")
            .arg(k)
            .arg("--trust-root")
            .arg(&env.trust)
            .arg("--store")
            .arg(&env.store)
            .arg("--json")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn(&k2);
    let b = spawn(&k1);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    // Whatever order the lock granted, both outcomes are consistent: 2 always lands; 1 either
    // landed first or was refused as a rollback after 2.
    expect(&a, 0);
    let cb = code(&b);
    assert!(
        cb == 0 || cb == 20,
        "{}",
        String::from_utf8_lossy(&b.stdout)
    );
    if cb == 20 {
        assert_eq!(json(&b)["error"]["kind"], "rollback");
    }
    let st = expect(
        &env.run(&["status", "--store", env.store_arg(), "--json"]),
        0,
    );
    assert_eq!(st["highest_sequence"], 2);
    assert!(st["current"]["name"].as_str().unwrap().starts_with("2-"));
    audit_ok(&env);
    let log = std::fs::read_to_string(env.store.join("audit.jsonl")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("\"action\":\"import\""))
            .count(),
        2
    );
}

#[test]
fn no_wait_fails_fast_when_locked() {
    use fs4::fs_std::FileExt;
    let env = Env::new();
    std::fs::create_dir_all(&env.store).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.store.join(".lock"))
        .unwrap();
    FileExt::lock_exclusive(&lock).unwrap();
    let r = expect(&env.import(&env.kit(&Build::new(1)), &["--no-wait"]), 31);
    assert_eq!(r["error"]["kind"], "locked");
}

#[test]
fn audit_verify_names_first_broken_record() {
    let env = Env::new();
    for s in 1..=3 {
        expect(&env.import(&env.kit(&Build::new(s)), &[]), 0);
    }
    let path = env.store.join("audit.jsonl");
    let log = std::fs::read_to_string(&path).unwrap();
    let tampered = log.replacen("\"sequence\":2", "\"sequence\":7", 1);
    assert_ne!(tampered, log);
    std::fs::write(&path, tampered).unwrap();
    let r = expect(
        &env.run(&["audit", "verify", "--store", env.store_arg(), "--json"]),
        10,
    );
    assert_eq!(r["error"]["kind"], "audit_broken");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("record 3"),
        "{r}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    assert_eq!(code(&env.run(&["import"])), 2);
    assert_eq!(code(&env.run(&["bogus"])), 2);
}

#[test]
fn trivy_db_member_is_installed_in_the_generation() {
    // A real Trivy DB built by ouk-trivy from one OSV record of the trivy helper's test data
    // (read in place), packed as the official layer, shipped as trivy/db.tar.gz.
    let env = Env::new();
    let osv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/trivy/osv/OUKTEST-2024-0001.json");
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(osv).unwrap()).unwrap();
    let ndjson = env.dir.path().join("advisories.ndjson");
    std::fs::write(&ndjson, format!("{record}\n")).unwrap();
    let out = env.dir.path().join("trivy-out");
    ouk_trivy::export_trivy_db(&ndjson, &out, &ouk_trivy::ExportOptions::new(1_767_225_600))
        .unwrap();
    let tgz = env.dir.path().join("db.tar.gz");
    let packed = ouk_trivy::pack_db_tar_gz(&out.join("db"), &tgz, 1_767_225_600).unwrap();
    let mut b = Build::new(1);
    b.extra.push(ouk_format::testkit::MemberSpec {
        path: "trivy/db.tar.gz".into(),
        media_type: ouk_format::media_types::TRIVY_DB_MEDIA_TYPE.into(),
        role: ouk_format::manifest::MemberRole::Payload,
        sbom: None,
        data: std::fs::read(&tgz).unwrap(),
        unpacked_size: Some(packed.db_bytes + packed.metadata_bytes),
    });
    let r = expect(&env.import(&env.kit(&b), &[]), 0);
    assert_eq!(r["trivy_db"], "trivy/db/trivy.db");
    let db = env.store.join("current/trivy/db");
    assert_eq!(
        std::fs::read(db.join("trivy.db")).unwrap(),
        std::fs::read(out.join("db/trivy.db")).unwrap()
    );
    assert!(db.join("metadata.json").is_file());
    // Beside it, the Java DB stub Trivy needs to analyse JARs offline.
    let java = env.store.join("current/trivy/java-db");
    assert_eq!(std::fs::read(java.join("trivy-java.db")).unwrap(), b"");
    let md: serde_json::Value =
        serde_json::from_slice(&std::fs::read(java.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(md["Version"], 1, "{md}");

    // A corrupt DB inside an otherwise valid, signed kit is refused before activation.
    let mut bad = Build::new(2);
    bad.extra.push(ouk_format::testkit::MemberSpec {
        path: "trivy/db.tar.gz".into(),
        media_type: ouk_format::media_types::TRIVY_DB_MEDIA_TYPE.into(),
        role: ouk_format::manifest::MemberRole::Payload,
        sbom: None,
        data: b"not gzip".to_vec(),
        unpacked_size: Some(8),
    });
    let r = expect(&env.import(&env.kit(&bad), &[]), 10);
    assert_eq!(r["error"]["kind"], "trivy_db_invalid");
    assert!(std::fs::read_link(env.store.join("current"))
        .unwrap()
        .to_str()
        .unwrap()
        .contains("/1-"));
}
