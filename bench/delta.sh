#!/usr/bin/env bash
# Benchmark: daily delta kits (ouk-builder delta) against the full kit of the same day, and the
# importer applying one. Targets (issue 2, "daily deltas"): delta kit size <= 0.5 % of the full
# kit, importer peak RSS applying it <= 64 MiB.
#
# Day 1 is the merge of the synthetic feed set (the one merge.sh and diff.sh use), day 2 the same
# snapshot perturbed by perturb_snapshot.py ("a realistic day": 0.5 % changed, 0.2 % added,
# 0.05 % withdrawn, 0.01 % removed); both are the snapshots diff.sh makes (reused when present).
# The kits are built from those merged directories by ouk-builder's `bench_kit` example with the
# dev keys, exactly as `build` / `delta --base` pack them (full kit: snapshot + exported Trivy DB,
# zstd -3; delta: delta/upserts.ndjson + delta/removed.ndjson at zstd -19 + the small files).
# Measured (median of RUNS, /usr/bin/time -v):
#   * ouk-importer import DELTA into a store holding day 1 (verify, merge-join, Trivy DB export,
#     change report, publish) vs. import FULL2 into the same store;
#   * the merge-join alone (ouk-importer's `delta_merge` example).
# Then checks that both imports give byte-identical feeds/advisories.ndjson and trivy/db/*.
#
#   BENCH_RECORDS=100000 bench/delta.sh
#   BENCH_FEEDS=/work/tgt-bench/bench-feeds BENCH_RECORDS=500000 bench/delta.sh  # reuse a set
#
# CI does not run this.
set -euo pipefail

RECORDS="${BENCH_RECORDS:-100000}"
RUNS="${RUNS:-3}"
TARGET_RATIO_PCT=0.5
TARGET_RSS_MIB=64
TGT="${CARGO_TARGET_DIR:-target}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SETS="${BENCH_FEEDS:-$TGT/bench-feeds}"
FEEDS="$SETS/syn-$RECORDS"
SNAPS="$SETS/diff-$RECORDS"
WORK="$TGT/bench-feeds/delta-$RECORDS"
RESULTS="$TGT/bench-feeds/delta-results-$RECORDS.md"

if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
cargo build --release -q -p ouk-builder --examples
cargo build --release -q -p ouk-importer --examples
# The binary on its own: built together with the examples it would get the tests' `failpoints`
# feature (the self dev-dependency).
cargo build --release -q -p ouk-importer --bin ouk-importer
KIT="$TGT/release/examples/bench_kit"
MERGEJ="$TGT/release/examples/delta_merge"
IMPORTER="$TGT/release/ouk-importer"

# Day 1 and day 2 snapshots (diff.sh's, made here when missing).
if [ ! -f "$SNAPS/.complete" ]; then
  cargo build --release -q -p ouk-feeds --examples
  if [ ! -f "$FEEDS/.complete" ]; then
    rm -rf "$FEEDS"
    "$TGT/release/examples/gen-synthetic" --records "$RECORDS" --out "$FEEDS"
    touch "$FEEDS/.complete"
  fi
  rm -rf "$SNAPS"
  mkdir -p "$SNAPS/b"
  "$TGT/release/examples/merge" --out "$SNAPS/a" osv="$FEEDS/osv" ghsa="$FEEDS/ghsa" nvd="$FEEDS/nvd"
  python3 "$HERE/perturb_snapshot.py" "$SNAPS/a/advisories.ndjson" "$SNAPS/b/advisories.ndjson" >"$SNAPS/perturb.txt"
  touch "$SNAPS/.complete"
fi
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
# Day 2's merged directory: its snapshot, day 1's snapshot.json, and day 1's merge report
# perturbed at the same daily rates (perturb_report.py: 0.5 % of clusters and conflicts changed,
# 0.2 % added, 0.01 % removed).
D1="$(cd "$SNAPS/a" && pwd)"
D2="$WORK/day2"
mkdir -p "$D2"
ln -sf "$(cd "$SNAPS/b" && pwd)/advisories.ndjson" "$D2/advisories.ndjson"
cp "$D1/snapshot.json" "$D2/"
if [ ! -f "$SNAPS/b/merge-report.json" ]; then
  python3 "$HERE/perturb_report.py" "$D1/merge-report.json" "$SNAPS/b/merge-report.json.tmp" >"$SNAPS/perturb-report.txt"
  mv "$SNAPS/b/merge-report.json.tmp" "$SNAPS/b/merge-report.json"
fi
ln -sf "$(cd "$SNAPS/b" && pwd)/merge-report.json" "$D2/merge-report.json"

T2=$(( $(date +%s) - 3600 ))
T1=$(( T2 - 86400 ))
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

measure() { # CMD... -> "seconds max_rss_kb"; fails on a failing CMD
  local log
  log=$(mktemp)
  if ! /usr/bin/time -v -o "$log" "$@" >"$TMP/out" 2>"$TMP/err"; then
    cat "$TMP/out" "$TMP/err" >&2
    exit 1
  fi
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rm -f "$log"
  echo "$wall $rss"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "building kits in $WORK ..." >&2
read -r B1T _ < <(measure "$KIT" full "$D1" "$WORK/full1.ouk" 1 "$T1")
read -r B2T B2R < <(measure "$KIT" full "$D2" "$WORK/full2.ouk" 2 "$T2")
cp "$TMP/out" "$WORK/full2.json"
read -r BDT BDR < <(measure "$KIT" delta "$D2" "$WORK/delta12.ouk" 2 "$T2" "$WORK/full1.ouk")
cp "$TMP/out" "$WORK/delta12.json"
FULL=$(stat -c %s "$WORK/full2.ouk")
DELTA=$(stat -c %s "$WORK/delta12.ouk")
RATIO=$(awk -v d="$DELTA" -v f="$FULL" 'BEGIN { printf "%.3f", 100 * d / f }')
# The merge report's share of the delta kit (compressed bytes: its line patch, or the whole
# report when the delta carries it whole), and the rest: the record-level part.
REPORT_Z=$(python3 -c 'import json,sys; print(sum(m["compressed"] for m in json.load(open(sys.argv[1]))["members"] if m["path"] in ("feeds/merge-report.json", "delta/patch/feeds/merge-report.json")))' "$WORK/delta12.json")
REPORT_FULL_Z=$(python3 -c 'import json,sys; print(sum(m["compressed"] for m in json.load(open(sys.argv[1]))["members"] if m["path"]=="feeds/merge-report.json"))' "$WORK/full2.json")
RECORDS_RATIO=$(awk -v d="$DELTA" -v r="$REPORT_Z" -v f="$FULL" 'BEGIN { printf "%.3f", 100 * (d - r) / f }')

TRUST="$ROOT/keys/dev/trust-root.json"
BASE="$WORK/store-day1"
rm -rf "$BASE"
"$IMPORTER" import "$WORK/full1.ouk" --trust-root "$TRUST" --store "$BASE" --json >/dev/null
import_into() { # KIT STORE_COPY
  rm -rf "$2"
  cp -a "$BASE" "$2"
  measure "$IMPORTER" import "$1" --trust-root "$TRUST" --store "$2" --json
}
declare -a DT DR FT FR MT MR
GEN_DELTA=""
for _ in $(seq "$RUNS"); do
  read -r t r < <(import_into "$WORK/delta12.ouk" "$WORK/store-delta")
  DT+=("$t"); DR+=("$r")
  read -r t r < <(import_into "$WORK/full2.ouk" "$WORK/store-full")
  FT+=("$t"); FR+=("$r")
done
for f in feeds/advisories.ndjson feeds/snapshot.json feeds/merge-report.json trivy/db/trivy.db trivy/db/metadata.json; do
  cmp -s "$WORK/store-delta/current/$f" "$WORK/store-full/current/$f" || { echo "$f differs" >&2; exit 1; }
done
G="$WORK/store-delta/current"
SHA=$(sha256sum "$G/feeds/advisories.ndjson" | cut -d' ' -f1)
SIZE=$(stat -c %s "$G/feeds/advisories.ndjson")
for _ in $(seq "$RUNS"); do
  rm -f "$TMP/merged.ndjson"
  read -r t r < <(measure "$MERGEJ" "$D1/advisories.ndjson" "$G/delta/upserts.ndjson" "$G/delta/removed.ndjson" "$TMP/merged.ndjson" "$SHA" "$SIZE")
  MT+=("$t"); MR+=("$r")
done
med() { printf '%s\n' "$@" | median; }
DTM=$(med "${DT[@]}"); DRM=$(mib "$(med "${DR[@]}")")
FTM=$(med "${FT[@]}"); FRM=$(mib "$(med "${FR[@]}")")
MTM=$(med "${MT[@]}"); MRM=$(mib "$(med "${MR[@]}")")
UPS=$(wc -l <"$G/delta/upserts.ndjson"); RMS=$(wc -l <"$G/delta/removed.ndjson")
UPSZ=$(stat -c %s "$G/delta/upserts.ndjson")
NA=$(wc -l <"$D1/advisories.ndjson"); NB=$(wc -l <"$D2/advisories.ndjson")
ASZ=$(du -s --apparent-size --block-size=1M "$D1/advisories.ndjson" | cut -f1)
MET_SIZE=no; MET_RSS=no; MET_MERGE=no
awk -v r="$RATIO" -v t="$TARGET_RATIO_PCT" 'BEGIN { exit !(r <= t) }' && MET_SIZE=yes
awk -v r="$DRM" -v t="$TARGET_RSS_MIB" 'BEGIN { exit !(r <= t) }' && MET_RSS=yes
awk -v r="$MRM" -v t="$TARGET_RSS_MIB" 'BEGIN { exit !(r <= t) }' && MET_MERGE=yes
kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
{
  echo "### delta.sh: $RECORDS feed records, $(date -u +%Y-%m-%d), RUNS=$RUNS"
  echo
  echo "Day 1: $NA merged records ($ASZ MiB); day 2: $NB. $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Perturbation: $(cat "$SNAPS/perturb.txt"); merge report: $(cat "$SNAPS/perturb-report.txt" 2>/dev/null || echo "(made by an earlier run)")"
  echo "Delta: $UPS upserts ($(kib "$UPSZ") KiB uncompressed), $RMS removed."
  echo
  echo "| kit | bytes | % of full | build s |"
  echo "|---|---:|---:|---:|"
  echo "| full day 2 (snapshot + Trivy DB) | $FULL | 100 | $B2T (peak RSS $(mib "$B2R") MiB) |"
  echo "| delta day 1 -> 2 | $DELTA | $RATIO | $BDT (peak RSS $(mib "$BDR") MiB) |"
  echo "| of which the merge report's line patch (zstd -19; whole in the full kit: $REPORT_FULL_Z bytes at zstd -3) | $REPORT_Z | $(awk -v r="$REPORT_Z" -v f="$FULL" 'BEGIN { printf "%.3f", 100 * r / f }') | |"
  echo "| delta without the report (records, snapshot.json, SBOM, attestation, container) | $((DELTA - REPORT_Z)) | $RECORDS_RATIO | |"
  echo
  echo "| importer, into a store holding day 1 | median wall s | peak RSS MiB |"
  echo "|---|---:|---:|"
  echo "| import DELTA (verify, merge-join, Trivy DB export, changes.json, publish) | $DTM | $DRM |"
  echo "| import FULL day 2 (verify, unpack, Trivy DB install, changes.json, publish) | $FTM | $FRM |"
  echo "| merge-join alone (delta_merge example) | $MTM | $MRM |"
  echo
  echo "Generations byte-identical (feeds/*, trivy/db/*): yes."
  echo "Targets: delta <= $TARGET_RATIO_PCT % of full: $MET_SIZE ($RATIO %; without the report $RECORDS_RATIO %); import peak RSS <= $TARGET_RSS_MIB MiB: $MET_RSS ($DRM MiB; merge-join alone $MRM MiB: $MET_MERGE)."
} | tee "$RESULTS"
