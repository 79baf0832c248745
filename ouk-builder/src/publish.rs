//! `push` and `export-layout`: publish a built kit over OCI (registry, or an image layout on
//! media) with its signature, SBOM and provenance as referrers.
//!
//! The kit is verified against the trust root first — a release engineer must not publish a kit
//! the importers will refuse — and the SBOM and provenance referrers are the kit's own members,
//! captured on that verified pass, so what a registry shows beside the kit is what is inside it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ouk_format::archive::reader::{verify_kit, MemberSink, StreamError, VerifyOptions};
use ouk_format::manifest::Member;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::verify_trust_root;
use ouk_format::Limits;
use ouk_oci::artifact::{self, annotations, Shape};
use ouk_oci::publish::{Attachment, Publication};

use crate::error::BuildError;

/// Kit members published as referrers: (member path, artifactType, layer media type).
const REFERRED_MEMBERS: [(&str, &str, &str); 2] = [
    (
        "sbom/kit.spdx.json",
        artifact::SBOM_MEDIA_TYPE,
        artifact::SBOM_MEDIA_TYPE,
    ),
    (
        "attestation/provenance.dsse.json",
        artifact::PROVENANCE_ARTIFACT_TYPE,
        artifact::PROVENANCE_MEDIA_TYPE,
    ),
];

/// Largest member captured for a referrer (the importer's SBOM cap).
const MAX_REFERRED_BYTES: usize = 64 << 20;

/// Largest detached signature file read.
const MAX_SIGNATURE_BYTES: u64 = 64 << 10;

/// Captures the members published as referrers while the kit is verified.
#[derive(Default)]
struct Capture {
    current: Option<usize>,
    data: [Vec<u8>; 2],
    complete: [bool; 2],
}

impl MemberSink for Capture {
    type Error = BuildError;
    fn begin(&mut self, member: &Member) -> Result<(), BuildError> {
        self.current = REFERRED_MEMBERS
            .iter()
            .position(|(p, _, _)| member.path.as_str() == *p);
        if let Some(i) = self.current {
            self.data[i].clear();
        }
        Ok(())
    }
    fn write(&mut self, data: &[u8]) -> Result<(), BuildError> {
        if let Some(i) = self.current {
            if self.data[i].len() + data.len() > MAX_REFERRED_BYTES {
                return Err(BuildError::Config(format!(
                    "kit member {} is larger than {MAX_REFERRED_BYTES} bytes",
                    REFERRED_MEMBERS[i].0
                )));
            }
            self.data[i].extend_from_slice(data);
        }
        Ok(())
    }
    fn end(&mut self, _: &Member) -> Result<(), BuildError> {
        if let Some(i) = self.current.take() {
            self.complete[i] = true;
        }
        Ok(())
    }
}

/// Verifies `kit` against `trust_root` at `now` and plans its publication: the kit manifest
/// (annotated from the signed manifest), and referrers for the detached signature `KIT.sig`
/// (when present beside the kit), the kit SBOM and the provenance.
pub fn plan(
    kit: &Path,
    trust_root: &Path,
    now: Timestamp,
    shape: Shape,
) -> Result<Publication, BuildError> {
    let limits = Limits::default();
    let root_bytes = std::fs::read(trust_root).map_err(BuildError::io(trust_root))?;
    let root = verify_trust_root(&root_bytes, now, 0, &limits)?;
    let opts = VerifyOptions {
        now,
        skew_secs: 0,
        allow_expired: false,
        limits,
        revoked: Vec::new(),
    };
    let file = File::open(kit).map_err(BuildError::io(kit))?;
    let mut capture = Capture::default();
    let verified = verify_kit(
        BufReader::with_capacity(1 << 20, file),
        &root,
        &opts,
        &mut capture,
    )
    .map_err(|e| match e {
        StreamError::Kit(e) => BuildError::Format(e),
        StreamError::Sink(e) => e,
    })?;
    let m = &*verified.manifest;
    let notes = BTreeMap::from([
        (annotations::CREATED.to_owned(), m.created_at.to_string()),
        (annotations::KIT_ID.to_owned(), m.kit_id.clone()),
        (annotations::CHANNEL.to_owned(), m.channel.clone()),
        (annotations::SEQUENCE.to_owned(), m.sequence.to_string()),
    ]);
    // Titles from the signed kit id, not the local file name: the manifest digest of one kit
    // must not depend on what the file was renamed to.
    let title = format!("{}.ouk", m.kit_id);
    let mut attachments = Vec::new();
    let file_name = kit
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sig_path = kit.with_file_name(format!("{file_name}.sig"));
    if let Ok(f) = File::open(&sig_path) {
        let mut data = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(f, MAX_SIGNATURE_BYTES + 1),
            &mut data,
        )
        .map_err(BuildError::io(&sig_path))?;
        if data.len() as u64 > MAX_SIGNATURE_BYTES {
            return Err(BuildError::Config(format!(
                "{} is not a signature file (too large)",
                sig_path.display()
            )));
        }
        attachments.push(Attachment {
            artifact_type: artifact::SIGNATURE_ARTIFACT_TYPE.to_owned(),
            media_type: artifact::SIGNATURE_MEDIA_TYPE.to_owned(),
            title: format!("{title}.sig"),
            data,
        });
    }
    for (i, (path, artifact_type, media_type)) in REFERRED_MEMBERS.iter().enumerate() {
        if capture.complete[i] {
            attachments.push(Attachment {
                artifact_type: (*artifact_type).to_owned(),
                media_type: (*media_type).to_owned(),
                title: path.rsplit('/').next().unwrap_or(path).to_owned(),
                data: std::mem::take(&mut capture.data[i]),
            });
        }
    }
    // The kit was verified from one open; the publication hashes the file again (the digest
    // the registry will check): a file swapped in between fails that check, not silently.
    let p = Publication::plan(kit, &title, notes, attachments, shape)?;
    if p.kit.digest.0 != verified.kit_sha256 {
        return Err(BuildError::Config(format!(
            "{} changed while it was being published",
            kit.display()
        )));
    }
    Ok(p)
}
