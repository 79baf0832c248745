//! The components a generation's SBOMs list (`sbom/*.json` members: the kit SBOM and the SBOMs
//! the builder was given), keyed for the SBOM delta of the change report.

use std::fs;
use std::path::Path;

use ouk_changes::sbom::{read_sbom_capped, SbomError};
use ouk_changes::sbom_diff::{component_key, ComponentSet};

use crate::error::{Error, Result};

/// Largest SBOM member read for the delta (the builder accepts SBOMs up to this size too).
pub const MAX_SBOM_BYTES: u64 = 64 * 1024 * 1024;
/// Most components compared per generation, over all its SBOMs: the import's memory must not
/// depend on what a (possibly compromised) builder signed. Beyond it an SBOM is listed as not
/// compared, with the reason.
pub const MAX_COMPONENTS_PER_GENERATION: usize = 50_000;

/// Components of every `sbom/*.json` in a generation, and the files that could not be read
/// (name: reason). A missing `sbom/` directory is an empty set.
pub fn component_set(generation_dir: &Path) -> Result<(ComponentSet, Vec<String>)> {
    let dir = generation_dir.join("sbom");
    let mut set = ComponentSet::new();
    let mut unreadable = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((set, unreadable)),
        Err(e) => return Err(Error::io("listing SBOMs", dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing SBOMs", &dir, e))?;
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("listing SBOMs", entry.path(), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if ft.is_file() && name.ends_with(".json") {
            names.push(name);
        }
    }
    names.sort();
    let mut budget = MAX_COMPONENTS_PER_GENERATION;
    for name in names {
        match read_sbom_capped(&dir.join(&name), MAX_SBOM_BYTES, budget) {
            Ok(sbom) => {
                budget -= sbom.components.len().min(budget);
                let components = set.entry(format!("sbom/{name}")).or_default();
                for c in sbom.components {
                    components
                        .entry(component_key(&c.name, c.purl.as_deref()))
                        .or_default()
                        .insert(c.version);
                }
            }
            Err(e @ SbomError::TooManyComponents { .. }) => unreadable.push(format!(
                "sbom/{name}: {e} (the change report compares at most \
                 {MAX_COMPONENTS_PER_GENERATION} components per generation)"
            )),
            Err(e) => unreadable.push(format!("sbom/{name}: {e}")),
        }
    }
    Ok((set, unreadable))
}
