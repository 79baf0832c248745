//! The importer's one error type and its coarse [`Class`], from which the binary derives the exit
//! code with a single table.
//!
//! Kit-format errors keep their own stable `kind()` from `ouk-format`; everything the importer adds
//! (policy refusals, provenance, store problems) gets a named variant and a stable snake_case kind,
//! used in `--json` reports and in the audit log. Text that came from a kit is bounded and escaped
//! (through `ouk_format::error::Name` or the provenance crate's own bounding) before it gets here.

use std::path::PathBuf;

use ouk_format::error::{ErrorClass, Name};
use ouk_provenance::{ProvenanceError, SbomError};
use ouk_trivy::TrivyError;

/// Who is at fault, as a scheduler needs to know it. The binary maps each class to one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The kit is malformed, fails authentication, exceeds a limit, or fails provenance/SBOM checks.
    Verification,
    /// The trust root is unusable (expired, under-signed, invalid, older than the one in use).
    Trust,
    /// Verified content that policy refuses (rollback, equivocation, expired, future, builder).
    Policy,
    /// Local I/O: store unwritable, disk full, read-only, kit unreadable, store state damaged.
    Io,
    /// Another process holds the store lock and the caller asked not to wait.
    Locked,
    /// `import --from DIR` found no kit above the anti-rollback floor.
    NothingNew,
    /// The caller asked for something that does not exist (e.g. an unknown generation).
    Usage,
    /// A bug in the importer.
    Internal,
}

/// Everything that can make an importer command fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kit or trust root failed a check of the format crate.
    #[error("{0}")]
    Format(#[from] ouk_format::Error),
    /// The trust root given to the importer failed verification. Whatever the underlying format
    /// error (bad base64, wrong `_type`, expired, under-signed), the trust root is at fault, so
    /// the class is always [`Class::Trust`].
    #[error("trust root: {0}")]
    TrustRoot(#[source] ouk_format::Error),
    /// The kit carries no provenance attestation member; policy never imports such a kit.
    #[error("kit has no provenance attestation member (role attestation); refusing it")]
    MissingAttestation,
    /// The attestation member does not have the media type of a DSSE envelope.
    #[error("attestation member {path} has media type {media_type}, expected a DSSE envelope")]
    AttestationMediaType {
        /// The member.
        path: Name,
        /// Its declared media type.
        media_type: Name,
    },
    /// The attestation member is larger than the importer captures in memory.
    #[error("attestation member {path} is {size} bytes, limit is {limit}")]
    AttestationTooLarge {
        /// The member.
        path: Name,
        /// Declared size.
        size: u64,
        /// Limit.
        limit: u64,
    },
    /// The attested statement does not match the kit or the trust root's builders.
    #[error("provenance attestation {path} refused: {source}")]
    Provenance {
        /// The attestation member.
        path: Name,
        /// What the provenance check found.
        #[source]
        source: ProvenanceError,
    },
    /// A payload member has no SBOM link.
    #[error("payload member {path} has no SBOM (member.sbom is missing)")]
    MissingSbomLink {
        /// The member.
        path: Name,
    },
    /// A member's SBOM link names a member that is not an SBOM.
    #[error("member {path} links SBOM {sbom}, which is not an SBOM member")]
    SbomLinkNotSbom {
        /// The member.
        path: Name,
        /// The linked member.
        sbom: Name,
    },
    /// An SBOM member is larger than the importer validates in memory.
    #[error("SBOM member {path} is {size} bytes, limit is {limit}")]
    SbomTooLarge {
        /// The member.
        path: Name,
        /// Declared size.
        size: u64,
        /// Limit.
        limit: u64,
    },
    /// An SBOM member does not parse as SPDX 2.3 / CycloneDX 1.5-1.6 JSON.
    #[error("SBOM member {path} is invalid: {source}")]
    Sbom {
        /// The member.
        path: Name,
        /// What the validator found.
        #[source]
        source: SbomError,
    },
    /// A Trivy DB member is not at `trivy/db.tar.gz`, or a member under the importer's reserved
    /// `trivy/` directory is not the Trivy DB archive (it would land where the DB is installed).
    #[error("member {path}: only the Trivy DB archive (media type of the Trivy DB) may be at or under trivy/, and it must be trivy/db.tar.gz")]
    TrivyMisplaced {
        /// The member.
        path: Name,
    },
    /// The Trivy DB archive expanded to another size than the signed manifest declares.
    #[error("Trivy DB member {path} expands to {actual} bytes, the manifest declares {declared}")]
    TrivyUnpackedSize {
        /// The member.
        path: Name,
        /// Signed `unpacked_size`.
        declared: u64,
        /// Bytes the archive expanded to.
        actual: u64,
    },
    /// Installing the verified Trivy DB member failed.
    #[error("installing the Trivy DB failed: {0}")]
    Trivy(#[source] TrivyError),
    /// The kit path is not a regular file (a FIFO would hang the job, a device or link could
    /// be anything).
    #[error("kit {path} is a {found}, not a regular file")]
    KitNotRegularFile {
        /// The kit path.
        path: PathBuf,
        /// What it is instead.
        found: EntryKind,
    },
    /// The attestation is not the first member: a payload or SBOM before it would be staged and
    /// parsed before the attestation could refuse the kit.
    #[error("attestation member {path} must be the first member of the kit")]
    AttestationNotFirst {
        /// The attestation member.
        path: Name,
    },
    /// The store's file system has less free space than the kit's signed sizes need.
    #[error(
        "not enough free space in {path}: the kit needs {needed} bytes, {available} are available"
    )]
    InsufficientSpace {
        /// Where the generation would be staged.
        path: PathBuf,
        /// Bytes the signed manifest says the generation will take (with a margin).
        needed: u64,
        /// Bytes available to the importer.
        available: u64,
    },
    /// `reset-floor` was refused (it only lowers an existing floor, with a reason).
    #[error("reset-floor refused: {reason}")]
    ResetFloorRefused {
        /// Why.
        reason: &'static str,
    },
    /// A kit file on the medium carried another signed manifest when it was read again (it was
    /// rewritten during the scan).
    #[error("kit {path} changed on the medium during the scan")]
    KitChangedOnMedium {
        /// The kit file.
        path: PathBuf,
    },
    /// The kit read is not the blob its OCI descriptor (registry or layout) pinned: the verified
    /// file differs from what was fetched, or the descriptor lies about it.
    #[error("kit {path} is not the pinned {expected} ({size} bytes): read {found_size} bytes of sha256:{found}")]
    KitPinMismatch {
        /// The kit file.
        path: PathBuf,
        /// The pinned digest (`sha256:<hex>`).
        expected: String,
        /// The pinned size.
        size: u64,
        /// What the verified pass read.
        found: String,
        /// Its size.
        found_size: u64,
    },
    /// The OCI transport (registry or layout) failed or refused what it was given.
    #[error("{0}")]
    Oci(#[from] ouk_oci::Error),
    /// Two kits on one medium carry different signed manifests with the same sequence: a signer
    /// equivocated. Neither is imported; both are named in the audit log.
    #[error("equivocation on the medium: {first} and {second} are different signed kits with sequence {sequence}")]
    EquivocationOnMedium {
        /// The sequence.
        sequence: u64,
        /// One kit file.
        first: PathBuf,
        /// The other kit file.
        second: PathBuf,
    },
    /// The kit's sequence is below the anti-rollback floor.
    #[error("rollback refused: kit sequence {sequence} is lower than the highest imported sequence {floor}")]
    Rollback {
        /// The kit's sequence.
        sequence: u64,
        /// Highest sequence ever imported into this store.
        floor: u64,
    },
    /// Same sequence as an imported kit, another signed manifest: the signer equivocated.
    #[error("equivocation refused: sequence {sequence} was imported with manifest sha256 {imported}, this kit's signed manifest is {found}")]
    Equivocation {
        /// The sequence.
        sequence: u64,
        /// sha256 of the manifest imported with that sequence.
        imported: String,
        /// sha256 of this kit's signed manifest.
        found: String,
    },
    /// The kit belongs to another channel than the store.
    #[error("kit is for channel {kit}, this store follows channel {store}")]
    ChannelMismatch {
        /// Store channel.
        store: String,
        /// Kit channel.
        kit: Name,
    },
    /// The trust root is older than the one the store last accepted.
    #[error("trust root version {version} is older than version {store_version} already used by this store")]
    TrustRootRollback {
        /// Version presented.
        version: u64,
        /// Highest version seen by the store.
        store_version: u64,
    },
    /// No trust root to start from: the store holds none yet and none was given.
    #[error("no trust root: this store holds none yet, give --trust-root FILE")]
    NoTrustRoot,
    /// Two different trust roots claim one version (the given file and the store's, or a kit's
    /// chain and the store's): one of them was signed behind the others' backs.
    #[error("two different trust roots with version {version}")]
    TrustRootMismatch {
        /// The version.
        version: u64,
    },
    /// The local clock is earlier than a time the store already trusted (by more than the skew
    /// tolerance): someone set it back, or the RTC lost power. Refused rather than guessed.
    #[error("the clock says {now}, but this store already trusted {high_water}: fix the clock (set back by more than the skew tolerance)")]
    ClockBehind {
        /// The local clock.
        now: String,
        /// The latest trusted time seen.
        high_water: String,
    },
    /// `import --from DIR`: no kit newer than the floor.
    #[error("nothing new in {dir}: no kit above sequence {floor}")]
    NothingNew {
        /// The scanned directory.
        dir: PathBuf,
        /// The floor.
        floor: u64,
    },
    /// `pull`: the kit the reference resolves to is already a generation of the store; nothing
    /// was downloaded (a scheduled pull of a tag that has not moved).
    #[error("{pinned} is already imported (generation {generation}); nothing pulled")]
    AlreadyPulled {
        /// The reference, pinned to the manifest digest it resolved to.
        pinned: String,
        /// The generation that holds the kit.
        generation: String,
    },
    /// The store lock is held by another process (`--no-wait`).
    #[error("store {store} is locked by another import")]
    Locked {
        /// The store.
        store: PathBuf,
    },
    /// `rollback --to N`: no local generation with that sequence.
    #[error("no local generation with sequence {sequence}")]
    UnknownGeneration {
        /// The sequence asked for.
        sequence: u64,
    },
    /// `diff`/`report`: no generation of that name or sequence.
    #[error("no local generation named or numbered {name:?}")]
    UnknownGenerationName {
        /// What was asked for.
        name: String,
    },
    /// A command that reads the active generation ran on a store without one.
    #[error("no generation is active in this store (import a kit first)")]
    NoGeneration,
    /// `rescan`: an input or the configured scanner failed.
    #[error("re-scan: {0}")]
    Rescan(String),
    /// The store's own files are damaged (state.json unparsable, dangling `current`...).
    #[error("store file {path} is damaged: {reason}")]
    StoreDamaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The audit log's hash chain is broken.
    #[error("audit log {path}: record {record} is broken: {reason}")]
    AuditBroken {
        /// The log.
        path: PathBuf,
        /// 1-based record (line) number of the first broken record.
        record: u64,
        /// What is wrong.
        reason: String,
    },
    /// A delta kit was refused (no base generation, or its members do not rebuild the signed
    /// snapshot).
    #[error(transparent)]
    Delta(#[from] crate::delta::DeltaError),
    /// A local file operation failed.
    #[error("I/O error while {during} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        during: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A part of a split kit is not next to its index.
    #[error("part {name} of the split kit is missing ({}): insert the medium that holds it", path.display())]
    PartMissing {
        /// The part's name in the signed index.
        name: Name,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A part of a split kit has another size than the signed index says (a copy cut short,
    /// a stick pulled out mid-write).
    #[error("part {name} of the split kit ({}) has {found} bytes, the signed index says {expected}: truncated or incomplete copy", path.display())]
    PartSize {
        /// The part's name in the signed index.
        name: Name,
        /// The file read.
        path: PathBuf,
        /// Bytes in the index.
        expected: u64,
        /// Bytes found.
        found: u64,
    },
    /// A part's sha256 is not the one in the signed index: corrupt, reordered, or a part of
    /// another kit.
    #[error("part {name} of the split kit ({}) does not match its sha256 in the signed index: corrupt, out of order or from another kit", path.display())]
    PartDigest {
        /// The part's name in the signed index.
        name: Name,
        /// The file read.
        path: PathBuf,
    },
    /// The part index failed authentication or validation (nothing else was opened).
    #[error("part index {}: {source}", path.display())]
    PartsIndex {
        /// The index file.
        path: PathBuf,
        /// What the format crate found.
        #[source]
        source: ouk_format::Error,
    },
    /// The authenticated index does not describe the kit its parts make up.
    #[error("part index {}: {reason}", path.display())]
    PartsMismatch {
        /// The index file.
        path: PathBuf,
        /// What differs.
        reason: &'static str,
    },
    /// A bug: an invariant of the importer does not hold.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A store entry the importer owns is a symbolic link. Links planted in the store would
    /// redirect our writes (audit, lock, state) to files outside it, so none is ever followed.
    #[error("store entry {} is a symbolic link; the importer never follows links in its store", path.display())]
    StoreSymlink {
        /// The link.
        path: PathBuf,
    },
    /// A store entry is not of the type the importer created there (a FIFO would hang us, a
    /// device or socket is never ours, a file where a directory belongs is planted).
    #[error("store entry {} is a {found}, expected a {expected}", path.display())]
    StoreEntryType {
        /// The entry.
        path: PathBuf,
        /// What is there.
        found: EntryKind,
        /// What the importer expects.
        expected: EntryKind,
    },
    /// A store file has more than one hard link: writing it would also change the file it is
    /// linked to, which may lie outside the store.
    #[error("store file {} has {links} hard links; the importer only writes files it alone links", path.display())]
    StoreHardLinked {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// A store entry belongs to another user than the one running the importer: that user
    /// could change it under us.
    #[error("store entry {} is owned by uid {owner}, the importer runs as uid {euid}", path.display())]
    StoreOwner {
        /// The entry.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The importer's effective uid.
        euid: u32,
    },
    /// A store directory is writable by group or others, who could then plant links in it.
    #[error("store directory {} has mode {mode:o}, writable by group or others (chmod go-w)", path.display())]
    StorePermissions {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The `current` link points somewhere other than `generations/<generation name>`: it was
    /// planted, and following it would serve files from outside the store.
    #[error("store link {} does not point to generations/<name>", path.display())]
    CurrentOutsideStore {
        /// The `current` link.
        path: PathBuf,
    },
}

/// The type of a filesystem entry, named in store refusals (never attacker text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else the OS reports.
    Other,
}

impl EntryKind {
    /// Classify an lstat/fstat result, so refusals say what was planted.
    pub fn of(ft: std::fs::FileType) -> EntryKind {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_file() {
            EntryKind::File
        } else if ft.is_dir() {
            EntryKind::Directory
        } else if ft.is_symlink() {
            EntryKind::Symlink
        } else if ft.is_fifo() {
            EntryKind::Fifo
        } else if ft.is_socket() {
            EntryKind::Socket
        } else if ft.is_char_device() {
            EntryKind::CharDevice
        } else if ft.is_block_device() {
            EntryKind::BlockDevice
        } else {
            EntryKind::Other
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryKind::File => "regular file",
            EntryKind::Directory => "directory",
            EntryKind::Symlink => "symbolic link",
            EntryKind::Fifo => "FIFO",
            EntryKind::Socket => "socket",
            EntryKind::CharDevice => "character device",
            EntryKind::BlockDevice => "block device",
            EntryKind::Other => "special file",
        })
    }
}

impl Error {
    /// Wrap an OS error with what we were doing and where.
    pub fn io(during: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            during,
            path: path.into(),
            source,
        }
    }

    /// Stable snake_case name, used in `--json` output and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Format(e) | Error::TrustRoot(e) => e.kind(),
            Error::MissingAttestation => "missing_attestation",
            Error::AttestationMediaType { .. } => "attestation_media_type",
            Error::AttestationTooLarge { .. } => "attestation_too_large",
            Error::Provenance { source, .. } => provenance_kind(source),
            Error::MissingSbomLink { .. } => "missing_sbom_link",
            Error::SbomLinkNotSbom { .. } => "sbom_link_not_sbom",
            Error::SbomTooLarge { .. } => "sbom_too_large",
            Error::Sbom { .. } => "sbom_invalid",
            Error::TrivyMisplaced { .. } => "trivy_misplaced",
            Error::Trivy(TrivyError::Io { .. }) => "io",
            Error::Trivy(_) | Error::TrivyUnpackedSize { .. } => "trivy_db_invalid",
            Error::KitNotRegularFile { .. } => "kit_not_regular_file",
            Error::AttestationNotFirst { .. } => "attestation_not_first",
            Error::InsufficientSpace { .. } => "insufficient_space",
            Error::EquivocationOnMedium { .. } => "equivocation",
            Error::KitChangedOnMedium { .. } => "kit_changed",
            Error::KitPinMismatch { .. } => "kit_pin_mismatch",
            Error::Oci(e) => e.kind(),
            Error::ResetFloorRefused { .. } => "reset_floor_refused",
            Error::Rollback { .. } => "rollback",
            Error::Equivocation { .. } => "equivocation",
            Error::ChannelMismatch { .. } => "channel_mismatch",
            Error::TrustRootRollback { .. } => "trust_root_rollback",
            Error::NoTrustRoot => "no_trust_root",
            Error::TrustRootMismatch { .. } => "trust_root_mismatch",
            Error::ClockBehind { .. } => "clock_behind",
            Error::NothingNew { .. } | Error::AlreadyPulled { .. } => "nothing_new",
            Error::Locked { .. } => "locked",
            Error::UnknownGeneration { .. } => "unknown_generation",
            Error::UnknownGenerationName { .. } => "unknown_generation",
            Error::NoGeneration => "no_generation",
            Error::Rescan(_) => "rescan",
            Error::StoreDamaged { .. } => "store_damaged",
            Error::AuditBroken { .. } => "audit_broken",
            Error::Io { .. } => "io",
            Error::PartMissing { .. } => "part_missing",
            Error::PartSize { .. } => "part_size",
            Error::PartDigest { .. } => "part_digest",
            Error::PartsIndex { .. } | Error::PartsMismatch { .. } => "parts_index",
            Error::Delta(e) => e.kind(),
            Error::Internal(_) => "internal",
            Error::StoreSymlink { .. } => "store_symlink",
            Error::StoreEntryType { .. } => "store_entry_type",
            Error::StoreHardLinked { .. } => "store_hard_linked",
            Error::StoreOwner { .. } => "store_owner",
            Error::StorePermissions { .. } => "store_permissions",
            Error::CurrentOutsideStore { .. } => "store_current_outside",
        }
    }

    /// The class that decides the exit code.
    pub fn class(&self) -> Class {
        match self {
            Error::TrustRoot(e) if e.class() == ErrorClass::Io => Class::Io,
            Error::TrustRoot(_) => Class::Trust,
            Error::Format(e) => match e.class() {
                ErrorClass::Verification | ErrorClass::Limit => Class::Verification,
                ErrorClass::Trust => Class::Trust,
                ErrorClass::Policy => Class::Policy,
                ErrorClass::Io => Class::Io,
            },
            Error::Provenance {
                source: ProvenanceError::UnknownBuilder { .. },
                ..
            } => Class::Policy,
            Error::MissingAttestation
            | Error::AttestationMediaType { .. }
            | Error::AttestationTooLarge { .. }
            | Error::Provenance { .. }
            | Error::MissingSbomLink { .. }
            | Error::SbomLinkNotSbom { .. }
            | Error::SbomTooLarge { .. }
            | Error::Sbom { .. }
            | Error::TrivyMisplaced { .. }
            | Error::AttestationNotFirst { .. }
            | Error::AuditBroken { .. } => Class::Verification,
            Error::Trivy(TrivyError::Io { .. }) => Class::Io,
            Error::Trivy(_) | Error::TrivyUnpackedSize { .. } => Class::Verification,
            Error::KitNotRegularFile { .. }
            | Error::InsufficientSpace { .. }
            | Error::KitChangedOnMedium { .. } => Class::Io,
            Error::EquivocationOnMedium { .. } => Class::Policy,
            Error::KitPinMismatch { .. } => Class::Verification,
            // Bytes that are not what their descriptor names, or a descriptor we refuse, are
            // verification failures; a registry or network that fails is an I/O problem the
            // operator retries; a reference or CA file that cannot be used is usage.
            Error::Oci(e) => match e {
                ouk_oci::Error::BadManifest { .. }
                | ouk_oci::Error::ManifestTooLarge { .. }
                | ouk_oci::Error::BlobMismatch { .. }
                | ouk_oci::Error::LayerTooLarge { .. }
                | ouk_oci::Error::BadLayout { .. } => Class::Verification,
                ouk_oci::Error::BadReference { .. }
                | ouk_oci::Error::Config { .. }
                | ouk_oci::Error::Auth { .. }
                | ouk_oci::Error::LayoutChoice { .. } => Class::Usage,
                ouk_oci::Error::Interrupted { .. }
                | ouk_oci::Error::Registry { .. }
                | ouk_oci::Error::Tls { .. }
                | ouk_oci::Error::Io { .. } => Class::Io,
            },
            Error::Rollback { .. } | Error::Equivocation { .. } | Error::ChannelMismatch { .. } => {
                Class::Policy
            }
            Error::TrustRootRollback { .. }
            | Error::NoTrustRoot
            | Error::TrustRootMismatch { .. }
            | Error::ClockBehind { .. } => Class::Trust,
            Error::NothingNew { .. } | Error::AlreadyPulled { .. } => Class::NothingNew,
            Error::Locked { .. } => Class::Locked,
            Error::UnknownGeneration { .. }
            | Error::UnknownGenerationName { .. }
            | Error::NoGeneration
            | Error::Rescan(_)
            | Error::ResetFloorRefused { .. } => Class::Usage,
            Error::StoreDamaged { .. } | Error::Io { .. } => Class::Io,
            // A part not there (yet) or cut short is a medium problem the operator fixes by
            // inserting or re-copying it; one with the wrong bytes, or a bad index, is not.
            Error::PartMissing { .. } | Error::PartSize { .. } => Class::Io,
            Error::PartsIndex { source, .. } if source.class() == ErrorClass::Io => Class::Io,
            Error::PartDigest { .. } | Error::PartsIndex { .. } | Error::PartsMismatch { .. } => {
                Class::Verification
            }
            Error::Internal(_) => Class::Internal,
            Error::Delta(e) => e.class(),
            // An unsafe store is a store problem the operator fixes locally, like a damaged one.
            Error::StoreSymlink { .. }
            | Error::StoreEntryType { .. }
            | Error::StoreHardLinked { .. }
            | Error::StoreOwner { .. }
            | Error::StorePermissions { .. }
            | Error::CurrentOutsideStore { .. } => Class::Io,
        }
    }
}

/// Kinds for provenance refusals: one per variant the importer can meet, so an operator can grep
/// the audit log for, say, every `provenance_subject_missing`.
fn provenance_kind(e: &ProvenanceError) -> &'static str {
    match e {
        ProvenanceError::SubjectMissing { .. } => "provenance_subject_missing",
        ProvenanceError::SubjectExtra { .. } => "provenance_subject_extra",
        ProvenanceError::SubjectDigestMismatch { .. } => "provenance_subject_digest_mismatch",
        ProvenanceError::SubjectDuplicate { .. } => "provenance_subject_duplicate",
        ProvenanceError::UnknownBuilder { .. } => "provenance_unknown_builder",
        ProvenanceError::WrongStatementType { .. } => "provenance_statement_type",
        ProvenanceError::WrongPredicateType { .. } => "provenance_predicate_type",
        ProvenanceError::WrongBuildType { .. } => "provenance_build_type",
        _ => "provenance_invalid",
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
