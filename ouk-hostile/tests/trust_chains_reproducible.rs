//! The committed rotation chain cases are exactly what the generator writes: no hand-edited
//! fixture, and a change to the generator must be committed with its output.

use std::path::Path;

#[test]
fn committed_chain_cases_match_the_generator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/trust-chains");
    let files = ouk_hostile::chains::files();
    for (rel, bytes) in &files {
        let on_disk = std::fs::read(dir.join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}; regenerate with the trust_chains example"));
        assert!(
            on_disk == *bytes,
            "{rel} differs from the generator's output"
        );
    }
    let committed = walk(&dir);
    assert_eq!(committed, files.len(), "stray files in {}", dir.display());
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p)
            } else {
                1
            }
        })
        .sum()
}
