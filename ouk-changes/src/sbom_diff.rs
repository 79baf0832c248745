//! Component-level difference between the SBOMs of two generations: what the policy calls the
//! "SBOM delta with every release". Components are keyed per SBOM file by their purl without
//! version and qualifiers (else by name), so a version bump is one `changed` row, not a removal
//! and an addition.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Components of one generation: SBOM file name → component key → versions (sorted, a
/// component may be listed at several versions).
pub type ComponentSet = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// A component present on one side only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ComponentEntry {
    /// SBOM file (path under `sbom/` in the generation).
    pub sbom: String,
    /// purl without version and qualifiers, else the component name.
    pub component: String,
    /// Its versions, comma-separated.
    pub version: String,
}

/// A component whose versions differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VersionChange {
    /// SBOM file.
    pub sbom: String,
    /// Component key.
    pub component: String,
    /// Versions before, comma-separated.
    pub from: String,
    /// Versions after, comma-separated.
    pub to: String,
}

/// The SBOM half of a change report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomDelta {
    /// SBOM files only in the newer generation.
    pub sboms_added: Vec<String>,
    /// SBOM files only in the older generation.
    pub sboms_removed: Vec<String>,
    /// SBOM files that could not be read (name and reason); their components are not compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// Components added (including those of added SBOMs).
    pub added: Vec<ComponentEntry>,
    /// Components removed (including those of removed SBOMs).
    pub removed: Vec<ComponentEntry>,
    /// Components whose version changed.
    pub changed: Vec<VersionChange>,
}

fn joined(versions: &BTreeSet<String>) -> String {
    versions.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Key of a component: `pkg:type/namespace/name` without `@version`, `?qualifiers`, `#subpath`.
pub fn component_key(name: &str, purl: Option<&str>) -> String {
    match purl {
        Some(p) if p.starts_with("pkg:") => {
            let end = p.find(['?', '#']).unwrap_or(p.len());
            let p = &p[..end];
            // The version separator is the last `@` after the last `/` (npm scopes are `%40`).
            let slash = p.rfind('/').unwrap_or(0);
            match p[slash..].rfind('@') {
                Some(at) => p[..slash + at].to_owned(),
                None => p.to_owned(),
            }
        }
        _ => name.to_owned(),
    }
}

/// Compares two generations' components. Deterministic: every list is sorted.
pub fn diff_components(before: &ComponentSet, after: &ComponentSet) -> SbomDelta {
    let mut delta = SbomDelta::default();
    let files: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty = BTreeMap::new();
    for file in files {
        let (a, b) = (before.get(file), after.get(file));
        match (a, b) {
            (None, Some(_)) => delta.sboms_added.push(file.clone()),
            (Some(_), None) => delta.sboms_removed.push(file.clone()),
            _ => {}
        }
        let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            match (a.get(key), b.get(key)) {
                (None, Some(v)) => delta.added.push(ComponentEntry {
                    sbom: file.clone(),
                    component: key.clone(),
                    version: joined(v),
                }),
                (Some(v), None) => delta.removed.push(ComponentEntry {
                    sbom: file.clone(),
                    component: key.clone(),
                    version: joined(v),
                }),
                (Some(x), Some(y)) if x != y => delta.changed.push(VersionChange {
                    sbom: file.clone(),
                    component: key.clone(),
                    from: joined(x),
                    to: joined(y),
                }),
                _ => {}
            }
        }
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(entries: &[(&str, &str, &str)]) -> ComponentSet {
        let mut s = ComponentSet::new();
        for (file, key, version) in entries {
            s.entry(file.to_string())
                .or_default()
                .entry(key.to_string())
                .or_default()
                .insert(version.to_string());
        }
        s
    }

    #[test]
    fn keys_drop_version_qualifiers_and_subpath() {
        assert_eq!(
            component_key("x", Some("pkg:maven/org.a/b@1.0?type=jar#sub")),
            "pkg:maven/org.a/b"
        );
        assert_eq!(
            component_key("x", Some("pkg:npm/%40types/node@20.14.10#types/node")),
            "pkg:npm/%40types/node"
        );
        assert_eq!(
            component_key("x", Some("pkg:pypi/requests")),
            "pkg:pypi/requests"
        );
        assert_eq!(component_key("libfoo", None), "libfoo");
    }

    #[test]
    fn added_removed_changed_and_whole_files() {
        let before = set(&[
            ("app.json", "pkg:pypi/requests", "2.30.0"),
            ("app.json", "pkg:pypi/idna", "2.10"),
            ("old.json", "pkg:npm/uuid", "8.3.2"),
        ]);
        let after = set(&[
            ("app.json", "pkg:pypi/requests", "2.31.0"),
            ("app.json", "pkg:pypi/certifi", "2023.11.17"),
            ("new.json", "pkg:npm/uuid", "9.0.0"),
        ]);
        let d = diff_components(&before, &after);
        assert_eq!(d.sboms_added, ["new.json"]);
        assert_eq!(d.sboms_removed, ["old.json"]);
        assert_eq!(
            d.changed,
            [VersionChange {
                sbom: "app.json".into(),
                component: "pkg:pypi/requests".into(),
                from: "2.30.0".into(),
                to: "2.31.0".into()
            }]
        );
        let added: Vec<_> = d.added.iter().map(|c| c.component.as_str()).collect();
        assert_eq!(added, ["pkg:pypi/certifi", "pkg:npm/uuid"]);
        let removed: Vec<_> = d.removed.iter().map(|c| c.component.as_str()).collect();
        assert_eq!(removed, ["pkg:pypi/idna", "pkg:npm/uuid"]);
    }

    #[test]
    fn identical_sets_have_no_delta() {
        let s = set(&[("a.json", "k", "1")]);
        assert_eq!(diff_components(&s, &s), SbomDelta::default());
    }
}
