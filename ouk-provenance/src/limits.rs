//! Size and count limits applied to untrusted statements and SBOMs.

/// Finite caps for everything this crate parses. Why: statements and SBOMs arrive inside a kit from an
/// untrusted medium; without caps a crafted document could exhaust memory or CPU before any check fails.
/// There is deliberately no "unlimited" value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest statement payload accepted, in bytes (stops memory exhaustion by a huge payload).
    pub max_statement_bytes: usize,
    /// Most subjects in a statement (stops quadratic/huge subject lists).
    pub max_subjects: usize,
    /// Most `resolvedDependencies` entries in a statement.
    pub max_dependencies: usize,
    /// Longest name, URI, id or other string field checked by name, in bytes (stops huge strings that end
    /// up in error messages and summaries).
    pub max_string_bytes: usize,
    /// Largest SBOM accepted, in bytes.
    pub max_sbom_bytes: usize,
    /// Most JSON values (objects, arrays, scalars) in any one document (stops "billion tiny values" bombs).
    pub max_json_values: usize,
    /// Deepest JSON nesting accepted (stops stack exhaustion; serde_json's own guard is 128).
    pub max_json_depth: usize,
    /// Most keys in any one JSON object. Stops one object with millions of keys from making the
    /// duplicate-key check hold millions of fingerprints (the keys of every open object are held, so
    /// the worst case is this times `max_json_depth`).
    pub max_json_object_keys: usize,
    /// Most values in one materialised SBOM element (an element of a top-level array such as one
    /// package, file, relationship or component with its nested parts, or a non-array top-level value
    /// such as `metadata`). Stops a signed-but-hostile SBOM from making the streaming validator hold a
    /// big tree: only one element is held at a time.
    pub max_sbom_element_values: usize,
    /// Most string and key bytes in one materialised SBOM element, and longest single string or
    /// number token anywhere in an SBOM. Stops one huge string from being buffered whole (serde_json
    /// copies a token before any check sees it).
    pub max_sbom_element_bytes: usize,
    /// Most elements in any one top-level SBOM array (packages, files, relationships, components,
    /// dependencies, ...). Stops CPU exhaustion by arrays of millions of tiny elements; a large real
    /// SBOM has ~50k packages.
    pub max_sbom_elements: usize,
    /// Most identifiers defined in one SBOM (SPDXIDs, DocumentRefs, LicenseRefs, bom-refs), kept as
    /// 128-bit fingerprints for the uniqueness and reference checks. Stops memory exhaustion by
    /// millions of identifiers. The default, 7/8 of 2^18, is the most a hash table of 2^18 slots
    /// holds before it doubles (~4.5 MiB, ~6.7 MiB while growing); ~4x a large real SBOM.
    pub max_sbom_ids: usize,
    /// Most bytes held for references seen before the identifier they name (e.g. `documentDescribes`
    /// before `packages`), parked until the end of the document: each costs ~150 bytes plus its path
    /// and a bounded copy of the id. Stops memory exhaustion by references that can only be resolved
    /// later; ~6 MiB parks ~30k typical references (real documents park a handful).
    pub max_sbom_forward_ref_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_statement_bytes: 8 * 1024 * 1024,
            max_subjects: 100_000,
            max_dependencies: 10_000,
            max_string_bytes: 4096,
            max_sbom_bytes: 64 * 1024 * 1024,
            max_json_values: 4_000_000,
            max_json_depth: 64,
            max_json_object_keys: 1024,
            max_sbom_element_values: 50_000,
            max_sbom_element_bytes: 2 * 1024 * 1024,
            max_sbom_elements: 1_000_000,
            max_sbom_ids: 229_376,
            max_sbom_forward_ref_bytes: 6 * 1024 * 1024,
        }
    }
}
