//! The valid world the hostile cases are derived from: deterministic keys, trust roots and a
//! complete, contract-conforming kit (attestation first, then the kit SBOM, then feed payloads).
//!
//! Every hostile case is "this valid kit, with one thing wrong", so a refusal can only be caused by
//! the one thing the case changed.

use ouk_format::archive::members::{member_entry_name, MANIFEST_ENTRY};
use ouk_format::archive::writer::{compress_member, CompressionOptions};
use ouk_format::digest::Sha256;
use ouk_format::dsse::Envelope;
use ouk_format::keys::{Ed25519Signer, Signer};
use ouk_format::manifest::{BuilderIdentity, Manifest, Member, MemberRole};
use ouk_format::media_types::{
    ATTESTATION_MEDIA_TYPE, FORMAT_VERSION, IN_TOTO_PAYLOAD_TYPE, MANIFEST_PAYLOAD_TYPE,
    OSV_NDJSON_MEDIA_TYPE, SPDX_JSON_MEDIA_TYPE, TRUST_ROOT_PAYLOAD_TYPE,
};
use ouk_format::member_path::MemberPath;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{RoleName, TrustRoot};
use std::collections::BTreeMap;

use crate::rawtar::{self, Entry};

/// The clock used by the format-level suite. The importer uses the real clock; since kits may be
/// valid for at most 400 days (spec §4.5 #8), the fixtures' times only fit a real "now" between
/// 2026-11 and 2027-11 (the binary-level suite needs a clock override to outlive that).
pub const NOW: &str = "2026-11-25T00:00:00Z";
/// Builder id allowed by the default trust root (the contract's dev builder id).
pub const BUILDER_ID: &str = "https://ouk.dev/builders/dev";
/// Chunk size of fixture kits: the smallest allowed, so a small member spans several chunks.
pub const CHUNK_SIZE: u32 = 64 * 1024;
/// Sequence number of the base kit (a replayed kit uses a lower one).
pub const BASE_SEQUENCE: u64 = 5;

/// Sequence of the baseline kit the binary-level suite imports into every store before a case,
/// so that each refusal is checked against a store with a live `current`, `state.json` and audit
/// chain (below every case's sequence, so it never interferes with the case's own policy path).
pub const BASELINE_SEQUENCE: u64 = 3;

/// The baseline kit (valid, sequence [`BASELINE_SEQUENCE`], different content from the base kit).
pub fn baseline_kit() -> Vec<u8> {
    Kit::build(&KitOptions {
        sequence: BASELINE_SEQUENCE,
        salt: 3,
        ..KitOptions::default()
    })
    .bytes()
}

/// Parse one of the fixed RFC 3339 times above (they are constants, so this cannot fail).
pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|_| Timestamp::from_unix(0))
}

/// The format-level clock as a timestamp.
pub fn now() -> Timestamp {
    ts(NOW)
}

/// Deterministic keys, one seed per role (test-only; never use seeded keys elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    /// Signs the trust root.
    Root,
    /// A second root key (for under-signed root cases).
    Root2,
    /// Signs kit manifests.
    Kit,
    /// A second kit key (threshold-2 cases).
    Kit2,
    /// Signs provenance attestations.
    Attestation,
    /// A key the trust root does not know.
    Outsider,
}

impl KeyName {
    /// The signer for this key.
    pub fn signer(self) -> Ed25519Signer {
        let seed = match self {
            KeyName::Root => 0x52,
            KeyName::Root2 => 0x53,
            KeyName::Kit => 0x4b,
            KeyName::Kit2 => 0x4c,
            KeyName::Attestation => 0x41,
            KeyName::Outsider => 0x58,
        };
        Ed25519Signer::from_seed(&[seed; 32])
    }
}

/// What goes into a trust root; `Default` is the one every kit case is checked against.
#[derive(Debug, Clone)]
pub struct TrustSpec {
    /// Keys of the root role.
    pub root_keys: Vec<KeyName>,
    /// Root threshold.
    pub root_threshold: u32,
    /// Keys that actually sign the trust root envelope (may repeat a key).
    pub signed_by: Vec<KeyName>,
    /// Keys of the kit role.
    pub kit_keys: Vec<KeyName>,
    /// Kit threshold.
    pub kit_threshold: u32,
    /// Keys of the attestation role.
    pub attestation_keys: Vec<KeyName>,
    /// Expiry.
    pub expires: &'static str,
    /// Allowed builders.
    pub builders: Vec<String>,
    /// Envelope payload type.
    pub payload_type: &'static str,
}

impl Default for TrustSpec {
    fn default() -> Self {
        TrustSpec {
            root_keys: vec![KeyName::Root],
            root_threshold: 1,
            signed_by: vec![KeyName::Root],
            kit_keys: vec![KeyName::Kit],
            kit_threshold: 1,
            attestation_keys: vec![KeyName::Attestation],
            expires: "2036-01-01T00:00:00Z",
            builders: vec![BUILDER_ID.to_owned()],
            payload_type: TRUST_ROOT_PAYLOAD_TYPE,
        }
    }
}

impl TrustSpec {
    /// The trust root document (unsigned).
    pub fn document(&self) -> TrustRoot {
        let mut root = TrustRoot::new(1, ts(self.expires));
        for (role, keys) in [
            (RoleName::Root, &self.root_keys),
            (RoleName::Kit, &self.kit_keys),
            (RoleName::Attestation, &self.attestation_keys),
        ] {
            for k in keys {
                root.add_key(role, &k.signer().public_key());
            }
        }
        root.roles.root.threshold = self.root_threshold;
        root.roles.kit.threshold = self.kit_threshold;
        root.builders = self.builders.clone();
        root
    }

    /// The signed trust root file.
    pub fn bytes(&self) -> Vec<u8> {
        sign_payload(
            self.payload_type,
            self.document().to_payload(),
            &self.signed_by,
        )
    }
}

/// The default trust root file.
pub fn trust_root() -> Vec<u8> {
    TrustSpec::default().bytes()
}

/// DSSE-sign `payload` with the named keys (in order, repeats allowed).
pub fn sign_payload(payload_type: &str, payload: Vec<u8>, keys: &[KeyName]) -> Vec<u8> {
    let signers: Vec<Ed25519Signer> = keys.iter().map(|k| k.signer()).collect();
    let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
    // Ed25519 signing of in-memory bytes does not fail.
    Envelope::sign(payload_type, payload, &refs)
        .map(|e| e.to_json())
        .unwrap_or_default()
}

/// Sign a manifest (as typed) with the kit key.
pub fn sign_manifest(manifest: &Manifest) -> Vec<u8> {
    sign_payload(
        MANIFEST_PAYLOAD_TYPE,
        manifest.to_payload(),
        &[KeyName::Kit],
    )
}

/// Sign arbitrary manifest JSON with the kit key: the "attacker holds the kit key" scenario, for
/// manifests the typed model refuses to express.
pub fn sign_manifest_json(value: &serde_json::Value) -> Vec<u8> {
    sign_payload(
        MANIFEST_PAYLOAD_TYPE,
        serde_json::to_vec(value).unwrap_or_default(),
        &[KeyName::Kit],
    )
}

/// How the attestation member of a fixture kit is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectEdit {
    /// Exactly the contract's subject set.
    None,
    /// One payload subject's digest replaced by the digest of other bytes.
    ChangeDigest,
    /// An extra subject naming a member the kit does not have.
    Extra,
    /// The last payload subject dropped.
    DropPayload,
}

/// Knobs of a fixture kit; `Default` is the valid base kit.
#[derive(Debug, Clone)]
pub struct KitOptions {
    /// Manifest sequence.
    pub sequence: u64,
    /// Manifest `created_at`.
    pub created_at: &'static str,
    /// Manifest `expires_at`.
    pub expires_at: &'static str,
    /// Manifest builder id.
    pub builder_id: String,
    /// Salt for the advisory content (two kits with different salts differ only in content).
    pub salt: u64,
    /// Include an attestation member.
    pub attestation: bool,
    /// Key signing the attestation envelope.
    pub attestation_signer: KeyName,
    /// Builder id written in the provenance statement.
    pub statement_builder_id: String,
    /// Subject tampering.
    pub subjects: SubjectEdit,
    /// SBOM member: `Some(bytes)` overrides the generated SPDX; `None` in `sbom_present=false`.
    pub sbom_override: Option<Vec<u8>>,
    /// Include the kit SBOM member (and link payloads to it).
    pub sbom_present: bool,
    /// The snapshot member's content.
    pub snapshot: Vec<u8>,
}

impl Default for KitOptions {
    fn default() -> Self {
        KitOptions {
            sequence: BASE_SEQUENCE,
            // Within the 400-day validity cap (spec §4.5 #8): valid for the real clock from
            // 2026-11 to 2027-11 only; see NOW.
            created_at: "2026-11-01T00:00:00Z",
            expires_at: "2027-12-01T00:00:00Z",
            builder_id: BUILDER_ID.to_owned(),
            salt: 0,
            attestation: true,
            attestation_signer: KeyName::Attestation,
            statement_builder_id: BUILDER_ID.to_owned(),
            subjects: SubjectEdit::None,
            sbom_override: None,
            sbom_present: true,
            snapshot: br#"{"sources":[{"name":"osv","records":4000}]}"#.to_vec(),
        }
    }
}

/// Path of the attestation member (contract).
pub const ATTESTATION_PATH: &str = "attestation/provenance.dsse.json";
/// Path of the kit SBOM member (contract).
pub const SBOM_PATH: &str = "sbom/kit.spdx.json";
/// Path of the advisories member (contract).
pub const ADVISORIES_PATH: &str = "feeds/advisories.ndjson";
/// Path of the snapshot member (contract).
pub const SNAPSHOT_PATH: &str = "feeds/snapshot.json";

/// A member before compression: path, media type, role, SBOM link, content.
type MemberDraft = (String, String, MemberRole, Option<String>, Vec<u8>);

/// A fixture kit before it is put in a container: manifest, compressed blobs, plain contents.
#[derive(Debug, Clone)]
pub struct Kit {
    /// The (unsigned) manifest.
    pub manifest: Manifest,
    /// Compressed member bytes, parallel to `manifest.members`.
    pub blobs: Vec<Vec<u8>>,
    /// Uncompressed member bytes, parallel to `manifest.members`.
    pub contents: Vec<Vec<u8>>,
}

/// Deterministic advisory lines, about half entropy so the compressed member spans 2+ chunks.
pub fn advisories(salt: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ salt.wrapping_mul(0x1000_0001);
    for i in 0..4000u32 {
        let mut hex = String::new();
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            hex.push_str(&format!("{x:016x}"));
        }
        out.extend_from_slice(
            format!(
                "{{\"id\":\"OUK-{salt}-{i}\",\"modified\":\"2026-01-01T00:00:00Z\",\"details\":\"{hex}\"}}\n"
            )
            .as_bytes(),
        );
    }
    out
}

fn spdx(payloads: &[(&str, &[u8])], opts: &KitOptions) -> Vec<u8> {
    let files = payloads
        .iter()
        .map(|(path, data)| {
            let mut d = ouk_provenance::FileDigester::new();
            d.update(data);
            let f = d.finish();
            ouk_provenance::SbomFile {
                path: (*path).to_owned(),
                sha256: f.sha256,
                sha1: f.sha1,
            }
        })
        .collect();
    let input = ouk_provenance::KitSbomInput {
        kit_name: "ouk-kit-stable".into(),
        kit_version: opts.sequence.to_string(),
        files,
        feeds: vec![ouk_provenance::SbomFeed {
            name: "osv".into(),
            version: "fixture".into(),
            snapshot_sha256: ouk_provenance::Sha256Hex::digest(&opts.snapshot),
            download_location: None,
        }],
        tool: ouk_provenance::SbomTool {
            name: "ouk-hostile".into(),
            version: "0.1.0".into(),
        },
        created: ts(opts.created_at).unix(),
    };
    ouk_provenance::generate_kit_spdx(&input).expect("fixture SPDX document builds")
}

fn statement(subjects: Vec<ouk_provenance::Subject>, opts: &KitOptions) -> Vec<u8> {
    let input = ouk_provenance::ProvenanceInput {
        subjects,
        external_parameters: ouk_provenance::ExternalParameters::new(
            vec![ouk_provenance::RequestedSource {
                name: "osv".into(),
                uri: None,
            }],
            BTreeMap::new(),
        ),
        resolved_dependencies: vec![ouk_provenance::Dependency {
            kind: ouk_provenance::DependencyKind::Feed,
            name: "osv".into(),
            uri: None,
            version: Some("fixture".into()),
            sha256: ouk_provenance::Sha256Hex::digest(&opts.snapshot),
        }],
        builder_id: opts.statement_builder_id.clone(),
        builder_version: BTreeMap::from([("ouk-builder".to_owned(), "0.1.0".to_owned())]),
        invocation_id: format!("fixture-{}", opts.sequence),
        started_on: ts(opts.created_at).unix() - 60,
        finished_on: ts(opts.created_at).unix(),
    };
    ouk_provenance::build_statement(&input).expect("fixture provenance statement builds")
}

impl Kit {
    /// Build a fixture kit from its options.
    pub fn build(opts: &KitOptions) -> Kit {
        let advisories = advisories(opts.salt);
        let payloads: Vec<(&str, &str, &[u8])> = vec![
            (ADVISORIES_PATH, OSV_NDJSON_MEDIA_TYPE, &advisories[..]),
            (SNAPSHOT_PATH, "application/json", &opts.snapshot[..]),
        ];
        // (path, media type, role, sbom link, content) in container order.
        let mut members: Vec<MemberDraft> = Vec::new();
        if opts.sbom_present {
            let sbom = opts.sbom_override.clone().unwrap_or_else(|| {
                spdx(
                    &payloads
                        .iter()
                        .map(|(p, _, d)| (*p, *d))
                        .collect::<Vec<_>>(),
                    opts,
                )
            });
            members.push((
                SBOM_PATH.into(),
                SPDX_JSON_MEDIA_TYPE.into(),
                MemberRole::Sbom,
                None,
                sbom,
            ));
        }
        for (path, media, data) in &payloads {
            members.push((
                (*path).into(),
                (*media).into(),
                MemberRole::Payload,
                opts.sbom_present.then(|| SBOM_PATH.to_owned()),
                data.to_vec(),
            ));
        }
        if opts.attestation {
            let mut subjects: Vec<ouk_provenance::Subject> = members
                .iter()
                .map(|(path, _, _, _, data)| ouk_provenance::Subject {
                    name: path.clone(),
                    sha256: ouk_provenance::Sha256Hex::digest(data),
                })
                .collect();
            match opts.subjects {
                SubjectEdit::None => {}
                SubjectEdit::ChangeDigest => {
                    if let Some(s) = subjects.iter_mut().find(|s| s.name == ADVISORIES_PATH) {
                        s.sha256 = ouk_provenance::Sha256Hex::digest(b"not the advisories");
                    }
                }
                SubjectEdit::Extra => subjects.push(ouk_provenance::Subject {
                    name: "feeds/ghost.json".into(),
                    sha256: ouk_provenance::Sha256Hex::digest(b"ghost"),
                }),
                SubjectEdit::DropPayload => {
                    subjects.retain(|s| s.name != SNAPSHOT_PATH);
                }
            }
            let envelope = sign_payload(
                IN_TOTO_PAYLOAD_TYPE,
                statement(subjects, opts),
                &[opts.attestation_signer],
            );
            members.insert(
                0,
                (
                    ATTESTATION_PATH.into(),
                    ATTESTATION_MEDIA_TYPE.into(),
                    MemberRole::Attestation,
                    None,
                    envelope,
                ),
            );
        }
        Kit::from_members(opts, members)
    }

    fn from_members(opts: &KitOptions, members: Vec<MemberDraft>) -> Kit {
        let mut out = Vec::new();
        let mut blobs = Vec::new();
        let mut contents = Vec::new();
        for (path, media_type, role, sbom, data) in members {
            let (blob, member) = compress(&path, &media_type, role, sbom.as_deref(), &data);
            out.push(member);
            blobs.push(blob);
            contents.push(data);
        }
        let manifest = Manifest {
            format: FORMAT_VERSION.into(),
            kit_id: format!("stable-{}", opts.sequence),
            channel: "stable".into(),
            sequence: opts.sequence,
            created_at: ts(opts.created_at),
            expires_at: ts(opts.expires_at),
            builder: BuilderIdentity {
                id: opts.builder_id.clone(),
                version: "0.1.0".into(),
            },
            previous_kit_sha256: None,
            chunk_size: CHUNK_SIZE,
            members: out,
            annotations: BTreeMap::new(),
        };
        Kit {
            manifest,
            blobs,
            contents,
        }
    }

    /// Replace a member's compressed bytes and declared content, then re-derive the SBOM and the
    /// attestation so that everything except the replaced member's own data stays consistent
    /// (the "attacker holds the kit and attestation keys" scenario: only the format's own checks
    /// can refuse what follows).
    pub fn replace(&mut self, path: &str, blob: Vec<u8>, declared: Vec<u8>, opts: &KitOptions) {
        let i = self.index_of(path);
        let old = self.manifest.members[i].clone();
        let mut m = describe_blob(path, &blob, &declared);
        m.media_type = old.media_type;
        m.role = old.role;
        m.sbom = old.sbom;
        self.manifest.members[i] = m;
        self.blobs[i] = blob;
        self.contents[i] = declared;
        self.rederive(opts);
    }

    /// Regenerate the SBOM (from the declared payload contents) and the attestation (from the
    /// manifest's declared digests) after members changed.
    pub fn rederive(&mut self, opts: &KitOptions) {
        let roles: Vec<MemberRole> = self.manifest.members.iter().map(|m| m.role).collect();
        if let Some(i) = roles.iter().position(|r| *r == MemberRole::Sbom) {
            let payloads: Vec<(&str, &[u8])> = self
                .manifest
                .members
                .iter()
                .zip(&self.contents)
                .filter(|(m, _)| m.role == MemberRole::Payload)
                .map(|(m, c)| (m.path.as_str(), &c[..]))
                .collect();
            let sbom = spdx(&payloads, opts);
            let (blob, member) = compress(
                SBOM_PATH,
                SPDX_JSON_MEDIA_TYPE,
                MemberRole::Sbom,
                None,
                &sbom,
            );
            self.manifest.members[i] = member;
            self.blobs[i] = blob;
            self.contents[i] = sbom;
        }
        if let Some(i) = roles.iter().position(|r| *r == MemberRole::Attestation) {
            let subjects = self
                .manifest
                .members
                .iter()
                .filter(|m| m.role != MemberRole::Attestation)
                .filter_map(|m| {
                    Some(ouk_provenance::Subject {
                        name: m.path.as_str().to_owned(),
                        sha256: ouk_provenance::Sha256Hex::parse(&m.uncompressed.sha256.to_hex())
                            .ok()?,
                    })
                })
                .collect();
            let envelope = sign_payload(
                IN_TOTO_PAYLOAD_TYPE,
                statement(subjects, opts),
                &[opts.attestation_signer],
            );
            let (blob, member) = compress(
                ATTESTATION_PATH,
                ATTESTATION_MEDIA_TYPE,
                MemberRole::Attestation,
                None,
                &envelope,
            );
            self.manifest.members[i] = member;
            self.blobs[i] = blob;
            self.contents[i] = envelope;
        }
    }

    /// Append one payload member, linked to the kit SBOM, after the others (its attestation
    /// subject is only added by a later [`Kit::rederive`]). Returns the new member description.
    pub fn push_payload(&mut self, path: &str, media_type: &str, data: &[u8]) -> &mut Member {
        let (blob, member) = compress(path, media_type, MemberRole::Payload, Some(SBOM_PATH), data);
        self.manifest.members.push(member);
        self.blobs.push(blob);
        self.contents.push(data.to_vec());
        let last = self.manifest.members.len() - 1;
        &mut self.manifest.members[last]
    }

    /// The kit-key-signed envelope of this kit's manifest.
    pub fn envelope(&self) -> Vec<u8> {
        sign_manifest(&self.manifest)
    }

    /// Container entries (envelope first, then members in manifest order) for an envelope.
    pub fn entries(&self, envelope: &[u8]) -> Vec<Entry> {
        let mut entries = vec![Entry::file(MANIFEST_ENTRY.as_bytes(), envelope.to_vec())];
        for (m, blob) in self.manifest.members.iter().zip(&self.blobs) {
            entries.push(Entry::file(
                member_entry_name(&m.path).as_bytes(),
                blob.clone(),
            ));
        }
        entries
    }

    /// The complete, valid container.
    pub fn bytes(&self) -> Vec<u8> {
        rawtar::encode(&self.entries(&self.envelope()), &rawtar::end_marker())
    }

    /// Index of a member by path.
    pub fn index_of(&self, path: &str) -> usize {
        self.manifest
            .members
            .iter()
            .position(|m| m.path.as_str() == path)
            .unwrap_or(0)
    }
}

/// Compress one member's content and describe it.
pub fn compress(
    path: &str,
    media_type: &str,
    role: MemberRole,
    sbom: Option<&str>,
    data: &[u8],
) -> (Vec<u8>, Member) {
    let mut blob = Vec::new();
    // In-memory compression of a few hundred KiB does not fail.
    let (compressed, uncompressed) =
        compress_member(data, &mut blob, CHUNK_SIZE, CompressionOptions::default())
            .expect("in-memory compression");
    let member = Member {
        path: MemberPath::new(path).expect("fixture paths are valid"),
        media_type: media_type.to_owned(),
        role,
        sbom: sbom.map(|s| MemberPath::new(s).expect("fixture paths are valid")),
        compressed,
        uncompressed,
        unpacked_size: None,
    };
    (blob, member)
}

/// A member description for an already-compressed blob (used for hand-made zstd frames).
pub fn describe_blob(path: &str, blob: &[u8], uncompressed: &[u8]) -> Member {
    let chunks = blob.chunks(CHUNK_SIZE as usize).map(Sha256::of).collect();
    Member {
        path: MemberPath::new(path).expect("fixture paths are valid"),
        media_type: "application/octet-stream".into(),
        role: MemberRole::Payload,
        sbom: None,
        compressed: ouk_format::manifest::CompressedInfo {
            size: blob.len() as u64,
            sha256: Sha256::of(blob),
            chunks,
        },
        uncompressed: ouk_format::manifest::ContentInfo {
            size: uncompressed.len() as u64,
            sha256: Sha256::of(uncompressed),
        },
        unpacked_size: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_container_is_byte_identical_to_the_format_writer() {
        let kit = Kit::build(&KitOptions::default());
        let env = kit.envelope();
        let reference =
            ouk_format::testkit::assemble(&env, &kit.manifest, &kit.blobs).expect("assemble");
        assert_eq!(kit.bytes(), reference);
    }

    #[test]
    fn base_kit_is_multi_chunk_and_deterministic() {
        let a = Kit::build(&KitOptions::default());
        let b = Kit::build(&KitOptions::default());
        assert_eq!(a.bytes(), b.bytes());
        let adv = &a.manifest.members[a.index_of(ADVISORIES_PATH)];
        assert!(adv.compressed.chunks.len() >= 2, "{}", adv.compressed.size);
    }
}
