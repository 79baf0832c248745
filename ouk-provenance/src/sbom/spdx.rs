//! Structural checks of SPDX 2.3 and 2.2 JSON (spec: spdx.github.io/spdx-spec/v2.3, /v2.2.2).
//! Covers what a consumer relies on: version, document header, creation info, element identifiers
//! (format, uniqueness, every reference resolvable), checksums and verification codes, and the
//! differences of 2.2 (Microsoft's sbom-tool writes it): the package and file fields it requires
//! that 2.3 made optional, and the 2.3 additions it lacks. License-expression grammar and the full
//! JSON schema are left to `pyspdxtools` in CI.

use super::verdict::{park, IdSet, Pending, Rank, Shared, Verdict, CONTENT, SHAPE};
use super::walk::{is_lower_hex, Obj};
use super::{SbomError, SbomFormat};
use crate::json_walk::Node;
use crate::text::bounded;

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

/// Relationship types SPDX 2.3 added.
const RELATIONSHIP_TYPES_23: &[&str] = &["REQUIREMENT_DESCRIPTION_FOR", "SPECIFICATION_FOR"];

/// Checksum algorithms SPDX 2.3 added.
const CHECKSUM_ALGS_23: &[&str] = &[
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
    "ADLER32",
];

/// Package fields SPDX 2.3 added.
const PACKAGE_FIELDS_23: &[&str] = &[
    "primaryPackagePurpose",
    "releaseDate",
    "builtDate",
    "validUntilDate",
];

/// Package fields SPDX 2.2 requires (2.3 made them optional).
const PACKAGE_FIELDS_REQUIRED_22: &[&str] =
    &["licenseConcluded", "licenseDeclared", "copyrightText"];

/// File fields SPDX 2.2 requires (2.3 made them optional).
const FILE_FIELDS_REQUIRED_22: &[&str] =
    &["licenseConcluded", "licenseInfoInFiles", "copyrightText"];

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

/// The steps of the check order (the `stage` of a `Rank`): header fields, then element definitions,
/// then references, as in the SPDX specification's document layout.
const ST_VERSION: u8 = 1;
const ST_SPDXID: u8 = 2;
const ST_LICENSE: u8 = 3;
const ST_NAME: u8 = 4;
const ST_NAMESPACE: u8 = 5;
const ST_CREATION: u8 = 6;
const ST_EXT_REFS: u8 = 7;
const ST_PACKAGES: u8 = 8;
const ST_FILES: u8 = 9;
const ST_SNIPPETS: u8 = 10;
const ST_LICENSES: u8 = 11;
const ST_SNIPPET_REFS: u8 = 12;
const ST_DESCRIBES: u8 = 13;
const ST_RELATIONSHIPS: u8 = 14;

/// Top-level keys whose value is one object or string, with their stage.
const HEADER: &[(&str, u8)] = &[
    ("spdxVersion", ST_VERSION),
    ("SPDXID", ST_SPDXID),
    ("dataLicense", ST_LICENSE),
    ("name", ST_NAME),
    ("documentNamespace", ST_NAMESPACE),
    ("creationInfo", ST_CREATION),
];

/// Top-level keys whose value is an array checked element by element, with their stage.
const ARRAYS: &[(&str, u8)] = &[
    ("externalDocumentRefs", ST_EXT_REFS),
    ("packages", ST_PACKAGES),
    ("files", ST_FILES),
    ("snippets", ST_SNIPPETS),
    ("hasExtractedLicensingInfos", ST_LICENSES),
    ("documentDescribes", ST_DESCRIBES),
    ("relationships", ST_RELATIONSHIPS),
];

/// Tags of parked references: which set must end up holding the fingerprint.
const TAG_ELEMENT: u8 = 0;
const TAG_DOC_REF: u8 = 1;

fn stage_of(table: &[(&str, u8)], key: &str) -> Option<u8> {
    table.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

/// Streaming SPDX 2.3 / 2.2 checker: fed each top-level value (or each element of a top-level
/// array) as a small bounded tree, it keeps only identifier fingerprints, parked forward references
/// and the lowest-ranked refusal. What is wrong in 2.2 only (a 2.3 addition, a field 2.2 requires)
/// and seen before `spdxVersion` is kept as a conditional refusal until the version is known.
pub(super) struct Checker<'a> {
    sh: &'a Shared<'a>,
    verdict: Verdict,
    header_seen: [bool; 6],
    defined: IdSet,
    doc_refs: IdSet,
    license_ids: IdSet,
    parked: Vec<Pending>,
    version: Option<SbomFormat>,
    if_22: Option<(Rank, SbomError)>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(sh: &'a Shared<'a>) -> Self {
        Checker {
            sh,
            verdict: Verdict::default(),
            header_seen: [false; 6],
            defined: IdSet::default(),
            doc_refs: IdSet::default(),
            license_ids: IdSet::default(),
            parked: Vec::new(),
            version: None,
            if_22: None,
        }
    }

    /// A refusal under SPDX 2.2 only: returned now when the document is 2.2, dropped when it is
    /// 2.3, kept (the lowest-ranked one) while `spdxVersion` is still to come.
    fn in_22(&mut self, stage: u8, err: SbomError) -> Result<(), SbomError> {
        match self.version {
            Some(SbomFormat::Spdx22) => Err(err),
            Some(_) => Ok(()),
            None => {
                let rank = self.verdict.rank(stage, CONTENT);
                if self.if_22.as_ref().is_none_or(|(r, _)| rank < *r) {
                    self.if_22 = Some((rank, err));
                }
                Ok(())
            }
        }
    }

    /// A checksum: valid in both versions, or an algorithm 2.3 added.
    fn checksum(&mut self, stage: u8, c: &Obj<'_>) -> Result<&'static str, SbomError> {
        let alg = check_checksum(c)?;
        if CHECKSUM_ALGS_23.contains(&alg) {
            self.in_22(
                stage,
                SbomError::InvalidHash {
                    path: c.path.clone(),
                    reason: "checksum algorithm not in SPDX 2.2",
                },
            )?;
        }
        Ok(alg)
    }

    /// Fields 2.2 requires and fields 2.3 added, of one package or file.
    fn fields_22(
        &mut self,
        stage: u8,
        o: &Obj<'_>,
        required: &[&str],
        added: &[&str],
    ) -> Result<(), SbomError> {
        for key in required.iter().filter(|k| !o.contains_key(k)) {
            self.in_22(stage, SbomError::MissingField { path: o.at(key) })?;
        }
        for key in added.iter().filter(|k| o.contains_key(k)) {
            let reason = "not in SPDX 2.2";
            self.in_22(
                stage,
                SbomError::InvalidValue {
                    path: o.at(key),
                    reason,
                },
            )?;
        }
        Ok(())
    }

    fn mark_header(&mut self, stage: u8) {
        if let Some(seen) = self.header_seen.get_mut(usize::from(stage - 1)) {
            *seen = true;
        }
    }

    /// A top-level value that is not an array.
    pub(super) fn value(&mut self, key: &str, node: &Node) {
        let path = format!("/{key}");
        if let Some(stage) = stage_of(HEADER, key) {
            self.mark_header(stage);
            let r = header(key, node, path);
            if key == "spdxVersion" {
                self.version = match node.as_str() {
                    Some("SPDX-2.2") => Some(SbomFormat::Spdx22),
                    _ => Some(SbomFormat::Spdx23),
                };
            }
            self.verdict.check(stage, CONTENT, r);
        } else if let Some(stage) = stage_of(ARRAYS, key) {
            self.verdict.check(
                stage,
                SHAPE,
                Err(SbomError::WrongType {
                    path,
                    expected: "array",
                }),
            );
        }
    }

    /// A top-level array starts under `key`.
    pub(super) fn array_start(&mut self, key: &str) {
        if let Some(stage) = stage_of(HEADER, key) {
            self.mark_header(stage);
            let expected = if key == "creationInfo" {
                "object"
            } else {
                "string"
            };
            self.verdict.check(
                stage,
                CONTENT,
                Err(SbomError::WrongType {
                    path: format!("/{key}"),
                    expected,
                }),
            );
        }
    }

    /// One element of a top-level array.
    pub(super) fn element(&mut self, key: &str, index: usize, node: &Node) {
        let Some(stage) = stage_of(ARRAYS, key) else {
            return;
        };
        let path = format!("/{key}/{index}");
        if stage == ST_DESCRIBES {
            match node.as_str() {
                None => self.verdict.check(
                    stage,
                    SHAPE,
                    Err(SbomError::WrongType {
                        path,
                        expected: "string",
                    }),
                ),
                Some(id) => {
                    let r = self.resolve(stage, path, id, false);
                    self.verdict.check(stage, CONTENT, r);
                }
            }
            return;
        }
        let o = match Obj::new(node, path) {
            Ok(o) => o,
            Err(e) => return self.verdict.check(stage, SHAPE, Err(e)),
        };
        let r = match stage {
            ST_EXT_REFS => self.external_ref(&o),
            ST_PACKAGES => self.package(&o),
            ST_FILES => self.file(&o),
            ST_SNIPPETS => self.snippet(&o),
            ST_LICENSES => self.license(&o),
            _ => self.relationship(&o),
        };
        self.verdict.check(stage, CONTENT, r);
    }

    fn define(&mut self, o: &Obj<'_>) -> Result<(), SbomError> {
        let id = o.req_str("SPDXID")?;
        if id.len() > self.sh.max_string_bytes || !valid_spdx_id(id) {
            return Err(SbomError::InvalidValue {
                path: o.at("SPDXID"),
                reason: "must be SPDXRef- followed by [A-Za-z0-9.-]",
            });
        }
        if id == "SPDXRef-DOCUMENT" || !self.defined.insert(self.sh, id)? {
            return Err(SbomError::DuplicateSpdxId { id: bounded(id) });
        }
        Ok(())
    }

    /// A reference to an element: defined (by the end of the document), or `DocumentRef-x:SPDXRef-y`
    /// with `x` declared. Resolved now when possible, otherwise parked.
    fn resolve(
        &mut self,
        stage: u8,
        path: String,
        id: &str,
        allow_none: bool,
    ) -> Result<(), SbomError> {
        if allow_none && (id == "NONE" || id == "NOASSERTION") {
            return Ok(());
        }
        let unknown = SbomError::UnknownReference {
            path,
            id: bounded(id),
        };
        let (tag, target) = match id.split_once(':') {
            Some((_, elem)) if !valid_spdx_id(elem) => return Err(unknown),
            Some((doc, _)) => (TAG_DOC_REF, doc),
            None if id == "SPDXRef-DOCUMENT" => return Ok(()),
            None => (TAG_ELEMENT, id),
        };
        let set = if tag == TAG_DOC_REF {
            &self.doc_refs
        } else {
            &self.defined
        };
        if set.contains(self.sh, target) {
            return Ok(());
        }
        let p = Pending {
            fp: self.sh.fp.of(target),
            tag,
            rank: self.verdict.rank(stage, CONTENT),
            err: unknown,
        };
        park(self.sh, &mut self.parked, p)
    }

    fn external_ref(&mut self, r: &Obj<'_>) -> Result<(), SbomError> {
        let id = r.req_str("externalDocumentId")?;
        if !valid_doc_ref(id) {
            return Err(SbomError::InvalidValue {
                path: r.at("externalDocumentId"),
                reason: "must be DocumentRef-[A-Za-z0-9.-]+",
            });
        }
        if !self.doc_refs.insert(self.sh, id)? {
            return Err(SbomError::DuplicateSpdxId { id: bounded(id) });
        }
        r.req_text("spdxDocument")?;
        if check_checksum(&r.req_obj("checksum")?)? != "SHA1" {
            return Err(SbomError::InvalidHash {
                path: r.at("checksum"),
                reason: "external document checksum must be SHA1",
            });
        }
        Ok(())
    }

    fn package(&mut self, p: &Obj<'_>) -> Result<(), SbomError> {
        self.define(p)?;
        p.req_text("name")?;
        p.req_text("downloadLocation")?;
        p.opt_str("versionInfo")?;
        let files_analyzed = p.opt_bool("filesAnalyzed")?;
        for c in p.opt_objs("checksums")? {
            self.checksum(ST_PACKAGES, &c)?;
        }
        self.fields_22(
            ST_PACKAGES,
            p,
            PACKAGE_FIELDS_REQUIRED_22,
            PACKAGE_FIELDS_23,
        )?;
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
        Ok(())
    }

    fn file(&mut self, f: &Obj<'_>) -> Result<(), SbomError> {
        self.define(f)?;
        if f.req_text("fileName")?.starts_with('/') {
            return Err(SbomError::InvalidValue {
                path: f.at("fileName"),
                reason: "must be a relative path",
            });
        }
        let mut has_sha1 = false;
        for c in &f.opt_objs("checksums")? {
            has_sha1 |= self.checksum(ST_FILES, c)? == "SHA1";
        }
        self.fields_22(ST_FILES, f, FILE_FIELDS_REQUIRED_22, &[])?;
        if !has_sha1 {
            return Err(SbomError::InvalidHash {
                path: f.at("checksums"),
                reason: "a file must have a SHA1 checksum",
            });
        }
        Ok(())
    }

    fn snippet(&mut self, s: &Obj<'_>) -> Result<(), SbomError> {
        self.define(s)?;
        let from = s.req_text("snippetFromFile")?;
        if s.opt_arr("ranges")?.is_empty() {
            return Err(SbomError::MissingField {
                path: s.at("ranges"),
            });
        }
        // The file a snippet points at is resolved in a later step, after every element is known.
        let r = self.resolve(ST_SNIPPET_REFS, s.at("snippetFromFile"), from, false);
        self.verdict.check(ST_SNIPPET_REFS, CONTENT, r);
        Ok(())
    }

    fn license(&mut self, l: &Obj<'_>) -> Result<(), SbomError> {
        let id = l.req_str("licenseId")?;
        if !id.starts_with("LicenseRef-") {
            return Err(SbomError::InvalidValue {
                path: l.at("licenseId"),
                reason: "must start with LicenseRef-",
            });
        }
        if !self.license_ids.insert(self.sh, id)? {
            return Err(SbomError::InvalidValue {
                path: l.at("licenseId"),
                reason: "licenseId used more than once",
            });
        }
        l.req_str("extractedText")?;
        Ok(())
    }

    fn relationship(&mut self, r: &Obj<'_>) -> Result<(), SbomError> {
        let st = ST_RELATIONSHIPS;
        self.resolve(
            st,
            r.at("spdxElementId"),
            r.req_str("spdxElementId")?,
            false,
        )?;
        let kind = r.req_str("relationshipType")?;
        if !RELATIONSHIP_TYPES.contains(&kind) {
            return Err(SbomError::InvalidValue {
                path: r.at("relationshipType"),
                reason: "unknown relationship type",
            });
        }
        if RELATIONSHIP_TYPES_23.contains(&kind) {
            let path = r.at("relationshipType");
            let reason = "relationship type not in SPDX 2.2";
            self.in_22(st, SbomError::InvalidValue { path, reason })?;
        }
        self.resolve(
            st,
            r.at("relatedSpdxElement"),
            r.req_str("relatedSpdxElement")?,
            true,
        )
    }

    /// End of document: required header fields, the conditional 2.2 refusal, then every parked
    /// reference; the version on success.
    pub(super) fn finish(mut self) -> Result<SbomFormat, SbomError> {
        for (i, (key, stage)) in HEADER.iter().enumerate() {
            if !self.header_seen.get(i).copied().unwrap_or(true) {
                self.verdict.check(
                    *stage,
                    CONTENT,
                    Err(SbomError::MissingField {
                        path: format!("/{key}"),
                    }),
                );
            }
        }
        if let (Some((rank, err)), Some(SbomFormat::Spdx22)) = (self.if_22.take(), self.version) {
            self.verdict.record(rank, err);
        }
        for p in std::mem::take(&mut self.parked) {
            let set = if p.tag == TAG_DOC_REF {
                &self.doc_refs
            } else {
                &self.defined
            };
            if !set.contains_fp(p.fp) {
                self.verdict.record(p.rank, p.err);
            }
        }
        self.verdict.finish()?;
        Ok(self.version.unwrap_or(SbomFormat::Spdx23))
    }
}

/// One header field (document-level scalar or `creationInfo`).
fn header(key: &str, node: &Node, path: String) -> Result<(), SbomError> {
    if key == "creationInfo" {
        return creation_info(&Obj::new(node, path)?);
    }
    let s = node.as_str().ok_or(SbomError::WrongType {
        path: path.clone(),
        expected: "string",
    })?;
    let bad = |reason| Err(SbomError::InvalidValue { path, reason });
    match key {
        "spdxVersion" if s != "SPDX-2.3" && s != "SPDX-2.2" => {
            Err(SbomError::UnsupportedSpdxVersion { found: bounded(s) })
        }
        "SPDXID" if s != "SPDXRef-DOCUMENT" => bad("must be SPDXRef-DOCUMENT"),
        "dataLicense" if s != "CC0-1.0" => bad("must be CC0-1.0"),
        "name" if s.trim().is_empty() => bad("must not be empty"),
        "documentNamespace" if !valid_namespace(s) => bad("must be an absolute URI without '#'"),
        _ => Ok(()),
    }
}

fn creation_info(ci: &Obj<'_>) -> Result<(), SbomError> {
    if !valid_created(ci.req_str("created")?) {
        return Err(SbomError::InvalidValue {
            path: ci.at("created"),
            reason: "must be YYYY-MM-DDThh:mm:ssZ",
        });
    }
    let creators = ci.opt_strs("creators")?;
    if !ci.contains_key("creators") || creators.is_empty() {
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
