//! Crash consistency, disk-full and read-only store (issue 3).
//!
//! Failpoints (the `fail` crate, compiled into the test build of the binary) abort the importer
//! at every step of the publish sequence, or make a step fail with ENOSPC/EROFS; a second test
//! SIGKILLs the child at pseudo-random instants. After every interruption the store must satisfy:
//! `current` points to a complete generation (old or new), `state.json` parses and never
//! regresses, the audit chain verifies; and the next import recovers and completes.
//! `OUK_CRASH_RUNS` raises the number of SIGKILL runs (CI's longer run: `.ci/parts/importer.sh`).

mod common;
use common::*;

use std::time::Duration;

use rand::{Rng, SeedableRng};

const CRASH_POINTS: &[&str] = &[
    "fsx::create_dir",
    "fsx::create_file",
    "sink::write",
    "sink::fsync",
    "import::trivy",
    "fsx::sync_file",
    "fsx::sync_dir",
    "import::before_rename",
    "import::after_rename",
    "store::switch::symlink",
    "store::switch::rename",
    "store::switch::after_rename",
    "import::after_switch",
    "fsx::write_atomic::write",
    "fsx::write_atomic::fsync",
    "fsx::write_atomic::rename",
    "import::after_state",
    "audit::append",
    "audit::fsync",
    "store::discard::rename",
    "store::discard::remove",
];

fn import_with(env: &Env, kit: &std::path::Path, failpoints: &str) -> std::process::Output {
    env.cmd()
        .env("FAILPOINTS", failpoints)
        .arg("import")
        .arg(kit)
        .arg("--trust-root")
        .arg(&env.trust)
        .arg("--store")
        .arg(&env.store)
        .arg("--json")
        .output()
        .unwrap()
}

/// Store with generation 1 active; returns the kit for sequence 2.
fn prepared(env: &Env) -> std::path::PathBuf {
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    env.kit(&Build::new(2))
}

#[test]
fn crash_at_every_failpoint_then_recover() {
    let mut fired = 0;
    for point in CRASH_POINTS {
        // `N*off->return(crash)`: let the first N hits pass, crash on the next; this walks the
        // crash through successive files/directories of the same step.
        for skip in [0usize, 1, 3] {
            let env = Env::new();
            let k2 = prepared(&env);
            let spec = if skip == 0 {
                format!("{point}=return(crash)")
            } else {
                format!("{point}={skip}*off->return(crash)")
            };
            let o = import_with(&env, &k2, &spec);
            let crashed = o.status.code().is_none();
            if crashed {
                fired += 1;
            }
            let seq = check_store(&env.store, 1).expect("current exists");
            assert!(seq == 1 || seq == 2, "{spec}: current at {seq}");
            audit_ok(&env);
            // Recovery: the same import now completes (or finds it already done).
            let r = expect(&env.import(&k2, &[]), 0);
            assert_eq!(r["kit"]["sequence"], 2, "{spec}");
            assert_eq!(check_store(&env.store, 2), Some(2), "{spec}");
            assert_eq!(
                std::fs::read_dir(env.store.join("staging"))
                    .unwrap()
                    .count(),
                0,
                "{spec}: staging not cleaned"
            );
            audit_ok(&env);
        }
    }
    eprintln!(
        "failpoint crash runs: {} configured, {fired} crashed the importer",
        CRASH_POINTS.len() * 3
    );
    // Points on paths a successful import does not take (discard, trivy) or hit fewer times
    // than `skip` do not fire; the rest must.
    assert!(fired >= 25, "only {fired} failpoint crashes fired");
}

#[test]
fn disk_full_and_read_only_store_fail_cleanly() {
    for (point, errno, code_want) in [
        ("sink::write", "enospc", 30),
        ("fsx::create_dir", "erofs", 30),
        ("fsx::create_file", "erofs", 30),
        ("fsx::sync_file", "eio", 30),
        ("store::switch::symlink", "enospc", 30),
        ("store::switch::rename", "erofs", 30),
    ] {
        let env = Env::new();
        let k2 = prepared(&env);
        let before_state = std::fs::read(env.store.join("state.json")).unwrap();
        let before_current = std::fs::read_link(env.store.join("current")).unwrap();
        let o = import_with(&env, &k2, &format!("{point}=return({errno})"));
        let r = expect(&o, code_want);
        assert_eq!(r["error"]["kind"], "io", "{point}");
        // Store unchanged: same state, same current, one generation, empty staging.
        assert_eq!(
            std::fs::read(env.store.join("state.json")).unwrap(),
            before_state,
            "{point}"
        );
        assert_eq!(
            std::fs::read_link(env.store.join("current")).unwrap(),
            before_current,
            "{point}"
        );
        assert_eq!(
            std::fs::read_dir(env.store.join("generations"))
                .unwrap()
                .count(),
            1,
            "{point}"
        );
        assert_eq!(
            std::fs::read_dir(env.store.join("staging"))
                .unwrap()
                .count(),
            0,
            "{point}"
        );
        audit_ok(&env);
    }
}

/// SIGKILL at pseudo-random instants during imports of successive kits.
#[test]
fn sigkill_at_random_instants() {
    let runs: usize = std::env::var("OUK_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("OUK_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_260_101);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let env = Env::new();
    let mut kits = Vec::new();
    for s in 1..=6u64 {
        let mut b = Build::new(s);
        b.payload_len = 3_000_000;
        kits.push(env.kit(&b));
    }
    let mut floor = 0u64;
    let (mut killed, mut completed) = (0, 0);
    for run in 0..runs {
        let kit = &kits[run % kits.len()];
        let mut child = env
            .cmd()
            .arg("import")
            .arg(kit)
            .arg("--trust-root")
            .arg(&env.trust)
            .arg("--store")
            .arg(&env.store)
            .arg("--quiet")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..60_000)));
        match child.try_wait().unwrap() {
            Some(_) => completed += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
        }
        let _ = child.wait();
        check_store(&env.store, floor);
        audit_ok(&env);
        if let Ok(b) = std::fs::read(env.store.join("state.json")) {
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            floor = v["highest_sequence"].as_u64().unwrap();
        }
    }
    eprintln!("sigkill runs: {runs}, killed mid-run: {killed}, finished before the kill: {completed}, seed {seed}");
    assert!(killed > 0, "no run was actually interrupted");
    // Afterwards a clean import of the newest kit completes and everything is consistent.
    let last = kits.last().unwrap();
    let o = env.import(last, &[]);
    assert!(code(&o) == 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(check_store(&env.store, floor), Some(6));
    audit_ok(&env);
}
