//! `ouk-builder` as a library: the CLI in `main.rs` only parses flags and calls these.
//!
//! Runs on the connected side: merges feeds ([`ouk_feeds`]), exports the Trivy DB
//! ([`ouk_trivy`]), describes and attests the kit ([`ouk_provenance`]) and writes it in the
//! [`ouk_format`] container.
#![deny(missing_docs)]

pub mod build;
pub mod config;
pub mod cosign_key;
pub mod delta;
pub mod error;
pub mod keyfile;
mod kit_file;
pub mod progress;
pub mod publish;
pub mod split;
pub mod trust;

pub use error::BuildError;
