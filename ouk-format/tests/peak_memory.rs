//! Issue 11 item 4: the heap a hostile envelope or manifest can make the reader use.
//!
//! Peak resident memory (`VmHWM`) is process-wide and the allocator keeps freed memory resident,
//! so each case runs in a fresh child process (this test binary re-run with `OUK_PEAK_CASE`), with
//! glibc's mmap threshold fixed at 64 KiB so that large buffers are returned to the system when
//! freed. The child builds its input, resets the high-water mark (`/proc/self/clear_refs`), parses,
//! and reports how far the peak rose above the RSS it had before parsing. Each case asserts the exact
//! outcome, and the parent asserts the growth is at most a small multiple of the input size. Run
//! with `--nocapture` to see the figures.
#![cfg(target_os = "linux")]

use ouk_format::dsse::{encode_base64, Envelope};
use ouk_format::error::{Document, Error};
use ouk_format::keys::Ed25519Signer;
use ouk_format::manifest::{Manifest, Unverified};
use ouk_format::media_types::MANIFEST_PAYLOAD_TYPE;
use ouk_format::Limits;

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reset VmHWM to the current RSS (Linux ≥ 4.0); false if this kernel does not allow it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Run `f` and return its result and how far the peak RSS rose above the RSS before it, in bytes.
fn peak_growth<T>(f: impl FnOnce() -> T) -> Option<(T, u64)> {
    if !reset_peak() {
        return None;
    }
    let before = status_kib("VmRSS:")?;
    let out = f();
    let peak = status_kib("VmHWM:")?;
    Some((out, peak.saturating_sub(before) * 1024))
}

/// Fill the rest of a manifest with chunk digests of one member until the payload would reach
/// `target` bytes; the result is a valid manifest (chunk count matches the compressed size).
fn manifest_with_annotations(annotations: &str, target: usize) -> Vec<u8> {
    let digest = "ab".repeat(32);
    let head = concat!(
        r#"{"format":"ouk/1","kit_id":"stable-1","channel":"stable","sequence":1,"#,
        r#""created_at":"2026-01-01T00:00:00Z","expires_at":"2026-06-01T00:00:00Z","#,
        r#""builder":{"id":"https://example.org/b","version":"1"},"chunk_size":65536,"#,
        r#""members":[{"path":"a.bin","media_type":"application/octet-stream","#,
        r#""role":"payload","compressed":{"size":"#
    )
    .to_owned();
    let fixed = head.len() + annotations.len() + 200;
    let chunks = target.saturating_sub(fixed) / (digest.len() + 3);
    let mut out = head.into_bytes();
    out.extend_from_slice(
        format!("{},\"sha256\":\"{digest}\",\"chunks\":[", chunks * 65_536).as_bytes(),
    );
    for i in 0..chunks {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(digest.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(
        format!(r#"]}},"uncompressed":{{"size":1,"sha256":"{digest}"}}}}],"annotations":{annotations}}}"#)
            .as_bytes(),
    );
    out
}

/// The largest payload whose signed envelope still fits `max_envelope_bytes`.
fn max_payload(limits: &Limits) -> usize {
    // base64 grows by 4/3; leave room for the envelope's members and one signature.
    (limits.max_envelope_bytes as usize - 512) / 4 * 3
}

fn sign(payload: Vec<u8>) -> Vec<u8> {
    let key = Ed25519Signer::from_seed(&[7; 32]);
    Envelope::sign(MANIFEST_PAYLOAD_TYPE, payload, &[&key])
        .unwrap()
        .to_json()
}

const CASES: usize = 4;
const TEST_NAME: &str =
    "hostile_envelopes_and_manifests_stay_within_a_small_multiple_of_their_size";

#[test]
fn hostile_envelopes_and_manifests_stay_within_a_small_multiple_of_their_size() {
    if let Ok(case) = std::env::var("OUK_PEAK_CASE") {
        let (what, size, grew) = run_case(case.parse().unwrap());
        println!("OUK_PEAK {size} {grew} {what}");
        return;
    }
    if !reset_peak() {
        eprintln!("peak_memory: /proc/self/clear_refs not writable here; nothing measured");
        return;
    }
    let mut report = Vec::new();
    for case in 0..CASES {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads", "1"])
            .env("OUK_PEAK_CASE", case.to_string())
            .env("MALLOC_MMAP_THRESHOLD_", "65536")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "case {case}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("OUK_PEAK ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("case {case} printed no figure: {stdout}"));
        let mut parts = line.splitn(3, ' ');
        let size: usize = parts.next().unwrap().parse().unwrap();
        let grew: u64 = parts.next().unwrap().parse().unwrap();
        report.push((parts.next().unwrap().to_owned(), size, grew));
    }

    for (what, size, grew) in &report {
        println!(
            "peak_memory: {what}: input {:.1} MiB, peak grew {:.1} MiB ({:.2}x)",
            *size as f64 / 1048576.0,
            *grew as f64 / 1048576.0,
            *grew as f64 / *size as f64
        );
    }
    for (what, size, grew) in report {
        assert!(
            grew <= 4 * size as u64,
            "{what}: peak grew {grew} bytes for {size} bytes of input"
        );
    }
}

/// One measurement: (what, input bytes, peak growth in bytes). Runs in a child process.
fn run_case(case: usize) -> (&'static str, usize, u64) {
    let limits = Limits::default();
    let cap = limits.max_envelope_bytes as usize;
    let target = max_payload(&limits);
    match case {
        0 => {
            // 1. Unsigned envelope at the size cap made of signature objects (was 1.29 M objects at
            //    16 MiB, 119 MiB peak): stops at the 17th.
            let mut sigs = br#"{"payload":"","payloadType":"t","signatures":["#.to_vec();
            while sigs.len() + 24 < cap {
                sigs.extend_from_slice(br#"{"sig":""},"#);
            }
            sigs.extend_from_slice(br#"{"sig":""}]}"#);
            assert!(sigs.len() <= cap);
            let (res, grew) =
                peak_growth(|| Envelope::parse(&sigs, Document::Manifest, &limits)).unwrap();
            assert_eq!(
                res,
                Err(Error::LimitExceeded {
                    what: "number of signatures",
                    limit: 16
                })
            );
            ("envelope of signature objects", sigs.len(), grew)
        }
        1 => {
            // 2. A maximal well-formed envelope: the payload is decoded once, its base64 is not copied.
            let payload = vec![b'x'; max_payload(&limits)];
            let env = format!(
                r#"{{"payload":"{}","payloadType":"t","signatures":[]}}"#,
                encode_base64(&payload)
            )
            .into_bytes();
            assert!(env.len() <= cap, "{} > {cap}", env.len());
            let (res, grew) = peak_growth(|| {
                Envelope::parse(&env, Document::Manifest, &limits)
                    .map(|e| e.unverified_payload().len())
            })
            .unwrap();
            assert_eq!(res, Ok(payload.len()));
            ("maximal envelope", env.len(), grew)
        }
        2 => {
            // 3. A signed manifest whose annotations are one huge array of tiny values (was 12 MiB,
            //    449 MiB peak): stops after max_annotation_values values.
            let target = max_payload(&limits);
            let mut zeros = String::with_capacity(target);
            zeros.push_str(r#"{"x":["#);
            while zeros.len() + 1024 < target {
                zeros.push_str("0,");
            }
            zeros.push_str("0]}");
            let bomb = manifest_with_annotations(&zeros, 0);
            let envelope = sign(bomb);
            assert!(envelope.len() <= cap);
            let (res, grew) = peak_growth(|| {
                let env = Envelope::parse(&envelope, Document::Manifest, &limits).unwrap();
                Unverified::<Manifest>::parse(env.unverified_payload(), &limits)
                    .map(|m| m.0.members.len())
            })
            .unwrap();
            assert_eq!(
                res,
                Err(Error::LimitExceeded {
                    what: "number of annotation values",
                    limit: limits.max_annotation_values as u64
                })
            );
            ("annotation array bomb", envelope.len(), grew)
        }
        3 => {
            // 4. The worst manifest that is accepted: annotations at every cap (64 keys, 65,536 values,
            //    as objects with keys, the dearest shape in memory) and the rest of the envelope filled
            //    with chunk digests.
            let per_key = limits.max_annotation_values / limits.max_annotations - 1;
            let object: Vec<String> = (0..per_key).map(|i| format!(r#""k{i:05}":0"#)).collect();
            let object = format!("{{{}}}", object.join(","));
            let all: Vec<String> = (0..limits.max_annotations)
                .map(|k| format!(r#""key{k:03}":{object}"#))
                .collect();
            let annotations = format!("{{{}}}", all.join(","));
            let worst = manifest_with_annotations(&annotations, target);
            let envelope = sign(worst);
            assert!(envelope.len() <= cap, "{} > {cap}", envelope.len());
            let (res, grew) = peak_growth(|| {
                let env = Envelope::parse(&envelope, Document::Manifest, &limits).unwrap();
                Unverified::<Manifest>::parse(env.unverified_payload(), &limits).map(|m| {
                    (
                        m.0.annotations.len(),
                        m.0.members[0].compressed.chunks.len(),
                    )
                })
            })
            .unwrap();
            let (keys, chunks) = res.unwrap();
            assert_eq!(keys, limits.max_annotations);
            assert!(chunks > 50_000, "{chunks}");
            ("worst accepted manifest", envelope.len(), grew)
        }
        _ => unreachable!("no case {case}"),
    }
}
