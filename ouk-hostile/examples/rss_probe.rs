//! `rss_probe OUT PROGRAM ARGS...`: run PROGRAM, write its peak resident set size in KiB to OUT,
//! exit with its exit code. Used by the binary-level hostile suite to measure the importer.
//!
//! Why a separate tiny process: a child's `ru_maxrss` includes the memory of the process that
//! spawned it up to `exec`, so measuring from the (large) test process or from Python would add
//! tens of MiB that are not the importer's. This probe is a couple of MiB, which is the whole
//! measurement error (an over-estimate). Linux/`getrusage(RUSAGE_CHILDREN)`: the probe has
//! exactly one child, so the children's maximum is the importer's peak.

use std::process::{Command, ExitCode};

use nix::sys::resource::{getrusage, UsageWho};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: rss_probe OUT PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let status = match Command::new(&program).args(args).status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rss_probe: cannot run {}: {e}", program.to_string_lossy());
            return ExitCode::from(127);
        }
    };
    let kib = match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => u.max_rss(),
        Err(e) => {
            eprintln!("rss_probe: getrusage failed: {e}");
            return ExitCode::from(125);
        }
    };
    if let Err(e) = std::fs::write(&out, format!("{kib}\n")) {
        eprintln!("rss_probe: cannot write {}: {e}", out.to_string_lossy());
        return ExitCode::from(125);
    }
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    ExitCode::from(code.clamp(0, 255) as u8)
}
