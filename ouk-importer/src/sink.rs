//! The [`MemberSink`] of the streaming pass: writes members under a staging directory (when
//! importing), captures the attestation and SBOM members (bounded) and runs their checks the
//! moment each member's digests matched, and reports progress.
//!
//! Writing: each member's path is joined one validated component at a time (the format crate
//! already refused `..`, absolute paths, dot-files and odd characters). Every directory on the way
//! must be one we created (a real directory, never a symlink) and every file is created with
//! `O_CREAT|O_EXCL`, so nothing is followed and nothing outside the staging directory is written.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use ouk_format::archive::reader::MemberSink;
use ouk_format::error::Name;
use ouk_format::manifest::{Manifest, Member, MemberRole};
use ouk_format::trust_root::TrustRoot;
use ouk_format::Limits;
use ouk_provenance::{ProvenanceSummary, SbomFormat};

use crate::error::{Error, Result};
use crate::failpoint;
use crate::provenance::{self, MAX_ATTESTATION_BYTES, MAX_SBOM_BYTES};
use crate::Progress;

/// Where the Trivy DB member must be.
pub const TRIVY_MEMBER_PATH: &str = "trivy/db.tar.gz";

/// What the streaming pass learned besides the verified manifest.
#[derive(Debug, Default)]
pub struct Findings {
    /// The verified in-toto statement bytes.
    pub statement: Option<Vec<u8>>,
    /// Summary of the provenance check against the pre-read manifest.
    pub provenance: Option<ProvenanceSummary>,
    /// Format of each SBOM member, by path.
    pub sboms: BTreeMap<String, SbomFormat>,
}

enum Capture {
    None,
    /// The attestation is small (capped) and must be whole before its signature can be checked.
    Attestation(Vec<u8>),
    /// SBOMs are validated as they stream, in bounded memory, whatever their size.
    Sbom(Box<ouk_provenance::SbomStreamValidator>, Name),
}

/// The sink. `staging: None` verifies without writing anything.
pub struct KitSink<'a> {
    staging: Option<PathBuf>,
    manifest: &'a Manifest,
    trust: &'a TrustRoot,
    limits: &'a Limits,
    progress: &'a mut dyn Progress,
    file: Option<(File, PathBuf)>,
    capture: Capture,
    findings: Findings,
    only: Option<&'static str>,
}

impl<'a> KitSink<'a> {
    /// A sink checking against `manifest` (the authenticated pre-read; the caller compares it with
    /// the verified one at the end) and writing under `staging` when given.
    pub fn new(
        staging: Option<PathBuf>,
        manifest: &'a Manifest,
        trust: &'a TrustRoot,
        limits: &'a Limits,
        progress: &'a mut dyn Progress,
    ) -> Self {
        KitSink {
            staging,
            manifest,
            trust,
            limits,
            progress,
            file: None,
            capture: Capture::None,
            findings: Findings::default(),
            only: None,
        }
    }

    /// Write only the member at `path` under the staging directory (`verify` materialises just
    /// the Trivy DB archive, to run the same install checks as an import).
    pub fn only(mut self, path: &'static str) -> Self {
        self.only = Some(path);
        self
    }

    /// What the pass found, once every member streamed.
    pub fn finish(self) -> Result<Findings> {
        if self.file.is_some() {
            return Err(Error::Internal(
                "a member was still open at the end of the pass",
            ));
        }
        Ok(self.findings)
    }

    fn begin_inner(&mut self, member: &Member) -> Result<()> {
        let limit = match member.role {
            MemberRole::Attestation => Some(MAX_ATTESTATION_BYTES),
            MemberRole::Sbom => Some(MAX_SBOM_BYTES),
            MemberRole::Payload => None,
        };
        if let Some(limit) = limit {
            let size = member.uncompressed.size;
            if size > limit {
                let path = Name::new(member.path.as_str());
                return Err(match member.role {
                    MemberRole::Attestation => Error::AttestationTooLarge { path, size, limit },
                    _ => Error::SbomTooLarge { path, size, limit },
                });
            }
            self.capture = match member.role {
                // The declared size is signed and the decoder is cut at it, so this reservation
                // is bounded by `limit`.
                MemberRole::Attestation => Capture::Attestation(Vec::with_capacity(size as usize)),
                _ => Capture::Sbom(
                    Box::new(
                        ouk_provenance::SbomStreamValidator::start(&provenance::sbom_limits())
                            .map_err(|e| provenance::sbom_error(member, e))?,
                    ),
                    Name::new(member.path.as_str()),
                ),
            };
        }
        let wanted = self.only.is_none_or(|p| p == member.path.as_str());
        if let (Some(root), true) = (&self.staging, wanted) {
            let path = create_parents(root, member)?;
            let file = crate::fsx::create_file_new(&path)?;
            self.file = Some((file, path));
        }
        Ok(())
    }

    fn write_inner(&mut self, data: &[u8]) -> Result<()> {
        if let Some((file, path)) = &mut self.file {
            failpoint!("sink::write", path);
            file.write_all(data)
                .map_err(|e| Error::io("writing member", path.clone(), e))?;
        }
        match &mut self.capture {
            Capture::Attestation(buf) => buf.extend_from_slice(data),
            Capture::Sbom(validator, path) => {
                if let Err(source) = validator.write(data) {
                    return Err(Error::Sbom {
                        path: path.clone(),
                        source,
                    });
                }
            }
            Capture::None => {}
        }
        self.progress.advance(data.len() as u64);
        Ok(())
    }

    fn end_inner(&mut self, member: &Member) -> Result<()> {
        if let Some((file, path)) = self.file.take() {
            // Durability comes from `fsx::sync_tree` over the whole staging directory before
            // anything is published. Here we only ask the kernel to start writing the member
            // back now (POSIX_FADV_DONTNEED starts writeback of dirty pages without waiting and
            // cannot drop them), so the disk works while the next members decompress instead
            // of all at the end; an fsync here stalled decompression on the disk, member after
            // member (import took 2.2x `zstd -dc | tar -x && sync` on a 4 GiB kit). A hint: its
            // failure changes nothing.
            failpoint!("sink::fsync", &path);
            let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed);
        }
        match std::mem::replace(&mut self.capture, Capture::None) {
            Capture::Attestation(envelope) => {
                let statement = provenance::verify_attestation(&envelope, self.trust, self.limits)?;
                let summary =
                    provenance::check_statement(member, &statement, self.manifest, self.trust)?;
                self.findings.statement = Some(statement);
                self.findings.provenance = Some(summary);
            }
            Capture::Sbom(validator, _) => {
                let format = validator
                    .finish()
                    .map_err(|e| provenance::sbom_error(member, e))?;
                self.findings
                    .sboms
                    .insert(member.path.as_str().to_owned(), format);
            }
            Capture::None => {}
        }
        Ok(())
    }
}

/// Create the member's parent directories below `root` (each must be a real directory we made
/// or just make) and return the file path.
fn create_parents(root: &Path, member: &Member) -> Result<PathBuf> {
    let components: Vec<&str> = member.path.components().collect();
    let Some((last, dirs)) = components.split_last() else {
        return Err(Error::Internal("member path without components"));
    };
    let mut path = root.to_path_buf();
    for c in dirs {
        path.push(c);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::Format(ouk_format::Error::DuplicatePath {
                    path: Name::new(member.path.as_str()),
                }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::fsx::create_dir_new(&path)?
            }
            Err(e) => return Err(Error::io("inspecting", path, e)),
        }
    }
    path.push(last);
    Ok(path)
}

impl MemberSink for KitSink<'_> {
    type Error = Error;

    fn begin(&mut self, member: &Member) -> Result<()> {
        self.begin_inner(member)
    }

    fn write(&mut self, data: &[u8]) -> Result<()> {
        self.write_inner(data)
    }

    fn end(&mut self, member: &Member) -> Result<()> {
        self.end_inner(member)
    }
}
