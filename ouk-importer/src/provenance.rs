//! Provenance and SBOM enforcement (issue 5, importer side), run inside the streaming pass.
//!
//! - The manifest must list exactly one attestation member (a DSSE envelope); every payload
//!   member must link an SBOM member. Checked on the authenticated manifest before any member
//!   streams.
//! - The attestation member (placed first by the builder) is captured in memory, bounded, and as
//!   soon as its digests matched: DSSE threshold of the trust root's `attestation` role with
//!   payloadType `application/vnd.in-toto+json`, then [`ouk_provenance::check_statement`] against
//!   the expected subjects (every member except the attestation: name = path, sha256 = sha256 of
//!   the uncompressed content) and the trust root's builders. A bad attestation therefore stops
//!   the import before the big payload members stream.
//! - Each SBOM member is captured (bounded) and validated with [`ouk_provenance::validate_sbom`].

use ouk_format::dsse::Envelope;
use ouk_format::error::{Document, Name};
use ouk_format::manifest::{Manifest, Member, MemberRole};
use ouk_format::media_types::{ATTESTATION_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, TRIVY_DB_MEDIA_TYPE};
use ouk_format::trust_root::{RoleName, TrustRoot};
use ouk_format::Limits;
use ouk_provenance::{ProvenanceSummary, Sha256Hex, Subject};

use crate::error::{Error, Result};
use crate::sink::TRIVY_MEMBER_PATH;

/// Largest attestation member captured in memory. It is a DSSE envelope, parsed under the same
/// cap as every envelope (`Limits::max_envelope_bytes`, 8 MiB), so a larger one is refused here,
/// by size, before a byte of it is buffered.
pub const MAX_ATTESTATION_BYTES: u64 = 8 * 1024 * 1024;
/// Largest SBOM member validated (in memory) at import.
pub const MAX_SBOM_BYTES: u64 = 64 * 1024 * 1024;

/// Manifest-level rules, checked on the authenticated manifest before any member streams: one
/// attestation, first, with the DSSE media type; every payload member links an SBOM member;
/// only the Trivy DB archive lives under `trivy/`.
pub fn check_manifest(manifest: &Manifest) -> Result<()> {
    let attestation = manifest
        .members
        .iter()
        .find(|m| m.role == MemberRole::Attestation)
        .ok_or(Error::MissingAttestation)?;
    // First, so that a bad attestation refuses the kit before a payload byte is staged or an
    // SBOM parsed (only the attestation's own bounded bytes are read before it is checked).
    if !std::ptr::eq(attestation, &manifest.members[0]) {
        return Err(Error::AttestationNotFirst {
            path: Name::new(attestation.path.as_str()),
        });
    }
    check_trivy_placement(manifest)?;
    if attestation.media_type != ATTESTATION_MEDIA_TYPE {
        return Err(Error::AttestationMediaType {
            path: Name::new(attestation.path.as_str()),
            media_type: Name::new(&attestation.media_type),
        });
    }
    for m in &manifest.members {
        if m.role != MemberRole::Payload {
            continue;
        }
        let Some(link) = &m.sbom else {
            return Err(Error::MissingSbomLink {
                path: Name::new(m.path.as_str()),
            });
        };
        if manifest.member(link).map(|s| s.role) != Some(MemberRole::Sbom) {
            return Err(Error::SbomLinkNotSbom {
                path: Name::new(m.path.as_str()),
                sbom: Name::new(link.as_str()),
            });
        }
    }
    Ok(())
}

/// The subject set the attestation must state: every member except the attestation itself.
pub fn expected_subjects(manifest: &Manifest) -> Result<Vec<Subject>> {
    manifest
        .members
        .iter()
        .filter(|m| m.role != MemberRole::Attestation)
        .map(|m| {
            Ok(Subject {
                name: m.path.as_str().to_owned(),
                sha256: Sha256Hex::parse(&m.uncompressed.sha256.to_hex())
                    .map_err(|_| Error::Internal("hex digest rejected"))?,
            })
        })
        .collect()
}

/// DSSE-verify the attestation envelope against the `attestation` role; returns the statement.
pub fn verify_attestation(envelope: &[u8], trust: &TrustRoot, limits: &Limits) -> Result<Vec<u8>> {
    let env = Envelope::parse(envelope, Document::Attestation, limits)?;
    let keys = trust.role_keys(RoleName::Attestation);
    let payload = env.verify(
        IN_TOTO_PAYLOAD_TYPE,
        Document::Attestation,
        RoleName::Attestation.as_str(),
        &keys,
        trust.roles.attestation.threshold as usize,
    )?;
    Ok(payload.to_vec())
}

/// Check a verified statement against the manifest and the trust root's builders.
pub fn check_statement(
    attestation: &Member,
    statement: &[u8],
    manifest: &Manifest,
    trust: &TrustRoot,
) -> Result<ProvenanceSummary> {
    let expected = expected_subjects(manifest)?;
    ouk_provenance::check_statement(
        statement,
        &expected,
        &trust.builders,
        &ouk_provenance::Limits::default(),
    )
    .map_err(|source| Error::Provenance {
        path: Name::new(attestation.path.as_str()),
        source,
    })
}

/// The SBOM validator's limits as the importer applies them.
pub fn sbom_limits() -> ouk_provenance::Limits {
    // `Limits` is non_exhaustive: start from the defaults and tighten one field.
    let mut limits = ouk_provenance::Limits::default();
    limits.max_sbom_bytes = MAX_SBOM_BYTES as usize;
    limits
}

/// An SBOM refusal, naming the member.
pub fn sbom_error(member: &Member, source: ouk_provenance::SbomError) -> Error {
    Error::Sbom {
        path: Name::new(member.path.as_str()),
        source,
    }
}

/// The Trivy DB is chosen by path AND media type together: the archive must be exactly
/// [`TRIVY_MEMBER_PATH`] with [`TRIVY_DB_MEDIA_TYPE`] and role payload, and nothing else may be
/// at or under `trivy/` (where the importer installs the checked DB): otherwise a plain member at
/// `trivy/db/trivy.db` would become the active DB without ever being checked.
pub fn check_trivy_placement(manifest: &Manifest) -> Result<()> {
    for m in &manifest.members {
        let path = m.path.as_str();
        let is_db_type = m.media_type == TRIVY_DB_MEDIA_TYPE;
        let in_trivy_dir = path == "trivy" || path.starts_with("trivy/");
        let is_the_db = path == TRIVY_MEMBER_PATH && is_db_type && m.role == MemberRole::Payload;
        if (is_db_type || in_trivy_dir) && !is_the_db {
            return Err(Error::TrivyMisplaced {
                path: Name::new(path),
            });
        }
    }
    Ok(())
}
