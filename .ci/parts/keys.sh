#!/usr/bin/env bash
# Issue 14 (dependency weight): the builder reads cosign key files with the RustCrypto crates
# instead of the `sigstore` crate. Check that reader against keys written by an independent
# implementation (Python: hashlib.scrypt + PyNaCl + cryptography), for both key types: the
# decrypted key must sign a trust root that verifies, under the public key the writer gave.
set -euo pipefail
cd "$(dirname "$0")/../.."
tgt="${CARGO_TARGET_DIR:-target}"
case "$tgt" in /*) ;; *) tgt="$PWD/$tgt" ;; esac
VENV="$tgt/ci-venv-keys"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'pynacl>=1.5' 'cryptography>=42'
fi
cargo build -q --release -p ouk-builder
cargo build -q --release -p ouk-importer
work="$tgt/cosign-keys"
rm -rf "$work"
"$VENV/bin/python" ci/cosign_keys.py "$work" "py-secret"
for k in ecdsa-p256 ed25519; do
  COSIGN_PASSWORD=py-secret "$tgt/release/ouk-builder" trust init --out "$work/$k-root.json" \
    --root-key "$work/$k.key" --kit-key "$work/$k.pub" --attestation-key "$work/$k.pub" \
    --builder https://ouk.example/b --expires 30d --sign "$work/$k.key"
  "$tgt/release/ouk-importer" trust verify-chain --trust-root "$work/$k-root.json"
  python3 - "$work/$k-root.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["signed"]
assert s["roles"]["root"]["keyids"] == s["x-ouk"]["roles"]["kit"]["keyids"], "decrypted key != writer's public key"
print("decrypted private key matches the writer's public key")
PY
  if COSIGN_PASSWORD=wrong "$tgt/release/ouk-builder" trust init --out "$work/x.json" \
    --root-key "$work/$k.key" --kit-key "$work/$k.pub" --attestation-key "$work/$k.pub" \
    --builder b --sign "$work/$k.key" 2>/dev/null; then
    echo "a wrong COSIGN_PASSWORD was accepted"; exit 1
  fi
done
echo "== keys: cosign key files from an independent writer load, sign and verify"
