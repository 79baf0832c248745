#!/usr/bin/env bash
# Importer checks beyond `cargo test --workspace`:
#  1. a longer crash-consistency run (300 SIGKILLs at pseudo-random instants, new seed per CI run
#     unless OUK_CRASH_SEED is set; the seed is printed so a failure can be replayed);
#  2. `systemd-analyze verify` of contrib/systemd units when systemd-analyze is available.
set -euo pipefail

target="${CARGO_TARGET_DIR:-target}"
seed="${OUK_CRASH_SEED:-$(date +%s)}"
runs="${OUK_CRASH_RUNS:-300}"
echo "importer: long SIGKILL crash run: ${runs} runs, seed ${seed}"
log="$(mktemp)"
status=0
OUK_CRASH_RUNS="$runs" OUK_CRASH_SEED="$seed" \
  cargo test -p ouk-importer --test crash sigkill_at_random_instants -- --nocapture >"$log" 2>&1 || status=$?
grep -E "sigkill runs|test result|panicked|FAILED" "$log" || true
if [ "$status" -ne 0 ]; then
  tail -50 "$log" >&2
  echo "importer: long crash run FAILED (replay with OUK_CRASH_SEED=${seed})" >&2
  exit 1
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  cargo build -q -p ouk-importer
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  case "$target" in
    /*) bin="${target}/debug/ouk-importer" ;;
    *) bin="$(pwd)/${target}/debug/ouk-importer" ;;
  esac
  for unit in contrib/systemd/ouk-*.*; do
    sed "s#/usr/bin/ouk-importer#${bin}#" "$unit" > "$tmp/$(basename "$unit")"
  done
  out="$(systemd-analyze verify --man=no "$tmp"/ouk-*.* 2>&1 || true)"
  # Only complaints about our own unit files count (the build host's other units are not ours).
  if echo "$out" | grep -E "ouk-(import|rescan)\.(service|path|timer)" ; then
    echo "importer: systemd-analyze found problems in contrib/systemd" >&2
    exit 1
  fi
  echo "importer: systemd units verified"
else
  echo "importer: systemd-analyze not available, unit check skipped"
fi
