//! `hostile_snapshots OUT_DIR`: validly signed kits (the fixture's kit key: a compromised builder)
//! whose merged snapshot `feeds/advisories.ndjson` is built to hurt the importer's change report,
//! plus `trust-root.json`. They must import (the report is not a reason to refuse a verified
//! kit) in bounded memory; `.ci/parts/changes.sh` imports each into a fresh store under
//! `rss_probe` and checks the report's `complete` flag:
//!
//! | kit | snapshot | report |
//! |---|---|---|
//! | `blowup.ouk` | two ~7 MiB lines of tiny values (`[0,0,…]`, `[{},{},…]`): a JSON tree of them would take ~16× their size | complete |
//! | `long-line.ouk` | one line over the 8 MiB line cap | incomplete |
//! | `unsorted.ouk` | ids out of order | incomplete |

use std::path::Path;

use ouk_hostile::fixture::{self, Kit, KitOptions, ADVISORIES_PATH};

const MIB: usize = 1 << 20;

fn kit(content: Vec<u8>) -> Vec<u8> {
    let opts = KitOptions::default();
    let mut kit = Kit::build(&opts);
    let blob = zstd::encode_all(content.as_slice(), 3).expect("zstd");
    kit.replace(ADVISORIES_PATH, blob, content, &opts);
    kit.bytes()
}

fn repeated(prefix: &str, item: &str, total: usize, suffix: &str) -> String {
    let n = (total - prefix.len() - suffix.len()) / (item.len() + 1);
    let mut s = String::with_capacity(total);
    s.push_str(prefix);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(item);
    }
    s.push_str(suffix);
    s
}

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/hostile-snapshots".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("trust-root.json"), fixture::trust_root())?;

    let blowup = [
        repeated(r#"{"id":"A","affected":["#, "{}", 7 * MIB, "]}"),
        repeated(r#"{"id":"B","x-vendor":["#, "0", 7 * MIB, "]}"),
    ]
    .join("\n")
        + "\n";
    std::fs::write(dir.join("blowup.ouk"), kit(blowup.into_bytes()))?;

    let long = repeated(r#"{"id":"A","details":["#, "1", 9 * MIB, "]}") + "\n";
    std::fs::write(dir.join("long-line.ouk"), kit(long.into_bytes()))?;

    let unsorted = b"{\"id\":\"B\"}\n{\"id\":\"A\"}\n".to_vec();
    std::fs::write(dir.join("unsorted.ouk"), kit(unsorted))?;
    println!("wrote {}", dir.display());
    Ok(())
}
