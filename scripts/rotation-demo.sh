#!/usr/bin/env bash
# The README's "Rotating keys" ceremony, run for real: a 2-of-3 root, one holder replaced and
# a leaked kit key rotated out, the new root carried to the store inside the next kit.
# Usage: scripts/rotation-demo.sh [WORKDIR]   (default: target/rotation-demo; it is recreated)
# Every key here is generated on the spot and thrown away: TEST ONLY.
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:-target/rotation-demo}
rm -rf "$w" && mkdir -p "$w"
cargo build --release -q -p ouk-builder
cargo build --release -q -p ouk-importer
bin="${CARGO_TARGET_DIR:-target}/release"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
B="$bin/ouk-builder"; I="$bin/ouk-importer"
repo=$PWD
cd "$w"
for k in alice bob carol dave kit1 kit2 att; do "$B" keygen --out "$k" >/dev/null; done
builder=https://ouk.example/builders/rotation-demo
kit() {  # kit SEQUENCE KITKEY [--trust-chain FILE]
  local seq=$1 key=$2; shift 2
  "$B" build --source osv="$repo/testdata/feeds/osv" --source ghsa="$repo/testdata/feeds/ghsa" --no-trivy \
    --key "$key.key" --attestation-key att.key --sequence "$seq" --expires 30d \
    --builder-id "$builder" --no-blob-signature --quiet --out "kit-$seq.ouk" "$@"
}

echo "== 1. root v1: alice, bob, carol, any 2 of 3 (alice signs, then bob on his machine)"
"$B" trust init --out root-1.json --root-key alice.pub --root-key bob.pub --root-key carol.pub \
  --root-threshold 2 --kit-key kit1.pub --attestation-key att.pub --builder "$builder" \
  --expires 365d --sign alice.key
"$B" trust sign --trust-root root-1.json --key bob.key

echo "== 2. the air-gapped store starts from root v1"
kit 1 kit1
"$I" import kit-1.ouk --trust-root root-1.json --store store

echo "== 3. rotation: carol leaves, dave joins, kit1 (leaked) is replaced by kit2"
"$B" trust rotate --trust-root root-1.json --dry-run \
  --remove-key root=carol.pub --add-key root=dave.pub --remove-key kit=kit1.pub --add-key kit=kit2.pub
"$B" trust rotate --trust-root root-1.json --out root-2.json \
  --remove-key root=carol.pub --add-key root=dave.pub --remove-key kit=kit1.pub --add-key kit=kit2.pub \
  --sign alice.key
if "$B" trust status --trust-root root-2.json --previous root-1.json; then
  echo "one signature cannot be enough"; exit 1
fi
"$B" trust sign --trust-root root-2.json --previous root-1.json --key bob.key
"$B" trust sign --trust-root root-2.json --previous root-1.json --key dave.key
"$B" trust status --trust-root root-2.json --previous root-1.json

echo "== 4. the next kit carries root v2; the store's job still passes root-1.json"
kit 2 kit2 --trust-chain root-2.json
"$I" import kit-2.ouk --trust-root root-1.json --store store
"$I" trust status --store store
"$I" trust history --store store

echo "== 5. the leaked key is refused by name"
kit 3 kit1
set +e
"$I" import kit-3.ouk --store store
rc=$?
set -e
[ "$rc" = 10 ] || { echo "expected exit 10 (revoked_key), got $rc"; exit 1; }
echo "== rotation demo: done"
