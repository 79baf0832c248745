//! The Offline Update Kit (OUK) format, version `ouk/1`, shared by `ouk-builder` and `ouk-importer`.
//!
//! The normative description is `spec/OUK-FORMAT.md` in the workspace; this crate is its reference
//! implementation. It is a pure library: I/O comes in as `Read`/`Write`, time comes in as a
//! parameter, and nothing here knows about command lines, files on disk or the environment.
//!
//! The one way to obtain trusted data is through the verifiers: [`trust_root::verify_trust_root`]
//! mints a [`Verified<TrustRoot>`](verified::Verified), and [`archive::reader::verify_kit`] mints a
//! [`Verified<Manifest>`](verified::Verified) only after the signature threshold was met and every
//! member's digests matched.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod archive;
pub mod delta;
pub mod digest;
pub mod dsse;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod keys;
pub mod limits;
pub mod line_patch;
pub mod lines;
pub mod manifest;
pub mod media_types;
pub mod member_path;
pub mod parts;
#[doc(hidden)]
pub mod testkit;
pub mod time;
pub mod trust_root;
pub mod verified;

pub use error::{Error, ErrorKind};
pub use limits::Limits;
