//! Deterministic generator of hostile kits for the importer's adversarial test suite.
//!
//! Why a library: the format-level suite (`tests/format_level.rs`), the binary-level suite
//! (`tests/binary_level.rs`) and the fuzz seed generator all need the same cases, and a case is
//! only useful if its bytes are reproducible from source (no opaque binaries are committed).
//!
//! Every case is "the valid fixture kit of [`fixture`] with exactly one thing wrong", plus the error
//! kind (`ouk_format::Error::kind()` or the importer's kind for checks the format crate does not
//! make) and the importer exit code the contract assigns to it. `testdata/hostile/README.md` lists
//! them with what each one proves.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cases;
pub mod chains;
pub mod fixture;
pub mod rawtar;
pub mod seeds;
pub mod zstd_raw;

/// Importer exit code: verification failed (contract table).
pub const EXIT_VERIFICATION: i32 = 10;
/// Importer exit code: trust root unusable.
pub const EXIT_TRUST: i32 = 11;
/// Importer exit code: policy refused.
pub const EXIT_POLICY: i32 = 20;
/// Importer exit code for local conditions (disk full, store unsafe).
pub const EXIT_IO: i32 = 30;

/// Which attack surface a case belongs to (the grouping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// The tar container: names, entry types, headers, order.
    Archive,
    /// Sizes: oversized documents, bombs, trailing data, truncation, bit flips.
    Size,
    /// Signatures, roles, thresholds, time, replay.
    Trust,
    /// A manifest signed by a holder of the kit key that breaks the manifest rules.
    Manifest,
    /// Attestation and SBOM checks (importer only).
    Provenance,
    /// The Trivy DB member: hostile Bolt files and archives, misplaced Trivy data (importer
    /// only).
    Trivy,
    /// Issue 11: inputs that once crashed, exhausted or bricked the importer.
    Boundary,
    /// Delta kits (spec §4.7, §4.8) that must not apply (importer only).
    Delta,
}

impl Category {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Archive => "archive",
            Category::Size => "size",
            Category::Trust => "trust",
            Category::Manifest => "manifest",
            Category::Provenance => "provenance",
            Category::Trivy => "trivy",
            Category::Boundary => "boundary",
            Category::Delta => "delta",
        }
    }
}

/// Which layer is expected to refuse the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// `ouk_format` refuses it (trust root verification or `verify_kit`).
    Format,
    /// The format layer accepts it; only the importer's own checks (provenance, SBOM, store
    /// state) can refuse it.
    Importer,
}

/// One hostile input and what must happen to it.
#[derive(Debug, Clone)]
pub struct HostileCase {
    /// Unique, file-name-safe name.
    pub name: String,
    /// Attack surface.
    pub category: Category,
    /// What the case does and what its refusal proves.
    pub description: String,
    /// The kit file.
    pub bytes: Vec<u8>,
    /// The trust root file to verify it against (usually [`fixture::trust_root`]).
    pub trust_root: Vec<u8>,
    /// Kits that must be imported successfully, in order, before this one (replay/equivocation).
    pub prior_kits: Vec<Vec<u8>>,
    /// Expected error kind (snake_case, as in `--json` output and the audit log).
    pub expected_kind: &'static str,
    /// Expected importer exit code.
    pub expected_exit: i32,
    /// Which layer refuses it.
    pub layer: Layer,
}

/// Every hostile case, in a stable order. Deterministic: the same source gives the same bytes.
pub fn cases() -> Vec<HostileCase> {
    let ctx = cases::Ctx::new();
    let mut all = Vec::new();
    all.extend(cases::archive::cases(&ctx));
    all.extend(cases::size::cases(&ctx));
    all.extend(cases::trust::cases(&ctx));
    all.extend(cases::manifest::cases(&ctx));
    all.extend(cases::provenance::cases(&ctx));
    all.extend(cases::trivy::cases(&ctx));
    all.extend(cases::boundary::cases(&ctx));
    all.extend(cases::delta::cases(&ctx));
    all
}

/// Padding bit flips (see [`cases::size::known_gaps`]): once accepted by the format layer, now
/// refused; kept as their own list so the regression test names them.
pub fn known_gaps() -> Vec<HostileCase> {
    cases::size::known_gaps(&cases::Ctx::new())
}

/// The valid base kit and its trust root (for seed corpora and sanity checks).
pub fn valid_kit() -> (Vec<u8>, Vec<u8>) {
    let kit = fixture::Kit::build(&fixture::KitOptions::default());
    (kit.bytes(), fixture::trust_root())
}

/// The text of `testdata/hostile/README.md`: every case with what it proves (a test keeps the
/// committed file equal to this, so the list cannot drift from the generator).
pub fn readme() -> String {
    let all = cases();
    let gaps = known_gaps();
    let mut out = String::from(README_HEAD);
    out.push_str(&format!(
        "\n{} cases ({} refused by the format layer, {} only by the importer).\n",
        all.len(),
        all.iter().filter(|c| c.layer == Layer::Format).count(),
        all.iter().filter(|c| c.layer == Layer::Importer).count()
    ));
    let mut category = None;
    for c in &all {
        if category != Some(c.category) {
            category = Some(c.category);
            out.push_str(&format!(
                "\n## {}\n\n| case | kind | exit | layer | what it proves |\n|---|---|---|---|---|\n",
                c.category.as_str()
            ));
        }
        out.push_str(&row(c));
    }
    out.push_str(README_GAPS);
    out.push_str("\n| case | kind | exit | layer | what it proves |\n|---|---|---|---|---|\n");
    for c in &gaps {
        out.push_str(&row(c));
    }
    out
}

fn row(c: &HostileCase) -> String {
    format!(
        "| `{}` | `{}` | {} | {} | {} |\n",
        c.name,
        c.expected_kind,
        c.expected_exit,
        match c.layer {
            Layer::Format => "format",
            Layer::Importer => "importer",
        },
        c.description.replace('|', "\\|")
    )
}

const README_HEAD: &str = "# Hostile kits

All files here are **constructed**; none is real data. Nothing binary is committed: every hostile
kit is generated deterministically by the `ouk-hostile` crate (`ouk-hostile/src/cases/`) each time
the suites run, and this file is generated from the same list
(`cargo run -p ouk-hostile --example readme > testdata/hostile/README.md`; a test fails if it drifts).

Every case is the valid fixture kit (attestation, kit SBOM, two feed payloads, signed by seeded
test keys; `ouk-hostile/src/fixture.rs`) with exactly one thing wrong, so the refusal can only come
from that one thing. Columns: the exact error kind (`ouk_format::Error::kind()` or the importer's),
the importer exit code from the contract table, and the layer that must refuse it: `format` cases
are refused by `ouk_format` itself (`ouk-hostile/tests/format_level.rs`); `importer` cases pass the
format layer (asserted) and must be refused by `ouk-importer` (`ouk-hostile/tests/binary_level.rs`).
The binary-level suite also checks, for every case, that nothing is written outside the store's
staging area and that the store's `current`, `state.json` and audit chain are unchanged apart from
one audit record of the refusal; `.ci/parts/hostile.sh` measures the importer's peak RSS on every
case (< 64 MiB).
";

const README_GAPS: &str = "
## Former gaps, now refused

The `tar` crate skips the padding after each entry's data without reading it, so up to 511 bytes
per entry could change while every digest still matched: the content stayed authenticated, but the
kit's sha256 changed (a genuine kit re-padded looked like a different kit with the same sequence, a
fake equivocation) and the padding could carry hidden data. `ouk-format` now requires zero padding
and byte-canonical headers; `format_level.rs::padding_bit_flips_are_refused` keeps these as a
regression test.
";
