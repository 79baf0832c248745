//! OCI transport for Offline Update Kits (spec §18): a kit as an image-spec 1.1 artifact pushed to
//! and pulled from a registry inside the air gap, or written to an OCI image layout on media.
//!
//! This crate only moves bytes and checks the OCI wrapping (manifest caps, digests, no `urls`);
//! it never decides whether a kit is trusted. The importer verifies every pulled or layout kit
//! with its single staged reader, exactly like a kit file, with the layer digest pinned.

pub mod artifact;
mod download;
pub mod error;
mod fsafe;
mod http;
pub mod layout;
pub mod publish;
pub mod reference;
pub mod registry;

pub use error::{Error, Result};
pub use reference::{Digest, OciRef};
