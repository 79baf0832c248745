//! Named limits with finite defaults. Every input here is untrusted: each field
//! names the attack or accident it stops.

use serde::{Deserialize, Serialize};

/// Size and count limits applied while reading and merging feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest single JSON/YAML/XML file read (stops one giant file exhausting memory).
    /// NVD API pages (2 000 CVEs) are ~30 MB; the default leaves room for that. In a streamed
    /// NVD data feed file (`.json.gz`/`.json.zip`) it caps one `vulnerabilities[]` element.
    pub max_file_bytes: u64,
    /// Largest single uncompressed entry inside an `all.zip` (zip bomb guard).
    pub max_zip_entry_bytes: u64,
    /// Largest total uncompressed bytes read from one `all.zip` or one NVD data feed file
    /// (decompression bomb guard).
    pub max_zip_total_bytes: u64,
    /// Most entries in one `all.zip`.
    pub max_zip_entries: u64,
    /// Most files walked in one source directory.
    pub max_files_per_source: u64,
    /// Most records accepted from one source (runaway input guard).
    pub max_records_per_source: u64,
    /// Deepest directory nesting walked.
    pub max_dir_depth: usize,
    /// A record listing more aliases than this does not use them to join
    /// clusters (it still joins by its own id). osv.dev uses 5 (`VULN_ALIASES_LIMIT`);
    /// we merge more sources per CVE, so the default is higher.
    pub max_aliases_per_record: usize,
    /// A cluster with more distinct ids than this is a runaway cluster: it is
    /// split back into groups of records with the same id, and reported.
    /// osv.dev deletes alias groups of more than 32 records (`ALIAS_GROUP_VULN_LIMIT`).
    pub max_cluster_ids: usize,
    /// Longest accepted identifier (id, alias, upstream, related).
    pub max_id_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 * 1024 * 1024,
            max_zip_entry_bytes: 16 * 1024 * 1024,
            max_zip_total_bytes: 16 * 1024 * 1024 * 1024,
            max_zip_entries: 2_000_000,
            max_files_per_source: 5_000_000,
            max_records_per_source: 5_000_000,
            max_dir_depth: 12,
            max_aliases_per_record: 32,
            max_cluster_ids: 64,
            max_id_len: 128,
        }
    }
}
