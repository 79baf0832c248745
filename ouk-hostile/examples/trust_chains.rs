//! Writes the trust root rotation chain cases (issue 12):
//! `cargo run -p ouk-hostile --example trust_chains -- testdata/trust-chains`.
//! Deterministic: re-running it gives the committed files byte for byte (a test checks).

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/trust-chains".into());
    let files = ouk_hostile::chains::files();
    for (rel, bytes) in &files {
        let path = Path::new(&dir).join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    println!(
        "{} cases, {} files",
        ouk_hostile::chains::cases().len(),
        files.len()
    );
    Ok(())
}
