//! Size limits. Every input here is untrusted, so every size has a finite cap; each field says
//! which attack it stops.

/// Limits for [`crate::export_trivy_db`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportLimits {
    /// Longest accepted NDJSON line. Stops one endless line from exhausting memory.
    pub max_record_bytes: usize,
    /// Most records read. Stops an endless snapshot from filling the disk.
    pub max_records: u64,
    /// Most skipped records listed one by one in the summary (the count is always exact).
    /// Stops a snapshot full of bad records from bloating the report.
    pub max_reported_skips: usize,
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits {
            max_record_bytes: 8 << 20,
            max_records: 5_000_000,
            max_reported_skips: 200,
        }
    }
}

/// Limits for reading a `db.tar.gz` (upstream validation and import).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbLimits {
    /// Largest `trivy.db`. The official DB is below 1 GiB unpacked; a gzip bomb stops here.
    pub max_db_bytes: u64,
    /// Largest `metadata.json` (real ones are about 150 bytes).
    pub max_metadata_bytes: u64,
    /// Most tar headers read (including PAX/GNU extension headers). Stops header floods.
    pub max_entries: usize,
}

impl Default for DbLimits {
    fn default() -> Self {
        DbLimits {
            max_db_bytes: 8 << 30,
            max_metadata_bytes: 64 << 10,
            max_entries: 16,
        }
    }
}
