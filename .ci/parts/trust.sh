#!/usr/bin/env bash
# Issue 12: python-tuf (the TUF reference implementation) as the oracle for trust root rotation.
#  1. the committed chain cases are exactly what the generator writes (no hand-edited fixture);
#  2. python-tuf and `ouk-importer trust verify-chain` reach the verdicts each case records, and
#     agree unless the case says why ouk is stricter;
#  3. python-tuf loads the dev trust root.
set -euo pipefail
cd "$(dirname "$0")/../.."
tgt="${CARGO_TARGET_DIR:-target}"
case "$tgt" in /*) ;; *) tgt="$PWD/$tgt" ;; esac

echo "== trust: regenerate the chain cases and compare with testdata/trust-chains"
fresh="$tgt/trust-chains-fresh"
rm -rf "$fresh"
cargo run -q -p ouk-hostile --example trust_chains -- "$fresh"
diff -r testdata/trust-chains "$fresh"
echo "committed chain cases are reproducible"

echo "== trust: python-tuf"
VENV="$tgt/ci-venv-tuf"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'tuf==7.0.1'
fi
cargo build -q -p ouk-importer
"$VENV/bin/python" ci/tuf_oracle.py testdata/trust-chains "$tgt/debug/ouk-importer"
"$VENV/bin/python" - keys/dev/trust-root.json <<'PY'
import sys
from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType
t = TrustedMetadataSet(open(sys.argv[1], "rb").read(), EnvelopeType.METADATA)
print(f"python-tuf loads the dev trust root: v{t.root.version}, x-ouk kept: {'x-ouk' in t.root.unrecognized_fields}")
PY
echo "== trust: the README's rotation ceremony with the real binaries"
scripts/rotation-demo.sh "$tgt/rotation-demo" > "$tgt/rotation-demo.log" 2>&1 || { cat "$tgt/rotation-demo.log"; exit 1; }
tail -n 3 "$tgt/rotation-demo.log"
echo "== trust: done"
