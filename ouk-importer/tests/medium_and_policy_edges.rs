//! Issue 11, items 7 and 8: `import --from` on a hostile medium (links, FIFOs, hard-link farms,
//! equivocating kits, budgets) and the policy edges (floor reset, `already_imported` after a
//! rollback).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn scan(env: &Env, stick: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        "--from",
        stick.to_str().unwrap(),
        "--trust-root",
        env.trust.to_str().unwrap(),
        "--store",
        env.store_arg(),
        "--json",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn statuses(r: &serde_json::Value) -> Vec<(String, String)> {
    r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = Path::new(c["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, c["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn audit_lines(env: &Env) -> Vec<serde_json::Value> {
    std::fs::read_to_string(env.store.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stick(env: &Env) -> std::path::PathBuf {
    let s = env.dir.path().join("stick");
    std::fs::create_dir(&s).unwrap();
    s
}

#[test]
fn two_signed_kits_with_one_sequence_on_a_stick_are_an_audited_equivocation() {
    let env = Env::new();
    let s = stick(&env);
    Build::new(1).write(&s, "a.ouk");
    let mut other = Build::new(2);
    other.salt = 77;
    Build::new(2).write(&s, "b.ouk");
    other.write(&s, "c.ouk");
    let r = expect(&scan(&env, &s, &[]), 20);
    assert_eq!(r["error_kind"], "equivocation", "{r}");
    // Nothing was imported: no store state, no generation.
    assert!(!env.store.join("state.json").exists());
    let audit = audit_lines(&env);
    let last = audit.last().unwrap();
    assert_eq!(last["action"], "import_from");
    assert_eq!(last["outcome"], "refused");
    assert_eq!(last["error_kind"], "equivocation");
    let msg = last["error"].as_str().unwrap();
    assert!(msg.contains("b.ouk") && msg.contains("c.ouk"), "{msg}");
    audit_ok(&env);
}

#[test]
fn a_stick_kit_equivocating_with_the_store_is_refused_and_audited() {
    let env = Env::new();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    let s = stick(&env);
    let mut other = Build::new(1);
    other.salt = 99;
    other.write(&s, "evil.ouk");
    let r = expect(&scan(&env, &s, &[]), 20);
    assert_eq!(r["error_kind"], "equivocation", "{r}");
    assert_eq!(
        audit_lines(&env).last().unwrap()["error_kind"],
        "equivocation"
    );
}

#[test]
fn hard_links_symlinks_and_fifos_on_a_stick_are_not_followed_or_read_twice() {
    let env = Env::new();
    let s = stick(&env);
    let real = Build::new(1).write(&s, "a.ouk");
    for i in 0..50 {
        std::fs::hard_link(&real, s.join(format!("link-{i:03}.ouk"))).unwrap();
    }
    // A symlink to a kit outside the stick, and a FIFO with a kit name (it would hang a reader
    // that opens it blocking, with the store lock held).
    let outside = Build::new(5).write(env.dir.path(), "outside.ouk");
    std::os::unix::fs::symlink(&outside, s.join("z-link.ouk")).unwrap();
    let fifo = s.join("y-fifo.ouk");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let r = expect(&scan(&env, &s, &[]), 0);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(r["imported"]["kit"]["sequence"], 1, "{r}");
    let st = statuses(&r);
    let same = st.iter().filter(|(_, s)| s == "same_file").count();
    assert_eq!(same, 50, "{st:?}");
    let of = |name: &str| st.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(of("z-link.ouk"), "unreadable");
    assert_eq!(of("y-fifo.ouk"), "unreadable");
    let cands = r["candidates"].as_array().unwrap();
    let kind = |name: &str| {
        cands
            .iter()
            .find(|c| c["path"].as_str().unwrap().ends_with(name))
            .unwrap()["error_kind"]
            .clone()
    };
    assert_eq!(kind("z-link.ouk"), "kit_not_regular_file");
    assert_eq!(kind("y-fifo.ouk"), "kit_not_regular_file");
}

#[test]
fn junk_does_not_hide_the_kit_and_budgets_are_reported() {
    let env = Env::new();
    let s = stick(&env);
    for i in 0..20_000 {
        std::fs::write(s.join(format!("junk-{i:05}.txt")), b"").unwrap();
    }
    Build::new(1).write(&s, "zz-real.ouk");
    let r = expect(&scan(&env, &s, &[]), 0);
    assert_eq!(r["imported"]["kit"]["sequence"], 1, "{r}");
    assert_eq!(r["entries_seen"], 20_001);
    assert!(r["budget_exhausted"].is_null());

    // A time budget of zero examines nothing and says so.
    let env = Env::new();
    let s = stick(&env);
    Build::new(1).write(&s, "a.ouk");
    let r = expect(&scan(&env, &s, &["--scan-timeout", "0"]), 3);
    assert_eq!(r["budget_exhausted"], "time_budget", "{r}");
    assert_eq!(
        statuses(&r),
        vec![("a.ouk".into(), "skipped_budget".into())]
    );
}

#[test]
fn reset_floor_recovers_a_channel_blocked_by_a_huge_sequence_and_is_audited() {
    let env = Env::new();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    // A compromised signer published a kit with a very high sequence.
    expect(&env.import(&env.kit(&Build::new(1 << 50)), &[]), 0);
    let r = expect(&env.import(&env.kit(&Build::new(2)), &[]), 20);
    assert_eq!(r["error"]["kind"], "rollback");
    // Raising the floor, or no reason, is refused.
    let store = env.store_arg().to_owned();
    let o = env.run(&[
        "reset-floor",
        "--to",
        "9999999999999999",
        "--reason",
        "x",
        "--store",
        &store,
        "--json",
    ]);
    assert_eq!(expect(&o, 2)["error"]["kind"], "reset_floor_refused");
    let o = env.run(&[
        "reset-floor",
        "--to",
        "1",
        "--reason",
        " ",
        "--store",
        &store,
        "--json",
    ]);
    assert_eq!(expect(&o, 2)["error"]["kind"], "reset_floor_refused");
    // The active generation is the hostile one: refused until an older one is re-activated.
    let o = env.run(&[
        "reset-floor",
        "--to",
        "1",
        "--reason",
        "x",
        "--store",
        &store,
        "--json",
    ]);
    assert_eq!(expect(&o, 2)["error"]["kind"], "reset_floor_refused");
    expect(
        &env.run(&["rollback", "--to", "1", "--store", &store, "--json"]),
        0,
    );
    let o = env.run(&[
        "reset-floor",
        "--to",
        "1",
        "--reason",
        "ticket 42: signer key leaked",
        "--store",
        &store,
        "--json",
    ]);
    let r = expect(&o, 0);
    assert_eq!(r["floor"], 1);
    assert_eq!(r["previous_floor"], 1u64 << 50);
    let last = audit_lines(&env).last().unwrap().clone();
    assert_eq!(last["action"], "reset_floor");
    assert!(last["note"].as_str().unwrap().contains("ticket 42"));
    // The kit at the new floor is the one generation 1 holds: importing it again changes
    // nothing, another signed kit with sequence 1 is still an equivocation.
    let again = expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    assert_eq!(again["outcome"], "already_imported", "{again}");
    let mut other = Build::new(1);
    other.salt = 5;
    let r = expect(&env.import(&env.kit(&other), &[]), 20);
    assert_eq!(r["error"]["kind"], "equivocation");
    // A floor that names no local generation is refused.
    let o = env.run(&[
        "reset-floor",
        "--to",
        "0",
        "--reason",
        "x",
        "--store",
        &store,
        "--json",
    ]);
    assert_eq!(expect(&o, 2)["error"]["kind"], "reset_floor_refused");
    expect(&env.import(&env.kit(&Build::new(2)), &[]), 0);
    audit_ok(&env);
}

#[test]
fn already_imported_after_rollback_names_both_generations() {
    let env = Env::new();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    let k2 = env.kit(&Build::new(2));
    let second = expect(&env.import(&k2, &[]), 0);
    let store = env.store_arg().to_owned();
    expect(
        &env.run(&["rollback", "--to", "1", "--store", &store, "--json"]),
        0,
    );
    let r = expect(&env.import(&k2, &[]), 0);
    assert_eq!(r["outcome"], "already_imported");
    assert_eq!(r["generation"], second["generation"]);
    assert_ne!(r["current"], r["generation"]);
    let text = env
        .cmd()
        .args(["import", k2.to_str().unwrap(), "--trust-root"])
        .arg(&env.trust)
        .args(["--store", &store])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("not active"), "{out}");
}
