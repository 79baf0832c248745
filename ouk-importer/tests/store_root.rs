//! Store-root hardening (issue 11, item 3): links, FIFOs, sockets, hard links and loose
//! owner/mode planted in the store are refused, never followed, through the real binary.
//!
//! The tests run as root, so a refusal cannot come from a permission error: each one asserts the
//! exact `kind`, exit code 30 and, by content, that the outside target is unchanged or was never
//! created.

mod common;
use common::*;

use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Exit code of the "store or local I/O problem" class (docs/importer.md, Exit codes).
const STORE_EXIT: i32 = 30;
const OUTSIDE_TEXT: &[u8] = b"outside the store: must stay as it is\n";

/// A store with generation 1 imported, the kit for sequence 2, and a file outside the store.
struct Planted {
    env: Env,
    next_kit: PathBuf,
    outside: PathBuf,
}

fn planted() -> Planted {
    let env = Env::new();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    let next_kit = env.kit(&Build::new(2));
    let outside = env.dir.path().join("outside.txt");
    std::fs::write(&outside, OUTSIDE_TEXT).unwrap();
    Planted {
        env,
        next_kit,
        outside,
    }
}

/// Replace a store entry by a symlink to `target`.
fn plant_link(entry: &Path, target: &Path) {
    match std::fs::symlink_metadata(entry) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(entry).unwrap(),
        Ok(_) => std::fs::remove_file(entry).unwrap(),
        Err(_) => {}
    }
    symlink(target, entry).unwrap();
}

/// Assert a refusal of `kind` with exit 30 from a `--json` run.
fn refused(o: &Output, kind: &str) {
    let r = expect(o, STORE_EXIT);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["kind"], kind, "{r}");
    assert_eq!(r["error"]["class"], "io", "{r}");
}

fn unchanged(p: &Path) {
    assert_eq!(
        std::fs::read(p).unwrap(),
        OUTSIDE_TEXT,
        "{} changed",
        p.display()
    );
}

fn store_cmd(env: &Env, cmd: &[&str]) -> Output {
    let mut args = cmd.to_vec();
    args.extend(["--store", env.store_arg(), "--json"]);
    env.run(&args)
}

/// Run an import with a deadline: a planted FIFO must be refused, not waited on. The deadline
/// only stops a hung child so the test fails instead of hanging; it asserts no timing.
fn import_with_deadline(env: &Env, kit: &Path) -> Output {
    let mut child = env
        .cmd()
        .arg("import")
        .arg(kit)
        .arg("--trust-root")
        .arg(&env.trust)
        .arg("--store")
        .arg(&env.store)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the importer hung on a planted FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

#[test]
fn audit_log_symlink_to_outside_file_is_refused() {
    let p = planted();
    plant_link(&p.env.store.join("audit.jsonl"), &p.outside);
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    unchanged(&p.outside);
    // `audit verify` reads the log: it must not read the outside file either.
    refused(&store_cmd(&p.env, &["audit", "verify"]), "store_symlink");
}

#[test]
fn lock_symlink_to_outside_file_is_refused() {
    let p = planted();
    plant_link(&p.env.store.join(".lock"), &p.outside);
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    unchanged(&p.outside);
    refused(&store_cmd(&p.env, &["audit", "verify"]), "store_symlink");
    refused(
        &store_cmd(&p.env, &["rollback", "--to", "1"]),
        "store_symlink",
    );
    unchanged(&p.outside);
}

#[test]
fn lock_symlink_to_missing_target_creates_nothing() {
    let p = planted();
    let missing = p.env.dir.path().join("created-by-importer");
    plant_link(&p.env.store.join(".lock"), &missing);
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    assert!(
        std::fs::symlink_metadata(&missing).is_err(),
        "the link target was created"
    );
}

#[test]
fn audit_log_symlink_in_a_fresh_store_creates_nothing() {
    let env = Env::new();
    std::fs::create_dir(&env.store).unwrap();
    let missing = env.dir.path().join("created-by-importer");
    symlink(&missing, env.store.join("audit.jsonl")).unwrap();
    refused(&env.import(&env.kit(&Build::new(1)), &[]), "store_symlink");
    assert!(std::fs::symlink_metadata(&missing).is_err());
}

#[test]
fn state_json_symlink_is_refused() {
    let p = planted();
    let real = std::fs::read(p.env.store.join("state.json")).unwrap();
    // The outside file even holds a valid state: following the link would be silent.
    std::fs::write(&p.outside, &real).unwrap();
    plant_link(&p.env.store.join("state.json"), &p.outside);
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    assert_eq!(std::fs::read(&p.outside).unwrap(), real);
    refused(&store_cmd(&p.env, &["status"]), "store_symlink");
}

#[test]
fn fifo_planted_as_audit_log_is_refused_without_hanging() {
    let p = planted();
    let log = p.env.store.join("audit.jsonl");
    std::fs::remove_file(&log).unwrap();
    mkfifo(&log);
    let o = import_with_deadline(&p.env, &p.next_kit);
    let r = expect(&o, STORE_EXIT);
    assert_eq!(r["error"]["kind"], "store_entry_type", "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is a FIFO, expected a regular file"));
    // Left in place for the operator to look at, not "repaired" by the importer.
    assert!(std::fs::symlink_metadata(&log)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn socket_planted_as_lock_is_refused() {
    let p = planted();
    let lock = p.env.store.join(".lock");
    std::fs::remove_file(&lock).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(&lock).unwrap();
    let r = expect(&p.env.import(&p.next_kit, &[]), STORE_EXIT);
    assert_eq!(r["error"]["kind"], "store_entry_type", "{r}");
}

#[test]
fn hard_link_to_outside_file_is_refused() {
    let p = planted();
    let log = p.env.store.join("audit.jsonl");
    std::fs::remove_file(&log).unwrap();
    std::fs::hard_link(&p.outside, &log).unwrap();
    refused(&p.env.import(&p.next_kit, &[]), "store_hard_linked");
    unchanged(&p.outside);
    assert_eq!(std::fs::metadata(&p.outside).unwrap().nlink(), 2);
}

#[test]
fn hard_linked_state_json_is_refused() {
    let p = planted();
    let state = p.env.store.join("state.json");
    std::fs::write(&p.outside, std::fs::read(&state).unwrap()).unwrap();
    let before = std::fs::read(&p.outside).unwrap();
    std::fs::remove_file(&state).unwrap();
    std::fs::hard_link(&p.outside, &state).unwrap();
    refused(&p.env.import(&p.next_kit, &[]), "store_hard_linked");
    assert_eq!(std::fs::read(&p.outside).unwrap(), before);
}

#[test]
fn staging_symlink_to_outside_dir_is_refused() {
    let p = planted();
    let outside_dir = p.env.dir.path().join("outside-dir");
    std::fs::create_dir(&outside_dir).unwrap();
    plant_link(&p.env.store.join("staging"), &outside_dir);
    let audit_before = std::fs::read(p.env.store.join("audit.jsonl")).unwrap();
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    assert_eq!(std::fs::read_dir(&outside_dir).unwrap().count(), 0);
    // Refused before the lock: not even an audit record was written.
    assert_eq!(
        std::fs::read(p.env.store.join("audit.jsonl")).unwrap(),
        audit_before
    );
    refused(&store_cmd(&p.env, &["status"]), "store_symlink");
}

#[test]
fn generations_symlink_to_outside_dir_is_refused() {
    let p = planted();
    let outside_dir = p.env.dir.path().join("outside-dir");
    std::fs::create_dir(&outside_dir).unwrap();
    plant_link(&p.env.store.join("generations"), &outside_dir);
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    assert_eq!(std::fs::read_dir(&outside_dir).unwrap().count(), 0);
    refused(&store_cmd(&p.env, &["list"]), "store_symlink");
}

#[test]
fn trust_dir_symlink_is_refused() {
    let p = planted();
    let outside_dir = p.env.dir.path().join("outside-dir");
    std::fs::create_dir(&outside_dir).unwrap();
    plant_link(&p.env.store.join("trust"), &outside_dir);
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
    assert_eq!(std::fs::read_dir(&outside_dir).unwrap().count(), 0);
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn store_root_writable_by_others_or_group_is_refused() {
    for mode in [0o777, 0o770, 0o1777, 0o720, 0o702] {
        let p = planted();
        set_mode(&p.env.store, mode);
        let audit_before = std::fs::read(p.env.store.join("audit.jsonl")).unwrap();
        let o = p.env.import(&p.next_kit, &[]);
        refused(&o, "store_permissions");
        let msg = json(&o)["error"]["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(&format!("mode {mode:o}")), "{msg}");
        assert_eq!(
            std::fs::read(p.env.store.join("audit.jsonl")).unwrap(),
            audit_before,
            "mode {mode:o}: the store was touched"
        );
        refused(&store_cmd(&p.env, &["status"]), "store_permissions");
        refused(
            &store_cmd(&p.env, &["audit", "verify"]),
            "store_permissions",
        );
        // The documented fix makes the store usable again.
        set_mode(&p.env.store, 0o750);
        expect(&p.env.import(&p.next_kit, &[]), 0);
    }
}

#[test]
fn staging_writable_by_others_is_refused() {
    let p = planted();
    set_mode(&p.env.store.join("staging"), 0o777);
    refused(&p.env.import(&p.next_kit, &[]), "store_permissions");
}

#[test]
fn store_root_symlink_is_refused() {
    let env = Env::new();
    let real = env.dir.path().join("real-store");
    std::fs::create_dir(&real).unwrap();
    set_mode(&real, 0o700);
    symlink(&real, &env.store).unwrap();
    refused(&env.import(&env.kit(&Build::new(1)), &[]), "store_symlink");
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    refused(&store_cmd(&env, &["status"]), "store_symlink");
}

#[test]
fn store_owned_by_another_uid_is_refused() {
    let p = planted();
    std::os::unix::fs::chown(&p.env.store, Some(65534), Some(65534)).unwrap();
    let audit_before = std::fs::read(p.env.store.join("audit.jsonl")).unwrap();
    let o = p.env.import(&p.next_kit, &[]);
    refused(&o, "store_owner");
    assert!(json(&o)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("owned by uid 65534"));
    assert_eq!(
        std::fs::read(p.env.store.join("audit.jsonl")).unwrap(),
        audit_before
    );
}

#[test]
fn audit_log_owned_by_another_uid_is_refused() {
    let p = planted();
    let log = p.env.store.join("audit.jsonl");
    let before = std::fs::read(&log).unwrap();
    std::os::unix::fs::chown(&log, Some(65534), None).unwrap();
    refused(&p.env.import(&p.next_kit, &[]), "store_owner");
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

#[test]
fn current_pointing_outside_generations_is_refused() {
    let p = planted();
    let outside_dir = p.env.dir.path().join("outside-gen");
    std::fs::create_dir(&outside_dir).unwrap();
    let current = p.env.store.join("current");
    for target in [
        outside_dir.clone(),
        PathBuf::from("../outside-gen"),
        PathBuf::from("generations/../../outside-gen"),
        PathBuf::from("staging/1-0123456789ab"),
    ] {
        std::fs::remove_file(&current).unwrap();
        symlink(&target, &current).unwrap();
        refused(&p.env.import(&p.next_kit, &[]), "store_current_outside");
        refused(&store_cmd(&p.env, &["status"]), "store_current_outside");
        assert_eq!(std::fs::read_dir(&outside_dir).unwrap().count(), 0);
    }
}

#[test]
fn generation_dir_symlink_named_by_current_is_refused() {
    let p = planted();
    let current = std::fs::read_link(p.env.store.join("current")).unwrap();
    let gen = p.env.store.join(&current);
    // Move the real generation outside and leave a link in its place.
    let moved = p.env.dir.path().join("moved-gen");
    std::fs::rename(&gen, &moved).unwrap();
    symlink(&moved, &gen).unwrap();
    refused(&store_cmd(&p.env, &["status"]), "store_symlink");
    refused(&p.env.import(&p.next_kit, &[]), "store_symlink");
}

#[test]
fn current_that_is_not_a_link_is_refused() {
    let p = planted();
    let current = p.env.store.join("current");
    std::fs::remove_file(&current).unwrap();
    std::fs::write(&current, b"generations/1-0123456789ab").unwrap();
    let r = expect(&store_cmd(&p.env, &["status"]), STORE_EXIT);
    assert_eq!(r["error"]["kind"], "store_entry_type", "{r}");
}

#[test]
fn importer_creates_a_private_store() {
    let env = Env::new();
    expect(&env.import(&env.kit(&Build::new(1)), &[]), 0);
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&env.store), 0o750);
    assert_eq!(mode(&env.store.join("staging")), 0o750);
    assert_eq!(mode(&env.store.join("generations")), 0o750);
    assert_eq!(mode(&env.store.join(".lock")) & 0o022, 0);
    assert_eq!(mode(&env.store.join("audit.jsonl")) & 0o022, 0);
    // A store that already exists with a conventional 0755 stays usable.
    set_mode(&env.store, 0o755);
    expect(&env.import(&env.kit(&Build::new(2)), &[]), 0);
    audit_ok(&env);
}
