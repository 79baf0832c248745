//! Builder side: the in-toto Statement v1 / SLSA provenance v1 payload for one kit.

use crate::check::check_statement;
use crate::digest::{Sha256Hex, Subject};
use crate::error::ProvenanceError;
use crate::limits::Limits;
use crate::statement::{
    BuildDefinition, BuildMetadata, Builder, Provenance, ResourceDescriptor, RunDetails, Statement,
    ANN_KIND, ANN_VERSION, BUILD_TYPE_KIT_V1, DIGEST_SHA256, PREDICATE_TYPE_SLSA_PROVENANCE_V1,
    STATEMENT_TYPE_V1,
};
use crate::timefmt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `buildDefinition.externalParameters` of the kit buildType: the build request as the operator gave it
/// (which sources, which options). Why typed: it is shipped and signed, so it must never carry secrets,
/// and a fixed shape lets the importer reject anything unexpected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExternalParameters {
    /// Feed sources requested, sorted by name in the output.
    pub sources: Vec<RequestedSource>,
    /// Other build options (e.g. `"compression": "zstd-19"`), as strings. Keys that look like secrets
    /// are refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl ExternalParameters {
    /// Builds the parameters (the struct is `non_exhaustive` so later buildType versions can add fields).
    pub fn new(sources: Vec<RequestedSource>, options: BTreeMap<String, String>) -> Self {
        ExternalParameters { sources, options }
    }
}

/// One requested feed source of the build request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedSource {
    /// Source name, e.g. `osv`, `ghsa`.
    pub name: String,
    /// Where it was requested from, if any. Must not contain credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// What a resolved dependency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DependencyKind {
    /// An input feed snapshot.
    Feed,
    /// An SBOM given to or made by the build.
    Sbom,
}

impl DependencyKind {
    fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Feed => "feed",
            DependencyKind::Sbom => "sbom",
        }
    }
}

/// One entry of `resolvedDependencies`: an input the build actually consumed, pinned by digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dependency {
    /// Feed snapshot or SBOM.
    pub kind: DependencyKind,
    /// Name (e.g. `osv`, or the SBOM's member path).
    pub name: String,
    /// Where it came from, if known. Must not contain credentials.
    pub uri: Option<String>,
    /// Version / snapshot label, if any.
    pub version: Option<String>,
    /// SHA-256 of the consumed content.
    pub sha256: Sha256Hex,
}

/// Everything [`build_statement`] needs. The caller supplies all values, including times (derived from
/// `SOURCE_DATE_EPOCH` for reproducible builds): this crate reads no clock and no environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceInput {
    /// Every payload member: path + SHA-256 of its uncompressed content.
    pub subjects: Vec<Subject>,
    /// The build request (no secrets).
    pub external_parameters: ExternalParameters,
    /// Each input feed snapshot and SBOM with its digest.
    pub resolved_dependencies: Vec<Dependency>,
    /// `runDetails.builder.id`, from configuration; must be among the importer's allowed builders.
    pub builder_id: String,
    /// `runDetails.builder.version`, e.g. `{"ouk-builder": "0.1.0"}`.
    pub builder_version: BTreeMap<String, String>,
    /// `runDetails.metadata.invocationId`.
    pub invocation_id: String,
    /// Build start, Unix seconds.
    pub started_on: i64,
    /// Build end, Unix seconds.
    pub finished_on: i64,
}

/// Option names containing one of these (case-insensitive) are refused as likely secrets.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "private",
    "apikey",
    "api_key",
    "api-key",
    "auth",
];

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

/// True when a URI carries userinfo (`scheme://user:pass@host/...`).
fn uri_has_credentials(uri: &str) -> bool {
    let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or(uri);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.contains('@')
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ProvenanceError {
    ProvenanceError::InvalidInput {
        field,
        reason: reason.into(),
    }
}

/// Builds the statement payload bytes (compact JSON, deterministic: subjects, sources and dependencies
/// are sorted, maps are ordered). The lead wraps them in a DSSE envelope with payloadType
/// [`crate::PAYLOAD_TYPE_IN_TOTO`]. The result is re-checked with [`check_statement`] and default
/// [`Limits`] before it is returned, so the builder can never emit what an importer would refuse.
pub fn build_statement(input: &ProvenanceInput) -> Result<Vec<u8>, ProvenanceError> {
    if input.subjects.is_empty() {
        return Err(invalid("subjects", "a kit has at least one payload member"));
    }
    let mut names = BTreeSet::new();
    for s in &input.subjects {
        if !names.insert(s.name.as_str()) {
            return Err(invalid(
                "subjects",
                format!("member {:?} listed twice", s.name),
            ));
        }
    }
    let mut params = input.external_parameters.clone();
    for k in params.options.keys() {
        if looks_secret(k) {
            return Err(ProvenanceError::SecretLikeParameter { key: k.clone() });
        }
    }
    for s in &params.sources {
        if s.uri.as_deref().is_some_and(uri_has_credentials) {
            return Err(ProvenanceError::SecretLikeParameter {
                key: format!("sources[{}].uri", s.name),
            });
        }
    }
    params.sources.sort();
    let mut deps = input.resolved_dependencies.clone();
    for d in &deps {
        if d.uri.as_deref().is_some_and(uri_has_credentials) {
            return Err(ProvenanceError::SecretLikeParameter {
                key: format!("resolvedDependencies[{}].uri", d.name),
            });
        }
    }
    deps.sort();
    let started = timefmt::format_unix(input.started_on)
        .ok_or_else(|| invalid("started_on", "out of range"))?;
    let finished = timefmt::format_unix(input.finished_on)
        .ok_or_else(|| invalid("finished_on", "out of range"))?;

    let mut subjects = input.subjects.clone();
    subjects.sort();
    let statement = Statement {
        typ: STATEMENT_TYPE_V1.to_owned(),
        subject: subjects
            .iter()
            .map(|s| ResourceDescriptor {
                name: Some(s.name.clone()),
                uri: None,
                digest: BTreeMap::from([(DIGEST_SHA256.to_owned(), s.sha256.to_string())]),
                annotations: None,
            })
            .collect(),
        predicate_type: PREDICATE_TYPE_SLSA_PROVENANCE_V1.to_owned(),
        predicate: Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE_KIT_V1.to_owned(),
                external_parameters: params,
                resolved_dependencies: deps
                    .iter()
                    .map(|d| {
                        let mut ann =
                            BTreeMap::from([(ANN_KIND.to_owned(), d.kind.as_str().to_owned())]);
                        if let Some(v) = &d.version {
                            ann.insert(ANN_VERSION.to_owned(), v.clone());
                        }
                        ResourceDescriptor {
                            name: Some(d.name.clone()),
                            uri: d.uri.clone(),
                            digest: BTreeMap::from([(
                                DIGEST_SHA256.to_owned(),
                                d.sha256.to_string(),
                            )]),
                            annotations: Some(ann),
                        }
                    })
                    .collect(),
            },
            run_details: RunDetails {
                builder: Builder {
                    id: input.builder_id.clone(),
                    version: input.builder_version.clone(),
                },
                metadata: BuildMetadata {
                    invocation_id: input.invocation_id.clone(),
                    started_on: started,
                    finished_on: finished,
                },
            },
        },
    };
    let bytes = serde_json::to_vec(&statement).map_err(|e| invalid("statement", e.to_string()))?;
    check_statement(
        &bytes,
        &input.subjects,
        std::slice::from_ref(&input.builder_id),
        &Limits::default(),
    )?;
    Ok(bytes)
}
