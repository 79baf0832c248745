//! The signed `ouk.delta` annotation of a delta kit and the member names it governs
//! (spec/OUK-FORMAT.md §4.7): written by the builder, read by importers, defined once here so the
//! two sides cannot drift.

use serde::{Deserialize, Serialize};

/// Annotation key of a delta kit.
pub const ANNOTATION: &str = "ouk.delta";
/// Member carrying the added and changed records.
pub const UPSERTS_PATH: &str = "delta/upserts.ndjson";
/// Member carrying the ids of removed records.
pub const REMOVED_PATH: &str = "delta/removed.ndjson";
/// The snapshot member of a full kit, rebuilt by the importer from a delta.
pub const SNAPSHOT_PATH: &str = "feeds/advisories.ndjson";
/// The merge report of a full kit, carried by a delta as a line patch against the base's.
pub const REPORT_PATH: &str = "feeds/merge-report.json";
/// Where a delta carries the line patch of a member: this prefix, then the member's path.
pub const PATCH_DIR: &str = "delta/patch/";
/// Media type of a line patch (spec §4.8).
pub const LINE_PATCH_MEDIA_TYPE: &str = "application/vnd.ouk.line-patch.v1";
/// Most members one delta may patch.
pub const MAX_PATCHED: usize = 16;

/// The signed `ouk.delta` annotation. Readers refuse any other key (`deny_unknown_fields`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaAnnotation {
    /// sha256 (hex) of the base kit file.
    pub base_kit_sha256: String,
    /// Sequence of the base kit.
    pub base_sequence: u64,
    /// sha256 (hex) of the rebuilt `feeds/advisories.ndjson`.
    pub result_advisories_sha256: String,
    /// Size in bytes of the rebuilt `feeds/advisories.ndjson`.
    pub result_advisories_size: u64,
    /// Whether the importer exports a Trivy DB from the rebuilt snapshot (what the full kit of
    /// the same build would carry as `trivy/db.tar.gz`), with `UpdatedAt` = the kit's
    /// `created_at`.
    pub trivy_db: bool,
    /// Lines of `delta/upserts.ndjson` (informational).
    pub upserts: u64,
    /// Lines of `delta/removed.ndjson` (informational).
    pub removed: u64,
    /// Members of the full kit that travel as a line patch against the base generation's copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<PatchedMember>,
    /// sha256 (hex) of the base kit's `feeds/advisories.ndjson`: a generation of the base
    /// sequence with that snapshot is a base too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_advisories_sha256: Option<String>,
    /// Manifest digest (hex) of the full kit of the same build (twins): a store holding either
    /// one takes the other as already imported instead of as an equivocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin_manifest_sha256: Option<String>,
}

/// One member of the full kit that a delta carries as a line patch (spec §4.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchedMember {
    /// The member rebuilt (in the base generation and in the new one).
    pub path: String,
    /// The member of the delta kit holding the patch: [`PATCH_DIR`] then `path`.
    pub patch: String,
    /// sha256 (hex) of the rebuilt file.
    pub result_sha256: String,
    /// Its size in bytes.
    pub result_size: u64,
}
