//! Attestation and SBOM cases. The format crate does not check provenance, so each of these passes
//! `verify_kit` (the format-level suite asserts exactly that) and must be refused by the importer.

use super::{format_case, Ctx};
use crate::fixture::{KeyName, Kit, KitOptions, SubjectEdit};
use crate::{Category, HostileCase, Layer, EXIT_POLICY, EXIT_VERIFICATION};

/// Importer error kinds for provenance and SBOM refusals (`ouk-importer/src/error.rs`,
/// docs/importer.md "Policy"); the format crate has no such kinds.
pub mod kinds {
    /// The kit has no attestation member.
    pub const ATTESTATION_MISSING: &str = "missing_attestation";
    /// A kit member is not attested.
    pub const SUBJECT_MISSING: &str = "provenance_subject_missing";
    /// The attestation names something the kit does not contain.
    pub const SUBJECT_EXTRA: &str = "provenance_subject_extra";
    /// The attestation gives another digest for a member.
    pub const SUBJECT_DIGEST: &str = "provenance_subject_digest_mismatch";
    /// The attestation envelope does not meet the attestation role's threshold.
    pub const ATTESTATION_SIGNATURE: &str = "threshold_not_met";
    /// The statement's builder is not allowed (a policy refusal, exit 20).
    pub const BUILDER: &str = "provenance_unknown_builder";
    /// A payload has no SBOM link.
    pub const SBOM_MISSING: &str = "missing_sbom_link";
    /// The SBOM does not validate.
    pub const SBOM_INVALID: &str = "sbom_invalid";
}

fn importer_case(
    ctx: &Ctx,
    name: &str,
    kind: &'static str,
    opts: KitOptions,
    desc: &str,
) -> HostileCase {
    // An unknown builder in the statement is a policy refusal; every other finding is a failed
    // verification (contract exit-code table, docs/importer.md "Policy").
    let exit = if kind == kinds::BUILDER {
        EXIT_POLICY
    } else {
        EXIT_VERIFICATION
    };
    let mut case = format_case(
        ctx,
        Category::Provenance,
        name,
        kind,
        exit,
        Kit::build(&opts).bytes(),
        desc,
    );
    case.layer = Layer::Importer;
    case
}

/// All provenance cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let d = KitOptions::default;
    vec![
        importer_case(ctx, "attestation_missing", kinds::ATTESTATION_MISSING,
            KitOptions { attestation: false, ..d() },
            "A validly signed kit without an attestation member: every kit must carry provenance."),
        importer_case(ctx, "attestation_subject_digest_changed", kinds::SUBJECT_DIGEST,
            KitOptions { subjects: SubjectEdit::ChangeDigest, ..d() },
            "The attestation names the advisories member with another digest: provenance is for different content."),
        importer_case(ctx, "attestation_extra_subject", kinds::SUBJECT_EXTRA,
            KitOptions { subjects: SubjectEdit::Extra, ..d() },
            "The attestation lists a subject the kit does not contain."),
        importer_case(ctx, "attestation_missing_subject", kinds::SUBJECT_MISSING,
            KitOptions { subjects: SubjectEdit::DropPayload, ..d() },
            "The attestation omits one payload member: unattested content is refused."),
        importer_case(ctx, "attestation_signed_by_kit_key", kinds::ATTESTATION_SIGNATURE,
            KitOptions { attestation_signer: KeyName::Kit, ..d() },
            "The attestation is signed by the kit key instead of the attestation key: the two roles are separate so one stolen key cannot forge both."),
        importer_case(ctx, "attestation_signed_by_outsider", kinds::ATTESTATION_SIGNATURE,
            KitOptions { attestation_signer: KeyName::Outsider, ..d() },
            "The attestation is signed by an unknown key."),
        importer_case(ctx, "attestation_unknown_builder", kinds::BUILDER,
            KitOptions { statement_builder_id: "https://evil.example/builder".into(), ..d() },
            "The statement names a builder id the trust root does not allow (the manifest's builder id is allowed)."),
        importer_case(ctx, "sbom_member_missing", kinds::SBOM_MISSING,
            KitOptions { sbom_present: false, ..d() },
            "No SBOM member and no payload linked to one: every payload must have an SBOM."),
        importer_case(ctx, "sbom_invalid", kinds::SBOM_INVALID,
            KitOptions { sbom_override: Some(br#"{"spdxVersion":"SPDX-2.3","name":"broken"}"#.to_vec()), ..d() },
            "The SBOM member is JSON but not a valid SPDX document."),
        importer_case(ctx, "sbom_spdx22_with_spdx23_field", kinds::SBOM_INVALID,
            KitOptions { sbom_override: Some(include_bytes!("../../../testdata/provenance/sbom-invalid/both/spdx-2.2-primary-package-purpose.spdx.json").to_vec()), ..d() },
            "The SBOM member says SPDX 2.2 but uses a field only 2.3 has (primaryPackagePurpose): 2.2 is read by 2.2's rules."),
        importer_case(ctx, "sbom_cyclonedx16_streebog_hash", kinds::SBOM_INVALID,
            KitOptions { sbom_override: Some(include_bytes!("../../../testdata/provenance/sbom-invalid/both/cdx-1.6-streebog-hash.cdx.json").to_vec()), ..d() },
            "The SBOM member says CycloneDX 1.6 but carries a Streebog hash, which only 1.7 defines."),
    ]
}
