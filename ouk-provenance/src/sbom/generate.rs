//! The kit's own SPDX 2.3 document: what is in the kit, what it was made from, and by which tool.

use super::SbomError;
use crate::digest::{Sha1Hex, Sha256Hex};
use crate::limits::Limits;
use crate::timefmt;
use serde::Serialize;
use sha1::Digest as _;
use std::collections::BTreeSet;

/// Prefix of every generated `documentNamespace`; the rest is derived from the document's content so
/// that the same kit always gets the same namespace and different kits never share one.
pub const NAMESPACE_PREFIX: &str = "https://ouk.dev/spdx/kit/";

/// One kit member to list as an SPDX file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SbomFile {
    /// Member path inside the kit (relative, as in the manifest).
    pub path: String,
    /// SHA-256 of the uncompressed content (as in the manifest).
    pub sha256: Sha256Hex,
    /// SHA-1 of the same content: SPDX 2.3 requires a SHA1 checksum on every file (see
    /// [`crate::FileDigester`], which computes both in one pass).
    pub sha1: Sha1Hex,
}

/// One feed source the kit was built from, listed as an SPDX package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SbomFeed {
    /// Source name, e.g. `osv`.
    pub name: String,
    /// Source version or snapshot label.
    pub version: String,
    /// SHA-256 of the snapshot consumed.
    pub snapshot_sha256: Sha256Hex,
    /// Where the snapshot came from, if recorded (`NOASSERTION` otherwise). Must not hold credentials.
    pub download_location: Option<String>,
}

/// The tool that built the kit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomTool {
    /// Tool name, e.g. `ouk-builder`.
    pub name: String,
    /// Tool version.
    pub version: String,
}

/// Everything [`generate_kit_spdx`] needs; `created` comes from the caller (`SOURCE_DATE_EPOCH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitSbomInput {
    /// Kit name (becomes the described package's name).
    pub kit_name: String,
    /// Kit version / sequence.
    pub kit_version: String,
    /// Payload members to list (not this SBOM itself, which cannot contain its own digest).
    pub files: Vec<SbomFile>,
    /// Feed sources.
    pub feeds: Vec<SbomFeed>,
    /// The building tool.
    pub tool: SbomTool,
    /// Creation time, Unix seconds.
    pub created: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    files: Vec<File>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_verification_code: Option<VerificationCode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerificationCode {
    package_verification_code_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    file_name: String,
    checksums: Vec<Checksum>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SbomError {
    SbomError::InvalidInput {
        field,
        reason: reason.into(),
    }
}

fn text(field: &'static str, s: &str) -> Result<(), SbomError> {
    if s.trim().is_empty() || s.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must be non-empty text without control characters",
        ));
    }
    Ok(())
}

fn rel(a: &str, ty: &'static str, b: &str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_owned(),
        relationship_type: ty,
        related_spdx_element: b.to_owned(),
    }
}

/// SPDX 2.3 §7.9: SHA1 over the concatenation of the sorted lowercase SHA1s of the package's files.
fn verification_code(files: &[SbomFile]) -> String {
    let mut sums: Vec<&str> = files.iter().map(|f| f.sha1.as_str()).collect();
    sums.sort_unstable();
    hex::encode(sha1::Sha1::digest(sums.concat().as_bytes()))
}

/// Generates the SPDX 2.3 JSON document describing a kit: the kit as the described package containing
/// each member as a file (SHA1 + SHA256), each feed source as a package (version, snapshot SHA256) the
/// kit is GENERATED_FROM, and the builder tool as a package that is BUILD_TOOL_OF the kit.
///
/// Deterministic: files and feeds are sorted, identifiers are positional, `created` is the caller's, and
/// `documentNamespace` is [`NAMESPACE_PREFIX`] + a SHA-256 over the document written without it. The
/// output is checked with [`super::validate_sbom`] before it is returned.
pub fn generate_kit_spdx(desc: &KitSbomInput) -> Result<Vec<u8>, SbomError> {
    text("kit_name", &desc.kit_name)?;
    text("tool.name", &desc.tool.name)?;
    text("tool.version", &desc.tool.version)?;
    if desc.files.is_empty() {
        return Err(invalid("files", "a kit has at least one member"));
    }
    let mut files = desc.files.clone();
    files.sort();
    let mut seen = BTreeSet::new();
    for f in &files {
        text("files.path", &f.path)?;
        if f.path.starts_with('/') || !seen.insert(f.path.as_str()) {
            return Err(invalid(
                "files.path",
                format!("{:?} is absolute or listed twice", f.path),
            ));
        }
    }
    let mut feeds = desc.feeds.clone();
    feeds.sort();
    for f in &feeds {
        text("feeds.name", &f.name)?;
        text("feeds.version", &f.version)?;
        if let Some(loc) = &f.download_location {
            text("feeds.download_location", loc)?;
            let authority = loc
                .split_once("://")
                .map(|(_, r)| r)
                .unwrap_or(loc)
                .split(['/', '?', '#'])
                .next()
                .unwrap_or("");
            if authority.contains('@') {
                return Err(invalid(
                    "feeds.download_location",
                    "must not contain credentials",
                ));
            }
        }
    }
    let created =
        timefmt::format_unix(desc.created).ok_or_else(|| invalid("created", "out of range"))?;

    const KIT: &str = "SPDXRef-Kit";
    const TOOL: &str = "SPDXRef-Tool";
    let mut packages = vec![Package {
        spdx_id: KIT.to_owned(),
        name: desc.kit_name.clone(),
        version_info: Some(desc.kit_version.clone()).filter(|v| !v.is_empty()),
        download_location: "NOASSERTION".to_owned(),
        files_analyzed: true,
        package_verification_code: Some(VerificationCode {
            package_verification_code_value: verification_code(&files),
        }),
        checksums: Vec::new(),
        primary_package_purpose: "ARCHIVE",
    }];
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", "DESCRIBES", KIT)];
    let mut spdx_files = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let id = format!("SPDXRef-File-{}", i + 1);
        relationships.push(rel(KIT, "CONTAINS", &id));
        spdx_files.push(File {
            spdx_id: id,
            file_name: format!("./{}", f.path),
            checksums: vec![
                Checksum {
                    algorithm: "SHA1",
                    checksum_value: f.sha1.as_str().to_owned(),
                },
                Checksum {
                    algorithm: "SHA256",
                    checksum_value: f.sha256.to_string(),
                },
            ],
        });
    }
    for (i, f) in feeds.iter().enumerate() {
        let id = format!("SPDXRef-Feed-{}", i + 1);
        relationships.push(rel(KIT, "GENERATED_FROM", &id));
        packages.push(Package {
            spdx_id: id,
            name: f.name.clone(),
            version_info: Some(f.version.clone()),
            download_location: f
                .download_location
                .clone()
                .unwrap_or_else(|| "NOASSERTION".to_owned()),
            files_analyzed: false,
            package_verification_code: None,
            checksums: vec![Checksum {
                algorithm: "SHA256",
                checksum_value: f.snapshot_sha256.to_string(),
            }],
            primary_package_purpose: "SOURCE",
        });
    }
    packages.push(Package {
        spdx_id: TOOL.to_owned(),
        name: desc.tool.name.clone(),
        version_info: Some(desc.tool.version.clone()),
        download_location: "NOASSERTION".to_owned(),
        files_analyzed: false,
        package_verification_code: None,
        checksums: Vec::new(),
        primary_package_purpose: "APPLICATION",
    });
    relationships.push(rel(TOOL, "BUILD_TOOL_OF", KIT));

    let mut doc = Doc {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: if desc.kit_version.is_empty() {
            desc.kit_name.clone()
        } else {
            format!("{} {}", desc.kit_name, desc.kit_version)
        },
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created,
            creators: vec![format!("Tool: {}-{}", desc.tool.name, desc.tool.version)],
        },
        packages,
        files: spdx_files,
        relationships,
    };
    let ser =
        |d: &Doc| serde_json::to_vec_pretty(d).map_err(|e| invalid("document", e.to_string()));
    let content_digest = Sha256Hex::digest(&ser(&doc)?);
    doc.document_namespace = format!("{NAMESPACE_PREFIX}{content_digest}");
    let bytes = ser(&doc)?;
    super::validate_sbom(&bytes, &Limits::default())?;
    Ok(bytes)
}
