//! Round trips and one tamper case per region of a kit, through the public streaming verifier.

use ouk_format::archive::reader::{verify_kit, MemberSink, NullSink, StreamError, VerifyOptions};
use ouk_format::dsse::Envelope;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::manifest::Member;
use ouk_format::media_types::TRUST_ROOT_PAYLOAD_TYPE;
use ouk_format::testkit::{self, KitSpec, MemberSpec};
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{verify_trust_root, RoleName, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::{Error, Limits};

fn kit_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[11; 32])
}

fn trust(kit_signers: &[&dyn Signer], threshold: u32) -> Verified<TrustRoot> {
    let root_key = Ed25519Signer::from_seed(&[10; 32]);
    let mut root = TrustRoot::new(1, Timestamp::parse("2031-01-01T00:00:00Z").unwrap());
    root.add_key(RoleName::Root, &root_key.public_key());
    for s in kit_signers {
        root.add_key(RoleName::Kit, &s.public_key());
        root.add_key(RoleName::Attestation, &s.public_key());
    }
    root.roles.kit.threshold = threshold;
    root.builders
        .push("https://ouk.example/builder/test".into());
    let env = Envelope::sign(TRUST_ROOT_PAYLOAD_TYPE, root.to_payload(), &[&root_key]).unwrap();
    verify_trust_root(&env.to_json(), now(), 0, &Limits::default()).unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse("2026-11-25T00:00:00Z").unwrap()
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        revoked: Vec::new(),
        now: now(),
        skew_secs: 300,
        allow_expired: false,
        limits: Limits::default(),
    }
}

#[derive(Default)]
struct Collect {
    files: Vec<(String, Vec<u8>)>,
    done: Vec<String>,
}

impl MemberSink for Collect {
    type Error = Error;
    fn begin(&mut self, m: &Member) -> Result<(), Error> {
        self.files.push((m.path.to_string(), Vec::new()));
        Ok(())
    }
    fn write(&mut self, d: &[u8]) -> Result<(), Error> {
        self.files.last_mut().unwrap().1.extend_from_slice(d);
        Ok(())
    }
    fn end(&mut self, m: &Member) -> Result<(), Error> {
        self.done.push(m.path.to_string());
        Ok(())
    }
}

fn verify(kit: &[u8], trust: &Verified<TrustRoot>) -> Result<(), Error> {
    verify_kit(kit, trust, &opts(), &mut NullSink)
        .map(|_| ())
        .map_err(StreamError::into_kit)
}

#[test]
fn round_trip_delivers_exact_content() {
    let key = kit_key();
    let spec = KitSpec::sample(7);
    let kit = testkit::build(&spec, &[&key]).unwrap();
    let mut sink = Collect::default();
    let v = verify_kit(&kit[..], &trust(&[&key], 1), &opts(), &mut sink).unwrap();
    assert_eq!(v.manifest.sequence, 7);
    assert_eq!(v.kit_size, kit.len() as u64);
    assert_eq!(v.kit_sha256, ouk_format::digest::Sha256::of(&kit));
    assert_eq!(sink.done.len(), 2);
    for (spec_member, (path, data)) in spec.members.iter().zip(&sink.files) {
        assert_eq!(&spec_member.path, path);
        assert_eq!(&spec_member.data, data);
    }
}

#[test]
fn build_is_deterministic() {
    let key = kit_key();
    let a = testkit::build(&KitSpec::sample(3), &[&key]).unwrap();
    let b = testkit::build(&KitSpec::sample(3), &[&key]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn large_member_spanning_many_chunks() {
    let key = kit_key();
    let mut spec = KitSpec::sample(1);
    // Incompressible-ish data so the compressed member spans several 64 KiB chunks.
    let mut x: u64 = 1;
    let noisy: Vec<u8> = (0..600_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    spec.members.push(MemberSpec::payload("blob.bin", &noisy));
    let kit = testkit::build(&spec, &[&key]).unwrap();
    let mut sink = Collect::default();
    verify_kit(&kit[..], &trust(&[&key], 1), &opts(), &mut sink).unwrap();
    assert_eq!(sink.files[2].1, noisy);
}

/// Offsets of the regions of a kit: envelope data, each member's data, the end padding.
fn regions(kit: &[u8]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(kit);
    for e in ar.entries().unwrap().raw(true) {
        let e = e.unwrap();
        let start = e.raw_file_position() as usize;
        out.push((
            String::from_utf8_lossy(&e.path_bytes()).into_owned(),
            start,
            start + e.size() as usize,
        ));
    }
    out
}

#[test]
fn a_flipped_byte_in_every_region_is_caught_with_its_own_error() {
    let key = kit_key();
    let trust = trust(&[&key], 1);
    let kit = testkit::build(&KitSpec::sample(5), &[&key]).unwrap();
    let regions = regions(&kit);
    assert_eq!(regions.len(), 3);

    // Envelope payload byte: the signature no longer matches (or the JSON breaks).
    let mut bad = kit.clone();
    bad[regions[0].1 + 20] ^= 0x01;
    let err = verify(&bad, &trust).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ThresholdNotMet { .. } | Error::Base64 { .. } | Error::InvalidDocument { .. }
        ),
        "{err:?}"
    );

    // Each member: chunk digest mismatch naming the member.
    for (name, start, end) in &regions[1..] {
        let mut bad = kit.clone();
        bad[(start + end) / 2] ^= 0x01;
        match verify(&bad, &trust).unwrap_err() {
            Error::ChunkDigestMismatch { path, .. } => {
                assert!(name.contains(path.as_str()), "{name} vs {path}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    // Padding after a member / end-of-archive blocks.
    let mut bad = kit.clone();
    let last = kit.len() - 1;
    bad[last] = 1;
    assert_eq!(verify(&bad, &trust).unwrap_err(), Error::TrailingData);

    // A header byte (checksum then fails).
    let mut bad = kit.clone();
    bad[regions[1].1 - 512 + 10] ^= 0x20;
    assert!(matches!(
        verify(&bad, &trust).unwrap_err(),
        Error::TarFormat { .. } | Error::UnexpectedMember { .. }
    ));
}

/// Rewrite a header field and fix the checksum, so only canonicality can catch it.
fn rewrite_header(kit: &[u8], header_at: usize, edit: impl Fn(&mut tar::Header)) -> Vec<u8> {
    let mut out = kit.to_vec();
    let mut h = tar::Header::new_old();
    h.as_mut_bytes()
        .copy_from_slice(&kit[header_at..header_at + 512]);
    edit(&mut h);
    h.set_cksum();
    out[header_at..header_at + 512].copy_from_slice(h.as_bytes());
    out
}

#[test]
fn non_canonical_headers_are_refused() {
    let key = kit_key();
    let trust = trust(&[&key], 1);
    let kit = testkit::build(&KitSpec::sample(5), &[&key]).unwrap();
    let regions = regions(&kit);
    for (_, start, _) in &regions {
        let at = start - 512;
        for (what, bad) in [
            ("mode", rewrite_header(&kit, at, |h| h.set_mode(0o4755))),
            ("uid", rewrite_header(&kit, at, |h| h.set_uid(1000))),
            (
                "owner",
                rewrite_header(&kit, at, |h| h.set_username("root").unwrap()),
            ),
            ("mtime", rewrite_header(&kit, at, |h| h.set_mtime(1))),
        ] {
            match verify(&bad, &trust) {
                Err(Error::TarFormat { reason }) => {
                    assert!(
                        reason.as_str().contains("non-canonical"),
                        "{what}: {reason}"
                    )
                }
                other => panic!("{what} at {at}: {other:?}"),
            }
        }
    }
}

#[test]
fn wrong_key_and_key_signing_twice_are_refused() {
    let key = kit_key();
    let other = Ed25519Signer::from_seed(&[99; 32]);
    let kit = testkit::build(&KitSpec::sample(1), &[&other]).unwrap();
    assert!(matches!(
        verify(&kit, &trust(&[&key], 1)).unwrap_err(),
        Error::ThresholdNotMet {
            valid: 0,
            threshold: 1,
            ..
        }
    ));

    let second = Ed25519Signer::from_seed(&[12; 32]);
    let twice = testkit::build(&KitSpec::sample(1), &[&key, &key]).unwrap();
    assert!(matches!(
        verify(&twice, &trust(&[&key, &second], 2)).unwrap_err(),
        Error::ThresholdNotMet {
            valid: 1,
            threshold: 2,
            ..
        }
    ));
    let both = testkit::build(&KitSpec::sample(1), &[&key, &second]).unwrap();
    verify(&both, &trust(&[&key, &second], 2)).unwrap();
}

#[test]
fn expired_kit_and_future_kit() {
    let key = kit_key();
    let trust = trust(&[&key], 1);
    let mut spec = KitSpec::sample(1);
    spec.expires_at = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
    let kit = testkit::build(&spec, &[&key]).unwrap();
    assert!(matches!(
        verify(&kit, &trust).unwrap_err(),
        Error::KitExpired { .. }
    ));
    let mut allow = opts();
    allow.allow_expired = true;
    let v = verify_kit(&kit[..], &trust, &allow, &mut NullSink).unwrap();
    assert!(v.expired);

    let mut spec = KitSpec::sample(1);
    spec.created_at = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
    let kit = testkit::build(&spec, &[&key]).unwrap();
    assert!(matches!(
        verify(&kit, &trust).unwrap_err(),
        Error::CreatedInFuture { .. }
    ));
}

#[test]
fn truncation_at_every_boundary_is_refused() {
    let key = kit_key();
    let trust = trust(&[&key], 1);
    let kit = testkit::build(&KitSpec::sample(2), &[&key]).unwrap();
    let mut cuts = vec![
        0,
        100,
        512,
        kit.len() - 1024,
        kit.len() - 512,
        kit.len() - 1,
    ];
    for (_, start, end) in regions(&kit) {
        cuts.extend([start - 512, start, start + 1, (start + end) / 2, end]);
    }
    for cut in cuts {
        let err = verify(&kit[..cut], &trust).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated { .. } | Error::MissingMember { .. } | Error::TarFormat { .. }
            ),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn mix_and_match_members_from_another_kit() {
    let key = kit_key();
    let trust = trust(&[&key], 1);
    let (m_a, _) = testkit::prepare(&KitSpec::sample(1)).unwrap();
    let (_, blobs_b) = testkit::prepare(&KitSpec::sample(2)).unwrap();
    let env_a = testkit::sign_manifest(&m_a, &[&key]).unwrap();
    // Kit B's blobs under kit A's manifest: sizes differ or chunk digests fail.
    let mixed = testkit::assemble(&env_a, &m_a, &blobs_b);
    match mixed {
        Ok(bytes) => {
            let err = verify(&bytes, &trust).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::ChunkDigestMismatch { .. }
                        | Error::CompressedSizeMismatch { .. }
                        | Error::TarFormat { .. }
                        | Error::Truncated { .. }
                ),
                "{err:?}"
            );
        }
        Err(e) => assert!(matches!(e, Error::CompressedSizeMismatch { .. }), "{e:?}"),
    }
}

/// Counts what the verifier pulled from the kit file.
struct CountingReader<'a> {
    data: &'a [u8],
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl std::io::Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::io::Read::read(&mut self.data, buf)?;
        self.read.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        Ok(n)
    }
}

#[test]
fn stage_one_reads_only_the_envelope_and_stage_two_the_rest() {
    use ouk_format::archive::reader::KitReader;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let key = kit_key();
    let kit = testkit::build(&KitSpec::sample(5), &[&key]).unwrap();
    let read = Arc::new(AtomicUsize::new(0));
    let reader = CountingReader {
        data: &kit,
        read: Arc::clone(&read),
    };
    let trust = trust(&[&key], 1);
    let (header, rest) = KitReader::open(reader, &trust, &opts()).unwrap();
    // One header block, the envelope and its padding: not a byte of any member.
    let envelope_end = 512 + header.envelope.len().next_multiple_of(512);
    assert_eq!(read.load(Ordering::SeqCst), envelope_end);
    assert_eq!(header.manifest.sequence, 5);
    assert!(!header.expired);
    let mut sink = Collect::default();
    let streamed = rest.stream(&header.manifest, &mut sink).unwrap();
    assert_eq!(read.load(Ordering::SeqCst), kit.len());
    assert_eq!(streamed.kit_size, kit.len() as u64);
    assert_eq!(streamed.kit_sha256, ouk_format::digest::Sha256::of(&kit));
    assert_eq!(sink.done.len(), header.manifest.members.len());
}

#[test]
fn a_refused_envelope_stops_stage_one_before_any_member() {
    use ouk_format::archive::reader::KitReader;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let key = kit_key();
    let other = Ed25519Signer::from_seed(&[99; 32]);
    let kit = testkit::build(&KitSpec::sample(5), &[&other]).unwrap();
    let read = Arc::new(AtomicUsize::new(0));
    let reader = CountingReader {
        data: &kit,
        read: Arc::clone(&read),
    };
    let err = KitReader::open(reader, &trust(&[&key], 1), &opts()).unwrap_err();
    assert_eq!(err.kind(), "threshold_not_met", "{err}");
    let envelope =
        ouk_format::archive::reader::read_manifest_unverified(&kit[..], &Limits::default())
            .unwrap()
            .0
            .to_json();
    assert!(read.load(Ordering::SeqCst) <= 512 + envelope.len().next_multiple_of(512) + 4096);
}

/// A sink error comes back to the caller as the sink's own value, not as a kit error.
#[test]
fn sink_errors_come_back_typed() {
    #[derive(Debug, PartialEq)]
    struct Full;
    struct Refuse;
    impl MemberSink for Refuse {
        type Error = Full;
        fn begin(&mut self, _: &Member) -> Result<(), Full> {
            Ok(())
        }
        fn write(&mut self, _: &[u8]) -> Result<(), Full> {
            Err(Full)
        }
        fn end(&mut self, _: &Member) -> Result<(), Full> {
            Ok(())
        }
    }
    let key = kit_key();
    let kit = testkit::build(&KitSpec::sample(2), &[&key]).unwrap();
    match verify_kit(&kit[..], &trust(&[&key], 1), &opts(), &mut Refuse) {
        Err(StreamError::Sink(Full)) => {}
        other => panic!("expected the sink's error, got {other:?}"),
    }
}
