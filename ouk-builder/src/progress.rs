//! Progress reporting, injected by the CLI: the library never decides whether to draw a bar.

use std::io::Read;

/// Receives progress events from long operations (from several threads: members are compressed
/// in parallel).
pub trait Progress: Sync {
    /// A new stage starts.
    fn stage(&self, _what: &str) {}
    /// Wrap a reader so bytes read through it are counted.
    fn wrap_read<'a>(&self, r: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
        r
    }
}

/// No progress output (pipes, `--quiet`, tests).
pub struct Silent;

impl Progress for Silent {}
