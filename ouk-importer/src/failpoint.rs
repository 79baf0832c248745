//! Failpoints for the crash, disk-full and read-only tests.
//!
//! `failpoint!("name")` compiles to nothing unless the `failpoints` feature is on (only the test
//! build turns it on). With the feature, the binary reads `FAILPOINTS` (see the `fail` crate) and
//! an action `return(ARG)` makes the enclosing function fail:
//! - `return(crash)`: the process aborts on the spot (no destructors, no cleanup), like a power cut
//!   as far as our own code is concerned;
//! - `return(enospc)`, `return(erofs)`, `return(eio)`: the step fails with that OS error.

use std::io;
use std::path::Path;

use crate::error::Error;

/// Fail the enclosing function (returning `Result<_, crate::Error>`) when the failpoint fires.
#[cfg(feature = "failpoints")]
#[macro_export]
#[doc(hidden)]
macro_rules! failpoint {
    ($name:expr, $path:expr) => {
        fail::fail_point!($name, |arg: Option<String>| Err(
            $crate::failpoint::injected($name, $path, arg)
        ))
    };
}

/// Without the `failpoints` feature the `fail` crate is not even linked: the macro is empty
/// (it still evaluates nothing, like `fail_point!` does without its feature).
#[cfg(not(feature = "failpoints"))]
#[macro_export]
#[doc(hidden)]
macro_rules! failpoint {
    ($name:expr, $path:expr) => {{
        let _ = (&$name, &$path);
    }};
}

/// The error (or crash) a fired failpoint stands for.
#[doc(hidden)]
pub fn injected(name: &'static str, path: &Path, arg: Option<String>) -> Error {
    let errno = match arg.as_deref() {
        Some("crash") => std::process::abort(),
        Some("enospc") => 28,
        Some("erofs") => 30,
        _ => 5,
    };
    Error::io(name, path, io::Error::from_raw_os_error(errno))
}
