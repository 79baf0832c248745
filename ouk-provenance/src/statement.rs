//! Wire types for in-toto Statement v1 and SLSA provenance v1, as this project emits them.
//!
//! Why hand-written instead of the `in-toto` crate: in-toto 0.4 only knows Statement v0.1 and SLSA
//! provenance v0.1/v0.2 (no `buildDefinition`/`runDetails`), and its subject list is a `BTreeMap`, which
//! would silently merge duplicate subjects that we must refuse. These structs cover exactly the fields of
//! `spec/provenance.md`; `deny_unknown_fields` makes anything else an error (only our builder produces
//! these statements, and a new field means a new buildType version).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `_type` of every statement we emit and accept.
pub const STATEMENT_TYPE_V1: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of every statement we emit and accept.
pub const PREDICATE_TYPE_SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// `buildDefinition.buildType` for an OUK kit build; its parameters are defined in `spec/provenance.md`.
pub const BUILD_TYPE_KIT_V1: &str = "https://ouk.dev/buildtypes/kit/v1";
/// DSSE `payloadType` the lead's envelope must carry around these statement bytes.
pub const PAYLOAD_TYPE_IN_TOTO: &str = "application/vnd.in-toto+json";

/// in-toto Statement v1 (`predicate` typed by `P`; `Value` while the predicate type is still unchecked).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Statement<P> {
    #[serde(rename = "_type")]
    pub typ: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

/// in-toto ResourceDescriptor v1, restricted to the fields our buildType uses.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// SLSA provenance v1 predicate (`E` = externalParameters; `Value` until the buildType is checked).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Provenance<E> {
    pub build_definition: BuildDefinition<E>,
    pub run_details: RunDetails,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BuildDefinition<E> {
    pub build_type: String,
    pub external_parameters: E,
    #[serde(default)]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RunDetails {
    pub builder: Builder,
    pub metadata: BuildMetadata,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Builder {
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BuildMetadata {
    pub invocation_id: String,
    pub started_on: String,
    pub finished_on: String,
}

/// Annotation key on each resolvedDependency saying what it is (`feed` or `sbom`).
pub(crate) const ANN_KIND: &str = "kind";
/// Optional annotation key carrying a feed's version / snapshot label.
pub(crate) const ANN_VERSION: &str = "version";

/// The only digest algorithm our statements carry.
pub(crate) const DIGEST_SHA256: &str = "sha256";

/// Keeps the unchecked predicate type nameable.
pub(crate) type RawStatement = Statement<Value>;
