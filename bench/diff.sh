#!/usr/bin/env bash
# Benchmark: the change report between two merged snapshots (what the importer writes to
# .ouk/changes.json at every import) vs GNU `diff A B` (line-level diff of the two text
# snapshots) and `sha256sum A B` (the floor: read both files once), with peak RSS.
# Target (issue 13): peak RSS <= 64 MiB for two snapshots of the 500 000-record feed set, and
# not growing with the snapshot size.
#
# Snapshot A is the merge of the synthetic feed set (the one merge.sh uses); snapshot B is
# derived from A by perturb_snapshot.py (seeded): 0.5 % changed, 0.2 % added, 0.05 % withdrawn,
# 0.01 % removed, still sorted by id. Median of RUNS runs each, after one warm-up run of each
# (so all read from the page cache). GNU diff holds both files in memory; it gets DIFF_TIMEOUT
# seconds (default 600) per run and is reported as "did not finish" past that or on failure.
#
#   bench/diff.sh                       # 500 000 feed records (snapshots of ~0.9 GB each)
#   BENCH_RECORDS=100000 bench/diff.sh  # smaller set
#   RUNS=5 DIFF_TIMEOUT=120 bench/diff.sh
#
# CI does not run this.
set -euo pipefail

RECORDS="${BENCH_RECORDS:-500000}"
RUNS="${RUNS:-3}"
DIFF_TIMEOUT="${DIFF_TIMEOUT:-600}"
TARGET_RSS_MIB=64
TGT="${CARGO_TARGET_DIR:-target}"
HERE="$(cd "$(dirname "$0")" && pwd)"
FEEDS="$TGT/bench-feeds/syn-$RECORDS"
WORK="$TGT/bench-feeds/diff-$RECORDS"
RESULTS="$TGT/bench-feeds/diff-results.md"
A="$WORK/a/advisories.ndjson"
B="$WORK/b/advisories.ndjson"

if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
cargo build --release -q -p ouk-feeds --examples
cargo build --release -q -p ouk-changes --examples
GEN="$TGT/release/examples/gen-synthetic"
MERGE="$TGT/release/examples/merge"
OURS="$TGT/release/examples/diff_snapshots"

if [ ! -f "$FEEDS/.complete" ]; then
  rm -rf "$FEEDS"
  "$GEN" --records "$RECORDS" --out "$FEEDS"
  touch "$FEEDS/.complete"
fi
if [ ! -f "$WORK/.complete" ]; then
  rm -rf "$WORK"
  mkdir -p "$WORK/b"
  "$MERGE" --out "$WORK/a" osv="$FEEDS/osv" ghsa="$FEEDS/ghsa" nvd="$FEEDS/nvd"
  python3 "$HERE/perturb_snapshot.py" "$A" "$B" >"$WORK/perturb.txt"
  touch "$WORK/.complete"
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# measure CMD... -> prints "seconds max_rss_kb exit_status"; stderr of CMD kept in $TMP/err
measure() {
  local log status=0
  log=$(mktemp)
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$TMP/err" || status=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rm -f "$log"
  echo "${wall:-0} ${rss:-0} $status"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# GNU diff exits 1 when the files differ: that is success here; 124 is the timeout.
declare -A T R FAIL
NAMES=(ours diff sha)
run_one() { # NAME
  local t r s
  case "$1" in
    ours) read -r t r s < <(measure "$OURS" "$A" "$B" --out "$TMP/changes.json") ;;
    diff) read -r t r s < <(measure timeout "$DIFF_TIMEOUT" diff "$A" "$B") ;;
    sha) read -r t r s < <(measure sha256sum "$A" "$B") ;;
  esac
  if [ "$1" = diff ] && [ "$s" = 1 ]; then s=0; fi
  if [ "$s" != 0 ]; then
    FAIL[$1]="${FAIL[$1]:-}exit $s; "
    [ "$1" = ours ] && { cat "$TMP/err" >&2; exit 1; }
    return 0
  fi
  T[$1]="${T[$1]:-} $t"
  R[$1]="${R[$1]:-} $r"
  if [ "$1" = ours ]; then COUNTS=$(cat "$TMP/err"); fi
}

for n in "${NAMES[@]}"; do run_one "$n"; done # warm-up
unset T R FAIL
declare -A T R FAIL
for _ in $(seq "$RUNS"); do
  for n in "${NAMES[@]}"; do
    # After a timeout or a failure of GNU diff, do not spend another DIFF_TIMEOUT on it.
    if [ "$n" = diff ] && [ -n "${FAIL[diff]:-}" ]; then continue; fi
    run_one "$n"
  done
done

med() { printf '%s\n' ${T[$1]:-} | median; }
medr() { printf '%s\n' ${R[$1]:-} | median; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
OT=$(med ours); ORSS=$(mib "$(medr ours)")
ASZ=$(du -s --apparent-size --block-size=1M "$A" | cut -f1)
BSZ=$(du -s --apparent-size --block-size=1M "$B" | cut -f1)
NA=$(wc -l <"$A"); NB=$(wc -l <"$B")
REPSZ=$(du -s --apparent-size --block-size=1K "$TMP/changes.json" | cut -f1)
row() { # NAME LABEL
  local label="$2"
  if [ -z "${T[$1]:-}" ]; then
    echo "| $label | did not finish (${FAIL[$1]:-no run}timeout ${DIFF_TIMEOUT}s) | – | – |"
    return
  fi
  local t r ratio
  t=$(med "$1"); r=$(mib "$(medr "$1")")
  ratio=$(awk -v o="$OT" -v b="$t" 'BEGIN { printf "%.2f", (b > 0 ? o / b : 0) }')
  echo "| $label | $t | $r | $ratio |"
}
MET=no
awk -v r="$ORSS" -v t="$TARGET_RSS_MIB" 'BEGIN { exit !(r <= t) }' && MET=yes
{
  echo "### diff.sh: $RECORDS feed records, $(date -u +%Y-%m-%d), RUNS=$RUNS"
  echo
  echo "Snapshot A: $NA records, $ASZ MiB; B: $NB records, $BSZ MiB. $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Perturbation: $(cat "$WORK/perturb.txt")"
  echo
  echo "| command | median wall s | peak RSS MiB | ratio ours / this |"
  echo "|---|---:|---:|---:|"
  echo "| ours: diff_snapshots A B --out changes.json (${REPSZ} KiB) | $OT | $ORSS | 1.00 |"
  row diff "GNU diff A B"
  row sha "sha256sum A B"
  echo
  echo "Change counts (ours): $COUNTS"
  echo
  echo "Target: peak RSS <= $TARGET_RSS_MIB MiB: $MET ($ORSS MiB)."
} | tee "$RESULTS"
