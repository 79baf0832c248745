//! Pack, validate and install Trivy `db.tar.gz` archives with the library functions the builder
//! and importer call (used by `.ci/parts/trivy.sh`).
//!
//! ```text
//! dbtool pack DB_DIR OUT.tar.gz MTIME
//! dbtool validate DB.tar.gz
//! dbtool install DB.tar.gz CACHE_DIR
//! ```

use std::path::Path;
use std::process::ExitCode;

use ouk_trivy::DbLimits;

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["pack", dir, out, mtime] => {
            let s = ouk_trivy::pack_db_tar_gz(Path::new(dir), Path::new(out), mtime.parse()?)?;
            println!("{s:?}");
        }
        ["validate", path] => {
            let info =
                ouk_trivy::validate_upstream_db_tar_gz(Path::new(path), &DbLimits::default())?;
            println!(
                "ok: version {} updated {} db {} bytes, page size {}, {} root buckets",
                info.metadata.version,
                info.metadata.updated_at,
                info.db_bytes,
                info.page_size,
                info.root_buckets.len()
            );
        }
        ["install", path, cache] => {
            // As builder and importer do: the expanded size is measured (and would be signed)
            // first, then enforced by the install.
            let open = || std::fs::File::open(path).map(std::io::BufReader::new);
            let declared = ouk_trivy::db_tar_gz_expanded_size(open()?, &DbLimits::default())?;
            let s = ouk_trivy::install_db_tar_gz(
                open()?,
                Path::new(cache),
                declared,
                &DbLimits::default(),
            )?;
            // As the importer does: the Java DB stub beside the DB.
            ouk_trivy::install_java_db_stub(Path::new(cache))?;
            println!("{s:?}");
        }
        _ => {
            return Err(
                "usage: dbtool pack DIR OUT MTIME | validate TGZ | install TGZ CACHE".into(),
            )
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dbtool: {e}");
            ExitCode::FAILURE
        }
    }
}
