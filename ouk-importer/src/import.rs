//! The changing commands (import, import --from, rollback, gc) and the read-only ones (verify,
//! inspect, status, list, audit verify).
//!
//! Every changing command runs as a [`Session`]: take the store lock, open the audit log (cutting
//! a torn record), load `state.json`, [`Store::recover`] from any interrupted command, do the work,
//! and append one audit record per attempt, whatever its outcome.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use ouk_format::archive::reader::{KitHeader, VerifyOptions};
use ouk_format::digest::Sha256;
use ouk_format::manifest::Manifest;
use ouk_format::media_types::TRIVY_DB_MEDIA_TYPE;
use ouk_format::time::Timestamp;
use ouk_format::trust_root::{revocations, verify_anchor, Revocation, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::Limits;

use crate::audit::{self, Audit, Entry, Operator};
use crate::changes;
use crate::error::{Class, Error, Result};
use crate::failpoint;
use crate::fsx;
use crate::kit::{self, Links};
use crate::lock::{StoreLock, Wait};
use crate::report::*;
use crate::sink::TRIVY_MEMBER_PATH;
use crate::state::{State, MAX_REVOCATIONS, STATE_FORMAT};
use crate::store::{generation_name, GenerationInfo, Store, GENERATION_FORMAT};
use crate::trust_store::TrustStore;
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
    /// The operator's trust root file (`--trust-root`), if given. `import` starts from the
    /// store's newest root when it has one (see [`Session::anchor`]); `verify` needs this.
    pub trust_root: Option<Vec<u8>>,
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
    /// The digest and size an OCI descriptor pinned for the kit file, checked on the verified pass.
    pin: Option<KitPin>,
    sequence: Option<u64>,
    kit_sha256: Option<Sha256>,
    accepted_expired: bool,
    generation: Option<String>,
    /// What changed in the store's trust, for the audit record.
    notes: Vec<String>,
}

/// The root an import attempt starts from, and what choosing it means for the store.
struct Anchor {
    root: Verified<TrustRoot>,
    /// Roots to keep if the attempt succeeds (the operator's file, when the store lacks it).
    to_persist: Vec<(u64, Vec<u8>)>,
    /// Keys the step from the stored root to `root` took out of their roles.
    revocations: Vec<Revocation>,
    note: Option<String>,
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

    /// Append the audit record of an administrative command (with the error, if it failed) and
    /// return its result; an audit failure fails a command that otherwise succeeded.
    fn finish_audited<T>(&mut self, mut entry: Entry, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            entry = entry.with_error(e);
        }
        let audited = self.audit.append(self.now, entry);
        let report = result?;
        audited?;
        Ok(report)
    }

    /// The trust root to start from. The store's newest root wins over an older or equal
    /// `--trust-root` (after a rotation the operator's file is simply out of date); a newer
    /// `--trust-root` is an out-of-band replacement by the operator (kept, audited); without
    /// stored roots the given file is the anchor, and it may not be older than the version the
    /// store last used. Expiry is decided later, on the root that verifies the kit (the final
    /// root of the kit's chain, if it carries one).
    fn anchor(&self, opts: &TrustOptions) -> Result<Anchor> {
        let stored = TrustStore::new(self.store.root()).latest(&opts.limits)?;
        let given = opts
            .trust_root
            .as_deref()
            .map(|b| verify_anchor(b, &opts.limits).map(|r| (r, b.to_vec())))
            .transpose()
            .map_err(Error::TrustRoot)?;
        let floor = self.state.as_ref().map_or(0, |s| s.trust_root_version);
        let plain = |root| Anchor {
            root,
            to_persist: Vec::new(),
            revocations: Vec::new(),
            note: None,
        };
        match (stored, given) {
            (None, None) => Err(Error::NoTrustRoot),
            (None, Some((g, bytes))) => {
                if g.version < floor {
                    return Err(Error::TrustRootRollback {
                        version: g.version,
                        store_version: floor,
                    });
                }
                Ok(Anchor {
                    to_persist: vec![(g.version, bytes)],
                    ..plain(g)
                })
            }
            (Some(s), None) => Ok(plain(s.root)),
            (Some(s), Some((g, _))) if g.version < s.version => Ok(Anchor {
                note: Some(format!(
                    "--trust-root version {} is superseded by the store's version {}",
                    g.version, s.version
                )),
                ..plain(s.root)
            }),
            (Some(s), Some((g, _))) if g.version == s.version => {
                // Same content in the other layout (a legacy file of the root the store holds
                // in the TUF layout, or the reverse) is the same root.
                let same = TrustRoot {
                    type_: s.root.type_.clone(),
                    ..TrustRoot::clone(&g)
                } == *s.root;
                if !same {
                    return Err(Error::TrustRootMismatch { version: g.version });
                }
                Ok(plain(s.root))
            }
            (Some(s), Some((g, bytes))) => Ok(Anchor {
                revocations: revocations(&s.root, &g),
                note: Some(format!(
                    "trust root version {} installed out of band (--trust-root) over version {}",
                    g.version, s.version
                )),
                to_persist: vec![(g.version, bytes)],
                root: g,
            }),
        }
    }

    /// Refuse to run on a clock set back before a time this store already trusted.
    fn check_clock(&self, opts: &TrustOptions) -> Result<()> {
        if let Some(s) = &self.state {
            if self.now.plus_secs(opts.skew_secs) < s.time_high_water {
                return Err(Error::ClockBehind {
                    now: self.now.to_string(),
                    high_water: s.time_high_water.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The reader's options for one attempt, with every revocation the store remembers.
    fn verify_options(
        &self,
        opts: &TrustOptions,
        now: Timestamp,
        anchor: &Anchor,
    ) -> VerifyOptions {
        let mut v = verify_options(opts, now);
        if let Some(s) = &self.state {
            v.revoked.extend(s.revoked.iter().cloned());
        }
        v.revoked.extend(anchor.revocations.iter().cloned());
        v
    }

    /// One audited import attempt.
    fn import_audited(
        &mut self,
        opts: &TrustOptions,
        source: KitSource,
        progress: &mut dyn Progress,
    ) -> Result<ImportReport> {
        let mut attempt = Attempt::default();
        let kit_path = source.path().to_path_buf();
        let result = self.import_one(opts, source, progress, &mut attempt);
        let mut entry = Entry {
            action: "import",
            outcome: match &result {
                Ok(r) if r.outcome == Outcome::Imported => "imported",
                Ok(_) => "already_imported",
                Err(e) if matches!(e.class(), Class::Policy | Class::Trust) => "refused",
                Err(_) => "failed",
            },
            kit: Some(kit_path.display().to_string()),
            kit_sha256: attempt.kit_sha256.map(|d| d.to_hex()),
            sequence: attempt.sequence,
            generation: attempt.generation,
            allow_expired: attempt.accepted_expired,
            note: (!attempt.notes.is_empty()).then(|| attempt.notes.join("; ")),
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
        source: KitSource,
        progress: &mut dyn Progress,
        attempt: &mut Attempt,
    ) -> Result<ImportReport> {
        self.check_clock(opts)?;
        let now = self.effective_now();
        let anchor = self.anchor(opts)?;
        let opened = match source {
            KitSource::Path(path) if crate::parts::is_index_path(path) => kit::open_parts(
                path,
                Links::Follow,
                &anchor.root,
                &self.verify_options(opts, now, &anchor),
                Some(&incoming_dir(self.store.root())),
            )?,
            KitSource::Path(path) => kit::open(
                path,
                Links::Follow,
                &anchor.root,
                &self.verify_options(opts, now, &anchor),
            )?,
            KitSource::Opened(opened) => *opened,
            KitSource::Pinned { path, file, pin } => {
                attempt.notes.push(format!("from {}", pin.origin));
                attempt.pin = Some(pin);
                let id = kit::file_id(path, &file)?;
                kit::open_from(
                    path,
                    file,
                    id,
                    &anchor.root,
                    &self.verify_options(opts, now, &anchor),
                )?
            }
        };
        let incoming = opened
            .parts
            .as_ref()
            .and_then(|p| p.incoming().map(Path::to_path_buf));
        let result = self.import_opened(opts, anchor, opened, progress, attempt);
        if let Some(dir) = incoming {
            // Verified local copies stay for the next attempt; after an import they are done.
            let _ = match &result {
                Ok(_) => fs::remove_dir_all(&dir),
                Err(_) if holds_no_part(&dir) => fs::remove_dir_all(&dir),
                Err(_) => Ok(()),
            };
            let _ = fs::remove_dir(self.store.root().join(INCOMING_DIR));
        }
        result
    }

    fn import_opened(
        &mut self,
        opts: &TrustOptions,
        anchor: Anchor,
        opened: kit::OpenedKit,
        progress: &mut dyn Progress,
        attempt: &mut Attempt,
    ) -> Result<ImportReport> {
        let m = &opened.header.manifest;
        attempt.sequence = Some(m.sequence);
        attempt.notes.extend(anchor.note.clone());
        if let Some(s) = &self.state {
            if m.channel != s.channel {
                return Err(Error::ChannelMismatch {
                    store: s.channel.clone(),
                    kit: ouk_format::error::Name::new(&m.channel),
                });
            }
        }
        // TUF's fast-forward recovery: once a kit key is revoked, whatever sequence it signed
        // proves nothing, so the floor it may have pushed up is dropped.
        let fast_forward = anchor
            .revocations
            .iter()
            .chain(&opened.header.revocations)
            .any(|r| r.role == "kit");
        if let (true, Some(s)) = (fast_forward, &self.state) {
            attempt.notes.push(format!(
                "kit key rotation (trust root version {}): sequence floor {} reset (TUF fast-forward recovery)",
                opened.header.trust.version, s.highest_sequence
            ));
        }
        if let Some(s) = self.state.as_ref().filter(|_| !fast_forward) {
            if m.sequence < s.highest_sequence {
                return Err(Error::Rollback {
                    sequence: m.sequence,
                    floor: s.highest_sequence,
                });
            }
            if m.sequence == s.highest_sequence {
                // The signed manifest is the kit's identity: the same one is already here
                // (whatever unsigned container bytes surround it), another one is proof that
                // the signer equivocated. Either way nothing past the envelope is read.
                match s.manifest_sha256 {
                    Some(d) if d == opened.header.manifest_sha256 => {
                        let current = self.store.current()?;
                        return Ok(already_imported(&opened.path, m, s, current, attempt));
                    }
                    Some(d) => {
                        // A delta and the full kit of the same build give the same generation.
                        if twin_of_state(
                            &self.store,
                            s,
                            d,
                            m,
                            &opened.header.manifest_sha256,
                            opts,
                        )? {
                            attempt.notes.push(format!(
                                "the twin of this kit (the {} of the same build, manifest sha256 {}) is already imported",
                                if crate::delta::spec(m)?.is_some() { "full kit" } else { "delta kit" },
                                d.to_hex()
                            ));
                            let current = self.store.current()?;
                            return Ok(already_imported(&opened.path, m, s, current, attempt));
                        }
                        return Err(Error::Equivocation {
                            sequence: m.sequence,
                            imported: d.to_hex(),
                            found: opened.header.manifest_sha256.to_hex(),
                        });
                    }
                    // A store written before manifest digests were recorded: decided after the
                    // full pass, by the kit file digest.
                    None => {}
                }
            }
        }
        crate::provenance::check_manifest(m)?;
        self.check_free_space(&opened)?;
        let staging =
            self.store
                .staging_dir()
                .join(format!("import-{}-{}", m.sequence, std::process::id()));
        fsx::create_dir_new(&staging)?;
        match self.stage_and_activate(
            opts,
            anchor,
            fast_forward,
            opened,
            &staging,
            progress,
            attempt,
        ) {
            Ok(report) => Ok(report),
            Err(e) => {
                if staging.exists() {
                    let _ = self.store.discard(&staging);
                }
                Err(e)
            }
        }
    }

    /// Refuse before staging when the store's file system cannot hold what the signed manifest
    /// declares (members, the unpacked Trivy DB, the metadata), so an honest but huge kit fails
    /// cleanly instead of filling the disk half-way.
    fn check_free_space(&self, opened: &kit::OpenedKit) -> Result<()> {
        let m = &opened.header.manifest;
        let members: u64 = m
            .members
            .iter()
            .map(|x| x.uncompressed.size)
            .fold(0u64, u64::saturating_add);
        let unpacked: u64 = m
            .members
            .iter()
            .filter_map(|x| x.unpacked_size)
            .fold(0u64, u64::saturating_add);
        let needed = members
            .saturating_add(unpacked)
            .saturating_add(2 * opened.header.envelope.len() as u64)
            .saturating_add(FREE_SPACE_MARGIN);
        fsx::ensure_free_space(&self.store.staging_dir(), needed)
    }

    #[allow(clippy::too_many_arguments)]
    fn stage_and_activate(
        &mut self,
        opts: &TrustOptions,
        anchor: Anchor,
        fast_forward: bool,
        mut opened: kit::OpenedKit,
        staging: &Path,
        progress: &mut dyn Progress,
        attempt: &mut Attempt,
    ) -> Result<ImportReport> {
        // A delta kit names the generation it applies to: refused before any member streams.
        let delta = crate::delta::prepare(&self.store, &opened.header.manifest, &opts.limits)?;
        // The signed envelope goes to disk first and leaves memory before the members stream.
        let meta = staging.join(".ouk");
        fsx::create_dir_new(&meta)?;
        let envelope = std::mem::take(&mut opened.header.envelope);
        write_new(&meta.join("manifest.dsse.json"), &envelope)?;
        drop(envelope);
        write_new(
            &meta.join("manifest.json"),
            &opened.header.manifest.to_payload(),
        )?;
        let kit_path = opened.path.clone();
        let (header, streamed) = kit::stream(
            opened,
            &opts.limits,
            Some(staging.to_path_buf()),
            None,
            progress,
        )?;
        let m = &*header.manifest;
        let trust = &header.trust;
        let facts = streamed.kit;
        attempt.kit_sha256 = Some(facts.kit_sha256);
        if let Some(pin) = &attempt.pin {
            if pin.sha256 != facts.kit_sha256 || pin.size != facts.kit_size {
                return Err(Error::KitPinMismatch {
                    path: kit_path,
                    expected: format!("sha256:{}", pin.sha256.to_hex()),
                    size: pin.size,
                    found: facts.kit_sha256.to_hex(),
                    found_size: facts.kit_size,
                });
            }
        }
        attempt.accepted_expired = header.expired;
        if let Some(s) = self.state.as_ref().filter(|_| !fast_forward) {
            // Only for stores without a recorded manifest digest (see import_one).
            if m.sequence == s.highest_sequence {
                if facts.kit_sha256 == s.kit_sha256 {
                    self.store.discard(staging)?;
                    let current = self.store.current()?;
                    return Ok(already_imported(&kit_path, m, s, current, attempt));
                }
                return Err(Error::Equivocation {
                    sequence: m.sequence,
                    imported: s.kit_sha256.to_hex(),
                    found: facts.kit_sha256.to_hex(),
                });
            }
        }
        // Trivy DB: installed only now that the whole kit verified, before activation.
        failpoint!("import::trivy", staging);
        let trivy_db = match &delta {
            // A delta: rebuild feeds/advisories.ndjson from the base, then the Trivy DB from it.
            Some(d) => crate::delta::apply(d, staging, m)?,
            None => install_trivy(staging, m)?,
        };
        let name = generation_name(m.sequence, &facts.kit_sha256);
        attempt.generation = Some(name.clone());
        let info = GenerationInfo {
            format: GENERATION_FORMAT.to_owned(),
            name: name.clone(),
            sequence: m.sequence,
            channel: m.channel.clone(),
            kit_id: m.kit_id.clone(),
            kit_sha256: facts.kit_sha256,
            kit_size: facts.kit_size,
            created_at: m.created_at,
            expires_at: m.expires_at,
            imported_at: self.now,
            builder_id: m.builder.id.clone(),
            trust_root_version: trust.version,
            trust_root_expires: trust.expires,
            accepted_expired: header.expired,
            members: m.members.len(),
            trivy_db: trivy_db.is_some(),
        };
        let statement = streamed
            .findings
            .statement
            .as_deref()
            .ok_or(Error::Internal("no statement"))?;
        let info_json = serde_json::to_vec_pretty(&info)
            .map_err(|_| Error::Internal("generation record serialisation"))?;
        write_new(&meta.join("statement.json"), statement)?;
        write_new(&meta.join("generation.json"), &info_json)?;
        // What changed since the active generation: computed from verified files only, after
        // the kit verified completely, and part of the generation before it is published.
        let previous = match self.store.current()? {
            Some(name) => Some(self.store.info(&name)?),
            None => None,
        };
        let changes = changes::write_for_import(&self.store, previous.as_ref(), staging, &info)?;
        fsx::sync_tree(staging)?;

        // Trust roots this import accepted are kept before the generation is published, so a
        // store never has a generation verified under a root it does not hold.
        let trust_store = TrustStore::new(self.store.root());
        let held = trust_store.versions()?;
        let mut added = Vec::new();
        for (version, bytes) in anchor
            .to_persist
            .iter()
            .map(|(v, b)| (*v, b.as_slice()))
            .chain(
                header
                    .new_roots
                    .iter()
                    .map(|(r, b)| (r.version, b.as_slice())),
            )
        {
            trust_store.persist(version, bytes)?;
            if !held.contains(&version) {
                added.push(version);
            }
        }
        if !header.new_roots.is_empty() {
            attempt.notes.push(format!(
                "trust root rotated to version {} by the kit's chain",
                trust.version
            ));
        }

        // Publish: one rename into generations/, then the commit point, the `current` switch.
        let dest = self.store.generation_dir(&name);
        if fs::symlink_metadata(&dest).is_ok() {
            return Err(Error::Internal(
                "generation directory exists after recovery",
            ));
        }
        failpoint!("import::before_rename", staging);
        if let Err(e) = fs::rename(staging, &dest) {
            trust_store.forget(&added);
            return Err(Error::io("publishing the generation", &dest, e));
        }
        let activated = (|| {
            failpoint!("import::after_rename", &dest);
            fsx::sync_dir(&self.store.generations_dir())?;
            self.store.switch_current(&name)
        })();
        if let Err(e) = activated {
            // Not committed: take the generation (and the roots it brought) back out so the
            // store is unchanged.
            let _ = self.store.discard(&dest);
            trust_store.forget(&added);
            return Err(e);
        }
        failpoint!("import::after_switch", &dest);
        let old = self.state.as_ref();
        // The time high-water mark moves to the kit's creation time, but never past the local
        // clock: the skew tolerance lets a kit be created slightly "in the future", and that
        // must not push every later expiry decision ahead for good.
        let seen = m.created_at.min(self.now);
        let new = State {
            format: STATE_FORMAT.to_owned(),
            channel: m.channel.clone(),
            highest_sequence: m.sequence,
            kit_sha256: facts.kit_sha256,
            generation: name.clone(),
            manifest_sha256: Some(header.manifest_sha256),
            trust_root_version: old
                .map_or(trust.version, |s| s.trust_root_version.max(trust.version)),
            time_high_water: old.map_or(seen, |s| s.time_high_water.max(seen)),
            revoked: remember_revocations(
                old.map(|s| s.revoked.as_slice()).unwrap_or_default(),
                anchor.revocations.iter().chain(&header.revocations),
            ),
        };
        new.save(self.store.root())?;
        failpoint!("import::after_state", &dest);
        self.state = Some(new);
        let mut summary = KitSummary::from_manifest(&kit_path, m);
        summary.kit_sha256 = Some(facts.kit_sha256.to_hex());
        summary.kit_size = Some(facts.kit_size);
        Ok(ImportReport {
            outcome: Outcome::Imported,
            kit: summary,
            generation: name.clone(),
            current: Some(name),
            accepted_expired: header.expired,
            highest_sequence: m.sequence,
            provenance: streamed.findings.provenance.clone(),
            sboms: streamed.findings.sboms.clone(),
            trivy_db,
            changes: Some(changes),
            parts: streamed.parts,
        })
    }
}

/// The store's revocation memory after this import: old ones first, new ones appended, capped
/// at [`MAX_REVOCATIONS`] (oldest forgotten first).
fn remember_revocations<'a>(
    old: &[Revocation],
    new: impl Iterator<Item = &'a Revocation>,
) -> Vec<Revocation> {
    let mut all: Vec<Revocation> = old.to_vec();
    for r in new {
        if !all.contains(r) {
            all.push(r.clone());
        }
    }
    let excess = all.len().saturating_sub(MAX_REVOCATIONS);
    all.drain(..excess);
    all
}

/// Install the kit's Trivy DB member (`<root>/trivy/db.tar.gz`) into `<root>/trivy/db/`, which
/// validates the Bolt file completely (bounds-checked, no mmap) and caps the expanded size.
/// The member is chosen by path and media type together ([`crate::provenance::check_trivy_placement`]
/// refused anything else under `trivy/`). Returns the installed DB file, relative to `root`.
fn install_trivy(root: &Path, m: &Manifest) -> Result<Option<String>> {
    let Some(member) = m
        .members
        .iter()
        .find(|x| x.path.as_str() == TRIVY_MEMBER_PATH && x.media_type == TRIVY_DB_MEDIA_TYPE)
    else {
        return Ok(None);
    };
    let limits = ouk_trivy::DbLimits::default();
    let declared = trivy_expanded_limit(member, &limits);
    let archive = root.join(TRIVY_MEMBER_PATH);
    let file = File::open(&archive).map_err(|e| Error::io("opening", &archive, e))?;
    let installed = ouk_trivy::install_db_tar_gz(
        std::io::BufReader::new(file),
        &root.join("trivy"),
        declared,
        &limits,
    )
    .map_err(Error::Trivy)?;
    // The installer stopped at the declared size; less than declared is a lie too.
    if let Some(signed) = member.unpacked_size {
        if installed.expanded_bytes != signed {
            return Err(Error::TrivyUnpackedSize {
                path: ouk_format::error::Name::new(member.path.as_str()),
                declared: signed,
                actual: installed.expanded_bytes,
            });
        }
    }
    // Without a Java DB, Trivy stops at the first JAR even offline.
    ouk_trivy::install_java_db_stub(&root.join("trivy")).map_err(Error::Trivy)?;
    Ok(Some(format!("trivy/db/{}", ouk_trivy::DB_FILE)))
}

/// The most bytes the Trivy DB archive may expand to.
fn trivy_expanded_limit(
    _member: &ouk_format::manifest::Member,
    limits: &ouk_trivy::DbLimits,
) -> u64 {
    limits.max_db_bytes + limits.max_metadata_bytes
}

/// The reader's options for one attempt: the operator's trust options at the clock in use.
fn verify_options(opts: &TrustOptions, now: Timestamp) -> VerifyOptions {
    VerifyOptions {
        revoked: Vec::new(),
        now,
        skew_secs: opts.skew_secs,
        allow_expired: opts.allow_expired,
        limits: opts.limits.clone(),
    }
}

/// Bytes of free space required beyond the signed sizes (directories, records, fsync slack).
const FREE_SPACE_MARGIN: u64 = 16 * 1024 * 1024;

/// Where the verified parts of a split kit are kept between attempts: `<store>/incoming/<kit
/// sha256>`.
pub const INCOMING_DIR: &str = "incoming";

/// The `incoming` directory for a split kit's index (created, with store directory rules).
fn incoming_dir(store: &Path) -> impl Fn(&ouk_format::parts::PartsIndex) -> Result<PathBuf> {
    let base = store.join(INCOMING_DIR);
    move |index| {
        fsx::ensure_dir(&base)?;
        let dir = base.join(index.kit_sha256.to_hex());
        fsx::ensure_dir(&dir)?;
        // The verified index travels with the parts, so `gc` can tell which kit (sequence) a
        // directory belongs to once that kit can no longer be imported.
        let index_path = dir.join(INCOMING_INDEX);
        if fsx::open_store_file(&index_path, fsx::Access::Read)?.is_none() {
            fsx::write_atomic(&index_path, &index.to_payload())?;
        }
        Ok(dir)
    }
}

/// The verified part index kept in an `incoming/<kit>` directory.
pub const INCOMING_INDEX: &str = "index.json";

/// Whether an `incoming/<kit>` directory holds no verified part (only its index, or nothing).
fn holds_no_part(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .all(|e| e.file_name() == std::ffi::OsStr::new(INCOMING_INDEX))
    })
}

/// `gc`: removes `incoming/<kit>` directories of split kits that can no longer be imported
/// (sequence at or below the floor) or whose index is missing or unreadable.
fn gc_incoming(store: &Store, floor: Option<u64>) -> Result<Vec<String>> {
    let base = store.root().join(INCOMING_DIR);
    let entries = match fs::read_dir(&base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("listing", &base, e)),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing", &base, e))?;
        let dir = entry.path();
        let index = fsx::read_capped(
            &dir.join(INCOMING_INDEX),
            ouk_format::parts::MAX_INDEX_BYTES,
        )
        .ok()
        .flatten()
        .and_then(|b| ouk_format::parts::PartsIndex::from_payload(&b).ok());
        let stale = match (index, floor) {
            (Some(i), Some(f)) => i.sequence <= f,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if stale {
            store.discard(&dir)?;
            removed.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    removed.sort();
    let _ = fs::remove_dir(&base);
    Ok(removed)
}

/// Create a file that must not exist yet and write it whole.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fsx::create_file_new(path)?;
    std::io::Write::write_all(&mut f, bytes).map_err(|e| Error::io("writing", path, e))
}

/// How a kit reaches an import attempt.
enum KitSource<'a> {
    /// A path the operator gave: opened (following a link) and authenticated by the attempt.
    Path(&'a Path),
    /// A kit `import --from` already opened and authenticated while choosing it.
    Opened(Box<kit::OpenedKit>),
    /// A kit file opened by the OCI transport (a pulled download, a layout blob), whose whole-file
    /// digest and size an OCI descriptor pinned.
    Pinned {
        /// The file's path (messages, audit).
        path: &'a Path,
        /// The descriptor it was checked on.
        file: File,
        /// What it must hash to.
        pin: KitPin,
    },
}

/// The whole-file digest and size an OCI descriptor names for a kit: checked on the same pass
/// that verifies the kit, before anything is activated, so the generation is exactly the blob
/// that was pinned.
#[derive(Debug, Clone)]
pub struct KitPin {
    /// sha256 of the kit file.
    pub sha256: Sha256,
    /// Its size.
    pub size: u64,
    /// Where it came from (`oci://…@sha256:…`, or a layout), for the audit log.
    pub origin: String,
}

impl KitSource<'_> {
    fn path(&self) -> &Path {
        match self {
            KitSource::Path(p) => p,
            KitSource::Opened(k) => &k.path,
            KitSource::Pinned { path, .. } => path,
        }
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
    session.import_audited(opts, KitSource::Path(kit), progress)
}

/// Whether an import could start at all: the clock is not behind the store's trusted time and a
/// trust root is at hand. `pull` asks before downloading gigabytes that would then be refused
/// for a reason that has nothing to do with the kit.
pub fn check_ready(ctx: &Context, opts: &TrustOptions) -> Result<()> {
    let session = Session::open(ctx)?;
    session.check_clock(opts)?;
    session.anchor(opts).map(|_| ())
}

/// Import a kit file the OCI transport opened, with its pinned digest (`pull`, `import --layout`).
pub fn import_pinned(
    ctx: &Context,
    opts: &TrustOptions,
    path: &Path,
    file: File,
    pin: KitPin,
    progress: &mut dyn Progress,
) -> Result<ImportReport> {
    // A file of another size is not the pinned blob: refused before it is opened as a kit.
    let size = file
        .metadata()
        .map_err(|e| Error::io("inspecting the kit", path, e))?
        .len();
    if size != pin.size {
        return Err(Error::KitPinMismatch {
            path: path.to_path_buf(),
            expected: format!("sha256:{}", pin.sha256.to_hex()),
            size: pin.size,
            found: "(not read)".to_owned(),
            found_size: size,
        });
    }
    let mut session = Session::open(ctx)?;
    session.import_audited(opts, KitSource::Pinned { path, file, pin }, progress)
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

/// Budgets of one `import --from DIR` scan. A stick is untrusted input too: junk files, hard-link
/// farms of one large unsigned envelope or slow media must not stall the scheduled job (with the
/// store lock held) for hours, and whatever a budget cut off is reported, never silently skipped.
#[derive(Debug, Clone)]
pub struct ScanBudget {
    /// Directory entries read (names only; cheap, so generous).
    pub max_entries: u64,
    /// `*.ouk` files whose envelope is read and authenticated.
    pub max_candidates: usize,
    /// Bytes of envelopes read before authentication, over all candidates.
    pub max_envelope_bytes: u64,
    /// Wall-clock time for listing and authenticating candidates (the chosen kit's own
    /// streaming pass is not cut short).
    pub max_duration: std::time::Duration,
}

impl Default for ScanBudget {
    fn default() -> Self {
        ScanBudget {
            max_entries: 1_000_000,
            max_candidates: 256,
            max_envelope_bytes: 1 << 30,
            max_duration: std::time::Duration::from_secs(600),
        }
    }
}

/// Most OCI image layouts one scan of a medium reads.
const MAX_LAYOUTS: usize = 8;

/// What a scan of a medium looks at.
enum MediumItem {
    /// A `*.ouk` kit or a split kit's `*.parts.json`.
    File(PathBuf),
    /// A kit listed in an OCI image layout, its blob open.
    Layout(ouk_oci::layout::LayoutKit),
    /// A layout that could not be read (reported as an unreadable candidate).
    LayoutError(PathBuf, Error),
}

impl MediumItem {
    fn path(&self) -> &Path {
        match self {
            MediumItem::File(p) | MediumItem::LayoutError(p, _) => p,
            MediumItem::Layout(k) => &k.path,
        }
    }
}

/// A kit on the medium that may be imported: the newest one stays open and authenticated (it is
/// imported without reading its envelope again); the others are kept as descriptors only, so
/// memory does not grow with the number of kits, and are re-authenticated from the same
/// descriptor only if every newer one failed.
enum Pending {
    Open(Box<kit::OpenedKit>),
    Closed {
        file: File,
        id: kit::FileId,
        manifest_sha256: Sha256,
    },
    /// Cannot happen (only split kits have no descriptor, and they stay open).
    Gone,
}

impl Pending {
    fn close(self) -> Pending {
        match self {
            // A split kit stays open: its parts are read in one pass.
            Pending::Open(k) if k.parts.is_some() => Pending::Open(k),
            Pending::Open(k) => {
                let k = *k;
                let id = k.file;
                let manifest_sha256 = k.header.manifest_sha256;
                match k.into_file() {
                    Some(file) => Pending::Closed {
                        file,
                        id,
                        manifest_sha256,
                    },
                    None => Pending::Gone,
                }
            }
            closed => closed,
        }
    }
}

/// `import --from DIR`: authenticate every `*.ouk` kit on the medium, refuse to choose between
/// two different signed kits of one sequence (equivocation, audited), and import the newest one
/// above the floor from the descriptor it was authenticated on; if that import fails, the next
/// newest is tried.
pub fn import_from_dir(
    ctx: &Context,
    opts: &TrustOptions,
    dir: &Path,
    budget: &ScanBudget,
    progress: &mut dyn Progress,
) -> Result<ScanOutcome> {
    let started = std::time::Instant::now();
    let mut session = Session::open(ctx)?;
    session.check_clock(opts)?;
    let now = session.effective_now();
    let anchor = session.anchor(opts)?;
    let vopts = session.verify_options(opts, now, &anchor);
    let anchor_fast_forward = anchor.revocations.iter().any(|r| r.role == "kit");
    let trust = anchor.root;

    // List names only (no stat, no open): d_type is a hint we do not trust; the open below
    // decides what a file is.
    let mut files = Vec::new();
    let mut layouts = Vec::new();
    let mut entries_seen = 0u64;
    let mut exhausted: Option<&'static str> = None;
    let listing = fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))?;
    for entry in listing {
        if entries_seen >= budget.max_entries {
            exhausted = Some("entry_budget");
            break;
        }
        entries_seen += 1;
        let entry = entry.map_err(|e| Error::io("listing", dir, e))?;
        let path = entry.path();
        // Kits, and the signed indexes of split kits (never their parts, `*.ouk.001`).
        if path.extension().is_some_and(|x| x == "ouk") || crate::parts::is_index_path(&path) {
            files.push(MediumItem::File(path));
        } else if entry.file_name() == "oci-layout" {
            layouts.push(dir.to_path_buf());
        } else if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
            && fs::symlink_metadata(path.join("oci-layout")).is_ok_and(|m| m.is_file())
        {
            // An OCI image layout written by `ouk-builder export-layout` (or skopeo) one level
            // down: `import --from` reads the kits it lists, as `import --layout` does.
            layouts.push(path);
        }
    }
    layouts.sort();
    layouts.truncate(MAX_LAYOUTS);
    for layout in layouts {
        let room = budget.max_candidates.saturating_sub(files.len());
        match ouk_oci::layout::list_kits(&layout, crate::oci::DEFAULT_MAX_KIT_BYTES, room) {
            Ok(kits) => files.extend(kits.into_iter().map(MediumItem::Layout)),
            Err(e) => files.push(MediumItem::LayoutError(layout, Error::from(e))),
        }
    }
    files.sort_by(|a, b| a.path().cmp(b.path()));

    let floor = session.floor();
    let state_manifest = session.state.as_ref().and_then(|s| s.manifest_sha256);
    let state_channel = session.state.as_ref().map(|s| s.channel.clone());
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen_files = std::collections::BTreeMap::new();
    let mut by_sequence: BTreeMap<u64, (Sha256, usize, Box<Manifest>)> = BTreeMap::new();
    // Delta kits among the candidates: tried before their full twin (spec §4.7).
    let mut deltas = std::collections::BTreeSet::new();
    let mut equivocation: Option<Error> = None;
    let mut pending: Vec<(u64, usize, Pending)> = Vec::new();
    let mut newest: Option<usize> = None;
    let mut envelope_bytes = 0u64;
    for item in files {
        let path = item.path().to_path_buf();
        let mut c = Candidate {
            path: path.display().to_string(),
            sequence: None,
            status: String::new(),
            error_kind: None,
            error: None,
        };
        let over = if candidates.len() >= budget.max_candidates {
            Some("candidate_budget")
        } else if envelope_bytes >= budget.max_envelope_bytes {
            Some("byte_budget")
        } else if started.elapsed() >= budget.max_duration {
            Some("time_budget")
        } else {
            None
        };
        if let Some(why) = over {
            exhausted.get_or_insert(why);
            c.status = "skipped_budget".into();
            candidates.push(c);
            continue;
        }
        let index = candidates.len();
        // One open per file: O_NOFOLLOW|O_NONBLOCK, fstat, then the envelope from that same
        // descriptor; hard links to a file already examined are not read again.
        let opened = if let MediumItem::LayoutError(_, e) = item {
            Err(e)
        } else if let MediumItem::Layout(lk) = item {
            // A layout's kit blob, opened through the layout without following links.
            kit::file_id(&lk.path, &lk.file).and_then(|id| {
                if let Some(first) = seen_files.get(&id) {
                    return Ok(Err(*first));
                }
                seen_files.insert(id, index);
                kit::open_from(&lk.path, lk.file, id, &trust, &vopts).map(Ok)
            })
        } else if crate::parts::is_index_path(&path) {
            // The index is authenticated first (nothing else opened before), then the envelope
            // through the parts, so the candidate's sequence and identity are the signed ones.
            kit::open_parts(
                &path,
                Links::Refuse,
                &trust,
                &vopts,
                Some(&incoming_dir(session.store.root())),
            )
            .map(|k| {
                if let Some(first) = seen_files.get(&k.file) {
                    return Err(*first);
                }
                seen_files.insert(k.file, index);
                Ok(k)
            })
        } else {
            kit::open_file(&path, Links::Refuse).and_then(|(file, id)| {
                if let Some(first) = seen_files.get(&id) {
                    return Ok(Err(*first));
                }
                seen_files.insert(id, index);
                kit::open_from(&path, file, id, &trust, &vopts).map(Ok)
            })
        };
        match opened {
            Err(e) => {
                c.status = "unreadable".into();
                c.error_kind = Some(e.kind().into());
                c.error = Some(e.to_string());
            }
            Ok(Err(_first)) => c.status = "same_file".into(),
            Ok(Ok(k)) => {
                envelope_bytes += k.header.envelope.len() as u64;
                let m = &k.header.manifest;
                c.sequence = Some(m.sequence);
                let digest = k.header.manifest_sha256;
                // A kit whose chain revokes a kit key fast-forwards past the floor (as in
                // `import_one`), so the floor does not rule it out here either.
                let fast_forward =
                    anchor_fast_forward || k.header.revocations.iter().any(|r| r.role == "kit");
                let floor = floor.filter(|_| !fast_forward);
                if state_channel.as_ref().is_some_and(|ch| *ch != m.channel) {
                    c.status = "other_channel".into();
                } else if floor.is_some_and(|f| m.sequence < f) {
                    c.status = "below_floor".into();
                } else if floor == Some(m.sequence) && state_manifest == Some(digest) {
                    c.status = "already_imported".into();
                } else if let (true, Some(s), Some(held)) = (
                    floor == Some(m.sequence),
                    session.state.as_ref(),
                    state_manifest,
                ) {
                    if twin_of_state(&session.store, s, held, m, &digest, opts)? {
                        c.status = "already_imported".into();
                    } else {
                        c.status = "equivocation".into();
                        equivocation.get_or_insert(Error::Equivocation {
                            sequence: m.sequence,
                            imported: held.to_hex(),
                            found: digest.to_hex(),
                        });
                    }
                } else if floor == Some(m.sequence) && state_manifest.is_some() {
                    c.status = "equivocation".into();
                    equivocation.get_or_insert(Error::Equivocation {
                        sequence: m.sequence,
                        imported: state_manifest.map(|d| d.to_hex()).unwrap_or_default(),
                        found: digest.to_hex(),
                    });
                } else if let Some((other, other_index)) = by_sequence
                    .get(&m.sequence)
                    .filter(|(other, _, other_m)| {
                        *other == digest || !crate::delta::twins(other_m, other, m, &digest)
                    })
                    .map(|(d, i, _)| (*d, *i))
                {
                    if other == digest {
                        c.status = "duplicate".into();
                    } else {
                        c.status = "equivocation".into();
                        candidates[other_index].status = "equivocation".into();
                        equivocation.get_or_insert(Error::EquivocationOnMedium {
                            sequence: m.sequence,
                            first: PathBuf::from(&candidates[other_index].path),
                            second: path.clone(),
                        });
                    }
                } else {
                    if crate::delta::spec(m).ok().flatten().is_some() {
                        deltas.insert(index);
                    }
                    // (A twin does not replace the first kit of its sequence: a third kit is
                    // compared with that one.)
                    by_sequence
                        .entry(m.sequence)
                        .or_insert_with(|| (digest, index, Box::new((**m).clone())));
                    c.status = "pending".into();
                    let sequence = m.sequence;
                    let is_newest = newest.is_none_or(|n| sequence > pending[n].0);
                    if is_newest {
                        if let Some(n) = newest {
                            let (q, i, p) = pending.swap_remove(n);
                            pending.push((q, i, p.close()));
                        }
                        newest = Some(pending.len());
                        pending.push((sequence, index, Pending::Open(Box::new(k))));
                    } else {
                        pending.push((sequence, index, Pending::Open(Box::new(k)).close()));
                    }
                }
            }
        }
        candidates.push(c);
    }

    let mut imported = None;
    let mut error = None;
    if let Some(e) = equivocation {
        // Evidence of a compromised or misbehaving signer: import nothing from this medium and
        // leave the decision to a human, with the evidence in the audit log.
        for c in candidates.iter_mut().filter(|c| c.status == "pending") {
            c.status = "not_imported".into();
        }
        let mut entry = Entry {
            action: "import_from",
            outcome: "refused",
            kit: Some(dir.display().to_string()),
            ..Entry::default()
        };
        entry = entry.with_error(&e);
        session.audit.append(session.now, entry)?;
        error = Some(e);
    } else if !pending.is_empty() {
        pending.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(deltas.contains(&b.1).cmp(&deltas.contains(&a.1)))
                .then(a.1.cmp(&b.1))
        });
        for (_, index, slot) in pending {
            if imported.is_some() {
                candidates[index].status = "not_newest".into();
                continue;
            }
            let path = PathBuf::from(&candidates[index].path);
            let opened = match slot {
                Pending::Open(k) => Ok(k),
                Pending::Closed {
                    file,
                    id,
                    manifest_sha256,
                } => kit::reopen(&path, file, id, &trust, &vopts).and_then(|k| {
                    if k.header.manifest_sha256 == manifest_sha256 {
                        Ok(Box::new(k))
                    } else {
                        Err(Error::KitChangedOnMedium { path: path.clone() })
                    }
                }),
                Pending::Gone => Err(Error::Internal("a closed candidate has no descriptor")),
            };
            let result =
                opened.and_then(|k| session.import_audited(opts, KitSource::Opened(k), progress));
            match result {
                Ok(report) => {
                    candidates[index].status = match report.outcome {
                        Outcome::Imported => "imported".into(),
                        Outcome::AlreadyImported => "already_imported".into(),
                    };
                    imported = Some(report);
                    error = None;
                }
                Err(e) => {
                    candidates[index].status = "failed".into();
                    candidates[index].error_kind = Some(e.kind().into());
                    candidates[index].error = Some(e.to_string());
                    error.get_or_insert(e);
                }
            }
        }
    } else {
        error = Some(Error::NothingNew {
            dir: dir.to_path_buf(),
            floor: floor.unwrap_or(0),
        });
    }
    Ok(ScanOutcome {
        report: ScanReport {
            dir: dir.display().to_string(),
            floor,
            candidates,
            entries_seen,
            budget_exhausted: exhausted.map(str::to_owned),
            error_kind: error.as_ref().map(|e| e.kind().to_owned()),
            error: error.as_ref().map(|e| e.to_string()),
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
    verify_once(now, opts, kit, progress).map(|(report, _)| report)
}

/// What `inspect` shows besides the report: the authenticated header and the verified statement.
type VerifiedParts = (KitHeader, Option<Vec<u8>>);

/// The one pass behind `verify` and `inspect`: also hands back the verified statement.
fn verify_once(
    now: Timestamp,
    opts: &TrustOptions,
    kit: &Path,
    progress: &mut dyn Progress,
) -> Result<(VerifyReport, VerifiedParts)> {
    // Expiry is decided by the reader on the root that verifies the kit: an expired root may
    // still introduce the newer root the kit carries (TUF).
    let given = opts.trust_root.as_deref().ok_or(Error::NoTrustRoot)?;
    let trust = verify_anchor(given, &opts.limits).map_err(Error::TrustRoot)?;
    let opened = if crate::parts::is_index_path(kit) {
        kit::open_parts(kit, Links::Follow, &trust, &verify_options(opts, now), None)?
    } else {
        kit::open(kit, Links::Follow, &trust, &verify_options(opts, now))?
    };
    // The Trivy DB gets the same checks as at import: only its archive is written, to a private
    // temporary directory removed on return.
    let scratch = tempfile::Builder::new()
        .prefix("ouk-verify-")
        .tempdir()
        .map_err(|e| Error::io("creating a scratch directory", std::env::temp_dir(), e))?;
    let (header, streamed) = kit::stream(
        opened,
        &opts.limits,
        Some(scratch.path().to_path_buf()),
        Some(TRIVY_MEMBER_PATH),
        progress,
    )?;
    install_trivy(scratch.path(), &header.manifest)?;
    let mut summary = KitSummary::from_manifest(kit, &header.manifest);
    summary.kit_sha256 = Some(streamed.kit.kit_sha256.to_hex());
    summary.kit_size = Some(streamed.kit.kit_size);
    let report = VerifyReport {
        verified: true,
        kit: summary,
        expired: header.expired,
        trust_root_version: header.trust.version,
        provenance: streamed
            .findings
            .provenance
            .ok_or(Error::Internal("no provenance summary"))?,
        sboms: streamed.findings.sboms,
        parts: streamed.parts,
    };
    Ok((report, (header, streamed.findings.statement)))
}

/// `inspect KIT`: show the manifest. Without a trust root nothing is authenticated (the report
/// says `verified: false`); with one, the kit is fully verified first, in the same single pass
/// as `verify`, and what is shown is what was verified.
pub fn inspect(
    now: Timestamp,
    trust: Option<&TrustOptions>,
    kit: &Path,
    with_provenance: bool,
) -> Result<InspectReport> {
    let (manifest, signatures, verified, statement, provenance) = match trust {
        Some(opts) => {
            let (report, (header, statement)) = verify_once(now, opts, kit, &mut NoProgress)?;
            let signatures = ouk_format::dsse::Envelope::parse(
                &header.envelope,
                ouk_format::error::Document::Manifest,
                &opts.limits,
            )?
            .signatures()
            .len();
            let manifest: Manifest = (*header.manifest).clone();
            (
                manifest,
                signatures,
                true,
                statement,
                Some(report.provenance),
            )
        }
        None => {
            let limits = Limits::default();
            let (env, unverified) = kit::read_unverified(kit, &limits)?;
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
            (unverified, env.signatures().len(), false, statement, None)
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
    let entry = Entry {
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
    s.finish_audited(entry, result)
}

/// Longest reason kept in the audit log for a manual action.
const MAX_REASON_BYTES: usize = 500;

/// `reset-floor --to N --reason TEXT`: lower the anti-rollback floor. The only way out after a
/// signer (compromised, or simply wrong) published a kit with an absurd sequence such as 2^53:
/// without it one signed kit would block the channel forever. It only ever lowers the floor,
/// needs a reason, must name a local generation's sequence (that kit becomes the kit at the floor:
/// it imports again as `already_imported`, another kit with its sequence is an equivocation),
/// requires the active generation to be at or below `to` (re-activate an older one with
/// `rollback` first), and is audited with the old and new value.
pub fn reset_floor(ctx: &Context, to: u64, reason: &str) -> Result<ResetFloorReport> {
    let mut s = Session::open(ctx)?;
    let result = (|| {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::ResetFloorRefused {
                reason: "a reason is required",
            });
        }
        let Some(state) = s.state.as_ref() else {
            return Err(Error::ResetFloorRefused {
                reason: "the store has never imported a kit",
            });
        };
        if to >= state.highest_sequence {
            return Err(Error::ResetFloorRefused {
                reason: "the new floor must be lower than the current one",
            });
        }
        // The active generation must not be above the new floor (recovery would roll the floor
        // forward to it again): the operator first re-activates an older generation.
        if let Some(current) = s.store.current()? {
            if s.store.info(&current)?.sequence > to {
                return Err(Error::ResetFloorRefused {
                    reason: "the active generation is above the new floor; run `rollback --to` to an older generation first",
                });
            }
        }
        // The floor is a kit the store holds: the same kit again is then `already_imported`,
        // another signed kit with that sequence an equivocation, exactly as before the reset.
        let Some(at_floor) = s
            .store
            .generations()?
            .into_iter()
            .find(|g| g.sequence == to)
        else {
            return Err(Error::ResetFloorRefused {
                reason: "no local generation has that sequence (the floor is reset to a kit the store holds)",
            });
        };
        let manifest = fsx::read_capped(
            &s.store
                .generation_dir(&at_floor.name)
                .join(".ouk/manifest.json"),
            64 << 20,
        )?
        .ok_or(Error::StoreDamaged {
            path: s.store.generation_dir(&at_floor.name),
            reason: "generation without .ouk/manifest.json".to_owned(),
        })?;
        let previous = state.highest_sequence;
        let mut new = state.clone();
        new.highest_sequence = to;
        new.kit_sha256 = at_floor.kit_sha256;
        new.generation = at_floor.name.clone();
        new.manifest_sha256 = Some(Sha256::of(&manifest));
        new.save(s.store.root())?;
        s.state = Some(new);
        Ok(ResetFloorReport {
            previous_floor: previous,
            floor: to,
        })
    })();
    let mut note: String = reason.trim().chars().take(MAX_REASON_BYTES).collect();
    if let Ok(r) = &result {
        note = format!("floor {} -> {}: {note}", r.previous_floor, r.floor);
    }
    let entry = Entry {
        action: "reset_floor",
        outcome: if result.is_ok() { "lowered" } else { "refused" },
        sequence: Some(to),
        note: Some(note),
        ..Entry::default()
    };
    s.finish_audited(entry, result)
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
        incoming_removed: Vec::new(),
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
    report.incoming_removed = gc_incoming(&s.store, s.floor())?;
    Ok(report)
}

/// `audit verify`: check the hash chain, under a shared lock so no record is half-written.
pub fn audit_verify(store: &Path) -> Result<AuditReport> {
    Store::open(store)?;
    let _lock = StoreLock::shared(store)?;
    audit::verify(store)
}

/// The report for a kit that is already the store's highest one: nothing changes. It names the
/// generation that holds the kit and, separately, the active one (they differ after `rollback`).
/// Whether `m` (manifest digest `digest`) is the twin (spec §4.7) of the kit the store's highest
/// generation was made from (manifest digest `state_digest`).
fn twin_of_state(
    store: &Store,
    s: &State,
    state_digest: Sha256,
    m: &Manifest,
    digest: &Sha256,
    opts: &TrustOptions,
) -> Result<bool> {
    let Some(held) = crate::delta::generation_manifest(store, &s.generation, &opts.limits)? else {
        return Ok(false);
    };
    if Sha256::of(&held.to_payload()) != state_digest {
        return Ok(false);
    }
    Ok(crate::delta::twins(&held, &state_digest, m, digest))
}

fn already_imported(
    kit: &Path,
    m: &Manifest,
    s: &State,
    current: Option<String>,
    attempt: &mut Attempt,
) -> ImportReport {
    attempt.generation = Some(s.generation.clone());
    let mut summary = KitSummary::from_manifest(kit, m);
    summary.kit_sha256 = Some(s.kit_sha256.to_hex());
    ImportReport {
        outcome: Outcome::AlreadyImported,
        kit: summary,
        generation: s.generation.clone(),
        current,
        accepted_expired: false,
        highest_sequence: s.highest_sequence,
        provenance: None,
        sboms: BTreeMap::new(),
        trivy_db: None,
        changes: None,
        parts: None,
    }
}
