//! Wire types for in-toto Statement v1 and SLSA provenance v1, as this project emits them.
//!
//! Why hand-written instead of the `in-toto` crate: in-toto 0.4 only knows Statement v0.1 and SLSA
//! provenance v0.1/v0.2 (no `buildDefinition`/`runDetails`), and its subject list is a `BTreeMap`, which
//! would silently merge duplicate subjects that we must refuse. These structs cover exactly the fields of
//! `spec/provenance.md`; `deny_unknown_fields` makes anything else an error (only our builder produces
//! these statements, and a new field means a new buildType version).

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;

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

// ---- check side ----------------------------------------------------------------------------------
// The importer parses into these instead of the builder's types: nested documents stay borrowed raw
// text until their type has been checked (no parse tree of attacker size), and the small maps are
// vectors with a hard entry cap (a B-tree node per one-entry map would cost ~40x the JSON text).

/// A statement as the checker reads it (the two type strings were checked by the scan before).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatementIn<'a> {
    #[serde(rename = "_type")]
    pub _typ: IgnoredAny,
    pub subject: Vec<DescriptorIn>,
    #[serde(rename = "predicateType")]
    pub _predicate_type: IgnoredAny,
    #[serde(borrow)]
    pub predicate: &'a RawValue,
}

/// The SLSA provenance v1 predicate as the checker reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProvenanceIn<'a> {
    #[serde(borrow)]
    pub build_definition: BuildDefinitionIn<'a>,
    pub run_details: RunDetails,
}

/// `buildDefinition` as the checker reads it (externalParameters still raw until buildType is known).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BuildDefinitionIn<'a> {
    pub build_type: String,
    #[serde(borrow)]
    pub external_parameters: &'a RawValue,
    #[serde(default)]
    pub resolved_dependencies: Vec<DescriptorIn>,
}

/// A ResourceDescriptor as the checker reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DescriptorIn {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub digest: SmallMap,
    #[serde(default)]
    pub annotations: Option<SmallMap>,
}

/// Most entries of a digest set or annotation map (ours hold one or two).
pub(crate) const SMALL_MAP_MAX: usize = 16;

/// A string-to-string map of at most [`SMALL_MAP_MAX`] entries, in document order, keys unique.
#[derive(Debug, Default)]
pub(crate) struct SmallMap(pub Vec<(String, String)>);

impl SmallMap {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

impl<'de> Deserialize<'de> for SmallMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SmallMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a map of at most {SMALL_MAP_MAX} strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SmallMap, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if out.len() >= SMALL_MAP_MAX {
                        return Err(de::Error::custom(format!(
                            "more than {SMALL_MAP_MAX} entries in a digest or annotation map"
                        )));
                    }
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(de::Error::custom(
                            "repeated key in a digest or annotation map",
                        ));
                    }
                    out.push((k, v));
                }
                Ok(SmallMap(out))
            }
        }
        d.deserialize_map(V)
    }
}
