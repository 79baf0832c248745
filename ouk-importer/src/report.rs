//! Machine-readable results of each command (`--json`); the binary prints them, or a short text.

use std::collections::BTreeMap;

use ouk_format::manifest::Manifest;
use ouk_format::time::Timestamp;
use ouk_provenance::{ProvenanceSummary, SbomFormat};
use serde::Serialize;

use crate::audit::AuditSummary;
use crate::store::GenerationInfo;

/// The kit as described by its (verified or, for `inspect`, unverified) manifest.
#[derive(Debug, Clone, Serialize)]
pub struct KitSummary {
    /// Kit file.
    pub path: String,
    /// Kit id.
    pub kit_id: String,
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
    /// Builder version.
    pub builder_version: String,
    /// Member count.
    pub members: usize,
    /// Sum of uncompressed member sizes.
    pub uncompressed_bytes: u64,
    /// sha256 of the kit file (after a full pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kit_sha256: Option<String>,
    /// Size of the kit file (after a full pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kit_size: Option<u64>,
}

impl KitSummary {
    /// From a manifest.
    pub fn from_manifest(path: &std::path::Path, m: &Manifest) -> KitSummary {
        KitSummary {
            path: path.display().to_string(),
            kit_id: m.kit_id.clone(),
            channel: m.channel.clone(),
            sequence: m.sequence,
            created_at: m.created_at,
            expires_at: m.expires_at,
            builder_id: m.builder.id.clone(),
            builder_version: m.builder.version.clone(),
            members: m.members.len(),
            uncompressed_bytes: m.members.iter().map(|x| x.uncompressed.size).sum(),
            kit_sha256: None,
            kit_size: None,
        }
    }
}

/// One member, for `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct MemberSummary {
    /// Path.
    pub path: String,
    /// Role.
    pub role: ouk_format::manifest::MemberRole,
    /// Media type.
    pub media_type: String,
    /// Uncompressed size.
    pub size: u64,
    /// sha256 of the uncompressed content.
    pub sha256: String,
    /// Linked SBOM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
}

/// `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// False without a trust root: nothing shown is authenticated.
    pub verified: bool,
    /// The kit.
    pub kit: KitSummary,
    /// Its members.
    pub member_list: Vec<MemberSummary>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, serde_json::Value>,
    /// Signatures on the manifest envelope (count only).
    pub signatures: usize,
    /// Human rendering of the provenance statement (`--provenance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance_text: Option<String>,
    /// Provenance check result (with a trust root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceSummary>,
}

/// `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Always true (failures are errors).
    pub verified: bool,
    /// The kit, with its digest.
    pub kit: KitSummary,
    /// The kit is past expiry and was accepted only because `--allow-expired` was given.
    pub expired: bool,
    /// Trust root version used.
    pub trust_root_version: u64,
    /// Provenance summary.
    pub provenance: ProvenanceSummary,
    /// SBOM member formats.
    pub sboms: BTreeMap<String, SbomFormat>,
    /// For a split kit: its index and the parts read (all from the medium: `verify` keeps no
    /// local copies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<crate::parts::PartsReport>,
}

/// How an import ended successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new generation is active.
    Imported,
    /// This exact kit was already imported; nothing changed.
    AlreadyImported,
}

/// `import`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// What happened.
    pub outcome: Outcome,
    /// The kit.
    pub kit: KitSummary,
    /// The generation (new, or the one that holds this kit for `already_imported`).
    pub generation: String,
    /// The active generation after the command; differs from `generation` when an operator
    /// rolled back to an older one (`already_imported` then does not re-activate anything).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// An expired kit was accepted because of `--allow-expired` (audited).
    pub accepted_expired: bool,
    /// Anti-rollback floor after the import.
    pub highest_sequence: u64,
    /// Provenance summary (absent for `already_imported`, which does not re-read the kit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceSummary>,
    /// SBOM member formats.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sboms: BTreeMap<String, SbomFormat>,
    /// Installed Trivy DB file, relative to the generation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trivy_db: Option<String>,
    /// What changed since the previously active generation (`.ouk/changes.json` holds it all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<crate::changes::ChangesSummary>,
    /// A split kit: which parts were read from the medium, which verified local copies reused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<crate::parts::PartsReport>,
}

/// One kit file seen by `import --from DIR`.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// File.
    pub path: String,
    /// Sequence, when the manifest authenticated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// `imported`, `already_imported`, `below_floor`, `not_newest`, `other_channel`,
    /// `unreadable`, `failed`, `same_file` (a hard link to a file already looked at),
    /// `equivocation`, `skipped_budget`.
    pub status: String,
    /// Error kind, for `unreadable`/`failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Error message, for `unreadable`/`failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `import --from DIR`.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Directory scanned.
    pub dir: String,
    /// Floor before the scan.
    pub floor: Option<u64>,
    /// Every kit file considered.
    pub candidates: Vec<Candidate>,
    /// Directory entries looked at (all of them unless a budget stopped the scan).
    pub entries_seen: u64,
    /// Why the scan stopped early (`entry_budget`, `candidate_budget`, `byte_budget`,
    /// `time_budget`), when it did: what was not looked at is then reported, never hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_exhausted: Option<String>,
    /// Kind of the error that decides the exit code when nothing was imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Its message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The import that succeeded.
    pub imported: Option<ImportReport>,
}

/// `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Store directory.
    pub store: String,
    /// Active generation.
    pub current: Option<GenerationInfo>,
    /// Seconds until the active kit expires (negative: expired).
    pub expires_in_secs: Option<i64>,
    /// Seconds until the trust root used for it expires.
    pub trust_root_expires_in_secs: Option<i64>,
    /// Anti-rollback floor.
    pub highest_sequence: Option<u64>,
    /// Channel.
    pub channel: Option<String>,
    /// Highest trust-root version used.
    pub trust_root_version: Option<u64>,
    /// Time high-water mark.
    pub time_high_water: Option<Timestamp>,
    /// Local generations.
    pub generations: usize,
    /// An interrupted command left something the next import/rollback/gc will clean up.
    pub needs_recovery: bool,
}

/// `rollback`.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// Previously active generation.
    pub previous: Option<String>,
    /// Now active generation.
    pub current: String,
    /// Unchanged anti-rollback floor.
    pub highest_sequence: u64,
    /// The activated kit is past its expiry.
    pub expired: bool,
}

/// `reset-floor`.
#[derive(Debug, Clone, Serialize)]
pub struct ResetFloorReport {
    /// The floor before.
    pub previous_floor: u64,
    /// The floor now.
    pub floor: u64,
}

/// `gc`.
#[derive(Debug, Clone, Serialize)]
pub struct GcReport {
    /// Generations removed.
    pub removed: Vec<String>,
    /// Generations kept.
    pub kept: Vec<String>,
    /// `incoming/<kit sha256>` directories removed: split kits at or below the floor, whose
    /// verified parts can no longer be used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incoming_removed: Vec<String>,
}

/// `audit verify`.
pub type AuditReport = AuditSummary;
