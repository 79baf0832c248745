//! The importer of Offline Update Kits: the air-gapped side's last line of defence.
//!
//! It verifies a kit in one streaming pass (signatures, digests, limits, provenance, SBOMs),
//! unpacks it into a staging directory inside the store, and publishes it as a new generation with
//! one atomic rename and an atomic `current` symlink switch, enforcing anti-rollback, anti-freeze
//! and equivocation policy and writing a hash-chained audit log. See `docs/importer.md`.
//!
//! This crate is the library; the `ouk-importer` binary is a thin CLI over it: it reads the
//! clock, the trust-root file and the operator's identity, calls one function here and maps the
//! [`Error::class`] to an exit code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod changes;
pub mod delta;
pub mod error;
#[doc(hidden)]
pub mod failpoint;
pub mod fsx;
pub mod import;
pub mod kit;
pub mod lock;
pub mod oci;
pub mod parts;
pub mod provenance;
pub mod report;
pub mod rescan;
pub mod rescan_config;
pub mod sbom_set;
pub mod scan_media;
pub mod sink;
pub mod state;
pub mod status_page;
pub mod store;
pub mod trust_info;
pub mod trust_store;

pub use audit::Operator;
pub use error::{Class, Error, Result};
pub use import::{
    audit_verify, gc, import, import_from_dir, inspect, list, reset_floor, rollback, status,
    verify, Context, ScanBudget, ScanOutcome, TrustOptions,
};
pub use lock::Wait;

/// Progress of the streaming pass, in uncompressed bytes. The library only reports; the binary
/// decides whether to draw a bar (TTY) or nothing.
pub trait Progress {
    /// The pass starts; `total` uncompressed bytes will stream.
    fn start(&mut self, _total: u64) {}
    /// `bytes` more were verified (and written).
    fn advance(&mut self, _bytes: u64) {}
    /// The pass ended.
    fn finish(&mut self) {}
}

/// No progress reporting.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
