//! Names of container entries, declared once (mender-artifact's `header-augument` typo is what
//! string literals scattered over a reader lead to).

use crate::member_path::MemberPath;

/// Name of the first entry: the DSSE envelope around the manifest.
pub const MANIFEST_ENTRY: &str = "ouk/manifest.dsse.json";

/// Prefix of the trust root entries that may precede the manifest (`ouk/trust/<N>.json`).
pub const TRUST_ROOT_ENTRY_PREFIX: &str = "ouk/trust/";

/// Container entry name of the trust root with version `version`.
pub fn trust_root_entry_name(version: u64) -> String {
    format!("{TRUST_ROOT_ENTRY_PREFIX}{version}.json")
}

/// The version named by a trust root entry: decimal, no leading zero, at most 2^53 − 1; `None`
/// for any other name (so one version has exactly one entry name).
pub fn trust_root_entry_version(name: &[u8]) -> Option<u64> {
    let digits = name
        .strip_prefix(TRUST_ROOT_ENTRY_PREFIX.as_bytes())?
        .strip_suffix(b".json")?;
    if digits.is_empty() || digits.len() > 16 || (digits[0] == b'0') {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (v <= crate::limits::MAX_JSON_INTEGER).then_some(v)
}

/// Prefix of every member entry.
pub const MEMBER_PREFIX: &str = "members/";

/// Suffix of every member entry (each member is one zstd stream).
pub const MEMBER_SUFFIX: &str = ".zst";

/// Container entry name of a member: `members/<path>.zst`. At most 8 + 180 + 4 bytes with
/// components of at most 64 bytes, so it always fits a plain ustar header (name + prefix).
pub fn member_entry_name(path: &MemberPath) -> String {
    format!("{MEMBER_PREFIX}{}{MEMBER_SUFFIX}", path.as_str())
}
