//! Structural checks of SPDX 2.3 JSON (spec: spdx.github.io/spdx-spec/v2.3). Covers what a consumer
//! relies on: version, document header, creation info, element identifiers (format, uniqueness, every
//! reference resolvable), checksums and verification codes. License-expression grammar and the full JSON
//! schema are left to `pyspdxtools` in CI.

use super::walk::{is_lower_hex, Obj};
use super::SbomError;
use crate::limits::Limits;
use crate::strict_json::bounded;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

const RELATIONSHIP_TYPES: &[&str] = &[
    "DESCRIBES",
    "DESCRIBED_BY",
    "CONTAINS",
    "CONTAINED_BY",
    "DEPENDS_ON",
    "DEPENDENCY_OF",
    "DEPENDENCY_MANIFEST_OF",
    "BUILD_DEPENDENCY_OF",
    "DEV_DEPENDENCY_OF",
    "OPTIONAL_DEPENDENCY_OF",
    "PROVIDED_DEPENDENCY_OF",
    "TEST_DEPENDENCY_OF",
    "RUNTIME_DEPENDENCY_OF",
    "EXAMPLE_OF",
    "GENERATES",
    "GENERATED_FROM",
    "ANCESTOR_OF",
    "DESCENDANT_OF",
    "VARIANT_OF",
    "DISTRIBUTION_ARTIFACT",
    "PATCH_FOR",
    "PATCH_APPLIED",
    "COPY_OF",
    "FILE_ADDED",
    "FILE_DELETED",
    "FILE_MODIFIED",
    "EXPANDED_FROM_ARCHIVE",
    "DYNAMIC_LINK",
    "STATIC_LINK",
    "DATA_FILE_OF",
    "TEST_CASE_OF",
    "BUILD_TOOL_OF",
    "DEV_TOOL_OF",
    "TEST_OF",
    "TEST_TOOL_OF",
    "DOCUMENTATION_OF",
    "OPTIONAL_COMPONENT_OF",
    "METAFILE_OF",
    "PACKAGE_OF",
    "AMENDS",
    "PREREQUISITE_FOR",
    "HAS_PREREQUISITE",
    "REQUIREMENT_DESCRIPTION_FOR",
    "SPECIFICATION_FOR",
    "OTHER",
];

/// SPDX 2.3 checksum algorithms and their hex length (0 = variable length).
const CHECKSUM_ALGS: &[(&str, usize)] = &[
    ("SHA1", 40),
    ("SHA224", 56),
    ("SHA256", 64),
    ("SHA384", 96),
    ("SHA512", 128),
    ("SHA3-256", 64),
    ("SHA3-384", 96),
    ("SHA3-512", 128),
    ("BLAKE2b-256", 64),
    ("BLAKE2b-384", 96),
    ("BLAKE2b-512", 128),
    ("BLAKE3", 0),
    ("MD2", 32),
    ("MD4", 32),
    ("MD5", 32),
    ("MD6", 0),
    ("ADLER32", 8),
];

/// `SPDXRef-` followed by letters, digits, `.` and `-` (SPDX 2.3 §3.2, §7.2, §8.2).
fn valid_spdx_id(id: &str) -> bool {
    id.strip_prefix("SPDXRef-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    })
}

/// `DocumentRef-` + id-string (SPDX 2.3 §6.6).
fn valid_doc_ref(id: &str) -> bool {
    id.strip_prefix("DocumentRef-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    })
}

/// An absolute URI: a scheme, then no whitespace; SPDX forbids `#` in the document namespace.
fn valid_namespace(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut sb = scheme.bytes();
    sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        && sb.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        && !rest.is_empty()
        && !s.contains('#')
        && !s.chars().any(char::is_whitespace)
}

/// SPDX `created`: `YYYY-MM-DDThh:mm:ssZ` exactly (§6.9), and a real date.
fn valid_created(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    shape && crate::timefmt::parse_rfc3339(s).is_some()
}

fn check_checksum(c: &Obj<'_>) -> Result<&'static str, SbomError> {
    let alg = c.req_str("algorithm")?;
    let value = c.req_str("checksumValue")?;
    let Some((name, len)) = CHECKSUM_ALGS.iter().find(|(a, _)| *a == alg) else {
        return Err(SbomError::InvalidHash {
            path: c.path.clone(),
            reason: "unknown checksum algorithm",
        });
    };
    if !is_lower_hex(value, *len) {
        return Err(SbomError::InvalidHash {
            path: c.path.clone(),
            reason: "checksumValue must be lowercase hex of the algorithm's length",
        });
    }
    Ok(name)
}

struct Ids {
    defined: BTreeSet<String>,
    doc_refs: BTreeSet<String>,
    max_len: usize,
}

impl Ids {
    fn define(&mut self, o: &Obj<'_>) -> Result<(), SbomError> {
        let id = o.req_str("SPDXID")?;
        if id.len() > self.max_len || !valid_spdx_id(id) {
            return Err(SbomError::InvalidValue {
                path: o.at("SPDXID"),
                reason: "must be SPDXRef- followed by [A-Za-z0-9.-]",
            });
        }
        if !self.defined.insert(id.to_owned()) {
            return Err(SbomError::DuplicateSpdxId { id: bounded(id) });
        }
        Ok(())
    }

    /// A reference to an element: defined here, or `DocumentRef-x:SPDXRef-y` with `x` declared.
    fn resolve(&self, path: String, id: &str, allow_none: bool) -> Result<(), SbomError> {
        if allow_none && (id == "NONE" || id == "NOASSERTION") {
            return Ok(());
        }
        let ok = match id.split_once(':') {
            Some((doc, elem)) => self.doc_refs.contains(doc) && valid_spdx_id(elem),
            None => self.defined.contains(id),
        };
        if ok {
            Ok(())
        } else {
            Err(SbomError::UnknownReference {
                path,
                id: bounded(id),
            })
        }
    }
}

pub(super) fn check(map: &Map<String, Value>, limits: &Limits) -> Result<(), SbomError> {
    let doc = Obj::root(map);
    let version = doc.req_str("spdxVersion")?;
    if version != "SPDX-2.3" {
        return Err(SbomError::UnsupportedSpdxVersion {
            found: bounded(version),
        });
    }
    if doc.req_str("SPDXID")? != "SPDXRef-DOCUMENT" {
        return Err(SbomError::InvalidValue {
            path: doc.at("SPDXID"),
            reason: "must be SPDXRef-DOCUMENT",
        });
    }
    if doc.req_str("dataLicense")? != "CC0-1.0" {
        return Err(SbomError::InvalidValue {
            path: doc.at("dataLicense"),
            reason: "must be CC0-1.0",
        });
    }
    doc.req_text("name")?;
    if !valid_namespace(doc.req_str("documentNamespace")?) {
        return Err(SbomError::InvalidValue {
            path: doc.at("documentNamespace"),
            reason: "must be an absolute URI without '#'",
        });
    }
    let ci = doc.req_obj("creationInfo")?;
    if !valid_created(ci.req_str("created")?) {
        return Err(SbomError::InvalidValue {
            path: ci.at("created"),
            reason: "must be YYYY-MM-DDThh:mm:ssZ",
        });
    }
    let creators = ci.opt_strs("creators")?;
    if !ci.map.contains_key("creators") || creators.is_empty() {
        return Err(SbomError::MissingField {
            path: ci.at("creators"),
        });
    }
    for (path, c) in creators {
        if !["Person: ", "Organization: ", "Tool: "]
            .iter()
            .any(|p| c.starts_with(p))
        {
            return Err(SbomError::InvalidValue {
                path,
                reason: "creator must start with Person:, Organization: or Tool:",
            });
        }
    }

    let mut ids = Ids {
        defined: BTreeSet::from(["SPDXRef-DOCUMENT".to_owned()]),
        doc_refs: BTreeSet::new(),
        max_len: limits.max_string_bytes,
    };

    for r in doc.opt_objs("externalDocumentRefs")? {
        let id = r.req_str("externalDocumentId")?;
        if !valid_doc_ref(id) {
            return Err(SbomError::InvalidValue {
                path: r.at("externalDocumentId"),
                reason: "must be DocumentRef-[A-Za-z0-9.-]+",
            });
        }
        if !ids.doc_refs.insert(id.to_owned()) {
            return Err(SbomError::DuplicateSpdxId { id: bounded(id) });
        }
        r.req_text("spdxDocument")?;
        if check_checksum(&r.req_obj("checksum")?)? != "SHA1" {
            return Err(SbomError::InvalidHash {
                path: r.at("checksum"),
                reason: "external document checksum must be SHA1",
            });
        }
    }

    for p in doc.opt_objs("packages")? {
        ids.define(&p)?;
        p.req_text("name")?;
        p.req_text("downloadLocation")?;
        p.opt_str("versionInfo")?;
        let files_analyzed = p.opt_bool("filesAnalyzed")?;
        for c in p.opt_objs("checksums")? {
            check_checksum(&c)?;
        }
        if let Some(vc) = p.opt_obj("packageVerificationCode")? {
            if files_analyzed == Some(false) {
                return Err(SbomError::InvalidValue {
                    path: vc.path.clone(),
                    reason: "not allowed when filesAnalyzed is false",
                });
            }
            if !is_lower_hex(vc.req_str("packageVerificationCodeValue")?, 40) {
                return Err(SbomError::InvalidHash {
                    path: vc.at("packageVerificationCodeValue"),
                    reason: "must be 40 lowercase hex",
                });
            }
        }
        for r in p.opt_objs("externalRefs")? {
            r.req_text("referenceCategory")?;
            r.req_text("referenceType")?;
            r.req_text("referenceLocator")?;
        }
    }

    for f in doc.opt_objs("files")? {
        ids.define(&f)?;
        if f.req_text("fileName")?.starts_with('/') {
            return Err(SbomError::InvalidValue {
                path: f.at("fileName"),
                reason: "must be a relative path",
            });
        }
        let sums = f.opt_objs("checksums")?;
        let mut has_sha1 = false;
        for c in &sums {
            has_sha1 |= check_checksum(c)? == "SHA1";
        }
        if !has_sha1 {
            return Err(SbomError::InvalidHash {
                path: f.at("checksums"),
                reason: "a file must have a SHA1 checksum",
            });
        }
    }

    for s in doc.opt_objs("snippets")? {
        ids.define(&s)?;
        s.req_text("snippetFromFile")?;
        if s.opt_arr("ranges")?.is_empty() {
            return Err(SbomError::MissingField {
                path: s.at("ranges"),
            });
        }
    }

    let mut license_ids = BTreeSet::new();
    for l in doc.opt_objs("hasExtractedLicensingInfos")? {
        let id = l.req_str("licenseId")?;
        if !id.starts_with("LicenseRef-") {
            return Err(SbomError::InvalidValue {
                path: l.at("licenseId"),
                reason: "must start with LicenseRef-",
            });
        }
        if !license_ids.insert(id) {
            return Err(SbomError::InvalidValue {
                path: l.at("licenseId"),
                reason: "licenseId used more than once",
            });
        }
        l.req_str("extractedText")?;
    }

    // Snippets must point at a defined file; checked after all elements are known.
    for s in doc.opt_objs("snippets")? {
        ids.resolve(
            s.at("snippetFromFile"),
            s.req_str("snippetFromFile")?,
            false,
        )?;
    }
    for (path, id) in doc.opt_strs("documentDescribes")? {
        ids.resolve(path, id, false)?;
    }
    for r in doc.opt_objs("relationships")? {
        ids.resolve(r.at("spdxElementId"), r.req_str("spdxElementId")?, false)?;
        if !RELATIONSHIP_TYPES.contains(&r.req_str("relationshipType")?) {
            return Err(SbomError::InvalidValue {
                path: r.at("relationshipType"),
                reason: "unknown relationship type",
            });
        }
        ids.resolve(
            r.at("relatedSpdxElement"),
            r.req_str("relatedSpdxElement")?,
            true,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_namespace_rules() {
        assert!(valid_spdx_id("SPDXRef-File-1.a"));
        assert!(!valid_spdx_id("SPDXRef-"));
        assert!(!valid_spdx_id("SPDXRef-a_b"));
        assert!(valid_namespace("https://example.com/x/1"));
        assert!(!valid_namespace("https://example.com/x#1"));
        assert!(!valid_namespace("no-scheme"));
        assert!(valid_created("2010-01-29T18:30:22Z"));
        assert!(!valid_created("2010-01-29T18:30:22+00:00"));
        assert!(!valid_created("2010-13-29T18:30:22Z"));
    }
}
