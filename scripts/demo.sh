#!/usr/bin/env bash
# Quick start: build a kit from testdata/ with the dev keys, verify it, import it into a store.
# Usage: scripts/demo.sh [WORKDIR]   (default: target/demo; it is recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/demo}
rm -rf "$work" && mkdir -p "$work"
# Built one at a time: the importer alone links only the install half of ouk-trivy (a joint
# build would unify in the builder's export feature).
cargo build --release -q -p ouk-builder
cargo build --release -q -p ouk-importer
bin="${CARGO_TARGET_DIR:-target}/release"

echo "== build (dev keys: TEST ONLY)"
echo "(testdata/feeds holds deliberately malformed records to show the merge's checks, testdata/trivy/os records the Trivy DB cannot hold: the warnings are expected)"
"$bin/ouk-builder" build \
  --source osv=testdata/feeds/osv --source osv=testdata/feeds/pypa \
  --source ghsa=testdata/feeds/ghsa --source nvd=testdata/feeds/nvd \
  --source cnnvd=testdata/feeds/cnnvd --source cnvd=testdata/feeds/cnvd \
  --source enisa=testdata/feeds/enisa --source jvn=testdata/feeds/jvn --source bdu=testdata/feeds/bdu \
  --source osv=testdata/trivy/osv --source osv=testdata/trivy/os/osv \
  --sbom testdata/trivy/sbom/all-ecosystems.cdx-1.5.json \
  --key keys/dev/kit.key --attestation-key keys/dev/attestation.key \
  --sequence 1 --expires 30d --channel stable \
  --builder-id https://ouk.dev/builders/dev \
  --out "$work/demo-1.ouk"

echo "== verify (streaming, writes nothing)"
"$bin/ouk-importer" verify "$work/demo-1.ouk" --trust-root keys/dev/trust-root.json

echo "== import into $work/store"
"$bin/ouk-importer" import "$work/demo-1.ouk" --trust-root keys/dev/trust-root.json --store "$work/store"
"$bin/ouk-importer" status --store "$work/store"
echo "== the store's current generation"
find "$work/store/current/" -maxdepth 3 | sort
