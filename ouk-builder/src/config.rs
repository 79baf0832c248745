//! `kit.toml`: everything the `build` flags can say, declared in a file for CI. Flags given on
//! the command line override the file. Relative paths in the file are relative to the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::BuildError;

/// The `[kit]` file. Every field is optional; see `testdata/kit.toml.example` for a commented one.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KitConfig {
    /// Release channel.
    pub channel: Option<String>,
    /// Anti-rollback sequence.
    pub sequence: Option<u64>,
    /// Lifetime (`30d`, `12h`) or an absolute `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires: Option<String>,
    /// Builder id recorded in the manifest and provenance.
    pub builder_id: Option<String>,
    /// Output kit path.
    pub out: Option<PathBuf>,
    /// Kit signing keys.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
    /// Attestation signing keys.
    #[serde(default)]
    pub attestation_keys: Vec<PathBuf>,
    /// Feed sources as `KIND=PATH`.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Payload directories.
    #[serde(default)]
    pub payload: Vec<PathBuf>,
    /// User SBOMs as `[MEMBER=]PATH`.
    #[serde(default)]
    pub sboms: Vec<String>,
    /// Accept an unreadable/empty required source (recorded in the manifest).
    pub allow_partial: Option<bool>,
    /// Include GHSA `unreviewed/` advisories.
    pub include_unreviewed: Option<bool>,
    /// Pack this upstream Trivy `db.tar.gz` instead of exporting one.
    pub trivy_db: Option<PathBuf>,
    /// Leave the Trivy DB out.
    pub no_trivy: Option<bool>,
    /// Previous kit in the channel (its sha256 is chained).
    pub previous_kit: Option<PathBuf>,
    /// Trust root files the kit carries (rotation chain, oldest first).
    #[serde(default)]
    pub trust_chain: Vec<PathBuf>,
    /// Cut the kit into parts of this size (`4095MiB`; 1 MiB to 4 GiB − 1) for FAT32 media.
    pub split: Option<String>,
    /// With `split`: keep the whole kit file as well.
    pub keep_whole: Option<bool>,
}

impl KitConfig {
    /// The `split` size in bytes, checked like `--split`.
    pub fn split_bytes(&self) -> Result<Option<u64>, BuildError> {
        let Some(text) = &self.split else {
            return Ok(None);
        };
        let size = crate::split::parse_size(text)
            .map_err(|e| BuildError::Config(format!("split = {text:?}: {e}")))?;
        crate::split::check_part_size(size)?;
        Ok(Some(size))
    }
}

impl KitConfig {
    /// Load and resolve relative paths against the file's directory.
    pub fn load(path: &Path) -> Result<KitConfig, BuildError> {
        let text = std::fs::read_to_string(path).map_err(BuildError::io(path))?;
        let mut cfg: KitConfig = toml::from_str(&text)
            .map_err(|e| BuildError::Config(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        cfg.out.iter_mut().for_each(fix);
        cfg.keys.iter_mut().for_each(fix);
        cfg.attestation_keys.iter_mut().for_each(fix);
        cfg.payload.iter_mut().for_each(fix);
        cfg.trivy_db.iter_mut().for_each(fix);
        cfg.previous_kit.iter_mut().for_each(fix);
        cfg.trust_chain.iter_mut().for_each(fix);
        let fix_spec = |s: &mut String| {
            if let Some((k, v)) = s.split_once('=') {
                let p = Path::new(v);
                if p.is_relative() {
                    *s = format!("{k}={}", base.join(p).display());
                }
            } else if Path::new(s.as_str()).is_relative() {
                *s = base.join(&*s).display().to_string();
            }
        };
        cfg.sources.iter_mut().for_each(fix_spec);
        for s in cfg.sboms.iter_mut() {
            match s.split_once('=') {
                Some(_) => fix_spec(s),
                None if Path::new(s.as_str()).is_relative() => {
                    *s = base.join(&*s).display().to_string()
                }
                None => {}
            }
        }
        Ok(cfg)
    }
}

/// Parse `30d`, `12h`, `90m`, `3600s`, `2w` into seconds.
pub fn parse_duration_secs(s: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    i64::try_from(d.as_secs()).map_err(|_| format!("duration {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("30d").unwrap(), 30 * 86400);
        assert_eq!(parse_duration_secs("12h").unwrap(), 12 * 3600);
        assert!(parse_duration_secs("soon").is_err());
    }

    #[test]
    fn toml_paths_resolve_relative_to_file_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kit.toml");
        std::fs::write(
            &path,
            "channel = \"stable\"\nsequence = 4\nsources = [\"osv=feeds/osv\"]\nkeys = [\"k.key\"]\n",
        )
        .unwrap();
        let cfg = KitConfig::load(&path).unwrap();
        assert_eq!(cfg.sequence, Some(4));
        assert_eq!(cfg.keys[0], dir.path().join("k.key"));
        assert_eq!(
            cfg.sources[0],
            format!("osv={}", dir.path().join("feeds/osv").display())
        );
        std::fs::write(&path, "chanel = \"x\"\n").unwrap();
        assert!(KitConfig::load(&path).is_err());
    }

    #[test]
    fn split_size_is_read_and_checked_like_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kit.toml");
        std::fs::write(&path, "split = \"4095MiB\"\nkeep_whole = true\n").unwrap();
        let cfg = KitConfig::load(&path).unwrap();
        assert_eq!(cfg.split_bytes().unwrap(), Some(4095 << 20));
        assert_eq!(cfg.keep_whole, Some(true));
        for bad in ["4GiB", "12KiB", "lots"] {
            std::fs::write(&path, format!("split = \"{bad}\"\n")).unwrap();
            let cfg = KitConfig::load(&path).unwrap();
            assert!(cfg.split_bytes().is_err(), "{bad} accepted");
        }
    }
}
