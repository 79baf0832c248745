# Sourced by the CI parts that check `ouk-importer rescan` on real scanner input (lockfiles.sh,
# os-rescan.sh). Needs I (the importer), OFFLINE (a command prefix, possibly empty) and TRIVY.

# rescan_both SBOM_DIR STORE OUT_PREFIX: the built-in matcher into OUT_PREFIX-own.json and Trivy
# into OUT_PREFIX-trivy.json; each must exit 4 ("new findings": the store has one generation).
rescan_both() {
  local sboms="$1" store="$2" out="$3" engine rc
  for engine in own trivy; do
    local flags=()
    [ "$engine" = trivy ] && flags=(--trivy "$TRIVY")
    rc=0
    "${OFFLINE[@]}" "$I" rescan --sboms "$sboms" --store "$store" --json --no-record \
      "${flags[@]}" > "$out-$engine.json" || rc=$?
    [ "$rc" -eq 4 ] || { echo "rescan ($engine) exited $rc, expected 4 (new findings)"; exit 1; }
  done
}
