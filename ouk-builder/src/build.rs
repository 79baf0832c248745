//! `ouk-builder build`: gather artefacts (merged feeds, Trivy DB, payload files, SBOMs), compress
//! each once while measuring it, describe the kit in an SPDX SBOM, attest it with an in-toto SLSA
//! v1 statement, sign the manifest, and write the kit to a temporary file renamed into place.
//!
//! Same inputs and the same `created_at` (from `SOURCE_DATE_EPOCH`) give a byte-identical kit:
//! every list is sorted, every time comes from the request, and zstd's multithreaded output does
//! not depend on the worker count.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ouk_feeds::{MergeOptions, SourceSpec};
use ouk_format::archive::writer::{
    compress_member_observed, write_kit_with_trust_chain, CompressionOptions,
};
use ouk_format::digest::Sha256;
use ouk_format::dsse::Envelope;
use ouk_format::keys::Signer;
use ouk_format::manifest::{BuilderIdentity, Manifest, Member, MemberRole};
use ouk_format::media_types as mt;
use ouk_format::member_path::MemberPath;
use ouk_format::time::Timestamp;
use ouk_provenance::{
    build_statement, generate_kit_spdx, validate_sbom, Dependency, DependencyKind,
    ExternalParameters, KitSbomInput, ProvenanceInput, RequestedSource, SbomFeed, SbomFile,
    SbomTool, Sha1Hex, Sha256Hex, Subject,
};
use serde::Serialize;
use sha1::Digest as _;

use crate::error::BuildError;
use crate::kit_file;
use crate::progress::Progress;

/// Path of the attestation member (fixed so the importer and outside tools find it).
pub const ATTESTATION_PATH: &str = "attestation/provenance.dsse.json";
/// Path of the generated kit SBOM.
pub const KIT_SBOM_PATH: &str = "sbom/kit.spdx.json";
/// Path of the Trivy DB member.
pub const TRIVY_DB_PATH: &str = "trivy/db.tar.gz";
/// Tool version written into manifests, SBOMs and provenance.
pub const BUILDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the Trivy DB comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrivySource {
    /// Export one from the merged feeds (default when feeds are given).
    Export,
    /// Pack an upstream `db.tar.gz` after validating it.
    Upstream(PathBuf),
    /// No Trivy DB in the kit.
    None,
}

/// A user-supplied SBOM, optionally describing one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomArg {
    /// Member path it describes (`MEMBER=PATH` form).
    pub describes: Option<String>,
    /// The SBOM file.
    pub path: PathBuf,
}

impl std::str::FromStr for SbomArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((member, path)) if !member.is_empty() => Ok(SbomArg {
                describes: Some(member.to_owned()),
                path: path.into(),
            }),
            _ => Ok(SbomArg {
                describes: None,
                path: s.into(),
            }),
        }
    }
}

/// Everything a build needs, already validated by the CLI layer.
pub struct BuildRequest {
    /// Directories whose files become `payload/<relative path>` members.
    pub payload_dirs: Vec<PathBuf>,
    /// Feed sources to merge.
    pub sources: Vec<SourceSpec>,
    /// Merge options (allow_partial lives here).
    pub merge: MergeOptions,
    /// User SBOMs.
    pub sboms: Vec<SbomArg>,
    /// Trivy DB choice.
    pub trivy: TrivySource,
    /// Kit-role signers (at least one).
    pub kit_signers: Vec<Box<dyn Signer>>,
    /// Attestation-role signers (at least one).
    pub attestation_signers: Vec<Box<dyn Signer>>,
    /// Anti-rollback sequence.
    pub sequence: u64,
    /// Channel.
    pub channel: String,
    /// Kit id (default `<channel>-<sequence>`).
    pub kit_id: Option<String>,
    /// Creation time (`SOURCE_DATE_EPOCH` when set).
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Builder id (must be in the importer's trust root).
    pub builder_id: String,
    /// Previous kit, whose sha256 is chained into the manifest.
    pub previous_kit: Option<PathBuf>,
    /// Output kit path.
    pub out: PathBuf,
    /// Authenticated chunk size.
    pub chunk_size: u32,
    /// Also write `<out>.sig` (cosign-compatible blob signature by the first kit key).
    pub blob_signature: bool,
    /// Trust roots carried before the manifest (version, file bytes), already checked by
    /// [`crate::trust::check_chain`]: the rotation chain importers walk to the root whose keys
    /// sign this kit.
    pub trust_chain: Vec<(u64, Vec<u8>)>,
}

/// One member in the summary printed by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct MemberSummary {
    /// Path.
    pub path: String,
    /// Role.
    pub role: MemberRole,
    /// Media type.
    pub media_type: String,
    /// Uncompressed size.
    pub size: u64,
    /// Compressed size.
    pub compressed_size: u64,
    /// Uncompressed sha256.
    pub sha256: String,
}

/// What a build produced.
#[derive(Debug, Clone, Serialize)]
pub struct BuildSummary {
    /// The kit file.
    pub kit: PathBuf,
    /// sha256 of the kit file.
    pub kit_sha256: String,
    /// Size of the kit file.
    pub kit_size: u64,
    /// Kit id.
    pub kit_id: String,
    /// Channel.
    pub channel: String,
    /// Sequence.
    pub sequence: u64,
    /// Creation time.
    pub created_at: String,
    /// Expiry.
    pub expires_at: String,
    /// Whether the feed snapshot is partial (`--allow-partial` with a failed source).
    pub partial: bool,
    /// The blob signature file, when written.
    pub signature_file: Option<PathBuf>,
    /// Members in kit order.
    pub members: Vec<MemberSummary>,
    /// How each feed source fared (files, records, rejections, status): what the CLI warns
    /// about when a source given on purpose yielded nothing. Empty without feeds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feed_sources: Vec<ouk_feeds::SourceSnapshot>,
    /// The first rejection of each feed source that had any (the full list is in the kit's
    /// `feeds/merge-report.json`). Empty when the feeds came pre-merged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feed_rejection_examples: Vec<ouk_feeds::Rejected>,
    /// What the Trivy DB exported from the feeds holds and leaves out; `None` when the kit has
    /// none or packs an upstream one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trivy_export: Option<TrivyExportReport>,
}

/// The part of the merged snapshot the exported Trivy DB cannot hold, so a release engineer
/// sees it (the snapshot keeps it: the importer's built-in matcher reads that).
#[derive(Debug, Clone, Serialize)]
pub struct TrivyExportReport {
    /// Records that produced at least one advisory.
    pub records_used: u64,
    /// Affected entries (or records) left out because Trivy's model cannot represent them (a
    /// distribution range that does not start at 0, a fix built in a module stream, an
    /// unfixed RPM package, a version Trivy would misparse); the first ones in `skipped`.
    pub entries_skipped: u64,
    /// The first skipped entries: `<record id>: <reason>`.
    pub skipped: Vec<String>,
    /// Affected entries of ecosystems no Trivy bucket of ours holds (GitHub Actions, Red Hat, …).
    pub affected_unsupported: u64,
}

impl TrivyExportReport {
    fn from_summary(s: &ouk_trivy::ExportSummary) -> Self {
        TrivyExportReport {
            records_used: s.records_used,
            entries_skipped: s.records_skipped,
            skipped: s
                .skipped
                .iter()
                .take(20)
                .map(|k| format!("{}: {}", k.id.as_deref().unwrap_or("(no id)"), k.reason))
                .collect(),
            affected_unsupported: s.affected_unsupported,
        }
    }
}

/// An artefact waiting to be compressed.
struct Artefact {
    path: MemberPath,
    media_type: String,
    role: MemberRole,
    file: PathBuf,
    sbom: Option<MemberPath>,
    /// zstd level ([`CompressionOptions::level`]).
    level: i32,
}

/// An artefact after compression.
struct Packed {
    member: Member,
    blob: PathBuf,
    sha1: Sha1Hex,
}

/// Where a build's feed snapshot comes from, and whether the kit carries it whole or as a delta
/// against a base kit ([`crate::delta`]).
#[derive(Default)]
pub struct BuildVariant<'a> {
    /// A directory holding an already merged `advisories.ndjson`, `snapshot.json` and
    /// `merge-report.json`, used instead of merging `req.sources` (benchmarks, re-packing).
    pub merged: Option<PathBuf>,
    /// Build a delta kit against this base.
    pub delta: Option<&'a crate::delta::DeltaRequest<'a>>,
}

/// The merged snapshot a build packs.
struct Feeds {
    advisories: PathBuf,
    snapshot_file: PathBuf,
    report: PathBuf,
    snapshot: ouk_feeds::Snapshot,
    /// See [`BuildSummary::feed_rejection_examples`].
    rejection_examples: Vec<ouk_feeds::Rejected>,
}

/// Run a build.
pub fn build(req: &BuildRequest, progress: &dyn Progress) -> Result<BuildSummary, BuildError> {
    build_variant(req, &BuildVariant::default(), progress)
}

/// Run a build of a [`BuildVariant`]: a full kit from pre-merged feeds, or a delta kit.
pub fn build_variant(
    req: &BuildRequest,
    variant: &BuildVariant<'_>,
    progress: &dyn Progress,
) -> Result<BuildSummary, BuildError> {
    if req.kit_signers.is_empty() {
        return Err(BuildError::Config(
            "at least one kit signing key (--key) is required".into(),
        ));
    }
    if req.attestation_signers.is_empty() {
        return Err(BuildError::Config(
            "at least one attestation key (--attestation-key) is required: importers refuse kits without provenance".into(),
        ));
    }
    if req.expires_at <= req.created_at {
        return Err(BuildError::Config(
            "expiry must be after the creation time".into(),
        ));
    }
    if let Some((_, last)) = req.trust_chain.last() {
        let kit: Vec<_> = req.kit_signers.iter().map(|s| s.public_key()).collect();
        let att: Vec<_> = req
            .attestation_signers
            .iter()
            .map(|s| s.public_key())
            .collect();
        crate::trust::check_kit_matches_root(last, &kit, &att, &req.builder_id)?;
    }
    let out_dir = parent_dir(&req.out);
    fs::create_dir_all(&out_dir).map_err(BuildError::io(&out_dir))?;
    let work = tempfile::Builder::new()
        .prefix(".ouk-build-")
        .tempdir_in(&out_dir)
        .map_err(BuildError::io(&out_dir))?;
    let mut annotations = BTreeMap::new();
    let mut artefacts = Vec::new();
    let mut feed_deps = Vec::new();
    let mut sbom_feeds = Vec::new();
    let mut partial = false;

    // 1. Feeds.
    let feeds = if let Some(dir) = &variant.merged {
        let snapshot_file = dir.join("snapshot.json");
        let bytes = read_capped(&snapshot_file, 64 << 20)?;
        let snapshot: ouk_feeds::Snapshot = serde_json::from_slice(&bytes)
            .map_err(|e| BuildError::Config(format!("{}: {e}", snapshot_file.display())))?;
        Some(Feeds {
            advisories: dir.join("advisories.ndjson"),
            snapshot_file,
            report: dir.join("merge-report.json"),
            snapshot,
            rejection_examples: Vec::new(),
        })
    } else if !req.sources.is_empty() {
        progress.stage("merging feeds");
        let merged = ouk_feeds::merge_sources(&req.sources, &req.merge)?;
        let feeds_dir = work.path().join("feeds");
        fs::create_dir_all(&feeds_dir).map_err(BuildError::io(&feeds_dir))?;
        let written = merged.write_to(&feeds_dir)?;
        Some(Feeds {
            advisories: written.advisories.path,
            snapshot_file: written.snapshot.path,
            report: written.report.path,
            snapshot: merged.snapshot().clone(),
            rejection_examples: merged.first_rejections(),
        })
    } else {
        None
    };
    if variant.delta.is_some() && feeds.is_none() {
        return Err(BuildError::Delta(
            "a delta kit needs feed sources (--source)".into(),
        ));
    }
    // Members of the full kit a delta carries as line patches instead.
    let mut patched_paths: Vec<String> = Vec::new();
    let mut feed_sources = Vec::new();
    let mut trivy_export: Option<TrivyExportReport> = None;
    let mut feed_rejection_examples = Vec::new();
    if let Some(feeds) = feeds {
        partial = feeds.snapshot.partial;
        feed_sources.clone_from(&feeds.snapshot.sources);
        feed_rejection_examples.clone_from(&feeds.rejection_examples);
        let snapshot = &feeds.snapshot;
        annotations.insert(
            "ouk.snapshot".to_owned(),
            serde_json::to_value(snapshot).map_err(|e| BuildError::Config(e.to_string()))?,
        );
        if partial {
            annotations.insert(
                "ouk.allow_partial".to_owned(),
                serde_json::Value::Bool(true),
            );
        }
        for s in &snapshot.sources {
            let name = format!("{}:{}", s.kind.as_str(), file_name(Path::new(&s.path)));
            let digest = s
                .digest
                .strip_prefix("sha256:")
                .unwrap_or(&s.digest)
                .to_owned();
            if let Ok(hex) = Sha256Hex::parse(&digest) {
                feed_deps.push(Dependency {
                    kind: DependencyKind::Feed,
                    name: name.clone(),
                    uri: None,
                    version: s.newest_modified.clone(),
                    sha256: hex.clone(),
                });
                sbom_feeds.push(SbomFeed {
                    name,
                    version: s
                        .newest_modified
                        .clone()
                        .unwrap_or_else(|| "unknown".into()),
                    snapshot_sha256: hex,
                    download_location: None,
                });
            }
        }
        if let Some(delta) = variant.delta {
            // The snapshot travels as the records that changed since the base; the importer
            // rebuilds it and, when the full kit would carry one, the Trivy DB from it.
            progress.stage("computing the delta");
            let trivy_db = match &req.trivy {
                TrivySource::Export => true,
                TrivySource::None => false,
                TrivySource::Upstream(_) => {
                    return Err(BuildError::Delta(
                        "a delta kit cannot carry an upstream Trivy DB (--trivy-db)".into(),
                    ))
                }
            };
            let dir = work.path().join("delta");
            fs::create_dir_all(&dir).map_err(BuildError::io(&dir))?;
            let files = crate::delta::compute(&delta.base.advisories, &feeds.advisories, &dir)?;
            let mut annotation = crate::delta::DeltaAnnotation {
                base_kit_sha256: delta.base.kit_sha256.to_hex(),
                base_sequence: delta.base.sequence,
                result_advisories_sha256: files.result_sha256.to_hex(),
                result_advisories_size: files.result_size,
                trivy_db,
                upserts: files.counts.added + files.counts.changed,
                removed: files.counts.removed,
                patched: Vec::new(),
                base_advisories_sha256: Some(delta.base.advisories_sha256.to_hex()),
                twin_manifest_sha256: None,
            };
            if let Some(base_report) = &delta.base.report {
                let patch = dir.join("merge-report.json.patch");
                if let Some(p) = crate::delta::patch_member(
                    crate::delta::REPORT_PATH,
                    base_report,
                    &feeds.report,
                    &patch,
                )? {
                    let mut art = payload_artefact(
                        &p.patch,
                        crate::delta::LINE_PATCH_MEDIA_TYPE,
                        patch.clone(),
                    )?;
                    art.level = crate::delta::DELTA_ZSTD_LEVEL;
                    artefacts.push(art);
                    patched_paths.push(p.path.clone());
                    annotation.patched.push(p);
                }
            }
            if let Some(twin) = &delta.twin {
                check_twin_content(twin, req, &annotation, &feeds.advisories, work.path())?;
                annotation.twin_manifest_sha256 = Some(twin.manifest_sha256.to_hex());
            }
            if let Some(hook) = delta.hook {
                hook(&files, &mut annotation);
            }
            annotations.insert(
                crate::delta::ANNOTATION.to_owned(),
                serde_json::to_value(&annotation).map_err(|e| BuildError::Config(e.to_string()))?,
            );
            for (path, media_type, file) in [
                (
                    crate::delta::UPSERTS_PATH,
                    mt::OSV_NDJSON_MEDIA_TYPE,
                    &files.upserts,
                ),
                (
                    crate::delta::REMOVED_PATH,
                    "application/x-ndjson",
                    &files.removed,
                ),
            ] {
                let mut art = payload_artefact(path, media_type, file.clone())?;
                art.level = crate::delta::DELTA_ZSTD_LEVEL;
                artefacts.push(art);
            }
        } else {
            artefacts.push(payload_artefact(
                "feeds/advisories.ndjson",
                mt::OSV_NDJSON_MEDIA_TYPE,
                feeds.advisories.clone(),
            )?);
        }
        for (path, file) in [
            ("feeds/snapshot.json", &feeds.snapshot_file),
            ("feeds/merge-report.json", &feeds.report),
        ] {
            if patched_paths.iter().any(|p| p == path) {
                continue;
            }
            let mut art = payload_artefact(path, "application/json", file.clone())?;
            if variant.delta.is_some() {
                // The merge report grows with the record count (~380 bytes per merged record):
                // in a delta kit it is most of the bytes, so it gets the delta members' level.
                art.level = crate::delta::DELTA_ZSTD_LEVEL;
            }
            artefacts.push(art);
        }

        // 2. Trivy DB from the merged feeds.
        if req.trivy == TrivySource::Export && variant.delta.is_none() {
            progress.stage("exporting the Trivy DB");
            let trivy_dir = work.path().join("trivy");
            let when = req.created_at.unix().max(0) as u64;
            let exported = ouk_trivy::export_trivy_db(
                &feeds.advisories,
                &trivy_dir,
                &ouk_trivy::ExportOptions::new(when),
            )?;
            trivy_export = Some(TrivyExportReport::from_summary(&exported));
            let tarball = work.path().join("trivy-db.tar.gz");
            ouk_trivy::pack_db_tar_gz(&trivy_dir.join("db"), &tarball, when)?;
            artefacts.push(payload_artefact(
                TRIVY_DB_PATH,
                mt::TRIVY_DB_MEDIA_TYPE,
                tarball,
            )?);
        }
    }
    if let TrivySource::Upstream(path) = &req.trivy {
        progress.stage("validating the upstream Trivy DB");
        ouk_trivy::validate_upstream_db_tar_gz(path, &ouk_trivy::DbLimits::default())?;
        artefacts.push(payload_artefact(
            TRIVY_DB_PATH,
            mt::TRIVY_DB_MEDIA_TYPE,
            path.clone(),
        )?);
    }

    // 3. Payload directories.
    for dir in &req.payload_dirs {
        artefacts.extend(collect_payload(dir)?);
    }
    if artefacts.is_empty() {
        return Err(BuildError::Config(
            "nothing to pack: give --source, --payload or --trivy-db".into(),
        ));
    }

    // 4. User SBOMs, validated on input.
    let mut sbom_deps = Vec::new();
    for arg in &req.sboms {
        let bytes = read_capped(&arg.path, 256 << 20)?;
        let format = validate_sbom(&bytes, &ouk_provenance::Limits::default()).map_err(|e| {
            BuildError::Sbom {
                path: arg.path.display().to_string(),
                source: e,
            }
        })?;
        let member_path = MemberPath::new(&format!("sbom/{}", file_name(&arg.path)))?;
        if let Some(target) = &arg.describes {
            let target = MemberPath::new(target)?;
            let art = artefacts
                .iter_mut()
                .find(|a| a.path == target)
                .ok_or_else(|| {
                    BuildError::Config(format!("--sbom names unknown member {target}"))
                })?;
            art.sbom = Some(member_path.clone());
        }
        sbom_deps.push(Dependency {
            kind: DependencyKind::Sbom,
            name: member_path.to_string(),
            uri: None,
            version: None,
            sha256: Sha256Hex::from_bytes(*Sha256::of(&bytes).as_bytes()),
        });
        artefacts.push(Artefact {
            path: member_path,
            media_type: format.media_type().to_owned(),
            role: MemberRole::Sbom,
            file: arg.path.clone(),
            sbom: None,
            level: CompressionOptions::default().level,
        });
    }

    // 5. Compress everything once, measuring both sides.
    let blobs = work.path().join("blobs");
    fs::create_dir_all(&blobs).map_err(BuildError::io(&blobs))?;
    let mut packed = pack_all(artefacts, &blobs, req.chunk_size, progress)?;
    if let Some(twin) = variant.delta.and_then(|d| d.twin.as_ref()) {
        check_twin_members(twin, &packed, &patched_paths)?;
    }

    // 6. The kit SBOM describes every member so far; artefacts without their own SBOM link to it.
    let kit_id = req
        .kit_id
        .clone()
        .unwrap_or_else(|| format!("{}-{}", req.channel, req.sequence));
    let sbom_input = KitSbomInput {
        // Named after the channel, versioned by the kit id: the same package from kit to kit, so
        // an importer's SBOM delta shows one version change, not a package removed and another
        // added on every import.
        kit_name: format!("ouk-kit-{}", req.channel),
        kit_version: kit_id.clone(),
        files: packed
            .iter()
            .map(|p| SbomFile {
                path: p.member.path.to_string(),
                sha256: Sha256Hex::from_bytes(*p.member.uncompressed.sha256.as_bytes()),
                sha1: p.sha1.clone(),
            })
            .collect(),
        feeds: sbom_feeds,
        tool: SbomTool {
            name: "ouk-builder".into(),
            version: BUILDER_VERSION.into(),
        },
        created: req.created_at.unix(),
    };
    let spdx = generate_kit_spdx(&sbom_input).map_err(|e| BuildError::Sbom {
        path: KIT_SBOM_PATH.into(),
        source: e,
    })?;
    let spdx_file = work.path().join("kit.spdx.json");
    fs::write(&spdx_file, &spdx).map_err(BuildError::io(&spdx_file))?;
    let kit_sbom_path = MemberPath::new(KIT_SBOM_PATH)?;
    for p in packed.iter_mut() {
        if p.member.role == MemberRole::Payload && p.member.sbom.is_none() {
            p.member.sbom = Some(kit_sbom_path.clone());
        }
    }
    let kit_sbom = pack(
        Artefact {
            path: kit_sbom_path,
            media_type: mt::SPDX_JSON_MEDIA_TYPE.into(),
            role: MemberRole::Sbom,
            file: spdx_file,
            sbom: None,
            level: CompressionOptions::default().level,
        },
        &blobs.join("kit-sbom.zst"),
        req.chunk_size,
        CompressionOptions::default(),
        progress,
    )?;

    // 7. Member order: attestation, SBOMs (kit SBOM first), payload.
    let mut ordered: Vec<Packed> = vec![kit_sbom];
    let (sboms, payload): (Vec<_>, Vec<_>) = packed
        .into_iter()
        .partition(|p| p.member.role == MemberRole::Sbom);
    ordered.extend(sboms);
    ordered.extend(payload);

    // 8. Provenance over every member so far, signed by the attestation role.
    progress.stage("attesting");
    let subjects: Vec<Subject> = ordered
        .iter()
        .map(|p| Subject {
            name: p.member.path.to_string(),
            sha256: Sha256Hex::from_bytes(*p.member.uncompressed.sha256.as_bytes()),
        })
        .collect();
    let mut options = BTreeMap::new();
    options.insert("channel".to_owned(), req.channel.clone());
    options.insert("sequence".to_owned(), req.sequence.to_string());
    options.insert(
        "allow_partial".to_owned(),
        req.merge.allow_partial.to_string(),
    );
    options.insert("expires_at".to_owned(), req.expires_at.to_string());
    options.insert(
        "trivy".to_owned(),
        match &req.trivy {
            TrivySource::Export => "export".to_owned(),
            TrivySource::Upstream(p) => format!("upstream:{}", file_name(p)),
            TrivySource::None => "none".to_owned(),
        },
    );
    let requested: Vec<RequestedSource> = req
        .sources
        .iter()
        .map(|s| RequestedSource {
            name: format!("{}:{}", s.kind.as_str(), file_name(&s.path)),
            uri: None,
        })
        .collect();
    let invocation_id = {
        let mut h = ouk_format::digest::Hasher::new();
        h.update(kit_id.as_bytes());
        h.update(&req.created_at.unix().to_be_bytes());
        for s in &subjects {
            h.update(s.sha256.as_str().as_bytes());
        }
        format!("urn:ouk:invocation:{}", &h.finish().0.to_hex()[..32])
    };
    let mut resolved = feed_deps;
    resolved.extend(sbom_deps);
    let mut builder_version = BTreeMap::new();
    builder_version.insert("ouk-builder".to_owned(), BUILDER_VERSION.to_owned());
    let statement = build_statement(&ProvenanceInput {
        subjects,
        external_parameters: ExternalParameters::new(requested, options),
        resolved_dependencies: resolved,
        builder_id: req.builder_id.clone(),
        builder_version,
        invocation_id,
        started_on: req.created_at.unix(),
        finished_on: req.created_at.unix(),
    })?;
    let att_signers: Vec<&dyn Signer> =
        req.attestation_signers.iter().map(|s| s.as_ref()).collect();
    let att_env = Envelope::sign(mt::IN_TOTO_PAYLOAD_TYPE, statement, &att_signers)?;
    let att_file = work.path().join("provenance.dsse.json");
    fs::write(&att_file, att_env.to_json()).map_err(BuildError::io(&att_file))?;
    let attestation = pack(
        Artefact {
            path: MemberPath::new(ATTESTATION_PATH)?,
            media_type: mt::ATTESTATION_MEDIA_TYPE.into(),
            role: MemberRole::Attestation,
            file: att_file,
            sbom: None,
            level: CompressionOptions::default().level,
        },
        &blobs.join("attestation.zst"),
        req.chunk_size,
        CompressionOptions::default(),
        progress,
    )?;
    ordered.insert(0, attestation);

    // 9. Manifest, signed by the kit role.
    let previous_kit_sha256 = match &req.previous_kit {
        Some(p) => Some(
            Sha256::of_reader(File::open(p).map_err(BuildError::io(p))?)
                .map_err(BuildError::io(p))?
                .0,
        ),
        None => None,
    };
    let manifest = Manifest {
        format: mt::FORMAT_VERSION.into(),
        kit_id: kit_id.clone(),
        channel: req.channel.clone(),
        sequence: req.sequence,
        created_at: req.created_at,
        expires_at: req.expires_at,
        builder: BuilderIdentity {
            id: req.builder_id.clone(),
            version: BUILDER_VERSION.into(),
        },
        previous_kit_sha256,
        chunk_size: req.chunk_size,
        members: ordered.iter().map(|p| p.member.clone()).collect(),
        annotations,
    };
    manifest.validate(&ouk_format::Limits::default())?;
    let kit_signers: Vec<&dyn Signer> = req.kit_signers.iter().map(|s| s.as_ref()).collect();
    let envelope = Envelope::sign(
        mt::MANIFEST_PAYLOAD_TYPE,
        manifest.to_payload(),
        &kit_signers,
    )?;

    // 10. The container, to a temporary file renamed over the output: never a partial kit.
    progress.stage("writing the kit");
    let tmp = tempfile::Builder::new()
        .prefix(".ouk-kit-")
        .tempfile_in(&out_dir)
        .map_err(BuildError::io(&out_dir))?;
    let roots: Vec<(u64, &[u8])> = req
        .trust_chain
        .iter()
        .map(|(v, b)| (*v, b.as_slice()))
        .collect();
    let envelope_json = envelope.to_json();
    let mtime = req.created_at.unix().max(0) as u64;
    // The blob signature is made while the kit is written (its first pass reads the bytes as
    // they are written): see `kit_file`.
    let signer = req.blob_signature.then(|| req.kit_signers[0].as_ref());
    let signed = kit_file::write_and_sign(tmp.as_file(), tmp.path(), signer, |out| {
        let mut readers = Vec::new();
        for p in &ordered {
            let f = File::open(&p.blob).map_err(BuildError::io(&p.blob))?;
            readers.push((&p.member, Box::new(BufReader::new(f)) as Box<dyn Read>));
        }
        let (_, kit_sha, kit_size) =
            write_kit_with_trust_chain(out, &roots, &envelope_json, readers, mtime)?;
        Ok((kit_sha, kit_size))
    })?;
    let (kit_sha, kit_size) = signed.written;
    let signature_file = if let Some(sig) = signed.signature {
        let sig = ouk_format::dsse::encode_base64(&sig);
        let sig_path = append_ext(&req.out, "sig");
        let sig_tmp = tempfile::Builder::new()
            .prefix(".ouk-sig-")
            .tempfile_in(&out_dir)
            .map_err(BuildError::io(&out_dir))?;
        sig_tmp
            .as_file()
            .write_all(sig.as_bytes())
            .map_err(BuildError::io(sig_tmp.path()))?;
        sig_tmp
            .as_file()
            .sync_all()
            .map_err(BuildError::io(sig_tmp.path()))?;
        make_readable(sig_tmp.as_file(), sig_tmp.path())?;
        sig_tmp
            .persist(&sig_path)
            .map_err(|e| BuildError::io(&sig_path)(e.error))?;
        Some(sig_path)
    } else {
        None
    };
    make_readable(tmp.as_file(), tmp.path())?;
    tmp.persist(&req.out)
        .map_err(|e| BuildError::io(&req.out)(e.error))?;
    if let Ok(dir) = File::open(&out_dir) {
        let _ = dir.sync_all();
    }

    Ok(BuildSummary {
        kit: req.out.clone(),
        kit_sha256: kit_sha.to_hex(),
        kit_size,
        kit_id,
        channel: req.channel.clone(),
        sequence: req.sequence,
        created_at: req.created_at.to_string(),
        expires_at: req.expires_at.to_string(),
        partial,
        signature_file,
        members: manifest
            .members
            .iter()
            .map(|m| MemberSummary {
                path: m.path.to_string(),
                role: m.role,
                media_type: m.media_type.clone(),
                size: m.uncompressed.size,
                compressed_size: m.compressed.size,
                sha256: m.uncompressed.sha256.to_hex(),
            })
            .collect(),
        feed_sources,
        feed_rejection_examples,
        trivy_export,
    })
}

/// Temporary files are created 0600; a kit and its signature are public artefacts (0644).
fn make_readable(file: &File, path: &Path) -> Result<(), BuildError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(BuildError::io(path))?;
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

/// The twin's header and rebuilt content are this delta's: same channel, sequence and times, its
/// snapshot and patched members have the delta's result digests, and its Trivy DB (present
/// exactly when the delta exports one) is this build's export of the same snapshot.
fn check_twin_content(
    twin: &crate::delta::Twin,
    req: &BuildRequest,
    annotation: &crate::delta::DeltaAnnotation,
    advisories: &Path,
    work: &Path,
) -> Result<(), BuildError> {
    let m = &twin.manifest;
    if m.channel != req.channel
        || m.sequence != req.sequence
        || m.created_at != req.created_at
        || m.expires_at != req.expires_at
    {
        return Err(twin.mismatch(format!(
            "channel/sequence/created_at/expires_at {}/{}/{}/{} against this build's {}/{}/{}/{}",
            m.channel,
            m.sequence,
            m.created_at,
            m.expires_at,
            req.channel,
            req.sequence,
            req.created_at,
            req.expires_at
        )));
    }
    let mut rebuilt = vec![(
        crate::delta::SNAPSHOT_PATH,
        annotation.result_advisories_sha256.clone(),
    )];
    rebuilt.extend(
        annotation
            .patched
            .iter()
            .map(|p| (p.path.as_str(), p.result_sha256.clone())),
    );
    for (path, want) in rebuilt {
        if twin.member_sha256(path).map(|h| h.to_hex()) != Some(want) {
            return Err(twin.mismatch(format!("its {path} is not this build's")));
        }
    }
    let twin_db = twin.member_sha256(TRIVY_DB_PATH);
    match (annotation.trivy_db, twin_db) {
        (false, None) => {}
        (true, Some(want)) => {
            let when = req.created_at.unix().max(0) as u64;
            let dir = work.join("twin-trivy");
            ouk_trivy::export_trivy_db(advisories, &dir, &ouk_trivy::ExportOptions::new(when))?;
            let tarball = work.join("twin-trivy-db.tar.gz");
            ouk_trivy::pack_db_tar_gz(&dir.join("db"), &tarball, when)?;
            let got = Sha256::of_reader(File::open(&tarball).map_err(BuildError::io(&tarball))?)
                .map_err(BuildError::io(&tarball))?
                .0;
            if got != want {
                return Err(twin.mismatch(format!(
                    "its {TRIVY_DB_PATH} is not this build's export of the snapshot"
                )));
            }
        }
        (ours, _) => {
            return Err(twin.mismatch(format!(
                "{} a Trivy DB where this delta {} one",
                if ours { "it lacks" } else { "it carries" },
                if ours { "exports" } else { "exports none" }
            )))
        }
    }
    Ok(())
}

/// Every payload member this delta packed outside `delta/` is in the twin with the same bytes,
/// and the twin carries no payload but those, the snapshot, the patched members and the DB.
fn check_twin_members(
    twin: &crate::delta::Twin,
    packed: &[Packed],
    patched: &[String],
) -> Result<(), BuildError> {
    // The digests packing measured: nothing is read again.
    let carried: Vec<&Member> = packed
        .iter()
        .map(|p| &p.member)
        .filter(|m| m.role == MemberRole::Payload && !m.path.as_str().starts_with("delta/"))
        .collect();
    for m in &carried {
        if twin.member_sha256(m.path.as_str()) != Some(m.uncompressed.sha256) {
            return Err(twin.mismatch(format!("its {} is not this build's", m.path)));
        }
    }
    for m in &twin.manifest.members {
        let p = m.path.as_str();
        let known = m.role != MemberRole::Payload
            || p == crate::delta::SNAPSHOT_PATH
            || p == TRIVY_DB_PATH
            || patched.iter().any(|q| q == p)
            || carried.iter().any(|c| c.path.as_str() == p);
        if !known {
            return Err(twin.mismatch(format!("it carries {p}, which this delta does not")));
        }
    }
    Ok(())
}

fn payload_artefact(path: &str, media_type: &str, file: PathBuf) -> Result<Artefact, BuildError> {
    Ok(Artefact {
        path: MemberPath::new(path)?,
        media_type: media_type.to_owned(),
        role: MemberRole::Payload,
        file,
        sbom: None,
        level: CompressionOptions::default().level,
    })
}

/// Files of a payload directory as `payload/<relative path>` members, in sorted order. Links and
/// special files are refused: a kit carries plain files only.
fn collect_payload(dir: &Path) -> Result<Vec<Artefact>, BuildError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| BuildError::Io {
            path: e
                .path()
                .map(Path::to_owned)
                .unwrap_or_else(|| dir.to_owned()),
            source: e
                .into_io_error()
                .unwrap_or_else(|| io::Error::other("walk failed")),
        })?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            return Err(BuildError::Payload {
                path: entry.path().to_owned(),
                reason: "only regular files can go into a kit (no links, devices or FIFOs)",
            });
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .map_err(|_| BuildError::Payload {
                path: entry.path().to_owned(),
                reason: "outside the payload directory",
            })?;
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let member = format!("payload/{}", rel.join("/"));
        let media_type = match entry.path().extension().and_then(|e| e.to_str()) {
            Some("json") => "application/json",
            Some("ndjson") | Some("jsonl") => "application/x-ndjson",
            Some("gz") => "application/gzip",
            Some("txt") => "text/plain",
            _ => mt::OCTET_STREAM,
        };
        out.push(payload_artefact(
            &member,
            media_type,
            entry.path().to_owned(),
        )?);
    }
    Ok(out)
}

/// Members compressed at once. zstd's multithreaded output is the same for any worker count of
/// one or more, so the kit is byte-identical however many members are in flight and however many
/// workers each has; two members in flight keep the cores busy across member boundaries, where
/// one stream at a time left a core idle at each start and end.
const PACK_LANES: usize = 2;

/// zstd workers per lane, at most (each holds a 4 MiB job and its window).
const MAX_WORKERS_PER_LANE: u32 = 8;

/// Compress every artefact into `blobs/<index>.zst`, [`PACK_LANES`] at a time; results in
/// artefact order. The first error stops the lanes from taking new members.
fn pack_all(
    artefacts: Vec<Artefact>,
    blobs: &Path,
    chunk_size: u32,
    progress: &dyn Progress,
) -> Result<Vec<Packed>, BuildError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;
    let count = artefacts.len();
    let queue: Vec<Mutex<Option<Artefact>>> =
        artefacts.into_iter().map(|a| Mutex::new(Some(a))).collect();
    let results: Vec<Mutex<Option<Result<Packed, BuildError>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    // Every lane may use every core: when one member is left (a real kit's merged advisories
    // dwarf the rest) its jobs spread over all of them, and while two run the workers share the
    // cores. Measured (512 MiB, 2 cores, `farm-bench`): paired wall 0.93 with 59 members and
    // 0.95 with one, against one worker per lane.
    let options = CompressionOptions {
        workers: std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, MAX_WORKERS_PER_LANE as usize) as u32,
        ..CompressionOptions::default()
    };
    std::thread::scope(|scope| {
        for _ in 0..PACK_LANES.min(count) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let Some(art) = queue[i].lock().unwrap_or_else(|e| e.into_inner()).take()
                    else {
                        break;
                    };
                    progress.stage(&format!("compressing {}", art.path));
                    let blob = blobs.join(format!("{i}.zst"));
                    let options = CompressionOptions {
                        level: art.level,
                        ..options
                    };
                    let result = pack(art, &blob, chunk_size, options, progress);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    let results: Vec<Option<Result<Packed, BuildError>>> = results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    // The first failure in artefact order (later members may not have been taken at all).
    let mut packed = Vec::with_capacity(count);
    let mut missing = false;
    for r in results {
        match r {
            Some(Ok(p)) => packed.push(p),
            Some(Err(e)) => return Err(e),
            None => missing = true,
        }
    }
    if missing {
        return Err(BuildError::Config("a member was not compressed".into()));
    }
    Ok(packed)
}

fn pack(
    art: Artefact,
    blob: &Path,
    chunk_size: u32,
    options: CompressionOptions,
    progress: &dyn Progress,
) -> Result<Packed, BuildError> {
    let input = File::open(&art.file).map_err(BuildError::io(&art.file))?;
    let out = File::create(blob).map_err(BuildError::io(blob))?;
    // SPDX 2.3 requires a SHA-1 of every file: computed beside the SHA-256, off the zstd path.
    let mut sha1 = sha1::Sha1::new();
    let (compressed, uncompressed) = compress_member_observed(
        progress.wrap_read(Box::new(input)),
        io::BufWriter::with_capacity(1 << 20, out),
        chunk_size,
        options,
        &mut |data: &[u8]| sha1.update(data),
    )
    .map_err(|source| BuildError::Pack {
        member: art.path.to_string(),
        blob: blob.to_path_buf(),
        source,
    })?;
    let sha1 = Sha1Hex::from_bytes(sha1.finalize().into());
    let unpacked_size = if art.media_type == mt::TRIVY_DB_MEDIA_TYPE {
        Some(unpacked_size(&art.file)?)
    } else {
        None
    };
    Ok(Packed {
        member: Member {
            path: art.path,
            media_type: art.media_type,
            role: art.role,
            sbom: art.sbom,
            compressed,
            uncompressed,
            unpacked_size,
        },
        blob: blob.to_owned(),
        sha1,
    })
}

/// The Trivy DB archive's expanded size, as the importer counts it while installing (one
/// definition, in `ouk-trivy`): the manifest's signed `unpacked_size` (spec §4.3).
fn unpacked_size(path: &Path) -> Result<u64, BuildError> {
    let file = File::open(path).map_err(BuildError::io(path))?;
    ouk_trivy::db_tar_gz_expanded_size(io::BufReader::new(file), &ouk_trivy::DbLimits::default())
        .map_err(|e| BuildError::Config(format!("{}: {e}", path.display())))
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, BuildError> {
    let f = File::open(path).map_err(BuildError::io(path))?;
    let mut out = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut out)
        .map_err(BuildError::io(path))?;
    if out.len() as u64 > cap {
        return Err(BuildError::Config(format!(
            "{} is larger than {cap} bytes",
            path.display()
        )));
    }
    Ok(out)
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn append_ext(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    fn artefact(dir: &Path, name: &str, data: Option<&[u8]>) -> Artefact {
        let file = dir.join(name);
        if let Some(d) = data {
            fs::write(&file, d).unwrap();
        }
        Artefact {
            path: MemberPath::new(&format!("payload/{name}")).unwrap(),
            media_type: mt::OCTET_STREAM.into(),
            role: MemberRole::Payload,
            file,
            sbom: None,
            level: CompressionOptions::default().level,
        }
    }

    #[test]
    fn parallel_packing_keeps_artefact_order_and_reports_the_failure() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        fs::create_dir(&blobs).unwrap();
        let data: Vec<Vec<u8>> = (0..7u8)
            .map(|i| vec![i; 100_000 + usize::from(i) * 997])
            .collect();
        let arts: Vec<Artefact> = data
            .iter()
            .enumerate()
            .map(|(i, d)| artefact(dir.path(), &format!("f{i}"), Some(d)))
            .collect();
        let packed = pack_all(arts, &blobs, 64 * 1024, &Silent).unwrap();
        assert_eq!(packed.len(), data.len());
        for (i, (p, d)) in packed.iter().zip(&data).enumerate() {
            assert_eq!(p.member.path.as_str(), format!("payload/f{i}"));
            assert_eq!(p.member.uncompressed.size, d.len() as u64);
            assert_eq!(p.member.uncompressed.sha256, Sha256::of(d));
        }
        // A member that cannot be read fails the whole pack with its own error.
        let mut arts: Vec<Artefact> = (0..4)
            .map(|i| artefact(dir.path(), &format!("g{i}"), Some(b"x")))
            .collect();
        arts.insert(2, artefact(dir.path(), "missing", None));
        let err = pack_all(arts, &blobs, 64 * 1024, &Silent).err().unwrap();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    /// A full disk while compressing names the member and the work file (so the disk), not
    /// just "no storage space". `/dev/full` accepts the open and fails every write with ENOSPC.
    #[test]
    fn full_disk_names_member_and_work_file() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let art = artefact(dir.path(), "big", Some(&vec![7u8; 3 << 20]));
        let opts = CompressionOptions::default();
        let err = pack(art, full, 64 * 1024, opts, &Silent).err().unwrap();
        match &err {
            BuildError::Pack { member, blob, .. } => {
                assert_eq!(member, "payload/big");
                assert_eq!(blob, full);
            }
            other => panic!("expected a pack error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("payload/big") && text.contains("/dev/full"),
            "{text}"
        );
    }
}
