//! Split kits (`build --split`): a kit built by the builder library with the dev keys, cut into
//! 1 MiB parts by the builder's split step, then the real `ouk-importer` binary: round trip,
//! missing / truncated (and resumed) / corrupt / reordered / foreign parts, and part indexes
//! that are unsigned by the trust root or tampered with.

mod devkit;

use std::fs;
use std::path::{Path, PathBuf};

use devkit::{dev_request, import_json as import, importer, noise, now_unix, root};
use ouk_builder::build::{build, BuildSummary};
use ouk_builder::keyfile::{load_signer, Passwords};
use ouk_builder::progress::Silent;
use ouk_builder::split::split_kit;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::parts::PartsIndex;
use ouk_format::time::Timestamp;

/// Build a kit with ~3.5 MiB of payload and split it at 1 MiB (the whole kit is kept).
fn split(dir: &Path, name: &str, seed: u64, sequence: u64) -> (BuildSummary, PathBuf) {
    let payload = dir.join(format!("payload-{name}"));
    fs::create_dir_all(&payload).unwrap();
    fs::write(
        payload.join("blob.bin"),
        noise(seed, 3 * (1 << 20) + 500_000),
    )
    .unwrap();
    let created = Timestamp::from_unix(now_unix() - 3600);
    let mut req = dev_request(
        &dir.join(name),
        sequence,
        created,
        created.plus_secs(30 * 86_400),
    );
    req.payload_dirs = vec![payload];
    let summary = build(&req, &Silent).unwrap();
    let signers: Vec<&dyn Signer> = req.kit_signers.iter().map(|s| &**s).collect();
    let s = split_kit(&summary, 1 << 20, &signers, true).unwrap();
    assert_eq!(s.parts.len(), 4, "a 3.5 MiB kit is 4 parts of 1 MiB");
    (summary, s.index)
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// Assert a refusal of `kind` whose message names `part`, with exit code `code`.
fn refused(r: (Option<i32>, serde_json::Value), kind: &str, part: &str, code: i32) {
    let (status, v) = r;
    assert_eq!(v["error"]["kind"], kind, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains(part), "message does not name {part}: {msg}");
    assert_eq!(status, Some(code), "{v}");
}

#[test]
fn round_trip_matches_the_whole_kit_and_verify_accepts_it() {
    let t = tempfile::tempdir().unwrap();
    let (summary, index) = split(t.path(), "kit.ouk", 1, 1);
    let (code, parts) = import(&index, &t.path().join("s1"));
    assert_eq!(code, Some(0), "{parts}");
    let (code, whole) = import(&summary.kit, &t.path().join("s2"));
    assert_eq!(code, Some(0), "{whole}");
    assert_eq!(parts["generation"], whole["generation"]);
    assert_eq!(parts["kit"]["kit_sha256"], summary.kit_sha256.as_str());
    assert_eq!(
        names(&parts["parts"]["read_from_medium"]),
        ["kit.ouk.001", "kit.ouk.002", "kit.ouk.003", "kit.ouk.004"]
    );
    assert!(names(&parts["parts"]["reused"]).is_empty());
    assert!(whole.get("parts").is_none());
    let gen = |s: &str| {
        t.path()
            .join(s)
            .join("generations")
            .join(parts["generation"].as_str().unwrap())
    };
    assert_eq!(
        fs::read(gen("s1").join("payload/blob.bin")).unwrap(),
        fs::read(gen("s2").join("payload/blob.bin")).unwrap()
    );
    assert!(
        !t.path().join("s1/incoming").exists(),
        "incoming/ is removed after the import"
    );
    // verify reads the same parts through the same reader, writing nothing.
    let trust = root().join("keys/dev/trust-root.json");
    let o = importer(&[
        "verify".as_ref(),
        index.as_os_str(),
        "--trust-root".as_ref(),
        trust.as_os_str(),
        "--json".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["parts"]["parts"], 4, "{v}");
    assert_eq!(
        v["parts"]["read_from_medium"],
        serde_json::json!(["kit.ouk.001", "kit.ouk.002", "kit.ouk.003", "kit.ouk.004"]),
        "verify names every part it read"
    );
    // Deterministic: the same kit split again gives the same index bytes.
    let again = t.path().join("again");
    fs::create_dir_all(&again).unwrap();
    fs::copy(&summary.kit, again.join("kit.ouk")).unwrap();
    let mut s2 = summary.clone();
    s2.kit = again.join("kit.ouk");
    let keys = root().join("keys/dev");
    let signer = load_signer(&keys.join("kit.key"), &Passwords::default()).unwrap();
    let s = split_kit(&s2, 1 << 20, &[&*signer], false).unwrap();
    assert_eq!(fs::read(&s.index).unwrap(), fs::read(&index).unwrap());
    assert!(!again.join("kit.ouk").exists(), "the whole kit is removed");
}

#[test]
fn missing_part_is_named() {
    let t = tempfile::tempdir().unwrap();
    let (_, index) = split(t.path(), "kit.ouk", 2, 1);
    fs::remove_file(t.path().join("kit.ouk.003")).unwrap();
    refused(
        import(&index, &t.path().join("s")),
        "part_missing",
        "kit.ouk.003",
        30,
    );
}

#[test]
fn truncated_part_then_reinserted_stick_resumes_with_verified_parts() {
    let t = tempfile::tempdir().unwrap();
    let (summary, index) = split(t.path(), "kit.ouk", 3, 1);
    let store = t.path().join("s");
    let third = t.path().join("kit.ouk.003");
    let full = fs::read(&third).unwrap();
    fs::write(&third, &full[..full.len() / 2]).unwrap();
    refused(import(&index, &store), "part_size", "kit.ouk.003", 30);
    let incoming = store.join("incoming").join(&summary.kit_sha256);
    assert!(incoming.join("001").is_file() && incoming.join("002").is_file());
    assert!(!incoming.join("003").exists() && !incoming.join("003.partial").exists());
    // The stick comes back with the whole part; the first two are not read from it again:
    // to prove it, they are gone from the medium.
    fs::write(&third, &full).unwrap();
    fs::remove_file(t.path().join("kit.ouk.001")).unwrap();
    fs::remove_file(t.path().join("kit.ouk.002")).unwrap();
    let (code, v) = import(&index, &store);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(names(&v["parts"]["reused"]), ["kit.ouk.001", "kit.ouk.002"]);
    assert_eq!(
        names(&v["parts"]["read_from_medium"]),
        ["kit.ouk.003", "kit.ouk.004"]
    );
    assert!(!incoming.exists());
}

#[test]
fn corrupt_local_copy_is_dropped_and_read_again() {
    let t = tempfile::tempdir().unwrap();
    let (summary, index) = split(t.path(), "kit.ouk", 4, 1);
    let store = t.path().join("s");
    fs::remove_file(t.path().join("kit.ouk.004")).unwrap();
    refused(import(&index, &store), "part_missing", "kit.ouk.004", 30);
    let incoming = store.join("incoming").join(&summary.kit_sha256);
    let mut bytes = fs::read(incoming.join("002")).unwrap();
    bytes[1000] ^= 1;
    fs::write(incoming.join("002"), bytes).unwrap();
    let kit = fs::read(&summary.kit).unwrap();
    fs::write(t.path().join("kit.ouk.004"), &kit[3 << 20..]).unwrap();
    let (code, v) = import(&index, &store);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(names(&v["parts"]["reused"]), ["kit.ouk.001", "kit.ouk.003"]);
    assert_eq!(
        names(&v["parts"]["read_from_medium"]),
        ["kit.ouk.002", "kit.ouk.004"]
    );
}

#[test]
fn corrupt_part_is_named() {
    let t = tempfile::tempdir().unwrap();
    let (_, index) = split(t.path(), "kit.ouk", 5, 1);
    let p = t.path().join("kit.ouk.002");
    let mut bytes = fs::read(&p).unwrap();
    bytes[500_000] ^= 0x40;
    fs::write(&p, bytes).unwrap();
    refused(
        import(&index, &t.path().join("s")),
        "part_digest",
        "kit.ouk.002",
        10,
    );
}

#[test]
fn swapped_parts_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let (_, index) = split(t.path(), "kit.ouk", 6, 1);
    let (a, b) = (t.path().join("kit.ouk.002"), t.path().join("kit.ouk.003"));
    fs::rename(&a, t.path().join("tmp")).unwrap();
    fs::rename(&b, &a).unwrap();
    fs::rename(t.path().join("tmp"), &b).unwrap();
    refused(
        import(&index, &t.path().join("s")),
        "part_digest",
        "kit.ouk.002",
        10,
    );
}

#[test]
fn part_of_another_kit_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (_, index) = split(t.path(), "kit.ouk", 7, 1);
    let other = t.path().join("other");
    fs::create_dir_all(&other).unwrap();
    split(&other, "kit.ouk", 8, 1);
    fs::copy(other.join("kit.ouk.003"), t.path().join("kit.ouk.003")).unwrap();
    refused(
        import(&index, &t.path().join("s")),
        "part_digest",
        "kit.ouk.003",
        10,
    );
    // A first part of another kit brings that kit's validly signed envelope (sequence 2 here):
    // still the part is named, not just "another kit".
    let other = t.path().join("other2");
    fs::create_dir_all(&other).unwrap();
    split(&other, "kit.ouk", 12, 2);
    fs::copy(other.join("kit.ouk.001"), t.path().join("kit.ouk.001")).unwrap();
    refused(
        import(&index, &t.path().join("s2")),
        "part_digest",
        "kit.ouk.001",
        10,
    );
}

fn rewrite_index(index: &Path, f: impl FnOnce(&mut PartsIndex), signer: Option<&dyn Signer>) {
    let env: serde_json::Value = serde_json::from_slice(&fs::read(index).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(env["payload"].as_str().unwrap()).unwrap();
    let mut parsed = PartsIndex::from_payload(&payload).unwrap();
    f(&mut parsed);
    let bytes = match signer {
        Some(s) => parsed.sign(&[s]).unwrap(),
        None => {
            let mut env = env.clone();
            env["payload"] = b64.encode(parsed.to_payload()).into();
            serde_json::to_vec(&env).unwrap()
        }
    };
    fs::write(index, bytes).unwrap();
}

#[test]
fn index_signed_by_an_untrusted_key_is_refused_before_any_part_is_opened() {
    let t = tempfile::tempdir().unwrap();
    let (_, index) = split(t.path(), "kit.ouk", 9, 1);
    let stranger = Ed25519Signer::from_seed(&[7; 32]);
    rewrite_index(&index, |_| {}, Some(&stranger));
    for n in 1..=4 {
        fs::remove_file(t.path().join(format!("kit.ouk.00{n}"))).unwrap();
    }
    let (code, v) = import(&index, &t.path().join("s"));
    assert_eq!(v["error"]["kind"], "parts_index", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("threshold") || msg.contains("signature"),
        "{msg}"
    );
    assert_eq!(code, Some(10));
    assert!(!t.path().join("s/incoming").exists());
}

#[test]
fn tampered_index_payload_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (_, index) = split(t.path(), "kit.ouk", 10, 1);
    rewrite_index(&index, |i| i.sequence += 1, None);
    let (code, v) = import(&index, &t.path().join("s"));
    assert_eq!(v["error"]["kind"], "parts_index", "{v}");
    assert_eq!(code, Some(10));
}

#[test]
fn import_from_dir_takes_the_index_and_ignores_parts() {
    let t = tempfile::tempdir().unwrap();
    let stick = t.path().join("stick");
    fs::create_dir_all(&stick).unwrap();
    let (summary, _) = split(&stick, "kit.ouk", 11, 1);
    // Only the parts and the index are on the stick.
    fs::remove_file(&summary.kit).unwrap();
    fs::remove_dir_all(stick.join("payload-kit.ouk")).unwrap();
    let trust = root().join("keys/dev/trust-root.json");
    let store = t.path().join("s");
    let o = importer(&[
        "import".as_ref(),
        "--from".as_ref(),
        stick.as_os_str(),
        "--trust-root".as_ref(),
        trust.as_os_str(),
        "--store".as_ref(),
        store.as_os_str(),
        "--json".as_ref(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    let c = v["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 1, "only the index is a candidate: {v}");
    assert!(c[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("kit.ouk.parts.json"));
    assert_eq!(c[0]["status"], "imported");
    assert_eq!(c[0]["sequence"], 1);
    assert_eq!(v["imported"]["parts"]["read_from_medium"][3], "kit.ouk.004");
}

#[test]
fn scan_media_takes_the_newest_applicable_kit_and_skips_a_broken_one() {
    let t = tempfile::tempdir().unwrap();
    let stick = t.path().join("stick");
    fs::create_dir_all(&stick).unwrap();
    // Sequence 1 whole, sequence 2 split, sequence 3 split with a corrupt part.
    let (one, _) = split(&stick, "one.ouk", 21, 1);
    for i in 1..=4 {
        fs::remove_file(stick.join(format!("one.ouk.{i:03}"))).unwrap();
    }
    fs::remove_file(stick.join("one.ouk.parts.json")).unwrap();
    assert!(one.kit.is_file(), "the whole kit of sequence 1 stays");
    let (two, _) = split(&stick, "two.ouk", 22, 2);
    fs::remove_file(&two.kit).unwrap();
    let (three, _) = split(&stick, "three.ouk", 23, 3);
    fs::remove_file(&three.kit).unwrap();
    let p = stick.join("three.ouk.002");
    let mut bytes = fs::read(&p).unwrap();
    bytes[100] ^= 1;
    fs::write(&p, bytes).unwrap();
    for d in ["payload-one.ouk", "payload-two.ouk", "payload-three.ouk"] {
        let _ = fs::remove_dir_all(stick.join(d));
    }
    let trust = root().join("keys/dev/trust-root.json");
    let store = t.path().join("s");
    let scan = || {
        importer(&[
            "scan-media".as_ref(),
            stick.as_os_str(),
            "--trust-root".as_ref(),
            trust.as_os_str(),
            "--store".as_ref(),
            store.as_os_str(),
            "--json".as_ref(),
        ])
    };
    let o = scan();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    // Sequence 3 fails on its corrupt part, sequence 2 is imported; the next round meets the
    // broken kit again and stops, saying why; sequence 1 is below the floor by then.
    assert_eq!(v["imported"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["imported"][0].as_str().unwrap().starts_with("2-"), "{v}");
    assert!(
        v["stopped_by"].as_str().unwrap().contains("three.ouk.002"),
        "{v}"
    );
    // Nothing left to do that can be done: the failure of sequence 3 decides the exit code.
    let o = scan();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(10), "{v}");
    assert_eq!(v["imported"], serde_json::json!([]));
}

#[test]
fn gc_removes_verified_parts_of_kits_that_can_no_longer_be_imported() {
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("s");
    // A split kit (sequence 1) whose third part is cut short: its verified parts stay.
    let (one, index) = split(t.path(), "one.ouk", 31, 1);
    let third = t.path().join("one.ouk.003");
    let full = fs::read(&third).unwrap();
    fs::write(&third, &full[..full.len() / 2]).unwrap();
    refused(import(&index, &store), "part_size", "one.ouk.003", 30);
    let incoming = store.join("incoming").join(&one.kit_sha256);
    assert!(incoming.join("001").is_file() && incoming.join("index.json").is_file());
    let gc = |store: &Path| {
        let o = importer(&[
            "gc".as_ref(),
            "--keep".as_ref(),
            "5".as_ref(),
            "--store".as_ref(),
            store.as_os_str(),
            "--json".as_ref(),
        ]);
        assert_eq!(o.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    // Nothing imported yet: the parts may still complete an import, gc keeps them.
    assert!(gc(&store).get("incoming_removed").is_none());
    assert!(incoming.join("001").is_file());
    // Sequence 2 is imported whole: sequence 1 can never be imported now, its parts go.
    let (two, _) = split(t.path(), "two.ouk", 32, 2);
    let (code, v) = import(&two.kit, &store);
    assert_eq!(code, Some(0), "{v}");
    let v = gc(&store);
    assert_eq!(
        v["incoming_removed"],
        serde_json::json!([one.kit_sha256.clone()])
    );
    assert!(!incoming.exists());
}
