//! Every committed rotation chain case (`testdata/trust-chains`, issue 12) through
//! `ouk-importer trust verify-chain`: the verdict must be the one the case records. CI's
//! `ci/tuf_oracle.py` checks the same cases against python-tuf.

use std::path::Path;
use std::process::Command;

#[test]
fn every_chain_case_gets_its_recorded_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/trust-chains");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "chain cases missing in {}",
        dir.display()
    );
    let mut accepted = 0;
    for case_dir in names {
        let case: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case_dir.join("case.json")).unwrap()).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ouk-importer"));
        cmd.args(["trust", "verify-chain", "--json", "--at"])
            .arg(case["at"].as_str().unwrap())
            .arg("--trust-root")
            .arg(case_dir.join(case["anchor"].as_str().unwrap()));
        for c in case["chain"].as_array().unwrap() {
            cmd.arg(case_dir.join(c.as_str().unwrap()));
        }
        let out = cmd.output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: no JSON ({e}): {}",
                case_dir.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let ours = if out.status.success() {
            accepted += 1;
            assert_eq!(report["accepted"], true);
            "accepted".to_owned()
        } else {
            // Whatever is wrong with a chain, the trust root is at fault: exit 11.
            assert_eq!(out.status.code(), Some(11), "{report}");
            report["error"]["kind"].as_str().unwrap().to_owned()
        };
        assert_eq!(
            ours,
            case["ours"].as_str().unwrap(),
            "{}: {report}",
            case_dir.display()
        );
    }
    assert!(accepted >= 4, "the accepted cases ran: {accepted}");
}
