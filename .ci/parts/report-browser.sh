#!/usr/bin/env bash
# CI part for the ouk-changes status page: open it in a REAL browser (Debian's Chromium driven by
# Playwright; no `playwright install`) and check that it loads with no request beyond its own
# file:// URL, no console error or warning, the expected texts visible and the SVG chart laid out.
#
#   .ci/parts/report-browser.sh PAGE.html SCREENSHOT.png [EXPECTED TEXT ...]
#   .ci/parts/report-browser.sh        render the example page (ouk-changes/examples/status_page.rs)
#                                      into $TGT/ci-report-browser/ and check it with its known texts
#
# Before the real check, two throwaway pages prove the checker can fail: one loads an external
# <img src="http://example.com/...">, one has a <script> calling console.error. Both must be refused.
set -euo pipefail
cd "$(dirname "$0")/../.."

TGT="${CARGO_TARGET_DIR:-target}"
W="$TGT/ci-report-browser"
mkdir -p "$W"

# --- browser: Debian's Chromium
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null  # (the Debian launcher script warns on stderr)

# --- Playwright (the Python driver only; it launches /usr/bin/chromium)
VENV="$TGT/ci-venv-browser"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import playwright' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'playwright>=1.40,<2'
fi
CHECK=("$VENV/bin/python" ci/check_report_html.py)

# --- the page under test
if [ $# -ge 2 ]; then
  PAGE="$1"
  SHOT="$2"
  shift 2
  EXPECT=("$@")
else
  PAGE="$W/status.html"
  SHOT="$W/status.png"
  cargo run -q -p ouk-changes --example status_page -- "$PAGE"
  # Texts the example model must show, hostile strings included (rendered as text, not markup).
  EXPECT=(
    "Offline Update Kit — status"
    "Expires in 12 d 5 h"
    "1 SBOM newly affected"
    'shop-frontend"><img src=x onerror=alert(2)>.cdx.json'
    "kit-<script>alert(1)</script>"
    "GHSA-<img src=x onerror=alert(3)>"
    "Audit log intact"
  )
fi

# --- negative checks: the checker must refuse these
NEG="$(mktemp -d)"
trap 'rm -rf "$NEG"' EXIT
CHART='<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="c" width="40" height="20"><rect width="40" height="20"/></svg>'
cat > "$NEG/external-img.html" <<EOF
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>n</title></head>
<body><p>negative</p>$CHART<img src="http://example.com/x.png" alt=""></body></html>
EOF
cat > "$NEG/console-error.html" <<EOF
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>n</title></head>
<body><p>negative</p>$CHART<script>console.error("planted error")</script></body></html>
EOF
refuse() { # refuse PAGE REASON: the checker must fail on PAGE and say REASON
  local page="$1" reason="$2" rc=0
  "${CHECK[@]}" "$page" "$NEG/shot.png" --expect negative > "$NEG/out.txt" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    cat "$NEG/out.txt"; echo "the checker ACCEPTED $(basename "$page"); it must refuse it"; exit 1
  fi
  if ! grep -qF "$reason" "$NEG/out.txt"; then
    cat "$NEG/out.txt"; echo "the checker refused $(basename "$page") but not for: $reason"; exit 1
  fi
  echo "refused, as it must: $(basename "$page") ($reason)"
}
refuse "$NEG/external-img.html" "request other than the page itself: http://example.com/x.png"
refuse "$NEG/console-error.html" "console error: planted error"

# --- the real check
EXPECT_ARGS=()
for t in "${EXPECT[@]+"${EXPECT[@]}"}"; do EXPECT_ARGS+=(--expect "$t"); done
start=$(date +%s)
"${CHECK[@]}" "$PAGE" "$SHOT" "${EXPECT_ARGS[@]+"${EXPECT_ARGS[@]}"}"
echo "browser check of $PAGE took $(( $(date +%s) - start )) s; screenshot: $SHOT"
