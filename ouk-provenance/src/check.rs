//! Importer side: decide whether a statement payload attests exactly this kit, by an allowed builder.
//!
//! Runs on the payload bytes returned by the DSSE verification (never on a re-serialization), after the
//! envelope met the `attestation` threshold. The steps and their order are listed in `spec/provenance.md`.

use crate::build::{DependencyKind, ExternalParameters};
use crate::digest::{Sha256Hex, Subject};
use crate::error::ProvenanceError;
use crate::limits::Limits;
use crate::statement::{
    DescriptorIn, ProvenanceIn, SmallMap, StatementIn, ANN_KIND, ANN_VERSION, BUILD_TYPE_KIT_V1,
    DIGEST_SHA256, PREDICATE_TYPE_SLSA_PROVENANCE_V1, STATEMENT_TYPE_V1,
};
use crate::statement_scan::{self, Field};
use crate::text::bounded;
use crate::timefmt;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Subjects accepted beyond the kit's own member count before the list is cut while parsing. Why:
/// the attested set must equal the expected one, so a longer list is refused anyway; a little slack
/// keeps the precise refusal (extra or duplicate subject) for a list that is only slightly off, while
/// a list of attacker size is cut at once.
pub const SUBJECT_SLACK: usize = 16;

/// What the importer reports about a kit's provenance (`verify --json` / `import --json`). Only
/// produced by [`check_statement`], i.e. from a statement that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProvenanceSummary {
    /// `runDetails.builder.id` (one of the allowed builders).
    pub builder_id: String,
    /// `buildDefinition.buildType`.
    pub build_type: String,
    /// `runDetails.metadata.invocationId`.
    pub invocation_id: String,
    /// `runDetails.metadata.startedOn` (RFC 3339).
    pub started_on: String,
    /// `runDetails.metadata.finishedOn` (RFC 3339).
    pub finished_on: String,
    /// Each resolved dependency (feed snapshot or SBOM), in statement order.
    pub sources: Vec<SourceSummary>,
    /// Number of attested subjects (= payload members).
    pub subjects_count: usize,
}

/// One resolved dependency of the build, as reported in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SourceSummary {
    /// Feed snapshot or SBOM.
    pub kind: DependencyKind,
    /// Its name.
    pub name: String,
    /// Where it came from, if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its version / snapshot label, if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// SHA-256 of its content.
    pub sha256: Sha256Hex,
}

fn malformed(e: serde_json::Error) -> ProvenanceError {
    ProvenanceError::Malformed(bounded(&e.to_string()))
}

/// A string field of the statement: bounded length and no control characters (it may reach a terminal).
fn check_str(field: &'static str, s: &str, limits: &Limits) -> Result<(), ProvenanceError> {
    if s.len() > limits.max_string_bytes {
        return Err(ProvenanceError::StringTooLong {
            field,
            limit: limits.max_string_bytes,
        });
    }
    if s.chars().any(char::is_control) {
        return Err(ProvenanceError::Malformed(format!(
            "{field} contains a control character"
        )));
    }
    Ok(())
}

/// The single sha256 of a digest set, or why not.
fn only_sha256(digest: &SmallMap) -> Result<Sha256Hex, &'static str> {
    if digest.len() != 1 {
        return Err("digest must hold exactly one algorithm, sha256");
    }
    let hex = digest
        .get(DIGEST_SHA256)
        .ok_or("digest must hold exactly one algorithm, sha256")?;
    Sha256Hex::parse(hex).map_err(|_| "sha256 digest must be 64 lowercase hex characters")
}

/// A top-level type string found by the scan, or why it is unusable (reported as such rather than as
/// a generic layout error).
fn top_str<'f>(field: &'f Field, key: &str) -> Result<&'f str, ProvenanceError> {
    match field {
        Field::Str(s) => Ok(s),
        Field::NotString => Err(ProvenanceError::Malformed(format!(
            "{key} must be a string"
        ))),
        Field::Missing => Err(ProvenanceError::Malformed(format!("missing {key}"))),
    }
}

/// Checks a statement payload against the kit it came in and the trust root's builder allow-list.
///
/// `expected_subjects` are the kit's payload members from the verified manifest (path + SHA-256 of the
/// uncompressed content); the attested subject set must equal it exactly. `allowed_builders` are the
/// trust root's builder ids (exact string match). Returns the summary to report, or the first refusal
/// in the order of `spec/provenance.md`.
pub fn check_statement(
    payload: &[u8],
    expected_subjects: &[Subject],
    allowed_builders: &[String],
    limits: &Limits,
) -> Result<ProvenanceSummary, ProvenanceError> {
    // 1. size, then strict JSON (duplicate keys, depth, value/key/array caps) with nothing built; the
    //    subject list is cut at the expected count plus a little slack while it streams.
    if payload.len() > limits.max_statement_bytes {
        return Err(ProvenanceError::PayloadTooLarge {
            size: payload.len(),
            limit: limits.max_statement_bytes,
        });
    }
    let subject_cap = limits
        .max_subjects
        .min(expected_subjects.len().saturating_add(SUBJECT_SLACK));
    let scan = statement_scan::scan(payload, limits, subject_cap)?;
    if !scan.is_object {
        return Err(ProvenanceError::Malformed(
            "statement must be a JSON object".into(),
        ));
    }

    // 2. statement and predicate types, then the typed layout (nested parts kept raw until checked).
    let typ = top_str(&scan.typ, "_type")?;
    if typ != STATEMENT_TYPE_V1 {
        return Err(ProvenanceError::WrongStatementType {
            found: bounded(typ),
        });
    }
    let ptype = top_str(&scan.predicate_type, "predicateType")?;
    if ptype != PREDICATE_TYPE_SLSA_PROVENANCE_V1 {
        return Err(ProvenanceError::WrongPredicateType {
            found: bounded(ptype),
        });
    }
    let statement: StatementIn<'_> = serde_json::from_slice(payload).map_err(malformed)?;
    let predicate: ProvenanceIn<'_> =
        serde_json::from_str(statement.predicate.get()).map_err(malformed)?;

    // 3. build type, then its parameters.
    let def = predicate.build_definition;
    if def.build_type != BUILD_TYPE_KIT_V1 {
        return Err(ProvenanceError::WrongBuildType {
            found: bounded(&def.build_type),
            expected: BUILD_TYPE_KIT_V1,
        });
    }
    let params: ExternalParameters =
        serde_json::from_str(def.external_parameters.get()).map_err(malformed)?;
    for s in &params.sources {
        check_str("externalParameters.sources.name", &s.name, limits)?;
        if let Some(uri) = &s.uri {
            check_str("externalParameters.sources.uri", uri, limits)?;
        }
    }
    for (k, v) in &params.options {
        check_str("externalParameters.options key", k, limits)?;
        check_str("externalParameters.options value", v, limits)?;
    }

    // 4. builder allow-list.
    let builder = predicate.run_details.builder;
    check_str("builder.id", &builder.id, limits)?;
    if !allowed_builders.contains(&builder.id) {
        return Err(ProvenanceError::UnknownBuilder {
            id: bounded(&builder.id),
        });
    }
    for (k, v) in &builder.version {
        check_str("builder.version", k, limits)?;
        check_str("builder.version", v, limits)?;
    }

    // 5. subjects: well-formed, unique, and exactly the expected set.
    let subjects_count = check_subjects(&statement.subject, expected_subjects, limits)?;

    // 6. resolved dependencies.
    let sources = check_dependencies(&def.resolved_dependencies, limits)?;

    // 7. metadata.
    let md = predicate.run_details.metadata;
    check_str("metadata.invocationId", &md.invocation_id, limits)?;
    if md.invocation_id.is_empty() {
        return Err(ProvenanceError::Malformed(
            "metadata.invocationId is empty".into(),
        ));
    }
    let started = timefmt::parse_rfc3339(&md.started_on)
        .ok_or(ProvenanceError::BadTimestamp { field: "startedOn" })?;
    let finished =
        timefmt::parse_rfc3339(&md.finished_on).ok_or(ProvenanceError::BadTimestamp {
            field: "finishedOn",
        })?;
    if finished < started {
        return Err(ProvenanceError::BadTimestamp {
            field: "finishedOn<startedOn",
        });
    }

    Ok(ProvenanceSummary {
        builder_id: builder.id,
        build_type: def.build_type,
        invocation_id: md.invocation_id,
        started_on: md.started_on,
        finished_on: md.finished_on,
        sources,
        subjects_count,
    })
}

fn check_subjects(
    attested: &[DescriptorIn],
    expected: &[Subject],
    limits: &Limits,
) -> Result<usize, ProvenanceError> {
    if attested.len() > limits.max_subjects {
        return Err(ProvenanceError::TooManySubjects {
            count: attested.len(),
            limit: limits.max_subjects,
        });
    }
    let mut want: BTreeMap<&str, &Sha256Hex> = BTreeMap::new();
    for s in expected {
        if want.insert(s.name.as_str(), &s.sha256).is_some() {
            return Err(ProvenanceError::InvalidInput {
                field: "expected_subjects",
                reason: format!("member {:?} listed twice", bounded(&s.name)),
            });
        }
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (index, rd) in attested.iter().enumerate() {
        if rd.uri.is_some() || rd.annotations.is_some() {
            return Err(ProvenanceError::SubjectInvalid {
                index,
                reason: "subjects carry only name and digest",
            });
        }
        let name = match rd.name.as_deref() {
            Some(n) if !n.is_empty() => n,
            _ => {
                return Err(ProvenanceError::SubjectInvalid {
                    index,
                    reason: "missing name",
                })
            }
        };
        check_str("subject.name", name, limits)?;
        let digest = only_sha256(&rd.digest)
            .map_err(|reason| ProvenanceError::SubjectInvalid { index, reason })?;
        if !seen.insert(name) {
            return Err(ProvenanceError::SubjectDuplicate {
                name: bounded(name),
            });
        }
        match want.get(name) {
            None => {
                return Err(ProvenanceError::SubjectExtra {
                    name: bounded(name),
                })
            }
            Some(expected) if **expected != digest => {
                return Err(ProvenanceError::SubjectDigestMismatch {
                    name: name.to_owned(),
                    expected: expected.to_string(),
                    attested: digest.to_string(),
                })
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = want.keys().find(|n| !seen.contains(*n)) {
        return Err(ProvenanceError::SubjectMissing {
            name: (*missing).to_owned(),
        });
    }
    Ok(attested.len())
}

fn check_dependencies(
    deps: &[DescriptorIn],
    limits: &Limits,
) -> Result<Vec<SourceSummary>, ProvenanceError> {
    if deps.len() > limits.max_dependencies {
        return Err(ProvenanceError::TooManyDependencies {
            count: deps.len(),
            limit: limits.max_dependencies,
        });
    }
    let mut out = Vec::with_capacity(deps.len());
    for (index, rd) in deps.iter().enumerate() {
        let bad = |reason| ProvenanceError::DependencyInvalid { index, reason };
        let name = rd
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or(bad("missing name"))?;
        check_str("resolvedDependencies.name", &name, limits)?;
        if let Some(uri) = &rd.uri {
            check_str("resolvedDependencies.uri", uri, limits)?;
        }
        let sha256 = only_sha256(&rd.digest).map_err(bad)?;
        let ann = rd
            .annotations
            .as_ref()
            .ok_or(bad("missing annotations.kind"))?;
        if ann.keys().any(|k| k != ANN_KIND && k != ANN_VERSION) {
            return Err(bad("annotations may hold only kind and version"));
        }
        let kind = match ann.get(ANN_KIND) {
            Some("feed") => DependencyKind::Feed,
            Some("sbom") => DependencyKind::Sbom,
            _ => return Err(bad("annotations.kind must be \"feed\" or \"sbom\"")),
        };
        let version = ann.get(ANN_VERSION).map(str::to_owned);
        if let Some(v) = &version {
            check_str("resolvedDependencies.version", v, limits)?;
        }
        out.push(SourceSummary {
            kind,
            name,
            uri: rd.uri.clone(),
            version,
            sha256,
        });
    }
    Ok(out)
}
