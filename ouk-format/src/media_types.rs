//! Media and payload types used by the format, declared once so no string literal can drift.

/// DSSE `payloadType` of the kit manifest: signing the type stops a manifest signature from
/// being replayed as any other signed document (and vice versa).
pub const MANIFEST_PAYLOAD_TYPE: &str = "application/vnd.ouk.manifest.v1+json";
/// DSSE `payloadType` of the signed part index of a split kit (`KIT.parts.json`).
pub const PARTS_PAYLOAD_TYPE: &str = "application/vnd.ouk.parts+json";
/// `format` of the part index payload.
pub const PARTS_FORMAT: &str = "ouk/parts/1";
/// DSSE `payloadType` of the trust root document.
pub const TRUST_ROOT_PAYLOAD_TYPE: &str = "application/vnd.ouk.trust-root.v1+json";
/// DSSE `payloadType` of in-toto statements (provenance attestation), as the in-toto spec fixes it.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Format version string carried by every manifest.
pub const FORMAT_VERSION: &str = "ouk/1";
/// `_type` of the trust root document.
pub const TRUST_ROOT_TYPE: &str = "ouk/trust-root/1";
/// `_type` of the `x-ouk` extension inside a TUF-layout trust root (`signed._type` is TUF's
/// `root`): versions what `ouk` adds to TUF's document.
pub const TRUST_ROOT_TYPE_V2: &str = "ouk/trust-root/2";
/// TUF specification version written into `signed.spec_version` (python-tuf reads 1.x).
pub const TUF_SPEC_VERSION: &str = "1.0.31";
/// Media type of a DSSE envelope holding an in-toto statement (member role `attestation`).
pub const ATTESTATION_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Media type of an SPDX 2.3 JSON SBOM member.
pub const SPDX_JSON_MEDIA_TYPE: &str = "application/spdx+json";
/// Media type of a CycloneDX JSON SBOM member.
pub const CYCLONEDX_JSON_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
/// Media type of the Trivy DB layer, identical to the upstream OCI layer's.
pub const TRIVY_DB_MEDIA_TYPE: &str = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip";
/// Media type of the merged OSV advisories (newline-delimited OSV JSON records).
pub const OSV_NDJSON_MEDIA_TYPE: &str = "application/vnd.ouk.osv+ndjson";
/// Fallback media type for opaque payload files.
pub const OCTET_STREAM: &str = "application/octet-stream";
