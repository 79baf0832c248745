//! Format-level suite: every hostile case through `ouk_format`'s own verifiers, asserting the exact
//! error kind. Cases the format layer cannot judge (provenance, store state) must pass it, which
//! proves they rely on the importer's checks (tested by `binary_level.rs`).

use std::collections::BTreeSet;

use ouk_format::archive::reader::{verify_kit, MemberSink, StreamError, VerifyOptions};
use ouk_format::error::ErrorClass;
use ouk_format::manifest::Member;
use ouk_format::trust_root::verify_trust_root;
use ouk_format::{Error, Limits};
use ouk_hostile::fixture;
use ouk_hostile::{cases, HostileCase, Layer, EXIT_POLICY, EXIT_TRUST, EXIT_VERIFICATION};

fn opts() -> VerifyOptions {
    VerifyOptions {
        revoked: Vec::new(),
        now: fixture::now(),
        skew_secs: 300,
        allow_expired: false,
        limits: Limits::default(),
    }
}

/// Counts what the verifier hands out, so a bomb case can prove how little it produced.
#[derive(Default)]
struct CountingSink {
    bytes: u64,
    completed: usize,
}

impl MemberSink for CountingSink {
    type Error = Error;
    fn begin(&mut self, _: &Member) -> Result<(), Error> {
        Ok(())
    }
    fn write(&mut self, d: &[u8]) -> Result<(), Error> {
        self.bytes += d.len() as u64;
        Ok(())
    }
    fn end(&mut self, _: &Member) -> Result<(), Error> {
        self.completed += 1;
        Ok(())
    }
}

fn run(case: &HostileCase, sink: &mut CountingSink) -> Result<(), Error> {
    let trust = verify_trust_root(&case.trust_root, fixture::now(), 300, &Limits::default())?;
    verify_kit(&case.bytes[..], &trust, &opts(), sink)
        .map(|_| ())
        .map_err(StreamError::into_kit)
}

/// The contract's exit code for a format error: the class decides (`ErrorClass` → table).
fn exit_of(e: &Error) -> i32 {
    match e.class() {
        ErrorClass::Verification | ErrorClass::Limit => EXIT_VERIFICATION,
        ErrorClass::Trust => EXIT_TRUST,
        ErrorClass::Policy => EXIT_POLICY,
        ErrorClass::Io => 30,
    }
}

#[test]
fn the_base_kit_and_every_prior_kit_verify() {
    let (kit, trust) = ouk_hostile::valid_kit();
    let trust = verify_trust_root(&trust, fixture::now(), 0, &Limits::default()).unwrap();
    let mut sink = CountingSink::default();
    verify_kit(&kit[..], &trust, &opts(), &mut sink).unwrap();
    assert_eq!(sink.completed, 4);
    for case in cases() {
        for prior in &case.prior_kits {
            let t =
                verify_trust_root(&case.trust_root, fixture::now(), 0, &Limits::default()).unwrap();
            verify_kit(&prior[..], &t, &opts(), &mut CountingSink::default())
                .unwrap_or_else(|e| panic!("{}: prior kit refused: {e}", case.name));
        }
    }
}

#[test]
fn there_are_at_least_fifty_unique_deterministic_cases() {
    let a = cases();
    let b = cases();
    assert!(a.len() >= 50, "{} cases", a.len());
    let names: BTreeSet<&str> = a.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), a.len(), "case names are unique");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.name, y.name);
        assert!(x.bytes == y.bytes, "{} is not deterministic", x.name);
        assert!(
            x.name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
            "{} is not file-name safe",
            x.name
        );
    }
}

#[test]
fn every_format_case_is_refused_with_its_exact_kind_and_exit_code() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases().iter().filter(|c| c.layer == Layer::Format) {
        checked += 1;
        match run(case, &mut CountingSink::default()) {
            Ok(()) => failures.push(format!("{}: ACCEPTED", case.name)),
            Err(e) => {
                if e.kind() != case.expected_kind || exit_of(&e) != case.expected_exit {
                    failures.push(format!(
                        "{}: expected {} / exit {}, got {} / exit {} ({e})",
                        case.name,
                        case.expected_kind,
                        case.expected_exit,
                        e.kind(),
                        exit_of(&e)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Importer cases refused on the authenticated header alone, before any member is read (the free
/// space of the store's file system against the signed sizes): their members are deliberately not
/// what they declare, so only stage one of the reader must accept them.
const HEADER_ONLY_KINDS: &[&str] = &["insufficient_space"];

#[test]
fn importer_only_cases_pass_the_format_layer() {
    for case in cases().iter().filter(|c| c.layer == Layer::Importer) {
        if HEADER_ONLY_KINDS.contains(&case.expected_kind) {
            let trust =
                verify_trust_root(&case.trust_root, fixture::now(), 300, &Limits::default())
                    .unwrap();
            ouk_format::archive::reader::KitReader::open(&case.bytes[..], &trust, &opts())
                .unwrap_or_else(|e| panic!("{}: stage one refused ({e})", case.name));
            continue;
        }
        let mut sink = CountingSink::default();
        run(case, &mut sink).unwrap_or_else(|e| {
            panic!(
                "{}: format layer refused ({e}); the case would not test the importer",
                case.name
            )
        });
        assert_eq!(sink.completed, case_member_count(case), "{}", case.name);
    }
}

fn case_member_count(case: &HostileCase) -> usize {
    let (_, m) =
        ouk_format::archive::reader::read_manifest_unverified(&case.bytes[..], &Limits::default())
            .unwrap();
    m.0.members.len()
}

#[test]
fn the_zstd_bomb_produces_almost_nothing() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "zstd_bomb_8gib")
        .unwrap();
    let mut sink = CountingSink::default();
    let err = run(&case, &mut sink).unwrap_err();
    assert_eq!(err.kind(), "uncompressed_size_mismatch");
    // Members before the bomb are small; the bomb itself may deliver at most its declared 1 KiB.
    assert!(sink.bytes < 1 << 20, "sink received {} bytes", sink.bytes);
}

/// Formerly a gap (tar-rs skips padding unread); `ouk-format` now requires zero padding after
/// every entry, so a padding bit flip can no longer fake a "different kit with the same sequence".
#[test]
fn padding_bit_flips_are_refused() {
    for case in ouk_hostile::known_gaps() {
        let err = run(&case, &mut CountingSink::default()).expect_err(&case.name);
        assert_eq!(err.kind(), case.expected_kind, "{}", case.name);
    }
}

#[test]
fn readme_lists_every_case() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/hostile/README.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == ouk_hostile::readme(),
        "{} is stale: run `cargo run -p ouk-hostile --example readme > testdata/hostile/README.md`",
        path.display()
    );
}
