//! `state.json`: the store's high-water marks. Written only by write-temp + fsync + rename, so a
//! reader sees the old or the new state, never a torn one; its values only ever go up.

use std::path::Path;

use ouk_format::digest::Sha256;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::Revocation;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsx;

/// `format` value of the current state file layout.
pub const STATE_FORMAT: &str = "ouk-importer-state/1";

/// The anti-rollback and anti-freeze memory of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// The channel this store follows (fixed by the first import).
    pub channel: String,
    /// Highest kit sequence ever imported: the anti-rollback floor. `rollback --to` does not lower it.
    pub highest_sequence: u64,
    /// sha256 of the kit file imported with `highest_sequence` (idempotence and equivocation).
    pub kit_sha256: Sha256,
    /// Generation directory name of that kit.
    pub generation: String,
    /// sha256 of the verified manifest (its deterministic serialisation, as saved in
    /// `.ouk/manifest.json`) of the kit with `highest_sequence`. Kit identity for idempotence and
    /// equivocation: the file digest changes when only unsigned container bytes differ (envelope
    /// JSON formatting, extra signatures, end-of-archive padding), the signed manifest does not.
    /// Absent in stores written before it existed; then only the file digest is compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<Sha256>,
    /// Highest trust-root version used (a trust root older than this is refused).
    pub trust_root_version: u64,
    /// Latest trustworthy time seen: the newest `created_at` of any imported kit. The importer
    /// never uses a clock earlier than this, so setting the system clock back cannot make an
    /// expired kit or trust root look fresh (tough's `system_time` high-water mark).
    pub time_high_water: Timestamp,
    /// Keys taken out of a role by the trust roots this store accepted (newest last, at most
    /// [`MAX_REVOCATIONS`]): a kit signed only by one is refused as `revoked_key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<Revocation>,
}

/// Most revocations remembered; the oldest are forgotten first (they still do not count: the
/// key is simply no longer in the role; only the error's name is lost).
pub const MAX_REVOCATIONS: usize = 1024;

impl State {
    /// Load `<store>/state.json`; `None` for a store that never imported anything. Read through
    /// [`fsx::read_capped`], so a planted link or hard link is refused rather than trusted as
    /// our high-water marks.
    pub fn load(store: &Path) -> Result<Option<State>> {
        let path = store.join("state.json");
        let Some(bytes) = fsx::read_capped(&path, 64 * 1024)? else {
            return Ok(None);
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| Error::StoreDamaged {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if state.format != STATE_FORMAT {
            return Err(Error::StoreDamaged {
                path,
                reason: format!("unknown state format {:?}", state.format),
            });
        }
        Ok(Some(state))
    }

    /// Persist atomically. The temporary file is created `O_EXCL|O_NOFOLLOW` and renamed over
    /// `state.json`, which replaces a planted link instead of writing through it.
    pub fn save(&self, store: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|_| Error::Internal("state serialisation failed"))?;
        bytes.push(b'\n');
        fsx::write_atomic(&store.join("state.json"), &bytes)
    }
}
