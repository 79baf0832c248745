//! Reading one kit file: the authenticated manifest pre-read, and the single streaming pass.
//!
//! Why a pre-read: `verify_kit` hands the trusted manifest back only at the very end, but policy
//! (rollback floor, channel) and the provenance subjects are needed *before* members stream. So
//! the importer first reads the envelope (bounded, the first container entry only), checks it
//! against the `kit` role itself, and uses that manifest to plan; after the streaming pass the
//! verified manifest must be identical, else the file changed underneath us ([`Error::KitChanged`]).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use ouk_format::archive::members::member_entry_name;
use ouk_format::archive::reader::{
    read_envelope_bytes, read_manifest_unverified, verify_kit, VerifiedKit, VerifyOptions,
};
use ouk_format::dsse::Envelope;
use ouk_format::error::Document;
use ouk_format::manifest::{Manifest, MemberRole};
use ouk_format::media_types::MANIFEST_PAYLOAD_TYPE;
use ouk_format::trust_root::{RoleName, TrustRoot};
use ouk_format::verified::Verified;
use ouk_format::Limits;

use crate::error::{Error, Result};
use crate::sink::{Findings, KitSink};
use crate::Progress;

/// The manifest envelope as read before streaming, with its signature already checked.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// The envelope exactly as it is in the kit (kept in the generation, verifiable again later).
    pub envelope: Vec<u8>,
    /// The manifest, authenticated by the `kit` role threshold (not yet time/builder-checked).
    pub manifest: Manifest,
}

fn open(kit: &Path) -> Result<BufReader<File>> {
    let f = File::open(kit).map_err(|e| Error::io("opening the kit", kit, e))?;
    Ok(BufReader::with_capacity(256 * 1024, f))
}

/// Read the manifest envelope unverified (for `inspect` without a trust root).
pub fn read_unverified(kit: &Path, limits: &Limits) -> Result<(Envelope, Manifest)> {
    let (env, manifest) = read_manifest_unverified(open(kit)?, limits)?;
    Ok((env, manifest.0))
}

/// Read the envelope and authenticate it with the trust root's `kit` role.
pub fn preflight(kit: &Path, trust: &TrustRoot, limits: &Limits) -> Result<Preflight> {
    // Authenticate before parsing: only the size-capped DSSE envelope is parsed before the
    // signature check; the manifest payload only after it.
    let bytes = read_envelope_bytes(open(kit)?, limits)?;
    let env = Envelope::parse(&bytes, Document::Manifest, limits)?;
    let payload = env.verify(
        MANIFEST_PAYLOAD_TYPE,
        Document::Manifest,
        RoleName::Kit.as_str(),
        &trust.role_keys(RoleName::Kit),
        trust.roles.kit.threshold as usize,
    )?;
    let manifest = Manifest::from_payload(payload, limits)?;
    Ok(Preflight {
        envelope: bytes,
        manifest,
    })
}

/// Outcome of the streaming pass.
#[derive(Debug)]
pub struct Streamed {
    /// What `verify_kit` returned.
    pub verified: VerifiedKit,
    /// Attestation and SBOM results.
    pub findings: Findings,
}

/// The one streaming pass: verify everything, write members under `staging` when given, check
/// provenance and SBOMs as they pass. On error the caller discards `staging`.
pub fn stream(
    kit: &Path,
    trust: &Verified<TrustRoot>,
    opts: &VerifyOptions,
    pre: &Preflight,
    staging: Option<PathBuf>,
    progress: &mut dyn Progress,
) -> Result<Streamed> {
    crate::provenance::check_manifest(&pre.manifest)?;
    let total = pre
        .manifest
        .members
        .iter()
        .map(|m| m.uncompressed.size)
        .sum();
    progress.start(total);
    let reader = open(kit)?;
    let mut sink = KitSink::new(staging, &pre.manifest, trust, &opts.limits, progress);
    let result = verify_kit(reader, trust, opts, &mut sink);
    let verified = match result {
        Ok(v) => v,
        Err(e) => return Err(sink.failure.take().unwrap_or(Error::Format(e))),
    };
    let findings = std::mem::take(&mut sink.findings);
    drop(sink);
    progress.finish();
    if *verified.manifest != pre.manifest {
        return Err(Error::KitChanged {
            path: kit.to_path_buf(),
        });
    }
    if findings.statement.is_none() {
        // check_manifest guarantees an attestation member, and end() of that member sets it.
        return Err(Error::Internal("attestation member was not checked"));
    }
    Ok(Streamed { verified, findings })
}

/// The attestation member's content read WITHOUT verification (for `inspect --provenance`
/// without a trust root): bounded compressed read, bounded decompression.
pub fn read_attestation_unverified(
    kit: &Path,
    manifest: &Manifest,
    limits: &Limits,
) -> Result<Option<Vec<u8>>> {
    let Some(att) = manifest
        .members
        .iter()
        .find(|m| m.role == MemberRole::Attestation)
    else {
        return Ok(None);
    };
    let cap = crate::provenance::MAX_ATTESTATION_BYTES;
    let want = member_entry_name(&att.path);
    let mut archive = tar::Archive::new(open(kit)?);
    let entries = archive
        .entries()
        .map_err(|e| Error::io("reading the kit", kit, e))?
        .raw(true);
    for entry in entries.take(limits.max_members + 1) {
        let entry = entry.map_err(|e| Error::io("reading the kit", kit, e))?;
        if entry.path_bytes().as_ref() != want.as_bytes() {
            continue;
        }
        if entry.size() > cap {
            return Err(Error::AttestationTooLarge {
                path: ouk_format::error::Name::new(att.path.as_str()),
                size: entry.size(),
                limit: cap,
            });
        }
        let mut decoder = zstd::stream::read::Decoder::new(entry)
            .map_err(|e| Error::io("decompressing the attestation", kit, e))?;
        decoder
            .window_log_max(limits.max_zstd_window_log)
            .map_err(|e| Error::io("decompressing the attestation", kit, e))?;
        let mut out = Vec::new();
        decoder
            .take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io("decompressing the attestation", kit, e))?;
        if out.len() as u64 > cap {
            return Err(Error::AttestationTooLarge {
                path: ouk_format::error::Name::new(att.path.as_str()),
                size: out.len() as u64,
                limit: cap,
            });
        }
        return Ok(Some(out));
    }
    Ok(None)
}
