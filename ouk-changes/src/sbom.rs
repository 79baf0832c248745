//! Reads the site's SBOMs (CycloneDX JSON 1.2–1.6, SPDX JSON 2.2/2.3, the formats Trivy reads)
//! into a flat, sorted component list, so the matcher can tell which SBOMs an advisory affects.
//!
//! SBOMs come from outside the air gap's trust boundary (any team can drop one in), so every
//! read is bounded: the file size is checked before reading and enforced while reading, the
//! component count and the nesting depth of CycloneDX `components` are capped, and each error
//! names the file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Most components one SBOM may list (a large monorepo image has tens of thousands).
pub const MAX_COMPONENTS: usize = 200_000;

/// Deepest nesting of CycloneDX `components` inside `components` that is followed.
pub const MAX_DEPTH: usize = 32;

/// Which SBOM standard a file follows; detected from the content, never the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SbomFormat {
    /// CycloneDX JSON (`"bomFormat": "CycloneDX"`), spec versions 1.2 to 1.6.
    CycloneDx,
    /// SPDX JSON (`"spdxVersion": "SPDX-2.2"` or `"SPDX-2.3"`).
    Spdx,
}

/// One package of an SBOM: what the matcher looks up (by purl) and what a report shows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Component {
    /// The component's name as the SBOM gives it (CycloneDX `name`, SPDX `name`).
    pub name: String,
    /// The component's version (CycloneDX `version`, SPDX `versionInfo`; else the purl's).
    pub version: String,
    /// The package URL, if the SBOM has one; components without it cannot be matched
    /// (Trivy needs the purl too).
    pub purl: Option<String>,
}

/// One SBOM file, reduced to what matching and reporting need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbom {
    /// The standard the file follows.
    pub format: SbomFormat,
    /// A name for reports: the SPDX document `name`, the CycloneDX `metadata.component.name`,
    /// else the file name.
    pub name: String,
    /// Every component, sorted and without exact duplicates, so output is deterministic.
    pub components: Vec<Component>,
}

/// Why an SBOM could not be read. Each variant names the file, as a directory of SBOMs is
/// reported file by file.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// The file (or directory) could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is larger than the caller's cap.
    #[error("{}: larger than the limit of {max} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap.
        max: u64,
    },
    /// The file is not valid JSON, or a field has the wrong type.
    #[error("{}: invalid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error (with line and column).
        source: serde_json::Error,
    },
    /// Neither `bomFormat: "CycloneDX"` nor `spdxVersion` is present.
    #[error("{}: not a CycloneDX or SPDX JSON document", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A CycloneDX or SPDX version this reader does not support.
    #[error("{}: unsupported {format:?} version {version:?}", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The detected format.
        format: SbomFormat,
        /// The version the document declares.
        version: String,
    },
    /// More than [`MAX_COMPONENTS`] components.
    #[error("{}: more than {max} components", path.display())]
    TooManyComponents {
        /// The file.
        path: PathBuf,
        /// The cap.
        max: usize,
    },
    /// CycloneDX `components` nested deeper than [`MAX_DEPTH`].
    #[error("{}: components nested deeper than {max} levels", path.display())]
    TooDeep {
        /// The file.
        path: PathBuf,
        /// The cap.
        max: usize,
    },
}

/// Every field either format needs; unknown fields are skipped by serde without being kept.
#[derive(Deserialize)]
struct RawDoc {
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(rename = "specVersion")]
    spec_version: Option<String>,
    metadata: Option<CdxMetadata>,
    #[serde(default)]
    components: Option<Vec<CdxComponent>>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<String>,
    name: Option<String>,
    #[serde(default)]
    packages: Option<Vec<SpdxPackage>>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    component: Option<CdxMetaComponent>,
}

#[derive(Deserialize)]
struct CdxMetaComponent {
    name: Option<String>,
}

#[derive(Deserialize)]
struct CdxComponent {
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    components: Option<Vec<CdxComponent>>,
}

#[derive(Deserialize)]
struct SpdxPackage {
    name: Option<String>,
    #[serde(rename = "versionInfo")]
    version_info: Option<String>,
    #[serde(rename = "externalRefs", default)]
    external_refs: Option<Vec<SpdxRef>>,
}

#[derive(Deserialize)]
struct SpdxRef {
    #[serde(rename = "referenceType")]
    reference_type: Option<String>,
    #[serde(rename = "referenceLocator")]
    reference_locator: Option<String>,
}

const CDX_VERSIONS: [&str; 5] = ["1.2", "1.3", "1.4", "1.5", "1.6"];
const SPDX_VERSIONS: [&str; 2] = ["SPDX-2.2", "SPDX-2.3"];

/// Reads one SBOM file of at most `max_bytes` bytes. The size is checked from the metadata
/// before reading and again while reading (the file may grow in between).
pub fn read_sbom(path: &Path, max_bytes: u64) -> Result<Sbom, SbomError> {
    let io = |source| SbomError::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || SbomError::TooLarge {
        path: path.to_path_buf(),
        max: max_bytes,
    };
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    parse_sbom(path, &bytes)
}

/// Parses SBOM bytes; `path` names the source in errors and gives the fallback name.
fn parse_sbom(path: &Path, bytes: &[u8]) -> Result<Sbom, SbomError> {
    // serde_json's own recursion limit (128) guards the stack against deeply nested input.
    let doc: RawDoc = serde_json::from_slice(bytes).map_err(|source| SbomError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let mut components = Vec::new();
    let (format, name) = if doc.bom_format.as_deref() == Some("CycloneDX") {
        let version = doc.spec_version.unwrap_or_default();
        if !CDX_VERSIONS.contains(&version.as_str()) {
            return Err(SbomError::UnsupportedVersion {
                path: path.to_path_buf(),
                format: SbomFormat::CycloneDx,
                version,
            });
        }
        // metadata.component is the subject of the SBOM, not one of its packages: Trivy does
        // not scan it for vulnerabilities either.
        let name = doc.metadata.and_then(|m| m.component).and_then(|c| c.name);
        walk_cdx(path, doc.components.unwrap_or_default(), 0, &mut components)?;
        (SbomFormat::CycloneDx, nonempty(name))
    } else if let Some(version) = doc.spdx_version {
        if !SPDX_VERSIONS.contains(&version.as_str()) {
            return Err(SbomError::UnsupportedVersion {
                path: path.to_path_buf(),
                format: SbomFormat::Spdx,
                version,
            });
        }
        for p in doc.packages.unwrap_or_default() {
            let purl = p
                .external_refs
                .unwrap_or_default()
                .into_iter()
                .find(|r| r.reference_type.as_deref() == Some("purl"))
                .and_then(|r| r.reference_locator);
            push(path, &mut components, p.name, p.version_info, purl)?;
        }
        (SbomFormat::Spdx, nonempty(doc.name))
    } else {
        return Err(SbomError::UnknownFormat {
            path: path.to_path_buf(),
        });
    };
    components.sort();
    components.dedup();
    Ok(Sbom {
        format,
        name: name.unwrap_or(file_name),
        components,
    })
}

fn walk_cdx(
    path: &Path,
    list: Vec<CdxComponent>,
    depth: usize,
    out: &mut Vec<Component>,
) -> Result<(), SbomError> {
    if depth >= MAX_DEPTH {
        return Err(SbomError::TooDeep {
            path: path.to_path_buf(),
            max: MAX_DEPTH,
        });
    }
    for c in list {
        push(path, out, c.name, c.version, c.purl)?;
        if let Some(children) = c.components {
            walk_cdx(path, children, depth + 1, out)?;
        }
    }
    Ok(())
}

/// Adds a component, filling a missing version from the purl; components with neither a name
/// nor a purl identify nothing and are dropped.
fn push(
    path: &Path,
    out: &mut Vec<Component>,
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
) -> Result<(), SbomError> {
    let purl = purl.filter(|p| !p.trim().is_empty());
    let parsed = purl.as_deref().and_then(crate::purl::parse_purl);
    let name = name
        .filter(|n| !n.is_empty())
        .or_else(|| parsed.as_ref().map(|p| p.name.clone()));
    let Some(name) = name else {
        return Ok(());
    };
    let version = version
        .filter(|v| !v.is_empty())
        .or_else(|| parsed.and_then(|p| p.version))
        .unwrap_or_default();
    if out.len() >= MAX_COMPONENTS {
        return Err(SbomError::TooManyComponents {
            path: path.to_path_buf(),
            max: MAX_COMPONENTS,
        });
    }
    out.push(Component {
        name,
        version,
        purl,
    });
    Ok(())
}

/// The result of reading one file of an SBOM directory: its path relative to the directory
/// (with `/` separators) and the SBOM or the reason it could not be read.
pub type SbomDirEntry = (String, Result<Sbom, SbomError>);

/// Reads every `*.json` file below `dir` (recursively, in sorted order, symlinks skipped so a
/// link cannot pull in files from outside). A bad file is reported in its entry and does not
/// stop the others; only an unreadable `dir` itself is an error.
pub fn read_sbom_dir(dir: &Path, max_bytes: u64) -> Result<Vec<SbomDirEntry>, SbomError> {
    let meta = std::fs::symlink_metadata(dir).map_err(|source| SbomError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(SbomError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let source = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("directory walk failed"));
                if path == dir {
                    return Err(SbomError::Io { path, source });
                }
                out.push((relative(dir, &path), Err(SbomError::Io { path, source })));
                continue;
            }
        };
        let is_json = entry
            .path()
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if !entry.file_type().is_file() || !is_json {
            continue;
        }
        out.push((
            relative(dir, entry.path()),
            read_sbom(entry.path(), max_bytes),
        ));
    }
    Ok(out)
}

fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Sbom, SbomError> {
        parse_sbom(Path::new("/x/test.json"), json.as_bytes())
    }

    #[test]
    fn detects_cyclonedx_by_content_and_walks_nested_components() {
        let s = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.4",
                "metadata":{"component":{"name":"app","version":"1","purl":"pkg:npm/app@1"}},
                "components":[
                  {"name":"b","version":"2","purl":"pkg:npm/b@2",
                   "components":[{"name":"a","version":"1","purl":"pkg:npm/a@1"}]},
                  {"name":"nopurl","version":"3"},
                  {"name":"b","version":"2","purl":"pkg:npm/b@2"}]}"#,
        )
        .unwrap();
        assert_eq!(s.format, SbomFormat::CycloneDx);
        assert_eq!(s.name, "app");
        let names: Vec<_> = s
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.version.as_str(), c.purl.is_some()))
            .collect();
        // Sorted, the duplicate b@2 removed, metadata.component left out.
        assert_eq!(
            names,
            [("a", "1", true), ("b", "2", true), ("nopurl", "3", false)]
        );
    }

    #[test]
    fn detects_spdx_and_takes_the_purl_ref() {
        let s = parse(
            r#"{"spdxVersion":"SPDX-2.2","name":"doc","packages":[
                {"name":"jena","versionInfo":"3.12.0","externalRefs":[
                  {"referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:x:y:1"},
                  {"referenceType":"purl","referenceLocator":"pkg:maven/org.apache.jena/apache-jena@3.12.0"}]},
                {"name":"glibc"}]}"#,
        )
        .unwrap();
        assert_eq!(s.format, SbomFormat::Spdx);
        assert_eq!(s.name, "doc");
        assert_eq!(
            s.components[1].purl.as_deref(),
            Some("pkg:maven/org.apache.jena/apache-jena@3.12.0")
        );
        assert_eq!(s.components[0].name, "glibc");
        assert_eq!(s.components[0].version, "");
    }

    #[test]
    fn version_falls_back_to_the_purl_and_name_to_the_file() {
        let s = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"purl":"pkg:cargo/time@0.1.43"}]}"#,
        )
        .unwrap();
        assert_eq!(s.name, "test.json");
        assert_eq!(s.components[0].name, "time");
        assert_eq!(s.components[0].version, "0.1.43");
    }

    #[test]
    fn refuses_unknown_formats_and_versions() {
        assert!(matches!(
            parse(r#"{"components":[]}"#),
            Err(SbomError::UnknownFormat { .. })
        ));
        assert!(matches!(
            parse(r#"{"bomFormat":"SomethingElse","specVersion":"1.5"}"#),
            Err(SbomError::UnknownFormat { .. })
        ));
        assert!(matches!(
            parse(r#"{"bomFormat":"CycloneDX","specVersion":"1.1"}"#),
            Err(SbomError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            parse(r#"{"spdxVersion":"SPDX-3.0"}"#),
            Err(SbomError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn malformed_input_is_an_error_naming_the_file() {
        for bad in [
            "",
            "{",
            "[1,2]",
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":5}]}"#,
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":{"name":"x"}}"#,
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, SbomError::Json { .. }), "{bad}: {err}");
            assert!(err.to_string().starts_with("/x/test.json: "), "{err}");
        }
        // Nesting past serde_json's recursion limit is refused, not a stack overflow.
        let deep = format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":{}"#,
            "[{\"name\":\"x\",\"components\":".repeat(5000)
        );
        assert!(matches!(parse(&deep), Err(SbomError::Json { .. })));
    }

    #[test]
    fn component_nesting_is_capped() {
        let mut json = String::from(r#"{"name":"leaf"}"#);
        for _ in 0..(MAX_DEPTH + 1) {
            json = format!(r#"{{"name":"n","components":[{json}]}}"#);
        }
        let doc =
            format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{json}]}}"#);
        assert!(matches!(parse(&doc), Err(SbomError::TooDeep { .. })));
    }

    #[test]
    fn size_cap_is_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.json");
        let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#;
        std::fs::write(&p, doc).unwrap();
        assert!(read_sbom(&p, doc.len() as u64).is_ok());
        let err = read_sbom(&p, doc.len() as u64 - 1).unwrap_err();
        assert!(matches!(err, SbomError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("big.json"));
        let err = read_sbom(&dir.path().join("missing.json"), 100).unwrap_err();
        assert!(matches!(err, SbomError::Io { .. }));
    }

    #[test]
    fn directory_reports_each_file_and_skips_symlinks_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        let good = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","version":"1","purl":"pkg:npm/a@1"}]}"#;
        std::fs::write(root.join("sub/b.json"), good).unwrap();
        std::fs::write(root.join("a.json"), "not json").unwrap();
        std::fs::write(root.join("notes.txt"), good).unwrap();
        std::os::unix::fs::symlink(root.join("sub/b.json"), root.join("link.json")).unwrap();
        let got = read_sbom_dir(root, 1 << 20).unwrap();
        let names: Vec<_> = got.iter().map(|(n, r)| (n.as_str(), r.is_ok())).collect();
        assert_eq!(names, [("a.json", false), ("sub/b.json", true)]);
        assert!(read_sbom_dir(&root.join("nope"), 1).is_err());
    }
}
