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

/// Limits for reading a `db.tar.gz` and validating its Bolt file (upstream validation and
/// import). The expanded size the signed manifest declares is passed separately, as it differs
/// per kit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbLimits {
    /// Largest `trivy.db`. The official DB is below 1 GiB unpacked; a gzip bomb stops here even
    /// when the declared expanded size is larger.
    pub max_db_bytes: u64,
    /// Largest `metadata.json` (real ones are about 150 bytes).
    pub max_metadata_bytes: u64,
    /// Most tar headers read (including PAX/GNU extension headers). Stops header floods.
    pub max_entries: usize,
    /// Largest Bolt page with its overflow run held in memory at once. Stops one page that
    /// claims a huge overflow from exhausting memory (real values are far below 1 MiB).
    pub max_page_span_bytes: u64,
    /// Deepest B+tree inside one bucket (branch levels + 1). A real tree of 2^32 pages is
    /// about 10 levels; stops deep chains of branch pages.
    pub max_tree_depth: u32,
    /// Deepest bucket nesting (Trivy uses 2). Stops buckets nested to exhaust the walk.
    pub max_bucket_depth: u32,
    /// Most branch and leaf elements checked in total. Bounds the validation's work.
    pub max_elements: u64,
    /// Most page references waiting to be visited at once (24 bytes each). A real DB keeps
    /// about depth × fan-out pending (a few thousand); a crafted one could make every page of
    /// an 8 GiB file pending at once (~48 MiB): this keeps the walk's memory fixed.
    pub max_pending_pages: u64,
}

impl Default for DbLimits {
    fn default() -> Self {
        DbLimits {
            max_db_bytes: 8 << 30,
            max_metadata_bytes: 64 << 10,
            max_entries: 16,
            max_page_span_bytes: 8 << 20,
            max_tree_depth: 32,
            max_bucket_depth: 8,
            max_elements: 200_000_000,
            max_pending_pages: 1 << 19,
        }
    }
}
