//! The changing commands (import, import --from, rollback, gc) and the read-only ones (verify,
//! inspect, status, list, audit verify).
//!
//! Every changing command runs as a [`Session`]: take the store lock, open the audit log (cutting
//! a torn record), load `state.json`, [`Store::recover`] from any interrupted command, do the work,
//! and append one audit record per attempt, whatever its outcome.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use ouk_format::archive::reader::VerifyOptions;
use ouk_format::digest::Sha256;
use ouk_format::manifest::{Manifest, MemberRole};
use ouk_format::media_types::TRIVY_DB_MEDIA_TYPE;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{verify_trust_root, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::Limits;

use crate::audit::{self, Audit, Entry, Operator};
use crate::error::{Class, Error, Result};
use crate::failpoint;
use crate::fsx;
use crate::kit::{self, Preflight};
use crate::lock::{StoreLock, Wait};
use crate::report::*;
use crate::sink::TRIVY_MEMBER_PATH;
use crate::state::{State, STATE_FORMAT};
use crate::store::{generation_name, GenerationInfo, Store, GENERATION_FORMAT};
use crate::{NoProgress, Progress};

/// Who, when and how a changing command runs. `now` is the system clock, read by the CLI.
#[derive(Debug, Clone)]
pub struct Context {
    /// Store directory.
    pub store: PathBuf,
    /// Current time (system clock).
    pub now: Timestamp,
    /// Operator and host for the audit log.
    pub operator: Operator,
    /// Wait for the lock or fail fast.
    pub wait: Wait,
}

/// Verification inputs shared by `verify` and `import`.
#[derive(Debug, Clone)]
pub struct TrustOptions {
    /// The trust root file's bytes (a DSSE envelope).
    pub trust_root: Vec<u8>,
    /// Tolerated clock skew, seconds.
    pub skew_secs: i64,
    /// Accept an expired kit (recorded in the audit log).
    pub allow_expired: bool,
    /// Size limits.
    pub limits: Limits,
}

/// Facts about an attempt gathered as it proceeds, for its audit record.
#[derive(Debug, Default)]
struct Attempt {
    sequence: Option<u64>,
    kit_sha256: Option<Sha256>,
    accepted_expired: bool,
    generation: Option<String>,
}

struct Session {
    store: Store,
    _lock: StoreLock,
    audit: Audit,
    state: Option<State>,
    now: Timestamp,
}

impl Session {
    fn open(ctx: &Context) -> Result<Session> {
        let store = Store::create(&ctx.store)?;
        let lock = StoreLock::exclusive(store.root(), ctx.wait)?;
        let (mut audit, torn) = Audit::open(store.root(), &ctx.operator)?;
        if torn {
            audit.append(
                ctx.now,
                Entry {
                    action: "recover",
                    outcome: "cut_torn_audit_record",
                    ..Entry::default()
                },
            )?;
        }
        let state = State::load(store.root())?;
        let state = store.recover(state, &mut audit, ctx.now)?;
        Ok(Session {
            store,
            _lock: lock,
            audit,
            state,
            now: ctx.now,
        })
    }

    /// The clock used for expiry decisions: never earlier than the newest kit ever imported.
    fn effective_now(&self) -> Timestamp {
        match &self.state {
            Some(s) => self.now.max(s.time_high_water),
            None => self.now,
        }
    }

    fn floor(&self) -> Option<u64> {
        self.state.as_ref().map(|s| s.highest_sequence)
    }

    /// One audited import attempt.
    fn import_audited(
        &mut self,
        opts: &TrustOptions,
        kit: &Path,
        progress: &mut dyn Progress,
    ) -> Result<ImportReport> {
        let mut attempt = Attempt::default();
        let result = self.import_one(opts, kit, progress, &mut attempt);
        let mut entry = Entry {
            action: "import",
            outcome: match &result {
                Ok(r) if r.outcome == Outcome::Imported => "imported",
                Ok(_) => "already_imported",
                Err(e) if matches!(e.class(), Class::Policy | Class::Trust) => "refused",
                Err(_) => "failed",
            },
            kit: Some(kit.display().to_string()),
            kit_sha256: attempt.kit_sha256.map(|d| d.to_hex()),
            sequence: attempt.sequence,
            generation: attempt.generation,
            allow_expired: attempt.accepted_expired,
            ..Entry::default()
        };
        if let Err(e) = &result {
            entry = entry.with_error(e);
        }
        match (self.audit.append(self.now, entry), result) {
            (Ok(()), r) => r,
            // The attempt's own error is the more useful one; the audit failure shares its cause.
            (Err(_), Err(e)) => Err(e),
            (Err(audit_err), Ok(_)) => Err(audit_err),
        }
    }

    fn import_one(
        &mut self,
        opts: &TrustOptions,
        kit: &Path,
        progress: &mut dyn Progress,
        attempt: &mut Attempt,
    ) -> Result<ImportReport> {
        let now = self.effective_now();
        let trust = verify_trust_root(&opts.trust_root, now, opts.skew_secs, &opts.limits)
            .map_err(Error::TrustRoot)?;
        if let Some(s) = &self.state {
            if trust.version < s.trust_root_version {
                return Err(Error::TrustRootRollback {
                    version: trust.version,
                    store_version: s.trust_root_version,
                });
            }
        }
        let pre = kit::preflight(kit, &trust, &opts.limits)?;
        let m = &pre.manifest;
        attempt.sequence = Some(m.sequence);
        if let Some(s) = &self.state {
            if m.channel != s.channel {
                return Err(Error::ChannelMismatch {
                    store: s.channel.clone(),
                    kit: ouk_format::error::Name::new(&m.channel),
                });
            }
            if m.sequence < s.highest_sequence {
                return Err(Error::Rollback {
                    sequence: m.sequence,
                    floor: s.highest_sequence,
                });
            }
            if m.sequence == s.highest_sequence {
                let file = File::open(kit).map_err(|e| Error::io("opening the kit", kit, e))?;
                let (digest, size) = Sha256::of_reader(std::io::BufReader::new(file))
                    .map_err(|e| Error::io("reading the kit", kit, e))?;
                if digest == s.kit_sha256 {
                    attempt.kit_sha256 = Some(digest);
                    return Ok(already_imported(kit, m, s, digest, size, attempt));
                }
                // Same sequence, other bytes: verify fully first, so a damaged copy is reported
                // as a verification failure and only a valid other kit as equivocation.
            }
        }
        let staging =
            self.store
                .staging_dir()
                .join(format!("import-{}-{}", m.sequence, std::process::id()));
        fsx::create_dir_new(&staging)?;
        match self.stage_and_activate(opts, kit, &trust, &pre, &staging, progress, attempt, now) {
            Ok(report) => Ok(report),
            Err(e) => {
                if staging.exists() {
                    let _ = self.store.discard(&staging);
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn stage_and_activate(
        &mut self,
        opts: &TrustOptions,
        kit: &Path,
        trust: &Verified<TrustRoot>,
        pre: &Preflight,
        staging: &Path,
        progress: &mut dyn Progress,
        attempt: &mut Attempt,
        now: Timestamp,
    ) -> Result<ImportReport> {
        let vopts = VerifyOptions {
            now,
            skew_secs: opts.skew_secs,
            allow_expired: opts.allow_expired,
            limits: opts.limits.clone(),
        };
        let streamed = kit::stream(
            kit,
            trust,
            &vopts,
            pre,
            Some(staging.to_path_buf()),
            progress,
        )?;
        let v = &streamed.verified;
        let m = &*v.manifest;
        attempt.kit_sha256 = Some(v.kit_sha256);
        attempt.accepted_expired = v.expired;
        if let Some(s) = &self.state {
            if m.sequence == s.highest_sequence
                && s.manifest_sha256 == Some(Sha256::of(&m.to_payload()))
            {
                // The same signed kit in a container that differs only in unsigned bytes: nothing
                // to do, and certainly not an equivocation.
                self.store.discard(staging)?;
                return Ok(already_imported(
                    kit,
                    m,
                    s,
                    v.kit_sha256,
                    v.kit_size,
                    attempt,
                ));
            }
            if m.sequence == s.highest_sequence {
                return Err(Error::Equivocation {
                    sequence: m.sequence,
                    imported: s.kit_sha256.to_hex(),
                    found: v.kit_sha256.to_hex(),
                });
            }
        }
        // Trivy DB: installed only now that the whole kit verified, before activation.
        let trivy = m
            .members
            .iter()
            .find(|x| x.media_type == TRIVY_DB_MEDIA_TYPE && x.role == MemberRole::Payload);
        let trivy_db = match trivy {
            Some(member) if member.path.as_str() == TRIVY_MEMBER_PATH => {
                let archive = staging.join(TRIVY_MEMBER_PATH);
                let file = File::open(&archive).map_err(|e| Error::io("opening", &archive, e))?;
                failpoint!("import::trivy", &archive);
                ouk_trivy::install_db_tar_gz(
                    std::io::BufReader::new(file),
                    &staging.join("trivy"),
                    &ouk_trivy::DbLimits::default(),
                )
                .map_err(Error::Trivy)?;
                Some(format!("trivy/db/{}", ouk_trivy::DB_FILE))
            }
            Some(member) => {
                return Err(Error::TrivyMisplaced {
                    path: ouk_format::error::Name::new(member.path.as_str()),
                })
            }
            None => None,
        };
        let name = generation_name(m.sequence, &v.kit_sha256);
        attempt.generation = Some(name.clone());
        let info = GenerationInfo {
            format: GENERATION_FORMAT.to_owned(),
            name: name.clone(),
            sequence: m.sequence,
            channel: m.channel.clone(),
            kit_id: m.kit_id.clone(),
            kit_sha256: v.kit_sha256,
            kit_size: v.kit_size,
            created_at: m.created_at,
            expires_at: m.expires_at,
            imported_at: self.now,
            builder_id: m.builder.id.clone(),
            trust_root_version: trust.version,
            trust_root_expires: trust.expires,
            accepted_expired: v.expired,
            members: m.members.len(),
            trivy_db: trivy_db.is_some(),
        };
        let meta = staging.join(".ouk");
        fsx::create_dir_new(&meta)?;
        let statement = streamed
            .findings
            .statement
            .as_deref()
            .ok_or(Error::Internal("no statement"))?;
        let info_json = serde_json::to_vec_pretty(&info)
            .map_err(|_| Error::Internal("generation record serialisation"))?;
        for (file, bytes) in [
            ("manifest.json", &m.to_payload()[..]),
            ("manifest.dsse.json", &pre.envelope[..]),
            ("statement.json", statement),
            ("generation.json", &info_json[..]),
        ] {
            let path = meta.join(file);
            let mut f = fsx::create_file_new(&path)?;
            std::io::Write::write_all(&mut f, bytes).map_err(|e| Error::io("writing", &path, e))?;
        }
        fsx::sync_tree(staging)?;

        // Publish: one rename into generations/, then the commit point, the `current` switch.
        let dest = self.store.generation_dir(&name);
        if fs::symlink_metadata(&dest).is_ok() {
            return Err(Error::Internal(
                "generation directory exists after recovery",
            ));
        }
        failpoint!("import::before_rename", staging);
        fs::rename(staging, &dest).map_err(|e| Error::io("publishing the generation", &dest, e))?;
        let activated = (|| {
            failpoint!("import::after_rename", &dest);
            fsx::sync_dir(&self.store.generations_dir())?;
            self.store.switch_current(&name)
        })();
        if let Err(e) = activated {
            // Not committed: take the generation back out so the store is unchanged.
            let _ = self.store.discard(&dest);
            return Err(e);
        }
        failpoint!("import::after_switch", &dest);
        let old = self.state.as_ref();
        let new = State {
            format: STATE_FORMAT.to_owned(),
            channel: m.channel.clone(),
            highest_sequence: m.sequence,
            kit_sha256: v.kit_sha256,
            generation: name.clone(),
            manifest_sha256: Some(Sha256::of(&m.to_payload())),
            trust_root_version: old
                .map_or(trust.version, |s| s.trust_root_version.max(trust.version)),
            time_high_water: old.map_or(m.created_at, |s| s.time_high_water.max(m.created_at)),
        };
        new.save(self.store.root())?;
        failpoint!("import::after_state", &dest);
        self.state = Some(new);
        let mut summary = KitSummary::from_manifest(kit, m);
        summary.kit_sha256 = Some(v.kit_sha256.to_hex());
        summary.kit_size = Some(v.kit_size);
        Ok(ImportReport {
            outcome: Outcome::Imported,
            kit: summary,
            generation: name,
            accepted_expired: v.expired,
            highest_sequence: m.sequence,
            provenance: streamed.findings.provenance.clone(),
            sboms: streamed.findings.sboms.clone(),
            trivy_db,
        })
    }
}

/// `import KIT`: verify and install one kit.
pub fn import(
    ctx: &Context,
    opts: &TrustOptions,
    kit: &Path,
    progress: &mut dyn Progress,
) -> Result<ImportReport> {
    let mut session = Session::open(ctx)?;
    session.import_audited(opts, kit, progress)
}

/// Result of `import --from DIR`: the report, and the error that decides the exit code when
/// nothing was imported ([`Error::NothingNew`] or the newest candidate's failure).
#[derive(Debug)]
pub struct ScanOutcome {
    /// What was seen and done.
    pub report: ScanReport,
    /// Why nothing was imported.
    pub error: Option<Error>,
}

/// Most directory entries looked at on a stick (a stick full of junk must not stall the timer).
pub const MAX_SCAN_ENTRIES: usize = 10_000;

/// `import --from DIR`: import the newest valid `*.ouk` kit above the floor.
pub fn import_from_dir(
    ctx: &Context,
    opts: &TrustOptions,
    dir: &Path,
    progress: &mut dyn Progress,
) -> Result<ScanOutcome> {
    let mut session = Session::open(ctx)?;
    let trust = verify_trust_root(
        &opts.trust_root,
        session.effective_now(),
        opts.skew_secs,
        &opts.limits,
    )
    .map_err(Error::TrustRoot)?;
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))?;
    for entry in entries.take(MAX_SCAN_ENTRIES) {
        let entry = entry.map_err(|e| Error::io("listing", dir, e))?;
        let path = entry.path();
        // Regular files only: a symlink on a stick could point anywhere.
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && path.extension().is_some_and(|x| x == "ouk") {
            files.push(path);
        }
    }
    files.sort();
    let floor = session.floor();
    let mut candidates = Vec::new();
    let mut newer: Vec<(u64, usize)> = Vec::new();
    for path in files {
        let mut c = Candidate {
            path: path.display().to_string(),
            sequence: None,
            status: String::new(),
            error_kind: None,
            error: None,
        };
        match kit::preflight(&path, &trust, &opts.limits) {
            Err(e) => {
                c.status = "unreadable".into();
                c.error_kind = Some(e.kind().into());
                c.error = Some(e.to_string());
            }
            Ok(pre) => {
                let m = &pre.manifest;
                c.sequence = Some(m.sequence);
                let state = session.state.as_ref();
                if state.is_some_and(|s| s.channel != m.channel) {
                    c.status = "other_channel".into();
                } else if floor.is_some_and(|f| m.sequence < f) {
                    c.status = "below_floor".into();
                } else if floor == Some(m.sequence) {
                    let same = File::open(&path)
                        .and_then(|f| Sha256::of_reader(std::io::BufReader::new(f)))
                        .ok()
                        .zip(state)
                        .is_some_and(|((d, _), s)| d == s.kit_sha256);
                    c.status = if same {
                        "already_imported".into()
                    } else {
                        "same_sequence_other_kit".into()
                    };
                } else {
                    c.status = "pending".into();
                    newer.push((m.sequence, candidates.len()));
                }
            }
        }
        candidates.push(c);
    }
    newer.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut imported = None;
    let mut first_error = None;
    for (_, index) in newer {
        if imported.is_some() {
            candidates[index].status = "not_newest".into();
            continue;
        }
        let path = PathBuf::from(&candidates[index].path);
        match session.import_audited(opts, &path, progress) {
            Ok(report) => {
                candidates[index].status = match report.outcome {
                    Outcome::Imported => "imported".into(),
                    Outcome::AlreadyImported => "already_imported".into(),
                };
                imported = Some(report);
            }
            Err(e) => {
                candidates[index].status = "failed".into();
                candidates[index].error_kind = Some(e.kind().into());
                candidates[index].error = Some(e.to_string());
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    let error = match (&imported, first_error) {
        (Some(_), _) => None,
        (None, Some(e)) => Some(e),
        (None, None) => Some(Error::NothingNew {
            dir: dir.to_path_buf(),
            floor: floor.unwrap_or(0),
        }),
    };
    Ok(ScanOutcome {
        report: ScanReport {
            dir: dir.display().to_string(),
            floor,
            candidates,
            imported,
        },
        error,
    })
}

/// `verify KIT`: the whole streaming verification, writing nothing.
pub fn verify(
    now: Timestamp,
    opts: &TrustOptions,
    kit: &Path,
    progress: &mut dyn Progress,
) -> Result<VerifyReport> {
    let trust = verify_trust_root(&opts.trust_root, now, opts.skew_secs, &opts.limits)
        .map_err(Error::TrustRoot)?;
    let pre = kit::preflight(kit, &trust, &opts.limits)?;
    let vopts = VerifyOptions {
        now,
        skew_secs: opts.skew_secs,
        allow_expired: opts.allow_expired,
        limits: opts.limits.clone(),
    };
    let streamed = kit::stream(kit, &trust, &vopts, &pre, None, progress)?;
    let v = &streamed.verified;
    let mut summary = KitSummary::from_manifest(kit, &v.manifest);
    summary.kit_sha256 = Some(v.kit_sha256.to_hex());
    summary.kit_size = Some(v.kit_size);
    Ok(VerifyReport {
        verified: true,
        kit: summary,
        expired: v.expired,
        trust_root_version: trust.version,
        provenance: streamed
            .findings
            .provenance
            .ok_or(Error::Internal("no provenance summary"))?,
        sboms: streamed.findings.sboms,
    })
}

/// `inspect KIT`: show the manifest. Without a trust root nothing is authenticated (the report
/// says `verified: false`); with one, the kit is fully verified first.
pub fn inspect(
    now: Timestamp,
    trust: Option<&TrustOptions>,
    kit: &Path,
    with_provenance: bool,
) -> Result<InspectReport> {
    let limits = trust.map(|t| t.limits.clone()).unwrap_or_default();
    let (env, unverified) = kit::read_unverified(kit, &limits)?;
    let signatures = env.signatures().len();
    let (manifest, verified, statement, provenance) = match trust {
        Some(opts) => {
            let v = verify(now, opts, kit, &mut NoProgress)?;
            let (_, m) = kit::read_unverified(kit, &limits)?;
            // The verified run above used the same file; re-read only to display members.
            let att = kit::read_attestation_unverified(kit, &m, &limits)?;
            let trust_root = verify_trust_root(&opts.trust_root, now, opts.skew_secs, &limits)
                .map_err(Error::TrustRoot)?;
            let statement = match att {
                Some(env) => Some(crate::provenance::verify_attestation(
                    &env,
                    &trust_root,
                    &limits,
                )?),
                None => None,
            };
            (m, true, statement, Some(v.provenance))
        }
        None => {
            let statement = if with_provenance {
                kit::read_attestation_unverified(kit, &unverified, &limits)?
                    .and_then(|env| {
                        ouk_format::dsse::Envelope::parse(
                            &env,
                            ouk_format::error::Document::Attestation,
                            &limits,
                        )
                        .ok()
                    })
                    .map(|e| e.unverified_payload().to_vec())
            } else {
                None
            };
            (unverified, false, statement, None)
        }
    };
    let member_list = manifest
        .members
        .iter()
        .map(|m| MemberSummary {
            path: m.path.as_str().to_owned(),
            role: m.role,
            media_type: m.media_type.clone(),
            size: m.uncompressed.size,
            sha256: m.uncompressed.sha256.to_hex(),
            sbom: m.sbom.as_ref().map(|s| s.as_str().to_owned()),
        })
        .collect();
    Ok(InspectReport {
        verified,
        kit: KitSummary::from_manifest(kit, &manifest),
        member_list,
        annotations: manifest.annotations.clone(),
        signatures,
        provenance_text: if with_provenance {
            Some(match statement {
                Some(s) => ouk_provenance::render_statement(&s),
                None => "kit has no provenance attestation\n".to_owned(),
            })
        } else {
            None
        },
        provenance: if with_provenance { provenance } else { None },
    })
}

/// `status`: read-only, takes no lock (state.json and the `current` link are replaced atomically).
pub fn status(store: &Path, now: Timestamp) -> Result<StatusReport> {
    let st = Store::open(store)?;
    let state = State::load(store)?;
    let current = match st.current()? {
        Some(name) => Some(st.info(&name)?),
        None => None,
    };
    let generations = st.generations()?.len();
    Ok(StatusReport {
        store: store.display().to_string(),
        expires_in_secs: current.as_ref().map(|c| c.expires_at.unix() - now.unix()),
        trust_root_expires_in_secs: current
            .as_ref()
            .map(|c| c.trust_root_expires.unix() - now.unix()),
        highest_sequence: state.as_ref().map(|s| s.highest_sequence),
        channel: state.as_ref().map(|s| s.channel.clone()),
        trust_root_version: state.as_ref().map(|s| s.trust_root_version),
        time_high_water: state.as_ref().map(|s| s.time_high_water),
        generations,
        needs_recovery: st.needs_recovery(state.as_ref())?,
        current,
    })
}

/// `list`: local generations, oldest first, and which one is active.
pub fn list(store: &Path) -> Result<(Vec<GenerationInfo>, Option<String>)> {
    let st = Store::open(store)?;
    Ok((st.generations()?, st.current()?))
}

/// `rollback --to SEQUENCE`: activate an older local generation (audited). The anti-rollback
/// floor stays where it is: the next import must still be above the highest sequence ever seen.
pub fn rollback(ctx: &Context, sequence: u64) -> Result<RollbackReport> {
    let mut s = Session::open(ctx)?;
    let result = (|| {
        let previous = s.store.current()?;
        let target = s
            .store
            .generations()?
            .into_iter()
            .find(|g| g.sequence == sequence)
            .ok_or(Error::UnknownGeneration { sequence })?;
        s.store.switch_current(&target.name)?;
        Ok(RollbackReport {
            previous,
            current: target.name.clone(),
            highest_sequence: s.floor().unwrap_or(target.sequence),
            expired: ctx.now > target.expires_at,
        })
    })();
    let mut entry = Entry {
        action: "rollback",
        outcome: if result.is_ok() {
            "activated"
        } else {
            "failed"
        },
        sequence: Some(sequence),
        generation: result.as_ref().ok().map(|r| r.current.clone()),
        ..Entry::default()
    };
    if let Err(e) = &result {
        entry = entry.with_error(e);
    }
    let audited = s.audit.append(s.now, entry);
    let report = result?;
    audited?;
    Ok(report)
}

/// `gc --keep N`: remove all but the N newest generations (the active one is always kept).
pub fn gc(ctx: &Context, keep: usize) -> Result<GcReport> {
    let mut s = Session::open(ctx)?;
    let current = s.store.current()?;
    let mut gens = s.store.generations()?;
    gens.reverse();
    let mut report = GcReport {
        removed: Vec::new(),
        kept: Vec::new(),
    };
    for (i, g) in gens.iter().enumerate() {
        if i < keep || current.as_deref() == Some(g.name.as_str()) {
            report.kept.push(g.name.clone());
            continue;
        }
        let result = s.store.discard(&s.store.generation_dir(&g.name));
        let mut entry = Entry {
            action: "gc",
            outcome: if result.is_ok() { "removed" } else { "failed" },
            sequence: Some(g.sequence),
            generation: Some(g.name.clone()),
            ..Entry::default()
        };
        if let Err(e) = &result {
            entry = entry.with_error(e);
        }
        s.audit.append(s.now, entry)?;
        result?;
        report.removed.push(g.name.clone());
    }
    Ok(report)
}

/// `audit verify`: check the hash chain, under a shared lock so no record is half-written.
pub fn audit_verify(store: &Path) -> Result<AuditReport> {
    Store::open(store)?;
    let _lock = StoreLock::shared(store)?;
    audit::verify(store)
}

/// The report for a kit that is already the store's highest one: nothing changes.
fn already_imported(
    kit: &Path,
    m: &Manifest,
    s: &State,
    kit_sha256: Sha256,
    kit_size: u64,
    attempt: &mut Attempt,
) -> ImportReport {
    attempt.generation = Some(s.generation.clone());
    let mut summary = KitSummary::from_manifest(kit, m);
    summary.kit_sha256 = Some(kit_sha256.to_hex());
    summary.kit_size = Some(kit_size);
    ImportReport {
        outcome: Outcome::AlreadyImported,
        kit: summary,
        generation: s.generation.clone(),
        accepted_expired: false,
        highest_sequence: s.highest_sequence,
        provenance: None,
        sboms: BTreeMap::new(),
        trivy_db: None,
    }
}
