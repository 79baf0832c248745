#!/usr/bin/env bash
# Hostile-input checks outside `cargo test --workspace` (issue 7):
#  1. the binary-level hostile suite against the release importer, with peak RSS per case (< 64 MiB);
#  2. a bounded fuzz run of every cargo-fuzz target (~60 s each), if a nightly toolchain exists.
# Run from the workspace root.
set -euo pipefail

tgt="${CARGO_TARGET_DIR:-$PWD/target}"

echo "== hostile: building the release importer and the RSS probe"
cargo build --release -p ouk-importer
cargo build -p ouk-hostile --example rss_probe
export OUK_IMPORTER_BIN="$tgt/release/ouk-importer"
export OUK_RSS_PROBE="$tgt/debug/examples/rss_probe"
export OUK_RSS_LIMIT_MIB=64
export OUK_RSS_REPORT="$tgt/hostile-rss.tsv"

echo "== hostile: binary-level suite (every case through the importer CLI, peak RSS measured)"
cargo test -p ouk-hostile --test binary_level -- --nocapture
echo "== hostile: peak RSS per case (KiB), largest first"
# `sed -n` reads all of sort's output: `| head` would exit early and, under pipefail,
# sort's next write would end the whole part with SIGPIPE (exit 141; CI failed on it once).
sort -t$'\t' -k2 -n -r "$OUK_RSS_REPORT" | sed -n '1,10p'

echo "== hostile: bounded fuzz run"
if ! rustup toolchain list 2>/dev/null | grep '^nightly' >/dev/null; then
    echo "SKIP: no nightly toolchain (rustup toolchain list has none); cargo-fuzz needs nightly." >&2
    echo "      Install one with 'rustup toolchain install nightly' to run the fuzz targets." >&2
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
FUZZ_SECS="${OUK_FUZZ_SECS:-60}"
scratch="$tgt/fuzz-scratch"
fuzz_target_dir="${OUK_FUZZ_TARGET_DIR:-$tgt/fuzz}"
cd fuzz
for t in manifest dsse trust_root archive bolt parts_index; do
    mkdir -p "$scratch/$t"
    extra=()
    env_extra=()
    if [ "$t" = archive ]; then
        # See fuzz/README.md: LeakSanitizer false positive on std's scoped-thread bookkeeping.
        extra=(-detect_leaks=0)
        env_extra=(ASAN_OPTIONS=detect_leaks=0)
    fi
    echo "-- fuzz $t (${FUZZ_SECS}s)"
    rc=0
    env "${env_extra[@]}" cargo +nightly fuzz run --target-dir "$fuzz_target_dir" "$t" \
        "$scratch/$t" "corpus/$t" -- -max_total_time="$FUZZ_SECS" -rss_limit_mb=2048 "${extra[@]}" \
        >"$scratch/$t.log" 2>&1 || rc=$?
    grep -E '^(Done [0-9]+ runs|==[0-9]+==ERROR|SUMMARY)|panicked' "$scratch/$t.log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$scratch/$t.log" >&2
        echo "FAIL: fuzz target $t exited $rc (crash, leak or OOM); see fuzz/artifacts/$t and $scratch/$t.log" >&2
        exit 1
    fi
done
echo "== hostile: done"
