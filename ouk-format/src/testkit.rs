//! In-memory kit construction for tests, fuzz seed corpora and the hostile-kit generator.
//! The real builder streams through temporary files instead; this keeps everything in RAM and is
//! only meant for small kits. Not for use by the CLIs.

use std::collections::BTreeMap;

use crate::archive::writer::{compress_member, write_kit, CompressionOptions};
use crate::dsse::Envelope;
use crate::error::Error;
use crate::keys::Signer;
use crate::manifest::{BuilderIdentity, Manifest, Member, MemberRole};
use crate::media_types::{FORMAT_VERSION, MANIFEST_PAYLOAD_TYPE};
use crate::member_path::MemberPath;
use crate::time::Timestamp;

/// One member to put in a test kit.
#[derive(Debug, Clone)]
pub struct MemberSpec {
    /// Path.
    pub path: String,
    /// Media type.
    pub media_type: String,
    /// Role.
    pub role: MemberRole,
    /// SBOM link.
    pub sbom: Option<String>,
    /// Content.
    pub data: Vec<u8>,
    /// The manifest's `unpacked_size` (required exactly for the Trivy DB media type).
    pub unpacked_size: Option<u64>,
}

impl MemberSpec {
    /// A payload member with a generic media type.
    pub fn payload(path: &str, data: &[u8]) -> MemberSpec {
        MemberSpec {
            path: path.into(),
            media_type: "application/json".into(),
            role: MemberRole::Payload,
            sbom: None,
            data: data.to_vec(),
            unpacked_size: None,
        }
    }
}

/// A whole test kit.
#[derive(Debug, Clone)]
pub struct KitSpec {
    /// Channel.
    pub channel: String,
    /// Sequence.
    pub sequence: u64,
    /// Creation time.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Builder id.
    pub builder_id: String,
    /// Chunk size.
    pub chunk_size: u32,
    /// Members.
    pub members: Vec<MemberSpec>,
}

impl KitSpec {
    /// A small valid kit: created 2026-01-01, expires 2027-01-01 (within the 400-day validity cap).
    pub fn sample(sequence: u64) -> KitSpec {
        KitSpec {
            channel: "stable".into(),
            sequence,
            created_at: Timestamp::from_unix(1_767_225_600),
            expires_at: Timestamp::from_unix(1_798_761_600),
            builder_id: "https://ouk.example/builder/test".into(),
            chunk_size: 64 * 1024,
            members: vec![
                MemberSpec::payload("feeds/advisories.ndjson", &sample_data(200_000, sequence)),
                MemberSpec::payload("feeds/snapshot.json", b"{\"sources\":[]}"),
            ],
        }
    }
}

/// Deterministic, compressible, JSON-like test content.
pub fn sample_data(len: usize, salt: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 100);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(
            format!(
                "{{\"id\":\"OUK-{salt}-{i}\",\"modified\":\"2026-01-01T00:00:00Z\",\"x\":{}}}\n",
                i.wrapping_mul(2654435761) % 100_000
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

/// Compressed members and the unsigned manifest describing them.
pub fn prepare(spec: &KitSpec) -> Result<(Manifest, Vec<Vec<u8>>), Error> {
    let mut members = Vec::new();
    let mut blobs = Vec::new();
    for m in &spec.members {
        let mut blob = Vec::new();
        let (compressed, uncompressed) = compress_member(
            &m.data[..],
            &mut blob,
            spec.chunk_size,
            CompressionOptions::default(),
        )?;
        members.push(Member {
            path: MemberPath::new(&m.path)?,
            media_type: m.media_type.clone(),
            role: m.role,
            sbom: m.sbom.as_deref().map(MemberPath::new).transpose()?,
            compressed,
            uncompressed,
            unpacked_size: m.unpacked_size,
        });
        blobs.push(blob);
    }
    let manifest = Manifest {
        format: FORMAT_VERSION.into(),
        kit_id: format!("{}-{}", spec.channel, spec.sequence),
        channel: spec.channel.clone(),
        sequence: spec.sequence,
        created_at: spec.created_at,
        expires_at: spec.expires_at,
        builder: BuilderIdentity {
            id: spec.builder_id.clone(),
            version: "test".into(),
        },
        previous_kit_sha256: None,
        chunk_size: spec.chunk_size,
        members,
        annotations: BTreeMap::new(),
    };
    Ok((manifest, blobs))
}

/// Sign a manifest payload as the kit role would.
pub fn sign_manifest(manifest: &Manifest, signers: &[&dyn Signer]) -> Result<Vec<u8>, Error> {
    Ok(Envelope::sign(MANIFEST_PAYLOAD_TYPE, manifest.to_payload(), signers)?.to_json())
}

/// Assemble a container from an envelope and blobs (which need not match the manifest: the
/// hostile generator uses this to build inconsistent kits).
pub fn assemble(envelope: &[u8], manifest: &Manifest, blobs: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let readers = manifest
        .members
        .iter()
        .zip(blobs)
        .map(|(m, b)| (m, Box::new(&b[..]) as Box<dyn std::io::Read>))
        .collect();
    let (out, _, _) = write_kit(Vec::new(), envelope, readers, 1_767_225_600)?;
    Ok(out)
}

/// Build a complete signed kit in memory that carries `roots` (version, file bytes) before its
/// manifest: the rotation chain of spec §7.5.
pub fn build_with_trust_chain(
    spec: &KitSpec,
    signers: &[&dyn Signer],
    roots: &[(u64, &[u8])],
) -> Result<Vec<u8>, Error> {
    let (manifest, blobs) = prepare(spec)?;
    let envelope = sign_manifest(&manifest, signers)?;
    let readers = manifest
        .members
        .iter()
        .zip(&blobs)
        .map(|(m, b)| (m, Box::new(&b[..]) as Box<dyn std::io::Read>))
        .collect();
    let (out, _, _) = crate::archive::writer::write_kit_with_trust_chain(
        Vec::new(),
        roots,
        &envelope,
        readers,
        1_767_225_600,
    )?;
    Ok(out)
}

/// Build a complete signed kit in memory.
pub fn build(spec: &KitSpec, signers: &[&dyn Signer]) -> Result<Vec<u8>, Error> {
    let (manifest, blobs) = prepare(spec)?;
    let envelope = sign_manifest(&manifest, signers)?;
    assemble(&envelope, &manifest, &blobs)
}
