//! Writes the fuzz seed corpora from valid (and a few hostile) inputs:
//! `cargo run -p ouk-hostile --example fuzz_seeds -- fuzz/corpus`.
//! Deterministic, so re-running it gives the committed files byte for byte.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    for (target, seeds) in ouk_hostile::seeds::corpora() {
        let d = Path::new(&dir).join(target);
        std::fs::create_dir_all(&d)?;
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i:02}")), seed)?;
        }
        println!("{target}: {} seeds", seeds.len());
    }
    Ok(())
}
