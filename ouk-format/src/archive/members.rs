//! Names of container entries, declared once (mender-artifact's `header-augument` typo is what
//! string literals scattered over a reader lead to).

use crate::member_path::MemberPath;

/// Name of the first entry: the DSSE envelope around the manifest.
pub const MANIFEST_ENTRY: &str = "ouk/manifest.dsse.json";

/// Prefix of every member entry.
pub const MEMBER_PREFIX: &str = "members/";

/// Suffix of every member entry (each member is one zstd stream).
pub const MEMBER_SUFFIX: &str = ".zst";

/// Container entry name of a member: `members/<path>.zst`. At most 8 + 180 + 4 bytes with
/// components of at most 64 bytes, so it always fits a plain ustar header (name + prefix).
pub fn member_entry_name(path: &MemberPath) -> String {
    format!("{MEMBER_PREFIX}{}{MEMBER_SUFFIX}", path.as_str())
}
