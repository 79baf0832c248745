//! Issue 11 ("close the importer's trust boundary"): kits a compromised builder can sign (or an
//! unsigned envelope crafted to exhaust the verifier) that once crashed, exhausted or bricked the
//! importer. Each is refused with a precise kind, leaves the store unchanged, and (measured by
//! `.ci/parts/hostile.sh`) keeps the importer's peak RSS under 64 MiB however large it is.

use ouk_format::dsse::Envelope;
use ouk_format::error::Document;
use ouk_format::manifest::MemberRole;
use ouk_format::media_types::{CYCLONEDX_JSON_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE};
use ouk_format::Limits;

use super::{format_case, Ctx};
use crate::fixture::{self, KeyName, Kit, KitOptions, ATTESTATION_PATH, SBOM_PATH};
use crate::{Category, HostileCase, Layer, EXIT_IO, EXIT_VERIFICATION};

fn importer_case(
    ctx: &Ctx,
    name: &str,
    kind: &'static str,
    exit: i32,
    bytes: Vec<u8>,
    desc: &str,
) -> HostileCase {
    let mut case = format_case(ctx, Category::Boundary, name, kind, exit, bytes, desc);
    case.layer = Layer::Importer;
    case
}

/// A CycloneDX SBOM of about `target` bytes made of small values (3 per property), valid except
/// for its last component, whose `bom-ref` repeats the first one: the validator must stream all
/// of it before it can refuse, so memory is measured at the largest input the cap allows.
pub fn cyclonedx_value_flood(target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 4096);
    out.extend_from_slice(
        br#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":["#,
    );
    let mut i = 0u64;
    while out.len() < target {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(
            format!(
                r#"{{"type":"library","bom-ref":"c{i}","name":"n{i}","version":"1","properties":["#
            )
            .as_bytes(),
        );
        for p in 0..100 {
            if p > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"name":"k","value":"v"}"#);
        }
        out.extend_from_slice(b"]}");
        i += 1;
    }
    out.extend_from_slice(br#",{"type":"library","bom-ref":"c0","name":"dup","version":"1"}]}"#);
    out
}

/// The base kit with its SBOM replaced (and the attestation re-derived, so only the SBOM is wrong).
fn kit_with_sbom(sbom: Vec<u8>) -> Vec<u8> {
    let opts = KitOptions {
        sbom_override: Some(sbom),
        ..KitOptions::default()
    };
    let mut kit = Kit::build(&opts);
    let i = kit.index_of(SBOM_PATH);
    kit.manifest.members[i].media_type = CYCLONEDX_JSON_MEDIA_TYPE.to_owned();
    kit.bytes()
}

/// The base kit whose attestation statement carries `values` extra JSON values (validly signed
/// with the attestation key: the statement parser's caps must refuse it, not the signature).
fn kit_with_statement_flood(values: usize) -> Vec<u8> {
    let mut kit = Kit::build(&KitOptions::default());
    let i = kit.index_of(ATTESTATION_PATH);
    let env = Envelope::parse(&kit.contents[i], Document::Attestation, &Limits::default())
        .expect("fixture attestation parses");
    let mut statement: serde_json::Value =
        serde_json::from_slice(env.unverified_payload()).expect("fixture statement is JSON");
    let flood = serde_json::Value::Array(vec![serde_json::Value::from(0u8); values]);
    statement["predicate"]["buildDefinition"]["internalParameters"] =
        serde_json::json!({ "flood": flood });
    let payload = serde_json::to_vec(&statement).expect("serialises");
    let envelope = fixture::sign_payload(IN_TOTO_PAYLOAD_TYPE, payload, &[KeyName::Attestation]);
    let (blob, member) = fixture::compress(
        ATTESTATION_PATH,
        &kit.manifest.members[i].media_type,
        MemberRole::Attestation,
        None,
        &envelope,
    );
    kit.manifest.members[i] = member;
    kit.blobs[i] = blob;
    kit.contents[i] = envelope;
    kit.bytes()
}

/// An unsigned envelope as large as the cap allows, made of empty signature objects.
fn signature_flood_envelope(limits: &Limits) -> Vec<u8> {
    let cap = usize::try_from(limits.max_envelope_bytes).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(cap);
    out.extend_from_slice(
        br#"{"payloadType":"application/vnd.ouk.manifest+json","payload":"e30=","signatures":["#,
    );
    let item = br#"{"keyid":"","sig":""}"#;
    let mut first = true;
    while out.len() + item.len() + 3 < cap {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    out
}

/// The base kit with its manifest payload rewritten as text and signed again with the kit key (the
/// "compromised builder" who can sign anything): only the format's own rules can refuse it.
fn resigned(ctx: &Ctx, edit: impl FnOnce(String) -> String) -> Vec<u8> {
    let text = String::from_utf8(ctx.kit.manifest.to_payload()).expect("payload is UTF-8");
    let edited = edit(text);
    ctx.with_envelope(fixture::sign_payload(
        ouk_format::media_types::MANIFEST_PAYLOAD_TYPE,
        edited.into_bytes(),
        &[KeyName::Kit],
    ))
}

/// A manifest payload (an object with no annotations) with `annotations` set to raw JSON text.
fn with_annotations(payload: &str, annotations: &str) -> String {
    let body = payload.strip_suffix('}').unwrap_or(payload);
    format!("{body},\"annotations\":{annotations}}}")
}

/// The base kit with its attestation moved behind every other member (container order follows).
fn attestation_last() -> Vec<u8> {
    let mut kit = Kit::build(&KitOptions::default());
    kit.manifest.members.rotate_left(1);
    kit.blobs.rotate_left(1);
    kit.contents.rotate_left(1);
    kit.bytes()
}

/// A manifest-level case: a signed manifest that breaks one rule of the format.
fn signed_rule(
    ctx: &Ctx,
    name: &str,
    kind: &'static str,
    bytes: Vec<u8>,
    desc: &str,
) -> HostileCase {
    format_case(
        ctx,
        Category::Boundary,
        name,
        kind,
        EXIT_VERIFICATION,
        bytes,
        desc,
    )
}

/// All trust-boundary cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let limits = Limits::default();
    let created = ctx.kit.manifest.created_at.to_string();
    let expires = ctx.kit.manifest.expires_at.to_string();
    let sequence = format!("\"sequence\":{}", ctx.kit.manifest.sequence);
    let mut all = vec![
        signed_rule(
            ctx,
            "signed_negative_year",
            "invalid_document",
            resigned(ctx, |t| t.replace(&created, "-001-01-01T00:00:00Z")),
            "A signed created_at of \"-001-01-01T00:00:00Z\": chrono's %Y took the sign, the              store wrote it back as \"-0001-...\" which no longer parsed, and every later              command failed with store_damaged. The grammar is exactly YYYY-MM-DDTHH:MM:SSZ,              years 0001-9999.",
        ),
        signed_rule(
            ctx,
            "signed_leap_second",
            "invalid_document",
            resigned(ctx, |t| t.replace(&created, &format!("{}60Z", &created[..17]))),
            "Second 60: one instant has one spelling, so it is refused.",
        ),
        signed_rule(
            ctx,
            "signed_sequence_u64_max",
            "invalid_document",
            resigned(ctx, |t| t.replace(&sequence, "\"sequence\":18446744073709551615")),
            "Sequence 2^64-1 would block the channel for ever; every integer is at most 2^53-1              (JSON tools agree on it), and `reset-floor` is the audited way out of any high              sequence.",
        ),
        signed_rule(
            ctx,
            "signed_expiry_year_9999",
            "limit_exceeded",
            resigned(ctx, |t| t.replace(&expires, "9999-12-31T23:59:59Z")),
            "A kit that never expires: expires_at - created_at is capped (400 days).",
        ),
        signed_rule(
            ctx,
            "signed_format_ouk2",
            "unsupported_format",
            resigned(ctx, |t| t.replacen("\"format\":\"ouk/1\"", "\"format\":\"ouk/2\",\"delta_of\":\"x\"", 1)),
            "A future format with fields this reader does not know: unsupported_format, not a              generic parse error.",
        ),
        signed_rule(
            ctx,
            "signed_duplicate_annotation_keys",
            "invalid_document",
            resigned(ctx, |t| with_annotations(&t, "{\"a\":\"1\",\"a\":\"2\"}")),
            "Duplicate annotation keys (serde would keep the last one silently).",
        ),
        signed_rule(
            ctx,
            "signed_annotation_flood",
            "limit_exceeded",
            resigned(ctx, |t| {
                let flood = vec!["0"; 2_500_000].join(",");
                with_annotations(&t, &format!("{{\"flood\":[{flood}]}}"))
            }),
            "A signed 5 MiB annotation array of 2.5 M values: annotation values are counted              while parsing and the manifest is parsed once (449 MiB for 12 MiB before).",
        ),
        signed_rule(
            ctx,
            "signed_windows_device_path",
            "invalid_document",
            resigned(ctx, |t| t.replace("feeds/snapshot.json", "feeds/nul.txt")),
            "A member path that is a Windows device name: non-portable, refused.",
        ),
        signed_rule(
            ctx,
            "attestation_after_payloads",
            "inconsistent_manifest",
            attestation_last(),
            "The attestation behind the payloads: with only the kit key, payloads placed first              would be staged (1 GiB, 8 GiB at full scale) and SBOMs parsed before a bad              attestation refused the kit. The attestation must be the first member.",
        ),
        format_case(
            ctx,
            Category::Boundary,
            "unsigned_envelope_signature_flood",
            "limit_exceeded",
            EXIT_VERIFICATION,
            ctx.with_envelope(signature_flood_envelope(&limits)),
            "An unsigned envelope as large as the envelope cap holding over a million empty \
             signature objects: the signature count is checked while the array is parsed, so \
             the verifier stops at the limit instead of building every object (119 MiB before).",
        ),
        importer_case(
            ctx,
            "sbom_value_flood",
            "sbom_invalid",
            EXIT_VERIFICATION,
            kit_with_sbom(cyclonedx_value_flood(48 << 20)),
            "A signed kit whose 48 MiB CycloneDX SBOM holds about 6 M small values and is \
             invalid only at its very end (a repeated bom-ref): it is validated as it streams, \
             never held whole or parsed into a tree (309 MiB before for 64 MiB).",
        ),
        importer_case(
            ctx,
            "statement_value_flood",
            "provenance_invalid",
            EXIT_VERIFICATION,
            kit_with_statement_flood(2_900_000),
            "A validly signed attestation (just under the 8 MiB envelope cap) whose statement carries 2.9 M extra values: the \
             statement is parsed under value caps and refused without building the tree \
             (158 MiB before).",
        ),
    ];
    // Two members declaring 200 GiB each (within the per-member and total limits): refused by the
    // free-space check on the signed sizes before anything is staged. The blobs are small:
    // nothing gets that far.
    let mut huge = Kit::build(&KitOptions::default());
    for (path, data) in [("feeds/huge-a.bin", b"a"), ("feeds/huge-b.bin", b"b")] {
        huge.push_payload(path, "application/octet-stream", data)
            .uncompressed
            .size = 200 << 30;
    }
    all.push(importer_case(
        ctx,
        "declared_sizes_exceed_free_space",
        "insufficient_space",
        EXIT_IO,
        huge.bytes(),
        "Two members declaring 200 GiB each: the free space of the store's file system is \
         checked against the signed sizes before staging, so an honest but huge kit fails \
         cleanly instead of filling the disk half-way.",
    ));
    all
}
