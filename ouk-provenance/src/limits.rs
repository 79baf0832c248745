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
        }
    }
}
