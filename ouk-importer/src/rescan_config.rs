//! The re-scan settings file read by the post-import hook and the nightly unit
//! (`/etc/ouk/rescan.toml`), so the systemd units stay generic and the site edits one file.
//!
//! ```toml
//! [rescan]
//! sboms = "/var/lib/ouk/sboms"        # required
//! trivy = "/usr/bin/trivy"            # optional: scan with Trivy instead of the built-in matcher
//! trivy_timeout_secs = 600            # optional
//! html = "/var/lib/ouk/status.html"   # optional: rewrite the status page after each re-scan
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Largest settings file read.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// The `[rescan]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescanConfig {
    /// SBOM directory.
    pub sboms: Option<PathBuf>,
    /// Trivy binary.
    pub trivy: Option<PathBuf>,
    /// Seconds one Trivy scan may take.
    pub trivy_timeout_secs: Option<u64>,
    /// Status page to rewrite.
    pub html: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rescan: RescanConfig,
}

/// Reads the settings; `None` when the file does not exist. Unknown keys are refused, so a
/// typo does not silently disable a setting.
pub fn load(path: &Path) -> Result<Option<RescanConfig>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", path, e)),
    };
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io("reading", path, e))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Error::Rescan(format!(
            "{}: larger than {MAX_CONFIG_BYTES} bytes",
            path.display()
        )));
    }
    toml::from_str::<File>(&text)
        .map(|f| Some(f.rescan))
        .map_err(|e| Error::Rescan(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_refuses_typos_and_tolerates_absence() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rescan.toml");
        assert!(load(&p).unwrap().is_none());
        std::fs::write(&p, "[rescan]\nsboms = \"/x\"\ntrivy_timeout_secs = 5\n").unwrap();
        let c = load(&p).unwrap().unwrap();
        assert_eq!(c.sboms.as_deref(), Some(Path::new("/x")));
        assert_eq!(c.trivy_timeout_secs, Some(5));
        std::fs::write(&p, "[rescan]\nsbom = \"/x\"\n").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
