#!/usr/bin/env bash
# Kit benchmark (issue 2, item 8): `ouk-builder build` and `ouk-importer verify` against the
# plain-tools baseline on the same ~SIZE MiB of OSV-like JSON, side by side in one run.
#
#   bench/kit.sh            # 1024 MiB (about 1 GiB), 3 runs each
#   bench/kit.sh 128        # smaller set
#   RUNS=5 bench/kit.sh     # more runs
#   MENDER=0 bench/kit.sh   # skip the mender-artifact peer even when it is installed
#   EXTRA=0 bench/kit.sh    # skip the diagnostic rows (build without blob signature)
#   IMPORT=0 bench/kit.sh   # skip the import pair
#   FILE_MIB=128 bench/kit.sh  # fewer, larger files (default 8 MiB: ~120 members per GiB)
#
# Pairs measured (one warm-up run of each first, so every run reads from the page cache; then the
# two commands of a pair alternate A B A B ...):
#   build  : ouk-builder build --payload DIR ... --no-trivy --out K.ouk
#            vs tar -cf - DIR | zstd -3 -T2 > X.tar.zst
#   verify : ouk-importer verify K.ouk --trust-root keys/dev/trust-root.json
#            vs zstd -dc X.tar.zst | openssl dgst -sha256        (also: sha256sum of the tar)
#   import : ouk-importer import K.ouk --store S (verify + unpack + fsync + activate, fresh store)
#            vs mkdir D && zstd -dc X.tar.zst | tar -xf - -C D && sync -f D   (issue 14)
#   peer   : mender-artifact write module-image / validate (gzip: the only compression it shares
#            with us in Debian's 3.9 is none/gzip/lzma), when `mender-artifact` is installed.
# Figures: wall seconds (median), CPU seconds (user+sys, median), peak RSS of the largest single
# process (/usr/bin/time -v "Maximum resident set size"; for a pipeline that is its largest
# stage). Ratios are ours / baseline: the ratio of medians and the median of per-pair ratios.
#
# Writes the table to target/bench/kit-results.md (kit-results-fN.md with FILE_MIB=N). Not run by
# CI (it takes minutes). Other load on the machine skews the ratios: the load average is printed.
set -euo pipefail

SIZE="${1:-1024}"
RUNS="${RUNS:-3}"
MENDER="${MENDER:-1}"
EXTRA="${EXTRA:-1}"
IMPORT="${IMPORT:-1}"
FILE_MIB="${FILE_MIB:-8}"
for n in "$SIZE" "$FILE_MIB" "$RUNS"; do
  case "$n" in '' | *[!0-9]*) echo "usage: [RUNS=N] [FILE_MIB=N] bench/kit.sh [SIZE_MIB]" >&2; exit 2 ;; esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TGT="${CARGO_TARGET_DIR:-target}"
OUT="$ROOT/target/bench"
DATA="$OUT/osv-$SIZE"
[ "$FILE_MIB" = 8 ] || DATA="$OUT/osv-$SIZE-f$FILE_MIB"
WORK="$OUT/work"
RESULTS="$OUT/kit-results.md"
[ "$FILE_MIB" = 8 ] || RESULTS="$OUT/kit-results-f$FILE_MIB.md"
mkdir -p "$OUT" "$WORK"
rm -f "$WORK"/*.runs "$WORK"/*.time

# --- tools -----------------------------------------------------------------------------------
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v zstd >/dev/null || need+=(zstd)
command -v openssl >/dev/null || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]} ..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
HAVE_MENDER=0
if [ "$MENDER" = 1 ] && command -v mender-artifact >/dev/null; then HAVE_MENDER=1; fi

# --- data ------------------------------------------------------------------------------------
if [ ! -f "$DATA.complete" ]; then
  rm -rf "$DATA"
  echo "generating ${SIZE} MiB of OSV-like NDJSON in $DATA ..." >&2
  python3 "$ROOT/bench/gen_osv_like.py" --out "$DATA" --size-mib "$SIZE" --file-mib "$FILE_MIB" --jobs 2 >&2
  touch "$DATA.complete"
fi
DATA_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
DATA_FILES=$(find "$DATA" -type f | wc -l)

# --- binaries --------------------------------------------------------------------------------
echo "building release binaries ..." >&2
# One at a time: the importer alone links only the install half of ouk-trivy (as shipped).
cargo build --release -q -p ouk-builder
cargo build --release -q -p ouk-importer
BUILDER="$TGT/release/ouk-builder"
IMPORTER="$TGT/release/ouk-importer"
if ! "$IMPORTER" verify --help >/dev/null 2>&1; then
  echo "error: $IMPORTER has no 'verify' subcommand yet" >&2
  exit 1
fi

KIT="$WORK/kit.ouk"
KIT_NOSIG="$WORK/kit-nosig.ouk"
TARZST="$WORK/baseline.tar.zst"
TRUST="keys/dev/trust-root.json"
BUILD_ARGS=(build --payload "$DATA" --key keys/dev/kit.key
  --attestation-key keys/dev/attestation.key --sequence 1
  --builder-id https://ouk.dev/builders/dev --no-trivy --quiet)

# Commands as bash -c strings, so pipelines and redirections are timed as one process tree.
q() { printf '%q' "$1"; }
declare -A CMD
CMD[build_ours]="exec $(q "$BUILDER") ${BUILD_ARGS[*]@Q} --out $(q "$KIT") >/dev/null"
CMD[build_base]="tar -cf - -C $(q "$(dirname "$DATA")") $(q "$(basename "$DATA")") | zstd -q -3 -T2 > $(q "$TARZST")"
CMD[verify_ours]="exec $(q "$IMPORTER") verify $(q "$KIT") --trust-root $(q "$TRUST") >/dev/null"
CMD[verify_base]="zstd -q -dc $(q "$TARZST") | openssl dgst -sha256 >/dev/null"
CMD[verify_sha256sum]="zstd -q -dc $(q "$TARZST") | sha256sum >/dev/null"
CMD[build_base2]="${CMD[build_base]}"
# Import: each run into a fresh directory on the same file system as the kit (removed, untimed,
# before the next run). Both sides make the data durable: the importer fsyncs every file and
# directory; the baseline syncs the file system once at the end (syncfs), which is cheaper.
CMD[import_ours]="exec $(q "$IMPORTER") import $(q "$KIT") --trust-root $(q "$TRUST") --store $(q "$WORK")/imp.store --quiet"
CMD[import_base]="mkdir $(q "$WORK")/imp.tar && zstd -q -dc $(q "$TARZST") | tar -xf - -C $(q "$WORK")/imp.tar && sync -f $(q "$WORK")/imp.tar"
CMD[build_nosig]="exec $(q "$BUILDER") ${BUILD_ARGS[*]@Q} --no-blob-signature --out $(q "$KIT_NOSIG") >/dev/null"
if [ "$HAVE_MENDER" = 1 ]; then
  MKEY="$WORK/mender-ec.key"
  MPUB="$WORK/mender-ec.pub"
  MART="$WORK/peer.mender"
  # mender-artifact 3.9 reads SEC1 ("EC PRIVATE KEY") ECDSA keys, not PKCS#8.
  [ -f "$MKEY" ] || { openssl ecparam -genkey -name prime256v1 -noout -out "$MKEY" 2>/dev/null &&
    openssl ec -in "$MKEY" -pubout -out "$MPUB" 2>/dev/null; }
  files=()
  while IFS= read -r f; do files+=(-f "$f"); done < <(find "$DATA" -type f | sort)
  CMD[mender_write]="exec mender-artifact write module-image -T ouk-bench -t bench -n bench-1 --compression gzip -k $(q "$MKEY") -o $(q "$MART") ${files[*]@Q} >/dev/null"
  CMD[mender_validate]="exec mender-artifact validate -k $(q "$MPUB") $(q "$MART") >/dev/null"
fi

# run NAME -> appends "wall cpu rss_kib exit" to $WORK/NAME.runs
run() {
  local name="$1" log="$WORK/$1.time"
  rm -rf "$WORK"/imp.*
  /usr/bin/time -v -o "$log" bash -c "${CMD[$name]}" || true
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = (n == 3) ? p[1]*3600 + p[2]*60 + p[3] : p[1]*60 + p[2] }
    /User time/ { u = $2 } /System time/ { s = $2 }
    /Maximum resident set size/ { r = $2 } /Exit status/ { e = $2 }
    END { printf "%.2f %.2f %d %d\n", w, u + s, r, e }' "$log" >>"$WORK/$name.runs"
}
# col NAME FIELD -> median of that field (1 wall, 2 cpu, 3 rss KiB)
col() { awk -v f="$2" '{print $f}' "$WORK/$1.runs" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
pairmed() { paste -d' ' "$WORK/$1.runs" "$WORK/$2.runs" | awk '{ if ($5 > 0) print $1/$5 }' | sort -g |
  awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
fails() { awk '$4 != 0' "$WORK/$1.runs" | wc -l; }

# pair A B: warm-up of each, then RUNS alternating runs
pair() {
  local a="$1" b="$2"
  rm -f "$WORK/$a.runs" "$WORK/$b.runs"
  echo "pair $a vs $b: warm-up ..." >&2
  run "$a"; run "$b"
  : >"$WORK/$a.runs"; : >"$WORK/$b.runs"
  for i in $(seq "$RUNS"); do
    echo "pair $a vs $b: run $i/$RUNS" >&2
    run "$a"; run "$b"
  done
}

# single NAME: warm-up, then RUNS runs of one command
single() {
  echo "$1: warm-up + $RUNS runs ..." >&2
  run "$1"
  : >"$WORK/$1.runs"
  for _ in $(seq "$RUNS"); do run "$1"; done
}

LOAD_BEFORE="$(uptime | sed 's/.*load average: //')"
pair build_ours build_base
pair verify_ours verify_base
single verify_sha256sum
[ "$EXTRA" = 1 ] && pair build_nosig build_base2
[ "$IMPORT" = 1 ] && pair import_ours import_base
if [ "$HAVE_MENDER" = 1 ]; then
  single mender_write
  single mender_validate
fi
LOAD_AFTER="$(uptime | sed 's/.*load average: //')"

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
yesno() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "n/a" && v <= t) ? "yes" : "NO" }'; }

BW=$(col build_ours 1); BBW=$(col build_base 1)
VW=$(col verify_ours 1); VBW=$(col verify_base 1)
BR=$(ratio "$BW" "$BBW"); VR=$(ratio "$VW" "$VBW")
BPR=$(pairmed build_ours build_base); VPR=$(pairmed verify_ours verify_base)
VRSS=$(mib "$(col verify_ours 3)")
KIT_BYTES=$(stat -c %s "$KIT"); TZ_BYTES=$(stat -c %s "$TARZST")

row() { # label ours base
  if [ "$(( $(fails "$2") + $(fails "$3") ))" -gt 0 ]; then
    printf '| %s | FAILED: %s of %s runs exited non-zero (see %s) |||||||\n' "$1" \
      "$(( $(fails "$2") + $(fails "$3") ))" "$(( 2 * RUNS ))" "target/bench/work/$2.time, $3.time"
    return
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
    "$(col "$2" 1)" "$(col "$3" 1)" "$(ratio "$(col "$2" 1)" "$(col "$3" 1)")" \
    "$(printf '%.2f' "$(pairmed "$2" "$3")")" \
    "$(col "$2" 2) / $(col "$3" 2)" "$(mib "$(col "$2" 3)") / $(mib "$(col "$3" 3)")" \
    "$(( $(fails "$2") + $(fails "$3") ))"
}

{
  echo "# Kit benchmark: ${SIZE} MiB of OSV-like NDJSON (files of about $FILE_MIB MiB)"
  echo
  echo "- data: $DATA_FILES files, $DATA_BYTES bytes ($(basename "$DATA")); kit $KIT_BYTES bytes, tar.zst $TZ_BYTES bytes" \
    "(zstd -3 ratio $(ratio "$DATA_BYTES" "$TZ_BYTES")x)"
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
  echo "- runs: $RUNS per command after one warm-up, pairs alternated; times in seconds (median); RSS = peak of the largest single process, MiB"
  echo
  echo "| step | ours wall | baseline wall | ratio of medians | median paired ratio | CPU s ours / base | peak RSS ours / base | failed runs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  row "build: ouk-builder build vs tar \| zstd -3 -T2" build_ours build_base
  row "verify: ouk-importer verify vs zstd -dc \| openssl dgst -sha256" verify_ours verify_base
  row "verify vs zstd -dc \| sha256sum" verify_ours verify_sha256sum
  if [ "$EXTRA" = 1 ]; then
    row "diagnostic: build --no-blob-signature vs tar \| zstd" build_nosig build_base2
  fi
  if [ "$IMPORT" = 1 ]; then
    row "import: ouk-importer import (fresh store) vs zstd -dc \| tar -x && sync -f" import_ours import_base
  fi
  if [ "$HAVE_MENDER" = 1 ]; then
    row "peer: ouk-builder build vs mender-artifact write (gzip, ECDSA)" build_ours mender_write
    row "peer: ouk-importer verify vs mender-artifact validate" verify_ours mender_validate
  fi
  echo
  echo "Targets (issue 2): build <= 1.0x: $(yesno "$BR" 1.0) ($BR, paired $(printf '%.2f' "$BPR"));" \
    "verify <= 1.0x: $(yesno "$VR" 1.0) ($VR, paired $(printf '%.2f' "$VPR"));" \
    "verify peak RSS <= 64 MiB: $(yesno "$VRSS" 64) ($VRSS MiB)."
  if [ "$IMPORT" = 1 ] && [ -s "$WORK/import_ours.runs" ]; then
    IR=$(ratio "$(col import_ours 1)" "$(col import_base 1)"); IRSS=$(mib "$(col import_ours 3)")
    echo
    echo "Targets (issue 14): import <= 1.0x: $(yesno "$IR" 1.0) ($IR, paired $(printf '%.2f' "$(pairmed import_ours import_base)"));" \
      "import peak RSS <= 64 MiB: $(yesno "$IRSS" 64) ($IRSS MiB)."
  fi
  echo
  echo "Commands:"
  echo
  for k in build_ours build_base verify_ours verify_base verify_sha256sum build_nosig import_ours import_base mender_write mender_validate; do
    [ -s "$WORK/$k.runs" ] || continue
    c="${CMD[$k]}"
    [ "$k" = mender_write ] && c="${c%% \'-f\' *} -f <each data file, sorted> >/dev/null"
    echo "- $k: \`${c//$ROOT\//}\`"
  done
} >"$RESULTS"
rm -rf "$WORK"/imp.*
cat "$RESULTS"
