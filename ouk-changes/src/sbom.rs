//! Reads the site's SBOMs (CycloneDX JSON 1.2–1.7, SPDX JSON 2.2/2.3, the formats Trivy reads,
//! and SPDX 3 JSON-LD, which current generators write and Trivy does not read yet) into a flat,
//! sorted component list, so the matcher can tell which SBOMs an advisory affects.
//!
//! SBOMs come from outside the air gap's trust boundary (any team can drop one in), so every
//! read is bounded: the file size is checked before reading and enforced while reading, the
//! component count and the nesting depth of CycloneDX `components` are capped, and each error
//! names the file.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::change_report::FirstN;
use crate::record_facts::StrOrIgnore;

/// Most components one SBOM may list (a large monorepo image has tens of thousands).
pub const MAX_COMPONENTS: usize = 200_000;

/// Deepest nesting of CycloneDX `components` inside `components` that is followed.
pub const MAX_DEPTH: usize = 32;

/// Which SBOM standard a file follows; detected from the content, never the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SbomFormat {
    /// CycloneDX JSON (`"bomFormat": "CycloneDX"`), spec versions 1.2 to 1.7.
    CycloneDx,
    /// SPDX JSON (`"spdxVersion": "SPDX-2.2"` or `"SPDX-2.3"`).
    Spdx,
    /// SPDX 3 JSON-LD (an `@context` of `https://spdx.org/rdf/3.…`): its `software_Package`
    /// elements. cdxgen's `cdx-convert` and Yocto write it; Trivy 0.59 does not read it.
    Spdx3,
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
    /// For a distribution package, the source package it was built from, when the SBOM says
    /// (Trivy's `aquasecurity:trivy:Src*` CycloneDX properties or SPDX `sourceInfo`): advisories
    /// of Debian, Ubuntu and Alpine name source packages and versions.
    pub source: Option<SourcePackage>,
}

/// The source package of a binary distribution package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourcePackage {
    /// Source package name (`openssl` for `libssl3`).
    pub name: String,
    /// Source version, with the epoch when there is one (`1:1.2.13.dfsg-1`).
    pub version: Option<String>,
}

/// Longest source name or version taken from an SBOM; longer ones are not real and are ignored.
const MAX_SOURCE_FIELD: usize = 256;

impl SourcePackage {
    /// From Trivy's CycloneDX properties `SrcName`, `SrcEpoch`, `SrcVersion`, `SrcRelease`.
    fn from_trivy_properties(props: &TrivySource) -> Option<SourcePackage> {
        let name = props.name.clone().filter(|n| source_field_ok(n))?;
        let version = props
            .version
            .as_ref()
            .filter(|v| source_field_ok(v))
            .map(|v| {
                let mut out = String::new();
                if let Some(e) = props.epoch.as_ref().filter(|e| !e.is_empty() && *e != "0") {
                    out.push_str(e);
                    out.push(':');
                }
                out.push_str(v);
                if let Some(r) = props.release.as_ref().filter(|r| !r.is_empty()) {
                    out.push('-');
                    out.push_str(r);
                }
                out
            });
        Some(SourcePackage { name, version })
    }

    /// From SPDX `sourceInfo` as Trivy writes it: `built package from: <name> <version>`.
    fn from_spdx_source_info(info: &str) -> Option<SourcePackage> {
        let rest = info.trim().strip_prefix("built package from:")?.trim();
        let (name, version) = match rest.split_once(' ') {
            Some((n, v)) => (n, Some(v.trim().to_string())),
            None => (rest, None),
        };
        if !source_field_ok(name) || version.as_deref().is_some_and(|v| !source_field_ok(v)) {
            return None;
        }
        Some(SourcePackage {
            name: name.to_string(),
            version,
        })
    }
}

fn source_field_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SOURCE_FIELD
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Trivy's source-package properties of one CycloneDX component.
#[derive(Default)]
struct TrivySource {
    name: Option<String>,
    epoch: Option<String>,
    version: Option<String>,
    release: Option<String>,
}

/// CycloneDX `properties` read: Trivy's source-package ones kept, the rest skipped, at most
/// [`MAX_PROPERTIES`] looked at.
struct CdxProperties(TrivySource);

/// Properties looked at per component.
const MAX_PROPERTIES: usize = 256;

impl<'de> Deserialize<'de> for CdxProperties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Property {
            name: Option<String>,
            value: Option<String>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CdxProperties;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of properties")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CdxProperties, A::Error> {
                let mut src = TrivySource::default();
                let mut seen = 0usize;
                while let Some(p) = seq.next_element::<Property>()? {
                    seen += 1;
                    if seen > MAX_PROPERTIES {
                        continue;
                    }
                    let slot = match p.name.as_deref() {
                        Some("aquasecurity:trivy:SrcName") => &mut src.name,
                        Some("aquasecurity:trivy:SrcEpoch") => &mut src.epoch,
                        Some("aquasecurity:trivy:SrcVersion") => &mut src.version,
                        Some("aquasecurity:trivy:SrcRelease") => &mut src.release,
                        _ => continue,
                    };
                    *slot = p.value;
                }
                Ok(CdxProperties(src))
            }
        }
        d.deserialize_seq(V)
    }
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
    /// The operating system the SBOM describes, when it names exactly one (a CycloneDX component
    /// of type `operating-system`, an SPDX package of purpose `OPERATING-SYSTEM`): Trivy takes the
    /// distribution release from it, so a distribution package whose purl has no `distro`
    /// qualifier takes it from here too.
    pub os: Option<OperatingSystem>,
}

/// An operating system named by an SBOM (`debian` `12.4`, `ubuntu` `22.04`, `alpine` `3.19.1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperatingSystem {
    /// Its name, as the SBOM gives it (Trivy, syft and cdxgen write the distribution's ID).
    pub name: String,
    /// Its version.
    pub version: String,
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
    /// Neither `bomFormat: "CycloneDX"`, nor `spdxVersion`, nor an SPDX 3 `@context` is present.
    #[error("{}: not a CycloneDX or SPDX JSON document", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A JSON document a scanner or SBOM tool writes that is not CycloneDX or SPDX (syft's own
    /// format, a Trivy report): named with what to write instead.
    #[error("{}: {what}, not a CycloneDX or SPDX document; {instead}", path.display())]
    OtherToolFormat {
        /// The file.
        path: PathBuf,
        /// What the file is.
        what: &'static str,
        /// How to get an SBOM this reader reads.
        instead: &'static str,
    },
    /// An SBOM in an encoding this reader does not read (SPDX tag-value, RDF or YAML,
    /// CycloneDX XML): named so it is not silently left out of a re-scan.
    #[error("{}: {encoding} is not read; convert it to {want} JSON", path.display())]
    UnsupportedEncoding {
        /// The file.
        path: PathBuf,
        /// What the file name says it is.
        encoding: &'static str,
        /// The JSON format to convert it to.
        want: &'static str,
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

/// Reads one SBOM file of at most `max_bytes` bytes and [`MAX_COMPONENTS`] components.
pub fn read_sbom(path: &Path, max_bytes: u64) -> Result<Sbom, SbomError> {
    read_sbom_capped(path, max_bytes, MAX_COMPONENTS)
}

/// Reads one SBOM file with the caller's caps. The document is parsed as it is read (never held
/// whole, never as a JSON tree): components are flattened into the result one at a time, and
/// the component cap is enforced as they arrive, so memory is bounded by the caps, not by the
/// file (a 64 MiB SBOM of a million tiny components is refused at the cap, not parsed into
/// hundreds of MiB first). The size is checked from the metadata and again while reading.
pub fn read_sbom_capped(
    path: &Path,
    max_bytes: u64,
    max_components: usize,
) -> Result<Sbom, SbomError> {
    let io = |source| SbomError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.len() > max_bytes {
        return Err(SbomError::TooLarge {
            path: path.to_path_buf(),
            max: max_bytes,
        });
    }
    let mut reader = CountingReader {
        inner: BufReader::with_capacity(1 << 16, file.take(max_bytes.saturating_add(1))),
        read: 0,
    };
    let result = parse_from(path, &mut reader, max_components);
    if reader.read > max_bytes {
        return Err(SbomError::TooLarge {
            path: path.to_path_buf(),
            max: max_bytes,
        });
    }
    result
}

/// Parses a document as it is read; `path` names it in errors and gives the fallback name.
fn parse_from<R: Read>(path: &Path, reader: R, max_components: usize) -> Result<Sbom, SbomError> {
    let mut state = State {
        path,
        max_components,
        cdx: Vec::new(),
        spdx: Vec::new(),
        spdx3: Vec::new(),
        os: Vec::new(),
        failure: None,
    };
    let parsed = {
        // serde_json's own recursion limit (128) guards the stack against deeply nested input.
        let mut de = serde_json::Deserializer::from_reader(reader);
        DocSeed(&mut state)
            .deserialize(&mut de)
            .and_then(|doc| de.end().map(|()| doc))
    };
    if let Some(f) = state.failure.take() {
        return Err(f);
    }
    let head = parsed.map_err(|source| SbomError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    finish(path, head, state)
}

#[cfg(test)]
fn parse_sbom(path: &Path, bytes: &[u8]) -> Result<Sbom, SbomError> {
    parse_from(path, bytes, MAX_COMPONENTS)
}

/// Counts the bytes read, to tell "over the size cap" from "truncated JSON".
struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Where components go while the document streams, and why it stopped, if a cap did.
struct State<'p> {
    path: &'p Path,
    max_components: usize,
    cdx: Vec<Component>,
    spdx: Vec<Component>,
    spdx3: Vec<Component>,
    /// Operating systems named, at most [`MAX_OS`] kept (one is usable; more are ambiguous).
    os: Vec<OperatingSystem>,
    failure: Option<SbomError>,
}

/// Operating systems kept while reading: two distinct ones already make the SBOM ambiguous.
const MAX_OS: usize = 2;

impl State<'_> {
    /// Notes an operating-system component (name and version both needed to say a release).
    fn note_os(&mut self, name: Option<&String>, version: Option<&String>) {
        let (Some(name), Some(version)) = (name, version) else {
            return;
        };
        let os = OperatingSystem {
            name: name.clone(),
            version: version.clone(),
        };
        let bounded = source_field_ok(name) && source_field_ok(version);
        if bounded && self.os.len() < MAX_OS && !self.os.contains(&os) {
            self.os.push(os);
        }
    }

    /// Adds a component, filling a missing version from the purl; components with neither a
    /// name nor a purl identify nothing and are dropped.
    fn push(
        &mut self,
        format: SbomFormat,
        name: Option<String>,
        version: Option<String>,
        purl: Option<String>,
        source: Option<SourcePackage>,
    ) -> Result<(), String> {
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
        if self.cdx.len() + self.spdx.len() + self.spdx3.len() >= self.max_components {
            self.failure = Some(SbomError::TooManyComponents {
                path: self.path.to_path_buf(),
                max: self.max_components,
            });
            return Err("component cap".into());
        }
        let c = Component {
            name,
            version,
            purl,
            source,
        };
        match format {
            SbomFormat::CycloneDx => self.cdx.push(c),
            SbomFormat::Spdx => self.spdx.push(c),
            SbomFormat::Spdx3 => self.spdx3.push(c),
        }
        Ok(())
    }
}

/// The scalar fields of the document (its arrays went into [`State`]).
#[derive(Default)]
struct Head {
    bom_format: Option<String>,
    spec_version: Option<String>,
    spdx_version: Option<String>,
    spdx_name: Option<String>,
    cdx_name: Option<String>,
    /// The `@context` names SPDX 3 (`https://spdx.org/rdf/3.0.1/spdx-context.jsonld`).
    spdx3_context: bool,
    /// syft's own JSON (`descriptor.name` is `syft`).
    syft: bool,
    /// A Trivy JSON report (`SchemaVersion` and `ArtifactName` at the top).
    trivy_report: (bool, bool),
}

struct DocSeed<'a, 'p>(&'a mut State<'p>);

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = Head;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = Head;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an SBOM document (a JSON object)")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Head, M::Error> {
        let mut head = Head::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "bomFormat" => head.bom_format = map.next_value()?,
                "specVersion" => head.spec_version = map.next_value()?,
                "spdxVersion" => head.spdx_version = map.next_value()?,
                "name" => head.spdx_name = map.next_value()?,
                "metadata" => {
                    let m: Option<CdxMetadata> = map.next_value()?;
                    if let Some(c) = m.and_then(|m| m.component) {
                        if c.kind.as_deref() == Some("operating-system") {
                            self.0.note_os(c.name.as_ref(), c.version.as_ref());
                        }
                        head.cdx_name = c.name;
                    }
                }
                "components" => map.next_value_seed(CdxSeq {
                    state: &mut *self.0,
                    depth: 0,
                })?,
                "packages" => map.next_value_seed(SpdxSeq(&mut *self.0))?,
                "@context" => head.spdx3_context = map.next_value::<JsonLdContext>()?.0,
                "@graph" => map.next_value_seed(Spdx3Graph(&mut *self.0))?,
                "descriptor" => {
                    let d: Option<ToolDescriptor> = map.next_value()?;
                    head.syft = d.and_then(|d| d.name).as_deref() == Some("syft");
                }
                "SchemaVersion" => {
                    map.next_value::<IgnoredAny>()?;
                    head.trivy_report.0 = true;
                }
                "ArtifactName" => {
                    map.next_value::<IgnoredAny>()?;
                    head.trivy_report.1 = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }
}

#[derive(Deserialize)]
struct CdxMetadata {
    component: Option<CdxMetaComponent>,
}

/// syft JSON's `descriptor` (the tool that wrote it).
#[derive(Deserialize)]
struct ToolDescriptor {
    name: Option<String>,
}

#[derive(Deserialize)]
struct CdxMetaComponent {
    name: Option<String>,
    version: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// A CycloneDX `components` array (possibly nested), flattened as it streams.
struct CdxSeq<'a, 'p> {
    state: &'a mut State<'p>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for CdxSeq<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CdxSeq<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of components")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            self.state.failure = Some(SbomError::TooDeep {
                path: self.state.path.to_path_buf(),
                max: MAX_DEPTH,
            });
            return Err(serde::de::Error::custom("components nested too deep"));
        }
        while seq
            .next_element_seed(CdxComponentSeed {
                state: &mut *self.state,
                depth: self.depth,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One CycloneDX component: its own fields, then its nested `components` (which stream too).
struct CdxComponentSeed<'a, 'p> {
    state: &'a mut State<'p>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for CdxComponentSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CdxComponentSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a component object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let (mut name, mut version, mut purl) = (None, None, None);
        let (mut source, mut kind) = (None, None::<String>);
        // Children stream first when `components` precedes `name`; the list is sorted at the
        // end, so the order of arrival does not matter.
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = map.next_value()?,
                "version" => version = map.next_value()?,
                "purl" => purl = map.next_value()?,
                "type" => kind = map.next_value()?,
                "properties" => {
                    let props: Option<CdxProperties> = map.next_value()?;
                    source = props.and_then(|p| SourcePackage::from_trivy_properties(&p.0));
                }
                "components" => map.next_value_seed(CdxSeq {
                    state: &mut *self.state,
                    depth: self.depth + 1,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if kind.as_deref() == Some("operating-system") {
            self.state.note_os(name.as_ref(), version.as_ref());
        }
        self.state
            .push(SbomFormat::CycloneDx, name, version, purl, source)
            .map_err(serde::de::Error::custom)
    }
}

/// An SPDX `packages` array, streamed.
struct SpdxSeq<'a, 'p>(&'a mut State<'p>);

impl<'de> DeserializeSeed<'de> for SpdxSeq<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SpdxSeq<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of packages")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(p) = seq.next_element::<SpdxPackage>()? {
            let source = p
                .source_info
                .as_deref()
                .and_then(SourcePackage::from_spdx_source_info);
            if p.purpose.as_deref() == Some("OPERATING-SYSTEM") {
                self.0.note_os(p.name.as_ref(), p.version_info.as_ref());
            }
            let purl = p
                .external_refs
                .unwrap_or_default()
                .items
                .into_iter()
                .find(|r| r.reference_type.as_deref() == Some("purl"))
                .and_then(|r| r.reference_locator);
            self.0
                .push(SbomFormat::Spdx, p.name, p.version_info, purl, source)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct SpdxPackage {
    name: Option<String>,
    #[serde(rename = "versionInfo")]
    version_info: Option<String>,
    #[serde(rename = "sourceInfo")]
    source_info: Option<String>,
    #[serde(rename = "externalRefs", default)]
    external_refs: Option<FirstN<SpdxRef, MAX_REFS>>,
    #[serde(rename = "primaryPackagePurpose")]
    purpose: Option<String>,
}

/// External references kept per SPDX package (the purl is among the first).
const MAX_REFS: usize = 64;

#[derive(Deserialize)]
struct SpdxRef {
    #[serde(rename = "referenceType")]
    reference_type: Option<String>,
    #[serde(rename = "referenceLocator")]
    reference_locator: Option<String>,
}

/// An SPDX 3 JSON-LD `@graph`, streamed: each `software_Package` element is a component; other
/// elements (relationships, files, the document, creation info) are skipped.
struct Spdx3Graph<'a, 'p>(&'a mut State<'p>);

impl<'de> DeserializeSeed<'de> for Spdx3Graph<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Spdx3Graph<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of SPDX 3 elements")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<Spdx3Element>()? {
            if !e.kind.as_deref().is_some_and(is_spdx3_package) {
                continue;
            }
            if e.purpose.as_deref() == Some("operatingSystem") {
                self.0.note_os(e.name.as_ref(), e.version.as_ref());
            }
            // `software_packageUrl` is the package's own purl; an `externalIdentifier` of type
            // `packageUrl` is the other place SPDX 3 allows one.
            let purl = e.purl.or_else(|| {
                e.external_identifier
                    .unwrap_or_default()
                    .items
                    .into_iter()
                    .find(|i| i.kind.as_deref() == Some("packageUrl"))
                    .and_then(|i| i.identifier)
            });
            self.0
                .push(SbomFormat::Spdx3, e.name, e.version, purl, None)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// The element type of a package, compacted by the SPDX 3 context or as the full IRI.
fn is_spdx3_package(kind: &str) -> bool {
    kind == "software_Package"
        || (kind.starts_with("https://spdx.org/rdf/3.") && kind.ends_with("/Software/Package"))
}

/// The fields of an SPDX 3 element that a package uses; every element of the graph is read as
/// one (its other fields are skipped).
#[derive(Deserialize)]
struct Spdx3Element {
    #[serde(rename = "type", alias = "@type")]
    kind: Option<String>,
    name: Option<String>,
    #[serde(rename = "software_packageVersion")]
    version: Option<String>,
    #[serde(rename = "software_packageUrl")]
    purl: Option<String>,
    #[serde(rename = "externalIdentifier", default)]
    external_identifier: Option<FirstN<Spdx3Identifier, MAX_REFS>>,
    #[serde(rename = "software_primaryPurpose")]
    purpose: Option<String>,
}

#[derive(Deserialize)]
struct Spdx3Identifier {
    #[serde(rename = "externalIdentifierType")]
    kind: Option<String>,
    identifier: Option<String>,
}

/// Whether a JSON-LD `@context` (a string, or an array whose strings are looked at, or an
/// inline object, which is not) names the SPDX 3 context.
struct JsonLdContext(bool);

impl<'de> Deserialize<'de> for JsonLdContext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn names_spdx3(s: &str) -> bool {
            s.starts_with("https://spdx.org/rdf/3.")
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonLdContext;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON-LD @context")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<JsonLdContext, E> {
                Ok(JsonLdContext(names_spdx3(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonLdContext, A::Error> {
                let mut found = false;
                // An array entry: a context URL (a string), an inline context or `null` (a
                // reset, which JSON-LD allows); only strings are looked at.
                while let Some(item) = seq.next_element::<StrOrIgnore>()? {
                    found |= item.0.as_deref().is_some_and(names_spdx3);
                }
                Ok(JsonLdContext(found))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<JsonLdContext, M::Error> {
                IgnoredAny::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(JsonLdContext(false))
            }
        }
        d.deserialize_any(V)
    }
}

const CDX_VERSIONS: [&str; 6] = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
const SPDX_VERSIONS: [&str; 2] = ["SPDX-2.2", "SPDX-2.3"];

/// Decides the format from the scalar fields and keeps that format's components.
fn finish(path: &Path, head: Head, state: State<'_>) -> Result<Sbom, SbomError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let (format, name, mut components) = if head.bom_format.as_deref() == Some("CycloneDX") {
        let version = head.spec_version.unwrap_or_default();
        if !CDX_VERSIONS.contains(&version.as_str()) {
            return Err(SbomError::UnsupportedVersion {
                path: path.to_path_buf(),
                format: SbomFormat::CycloneDx,
                version,
            });
        }
        // metadata.component is the subject of the SBOM, not one of its packages: Trivy does
        // not scan it for vulnerabilities either.
        (SbomFormat::CycloneDx, nonempty(head.cdx_name), state.cdx)
    } else if let Some(version) = head.spdx_version {
        if !SPDX_VERSIONS.contains(&version.as_str()) {
            return Err(SbomError::UnsupportedVersion {
                path: path.to_path_buf(),
                format: SbomFormat::Spdx,
                version,
            });
        }
        (SbomFormat::Spdx, nonempty(head.spdx_name), state.spdx)
    } else if head.spdx3_context {
        // The document's name is an element of the graph like any other; the file name serves.
        (SbomFormat::Spdx3, None, state.spdx3)
    } else if head.syft {
        return Err(SbomError::OtherToolFormat {
            path: path.to_path_buf(),
            what: "syft JSON",
            instead: "write CycloneDX or SPDX JSON (syft -o cyclonedx-json or -o spdx-json)",
        });
    } else if head.trivy_report == (true, true) {
        return Err(SbomError::OtherToolFormat {
            path: path.to_path_buf(),
            what: "a Trivy scan report",
            instead: "write an SBOM (trivy … --format cyclonedx or --format spdx-json)",
        });
    } else {
        return Err(SbomError::UnknownFormat {
            path: path.to_path_buf(),
        });
    };
    components.sort();
    components.dedup();
    let os = match state.os.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    Ok(Sbom {
        format,
        name: name.unwrap_or(file_name),
        components,
        os,
    })
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
        if !entry.file_type().is_file() {
            continue;
        }
        let is_json = entry
            .path()
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            out.push((
                relative(dir, entry.path()),
                read_sbom(entry.path(), max_bytes),
            ));
        } else if let Some((encoding, want)) = other_sbom_encoding(entry.path()) {
            out.push((
                relative(dir, entry.path()),
                Err(SbomError::UnsupportedEncoding {
                    path: entry.path().to_path_buf(),
                    encoding,
                    want,
                }),
            ));
        }
    }
    Ok(out)
}

/// SBOMs other tools write in encodings this reader does not read, recognised by the file name
/// endings their specs and the common generators use (Trivy, Syft, cdxgen, `spdx-tools`).
/// Other files in an SBOM directory (READMEs, signatures) are ignored.
fn other_sbom_encoding(path: &Path) -> Option<(&'static str, &'static str)> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    const SPDX: &str = "SPDX 2.x";
    const CDX: &str = "CycloneDX";
    [
        (".spdx", "SPDX tag-value", SPDX),
        (".spdx.rdf", "SPDX RDF/XML", SPDX),
        (".spdx.rdf.xml", "SPDX RDF/XML", SPDX),
        (".spdx.xml", "SPDX XML", SPDX),
        (".spdx.yaml", "SPDX YAML", SPDX),
        (".spdx.yml", "SPDX YAML", SPDX),
        (".cdx.xml", "CycloneDX XML", CDX),
        ("bom.xml", "CycloneDX XML", CDX),
        (".cdx.proto", "CycloneDX protobuf", CDX),
        // Compressed JSON (archived SBOMs): the reader does not decompress site input.
        (".json.gz", "compressed JSON", "uncompressed"),
        (".json.zst", "compressed JSON", "uncompressed"),
        (".json.xz", "compressed JSON", "uncompressed"),
        (".json.bz2", "compressed JSON", "uncompressed"),
    ]
    .into_iter()
    .find(|(ending, _, _)| name.ends_with(ending))
    .map(|(_, encoding, want)| (encoding, want))
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

    /// The operating system is read where Trivy, syft and cdxgen put it: a component (or the
    /// metadata component) of type `operating-system`, an SPDX package of purpose
    /// `OPERATING-SYSTEM`. Two different ones say nothing.
    #[test]
    fn the_operating_system_is_read_when_there_is_exactly_one() {
        let os = |name: &str, version: &str| {
            Some(OperatingSystem {
                name: name.into(),
                version: version.into(),
            })
        };
        let cdx = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
                {"type":"operating-system","name":"debian","version":"12.4"},
                {"type":"library","name":"openssl","version":"3.0.11-1","purl":"pkg:deb/debian/openssl@3.0.11-1"}]}"#,
        )
        .unwrap();
        assert_eq!(cdx.os, os("debian", "12.4"));
        let meta = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5",
                "metadata":{"component":{"type":"operating-system","name":"alpine","version":"3.19.1"}},
                "components":[]}"#,
        )
        .unwrap();
        assert_eq!(meta.os, os("alpine", "3.19.1"));
        let spdx = parse(
            r#"{"spdxVersion":"SPDX-2.3","name":"img","packages":[
                {"name":"ubuntu","versionInfo":"22.04","primaryPackagePurpose":"OPERATING-SYSTEM"},
                {"name":"libc6","versionInfo":"2.35-0ubuntu3"}]}"#,
        )
        .unwrap();
        assert_eq!(spdx.os, os("ubuntu", "22.04"));
        let spdx3 = parse(
            r#"{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[
                {"type":"software_Package","name":"debian","software_packageVersion":"12.4",
                 "software_primaryPurpose":"operatingSystem"}]}"#,
        )
        .unwrap();
        assert_eq!(spdx3.os, os("debian", "12.4"));
        let two = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
                {"type":"operating-system","name":"debian","version":"12.4"},
                {"type":"operating-system","name":"debian","version":"12.4"},
                {"type":"operating-system","name":"debian","version":"11.9"}]}"#,
        )
        .unwrap();
        assert_eq!(two.os, None);
        let versionless = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
                {"type":"operating-system","name":"debian"}]}"#,
        )
        .unwrap();
        assert_eq!(versionless.os, None);
    }

    /// JSON that other tools write beside SBOMs is named for what it is, not "unknown".
    #[test]
    fn syft_json_and_trivy_reports_are_named() {
        let syft = parse(
            r#"{"artifacts":[{"name":"openssl","version":"3.0.11"}],"source":{},
                "descriptor":{"name":"syft","version":"1.4.1"},"schema":{"version":"16.0.9"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            syft.contains("syft JSON, not a CycloneDX or SPDX document"),
            "{syft}"
        );
        assert!(syft.contains("syft -o cyclonedx-json"), "{syft}");
        let trivy = parse(
            r#"{"SchemaVersion":2,"ArtifactName":"alpine:3.19","ArtifactType":"container_image","Results":[]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(trivy.contains("a Trivy scan report"), "{trivy}");
        // One of the two keys is not enough to call it a Trivy report.
        assert!(matches!(
            parse(r#"{"SchemaVersion":2}"#),
            Err(SbomError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn reads_cyclonedx_1_7() {
        let s = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.7","components":[
                {"type":"library","name":"lodash","version":"4.17.15","purl":"pkg:npm/lodash@4.17.15",
                 "isExternal":false}]}"#,
        )
        .unwrap();
        assert_eq!(s.format, SbomFormat::CycloneDx);
        assert_eq!(s.components.len(), 1);
        assert_eq!(
            s.components[0].purl.as_deref(),
            Some("pkg:npm/lodash@4.17.15")
        );
    }

    /// SPDX 3 JSON-LD as cdxgen's `cdx-convert` writes it: packages are `software_Package`
    /// elements of the `@graph`, whatever the key order; other elements are not components.
    #[test]
    fn reads_spdx3_json_ld_packages() {
        let graph = r#""@graph":[
            {"type":"CreationInfo","@id":"_:c","specVersion":"3.0.1","created":"2026-12-04T00:00:00Z"},
            {"type":"SpdxDocument","spdxId":"urn:x#doc","name":"demo","creationInfo":"_:c"},
            {"type":"software_Package","spdxId":"urn:x#p1","name":"lodash",
             "software_packageVersion":"4.17.15","software_packageUrl":"pkg:npm/lodash@4.17.15",
             "extension":[{"type":"extension_CdxPropertiesExtension","extension_cdxProperty":[]}]},
            {"@type":"software_Package","spdxId":"urn:x#p2","name":"requests",
             "externalIdentifier":[
               {"type":"ExternalIdentifier","externalIdentifierType":"cpe23","identifier":"cpe:2.3:a:x:y:2"},
               {"type":"ExternalIdentifier","externalIdentifierType":"packageUrl","identifier":"pkg:pypi/requests@2.28.0"}]},
            {"type":"https://spdx.org/rdf/3.0.1/terms/Software/Package","spdxId":"urn:x#p3","name":"rack",
             "software_packageVersion":"2.2.3"},
            {"type":"software_File","spdxId":"urn:x#f","name":"package-lock.json"},
            {"type":"Relationship","spdxId":"urn:x#r","from":"urn:x#doc","to":["urn:x#p1"],
             "relationshipType":"describes"}]"#;
        let context = r#""@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld""#;
        for doc in [
            format!("{{{context},{graph}}}"),
            format!("{{{graph},{context}}}"),
            format!(
                r#"{{{graph},"@context":[null,"https://spdx.org/rdf/3.0.1/spdx-context.jsonld",{{"x":"y"}}]}}"#
            ),
        ] {
            let s = parse(&doc).unwrap();
            assert_eq!(s.format, SbomFormat::Spdx3, "{doc}");
            assert_eq!(s.name, "test.json");
            let got: Vec<(&str, &str, Option<&str>)> = s
                .components
                .iter()
                .map(|c| (c.name.as_str(), c.version.as_str(), c.purl.as_deref()))
                .collect();
            assert_eq!(
                got,
                [
                    ("lodash", "4.17.15", Some("pkg:npm/lodash@4.17.15")),
                    ("rack", "2.2.3", None),
                    ("requests", "2.28.0", Some("pkg:pypi/requests@2.28.0")),
                ]
            );
        }
        // A graph without the SPDX 3 context is some other JSON-LD.
        assert!(matches!(
            parse(&format!("{{{graph}}}")),
            Err(SbomError::UnknownFormat { .. })
        ));
        assert!(matches!(
            parse(&format!(r#"{{"@context":"https://schema.org/",{graph}}}"#)),
            Err(SbomError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn distribution_source_packages_are_read_from_trivy_properties_and_spdx_source_info() {
        let cdx = parse(
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
                {"name":"zlib1g","version":"1:1.2.13.dfsg-1",
                 "purl":"pkg:deb/debian/zlib1g@1.2.13.dfsg-1?distro=debian-12.5&epoch=1",
                 "properties":[{"name":"aquasecurity:trivy:PkgType","value":"debian"},
                   {"name":"aquasecurity:trivy:SrcEpoch","value":"1"},
                   {"name":"aquasecurity:trivy:SrcName","value":"zlib"},
                   {"name":"aquasecurity:trivy:SrcRelease","value":"1"},
                   {"name":"aquasecurity:trivy:SrcVersion","value":"1.2.13.dfsg"}]},
                {"name":"busybox","version":"1.36.1-r15","purl":"pkg:apk/alpine/busybox@1.36.1-r15",
                 "properties":[{"name":"aquasecurity:trivy:SrcName","value":"bad name"}]},
                {"name":"plain","version":"1","purl":"pkg:npm/plain@1","properties":[]}]}"#,
        )
        .unwrap();
        let src = |s: &Sbom, name: &str| {
            s.components
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .source
                .clone()
                .map(|p| (p.name, p.version))
        };
        assert_eq!(
            src(&cdx, "zlib1g"),
            Some(("zlib".into(), Some("1:1.2.13.dfsg-1".into())))
        );
        // A name with a space is not a package name: ignored, not guessed at.
        assert_eq!(src(&cdx, "busybox"), None);
        assert_eq!(src(&cdx, "plain"), None);
        let spdx = parse(
            r#"{"spdxVersion":"SPDX-2.3","name":"img","packages":[
                {"name":"libssl3","versionInfo":"3.0.11-1~deb12u1",
                 "sourceInfo":"built package from: openssl 3.0.11-1~deb12u1",
                 "externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:deb/debian/libssl3@3.0.11-1~deb12u1?distro=debian-12.5"}]},
                {"name":"other","versionInfo":"1","sourceInfo":"from a tarball"}]}"#,
        )
        .unwrap();
        assert_eq!(
            src(&spdx, "libssl3"),
            Some(("openssl".into(), Some("3.0.11-1~deb12u1".into())))
        );
        assert_eq!(src(&spdx, "other"), None);
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
        assert!(matches!(
            parse(&deep),
            Err(SbomError::TooDeep { .. } | SbomError::Json { .. })
        ));
    }

    #[test]
    fn the_component_cap_stops_the_stream() {
        let comps: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"type":"library","name":"c{i}","version":"1"}}"#))
            .collect();
        let doc = format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{}]}}"#,
            comps.join(",")
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("five.json");
        std::fs::write(&p, &doc).unwrap();
        assert_eq!(
            read_sbom_capped(&p, 1 << 20, 5).unwrap().components.len(),
            5
        );
        assert!(matches!(
            read_sbom_capped(&p, 1 << 20, 4),
            Err(SbomError::TooManyComponents { max: 4, .. })
        ));
        // The size cap is still enforced while reading.
        assert!(matches!(
            read_sbom_capped(&p, 10, 5),
            Err(SbomError::TooLarge { .. })
        ));
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

    /// An SBOM the reader cannot read must show up as unreadable, not vanish from a re-scan.
    #[test]
    fn sboms_in_other_encodings_are_named_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "app.spdx",
            "img.SPDX.yaml",
            "svc.cdx.xml",
            "bom.xml",
            "image.cdx.json.gz",
            "README.md",
        ] {
            std::fs::write(root.join(name), "x").unwrap();
        }
        let got = read_sbom_dir(root, 1 << 20).unwrap();
        let named: Vec<(&str, String)> = got
            .iter()
            .map(|(n, r)| (n.as_str(), r.as_ref().unwrap_err().to_string()))
            .collect();
        assert_eq!(named.len(), 5, "{named:?}");
        let find = |n: &str| named.iter().find(|(m, _)| *m == n).unwrap().1.clone();
        assert!(
            find("app.spdx").contains("SPDX tag-value is not read; convert it to SPDX 2.x JSON")
        );
        assert!(find("img.SPDX.yaml").contains("SPDX YAML"));
        assert!(
            find("svc.cdx.xml").contains("CycloneDX XML is not read; convert it to CycloneDX JSON")
        );
        assert!(find("bom.xml").contains("CycloneDX XML"));
        assert!(find("image.cdx.json.gz")
            .contains("compressed JSON is not read; convert it to uncompressed JSON"));
    }
}
