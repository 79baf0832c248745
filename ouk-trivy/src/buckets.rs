//! The root bucket names Trivy reads, shared by the export (which writes them) and the
//! validator (which requires them).

/// Root bucket with one JSON value per vulnerability id. Trivy panics on the first match when it
/// is missing, so it is always created, even empty.
pub const VULNERABILITY_BUCKET: &str = "vulnerability";
/// Root bucket mapping each advisory root-bucket name to its data-source JSON (`{"ID":…,"Name":…}`).
pub const DATA_SOURCE_BUCKET: &str = "data-source";
/// The data-source id our buckets carry; Trivy shows it as `DataSource.ID` and keys
/// `VendorSeverity`/`CVSS` by it.
pub const DATA_SOURCE_ID: &str = "ouk";

/// Root buckets an installed DB must have: Trivy panics on the first match without
/// `vulnerability`, and every DB our export writes (and every upstream DB) has `data-source`.
pub const REQUIRED_BUCKETS: [&str; 2] = [VULNERABILITY_BUCKET, DATA_SOURCE_BUCKET];
