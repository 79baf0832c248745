# Sourced by the CI parts that check `ouk-importer rescan` on real scanner input (lockfiles.sh,
# os-rescan.sh, sbom-generators.sh), from the workspace root, with TGT set (the cargo target
# directory). Sourcing sets:
#   TRIVY    Trivy 0.59.1 (the trivy part fetches it when it is missing)
#   OFFLINE  a command prefix that runs a command without network (empty where unshare -n fails)
#   B, I     the release builder and importer (built here)

TRIVY="$TGT/ci-trivy/trivy-0.59.1"
[ -x "$TRIVY" ] || bash .ci/parts/trivy.sh >/dev/null
if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); else OFFLINE=(); fi
cargo build --release -q -p ouk-builder -p ouk-importer
B="$TGT/release/ouk-builder"
I="$TGT/release/ouk-importer"

# feeds_kit DIR [BUILDER_ARGS...]: a kit of the real feed samples in ${SHARED:-../shared}/feeds
# (GHSA, Go, PyPA, RustSec, NVD) with the dev keys, as DIR/kit.ouk, imported into DIR/store.
feeds_kit() {
  local dir="$1" f="${SHARED:-../shared}/feeds"
  shift
  "$B" build --source "ghsa=$f/ghsa" --source "osv=$f/go" --source "osv=$f/pysec" \
    --source "osv=$f/rustsec" --source "nvd=$f/nvd" "$@" \
    --key keys/dev/kit.key --attestation-key keys/dev/attestation.key --expires 30d \
    --builder-id https://ouk.dev/builders/dev --quiet --sequence 1 --out "$dir/kit.ouk"
  "$I" import "$dir/kit.ouk" --trust-root keys/dev/trust-root.json --store "$dir/store" --quiet
}

# rescan_both SBOM_DIR STORE OUT_PREFIX [OWN_EXIT TRIVY_EXIT]: the built-in matcher into
# OUT_PREFIX-own.json and Trivy into OUT_PREFIX-trivy.json; each must exit as given, by default 4
# ("new findings": the store has one generation).
rescan_both() {
  local sboms="$1" store="$2" out="$3" engine rc want
  local -A expect=([own]="${4:-4}" [trivy]="${5:-4}")
  for engine in own trivy; do
    local flags=()
    [ "$engine" = trivy ] && flags=(--trivy "$TRIVY")
    rc=0
    "${OFFLINE[@]}" "$I" rescan --sboms "$sboms" --store "$store" --json --no-record \
      "${flags[@]}" > "$out-$engine.json" || rc=$?
    want="${expect[$engine]}"
    [ "$rc" -eq "$want" ] || { echo "rescan ($engine) exited $rc, expected $want"; exit 1; }
  done
}
