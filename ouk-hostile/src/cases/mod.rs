//! The hostile cases, one module per attack surface.

pub mod archive;
pub mod boundary;
pub mod delta;
pub mod manifest;
pub mod provenance;
pub mod size;
pub mod trivy;
pub mod trust;

use crate::fixture::{self, Kit, KitOptions};
use crate::rawtar::{self, Entry};
use crate::{Category, HostileCase, Layer};

/// Index of the envelope entry in the base kit's container.
pub const ENVELOPE: usize = 0;
/// Index of the attestation member entry.
pub const ATTESTATION: usize = 1;
/// Index of the SBOM member entry.
pub const SBOM: usize = 2;
/// Index of the advisories member entry (the multi-chunk one).
pub const ADVISORIES: usize = 3;
/// Index of the snapshot member entry (the last one).
pub const SNAPSHOT: usize = 4;

/// The shared valid base everything is derived from, built once.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The base kit.
    pub kit: Kit,
    /// Its signed envelope.
    pub envelope: Vec<u8>,
    /// Its container entries.
    pub entries: Vec<Entry>,
    /// Its container bytes.
    pub bytes: Vec<u8>,
    /// The default trust root file.
    pub trust: Vec<u8>,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

impl Ctx {
    /// Build the base kit and trust root.
    pub fn new() -> Ctx {
        let kit = Kit::build(&KitOptions::default());
        let envelope = kit.envelope();
        let entries = kit.entries(&envelope);
        let bytes = rawtar::encode(&entries, &rawtar::end_marker());
        Ctx {
            kit,
            envelope,
            entries,
            bytes,
            trust: fixture::trust_root(),
        }
    }

    /// A container made from the base entries after `edit`.
    pub fn edited(&self, edit: impl FnOnce(&mut Vec<Entry>)) -> Vec<u8> {
        let mut entries = self.entries.clone();
        edit(&mut entries);
        rawtar::encode(&entries, &rawtar::end_marker())
    }

    /// The base container with a different envelope (member entries unchanged).
    pub fn with_envelope(&self, envelope: Vec<u8>) -> Vec<u8> {
        self.edited(|e| e[ENVELOPE] = Entry::file(&e[ENVELOPE].header.name.clone(), envelope))
    }

    /// Byte offset of entry `i`'s header in the base container.
    pub fn header_offset(&self, i: usize) -> usize {
        self.entries[..i]
            .iter()
            .map(|e| rawtar::BLOCK + e.data.len().div_ceil(rawtar::BLOCK) * rawtar::BLOCK)
            .sum()
    }

    /// Byte offset of entry `i`'s data in the base container.
    pub fn data_offset(&self, i: usize) -> usize {
        self.header_offset(i) + rawtar::BLOCK
    }
}

/// A case the format layer must refuse, checked against the default trust root.
pub fn format_case(
    ctx: &Ctx,
    category: Category,
    name: &str,
    kind: &'static str,
    exit: i32,
    bytes: Vec<u8>,
    description: &str,
) -> HostileCase {
    HostileCase {
        name: name.to_owned(),
        category,
        description: description.to_owned(),
        bytes,
        trust_root: ctx.trust.clone(),
        prior_kits: Vec::new(),
        expected_kind: kind,
        expected_exit: exit,
        layer: Layer::Format,
    }
}
