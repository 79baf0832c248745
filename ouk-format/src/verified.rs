//! `Verified<T>`: proof, in the type system, that `T` passed its verifier.
//!
//! The field is private, there is no `Deserialize`, no `DerefMut` and no public constructor:
//! the only way to hold a `Verified<Manifest>` or `Verified<TrustRoot>` is to have run
//! [`crate::archive::reader::verify_kit`] or [`crate::trust_root::verify_trust_root`]. (tough's
//! `Signed<T>` has public fields, so "signed" there does not mean "verified"; here it does.)

use std::ops::Deref;

/// A value that passed verification. Read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    /// Only verifiers in this crate mint `Verified` values.
    pub(crate) fn new(value: T) -> Self {
        Verified(value)
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
