#!/usr/bin/env bash
# CI part for issue 15: the OCI transport against a REAL registry (CNCF distribution 2.8.2,
# Debian's docker-registry) on 127.0.0.1 with TLS from a throw-away CA and htpasswd auth, with the
# real binaries:
#   - push (artifact shape, referrers: signature, SBOM, provenance + the sha256-<hex> fallback
#     index, since 2.8 has no referrers API), pull by digest, import; the generation is the kit;
#   - a second push is idempotent (same digest, kit blob not uploaded again);
#   - a connection dropped mid-download (ci/drop_proxy.py) is resumed within the pull, and a pull
#     that gives up resumes on the next run without fetching the kept bytes again;
#   - a corrupted blob in the registry's storage is refused by digest, nothing imported;
#   - a tag moved after pinning: the pinned digest still gets the pinned kit;
#   - malformed / foreign manifests pushed by hand are refused with oci_manifest;
#   - a 512 MiB kit is pulled and imported under `ulimit -v` 256 MiB, peak RSS under 64 MiB;
#   - skopeo copies our artifact to an OCI layout and back: digest unchanged, and the importer
#     imports skopeo's layout;
#   - export-layout -> import --layout, and the compat shape round trip;
#   - a hostile registry (ci/fake_registry.py): endless token, manifest and error bodies, ignored
#     ranges with cut connections, a short blob, a trickle -- refused or completed, by name, with
#     the importer's peak RSS under 64 MiB each time;
#   - wrong password and missing CA fail with named errors.
set -euo pipefail
cd "$(dirname "$0")/../.."

TGT="${CARGO_TARGET_DIR:-target}"
W="$PWD/$TGT/ci-registry"
case "$TGT" in /*) W="$TGT/ci-registry" ;; esac
rm -rf "$W" && mkdir -p "$W"

# shellcheck source=.ci/parts/registry-lib.sh
source .ci/parts/registry-lib.sh
registry_install
PROXY_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
  [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null || true
  registry_stop "$W/registry"
}
trap cleanup EXIT
# Ports: REG_PORT (registry), +1 (drop proxy), +7 (hostile fake registry); another base lets two
# runs share a machine.
REG_PORT="${REG_PORT:-5443}"
PROXY_PORT=$((REG_PORT + 1))
FAKE_PORT=$((REG_PORT + 7))
registry_start "$W/registry" "$REG_PORT"
R="$REGISTRY_HOST"

# One at a time (see scripts/demo.sh: the importer alone links only the install half of ouk-trivy).
cargo build --release -q -p ouk-builder
cargo build --release -q -p ouk-importer
cargo build -q -p ouk-hostile --example rss_probe
B="$TGT/release/ouk-builder"
I="$TGT/release/ouk-importer"
PROBE="$TGT/debug/examples/rss_probe"
ROOT=keys/dev/trust-root.json
AUTH=(--ca-cert "$REGISTRY_CA" --username "$REGISTRY_USER" --password-file "$W/registry/password.txt")

kit() { # kit OUT SEQUENCE [extra build args]: a small real kit from testdata with the dev keys
  local out="$1" seq="$2"
  shift 2
  "$B" build --source osv=testdata/feeds/osv --source ghsa=testdata/feeds/ghsa \
    --key keys/dev/kit.key --attestation-key keys/dev/attestation.key \
    --sequence "$seq" --expires 30d --channel stable --builder-id https://ouk.dev/builders/dev \
    --quiet --out "$out" "$@"
}
expect_fail() { # expect_fail KIND CMD...: CMD must fail with --json error kind KIND
  local kind="$1" rc=0
  shift
  "$@" --json > "$W/fail.json" 2>"$W/fail.err" || rc=$?
  [ "$rc" -ne 0 ] || { echo "expected failure $kind, got success: $*"; exit 1; }
  python3 - "$W/fail.json" "$kind" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["error"]["kind"] == sys.argv[2], r
print(f"  refused as {r['error']['kind']} (exit {r['exit_code']}): {r['error']['message'][:160]}")
PY
}
generations() { # generations STORE: how many; the store must exist (a mistyped path is no "0")
  [ -d "$1" ] || { echo "no store at $1" >&2; exit 1; }
  find "$1/generations" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}
downloads() { ls -A "$1/downloads" | grep -v '^\.lock$' || true; } # what a pull left behind
kit_sha() { sha256sum "$1" | cut -d' ' -f1; }

kit "$W/day-1.ouk" 1
kit "$W/day-2.ouk" 2

echo "== push (artifact shape, referrers), pull by digest, import"
"$B" push "$W/day-1.ouk" "oci://$R/ouk/kits:stable" --trust-root "$ROOT" "${AUTH[@]}" --json | tee "$W/push-1.json"
D1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"])' "$W/push-1.json")
python3 - "$W/push-1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["shape"] == "artifact", r
types = sorted(x["artifactType"] for x in r["referrers"])
assert types == ["application/spdx+json", "application/vnd.in-toto+json", "application/vnd.ouk.kit.signature.v1"], types
PY
# The manifest as the registry serves it: our artifact type, one uncompressed tar layer = the kit.
curl -sf --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "https://$R/v2/ouk/kits/manifests/$D1" > "$W/manifest-1.json"
python3 - "$W/manifest-1.json" "$D1" "$(kit_sha "$W/day-1.ouk")" <<'PY'
import hashlib, json, sys
raw = open(sys.argv[1], "rb").read()
assert "sha256:" + hashlib.sha256(raw).hexdigest() == sys.argv[2]
m = json.loads(raw)
assert m["artifactType"] == "application/vnd.ouk.kit.v1", m
assert m["config"]["mediaType"] == "application/vnd.oci.empty.v1+json" and m["config"]["size"] == 2
assert [l["mediaType"] for l in m["layers"]] == ["application/vnd.oci.image.layer.v1.tar"]
assert m["layers"][0]["digest"] == "sha256:" + sys.argv[3], "the layer is not the kit file"
print("manifest as served: artifactType, empty config, the kit as its one tar layer")
PY
# distribution 2.8 has no referrers API: the fallback index under sha256-<hex> lists them.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  "https://$R/v2/ouk/kits/referrers/$D1")
echo "referrers API on distribution 2.8: HTTP $code"
curl -sf --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  -H 'Accept: application/vnd.oci.image.index.v1+json' \
  "https://$R/v2/ouk/kits/manifests/sha256-${D1#sha256:}" > "$W/fallback.json"
python3 - "$W/fallback.json" "$D1" "$REGISTRY_CA" "$R" "$REGISTRY_USER:$REGISTRY_PASSWORD" <<'PY'
import json, subprocess, sys
idx = json.load(open(sys.argv[1]))
assert len(idx["manifests"]) == 3, idx
for e in idx["manifests"]:
    raw = subprocess.run(["curl", "-sf", "--cacert", sys.argv[3], "-u", sys.argv[5],
        "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
        f"https://{sys.argv[4]}/v2/ouk/kits/manifests/{e['digest']}"], check=True, capture_output=True).stdout
    m = json.loads(raw)
    assert m["subject"]["digest"] == sys.argv[2], m
print("fallback index: 3 referrers, each with subject = the kit manifest")
PY
S1="$W/store-1"
"$I" pull "oci://$R/ouk/kits@$D1" --trust-root "$ROOT" --store "$S1" "${AUTH[@]}" --json > "$W/pull-1.json"
python3 - "$W/pull-1.json" "$(kit_sha "$W/day-1.ouk")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["import"]["outcome"] == "imported", r
assert r["kit_digest"] == "sha256:" + sys.argv[2], r
print("pulled and imported:", r["pinned"], r["import"]["generation"])
PY
[ -z "$(downloads $S1)" ] || { echo "download left behind after import"; exit 1; }
grep -q "from oci://$R/ouk/kits@$D1" "$S1/audit.jsonl" || { echo "audit log lacks the pull origin"; exit 1; }

# The same kit again (a scheduled pull of a tag that has not moved): the manifest is read, the
# layer is not downloaded.
expect_fail nothing_new "$I" pull "oci://$R/ouk/kits@$D1" --trust-root "$ROOT" --store "$S1" "${AUTH[@]}"
# The scheduled job's way: everything from the environment (contrib/systemd/ouk-pull.service).
rc=0
OUK_PULL_REF="oci://$R/ouk/kits:stable" OUK_REGISTRY_CA="$REGISTRY_CA" OUK_REGISTRY_USER="$REGISTRY_USER" \
  OUK_REGISTRY_PASSWORD_FILE="$W/registry/password.txt" \
  "$I" pull --trust-root "$ROOT" --store "$S1" --json --quiet > /dev/null || rc=$?
[ "$rc" -eq 3 ] || { echo "pull from the environment exited $rc, expected 3 (nothing new)"; exit 1; }
[ -z "$(downloads $S1)" ] || { echo "nothing-new pull downloaded something"; exit 1; }

echo "== a second push is idempotent"
"$B" push "$W/day-1.ouk" "oci://$R/ouk/kits:stable" --trust-root "$ROOT" "${AUTH[@]}" --json > "$W/push-1b.json"
python3 - "$W/push-1.json" "$W/push-1b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["manifest"] == b["manifest"] and b["kit"]["reused"] is True, (a, b)
print("same digest, kit blob not uploaded again")
PY

echo "== tag moved after pinning: the pinned digest still gets the pinned kit"
"$B" push "$W/day-2.ouk" "oci://$R/ouk/kits:stable" --trust-root "$ROOT" "${AUTH[@]}" --json > "$W/push-2.json"
D2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"])' "$W/push-2.json")
[ "$D1" != "$D2" ] || { echo "two kits, one digest"; exit 1; }
S2="$W/store-2"
"$I" pull "oci://$R/ouk/kits@$D1" --trust-root "$ROOT" --store "$S2" "${AUTH[@]}" --json > "$W/pull-pinned.json"
python3 - "$W/pull-pinned.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["import"]["kit"]["sequence"] == 1, r["import"]["kit"]
print("pinned digest after the tag moved: sequence 1 imported, as pinned")
PY
# By tag: resolved once, to the new kit, and the digest reported.
"$I" pull "oci://$R/ouk/kits:stable" --trust-root "$ROOT" --store "$S2" "${AUTH[@]}" --json > "$W/pull-tag.json"
python3 - "$W/pull-tag.json" "$D2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["pinned"].endswith("@" + sys.argv[2]) and r["import"]["kit"]["sequence"] == 2, r
print("by tag: resolved to", sys.argv[2], "sequence 2")
PY

echo "== a dropped connection is resumed within the pull; a pull that gives up resumes next run"
mkdir -p "$W/big-payload"
head -c $((48 * 1024 * 1024)) /dev/urandom > "$W/big-payload/noise.bin"
kit "$W/big.ouk" 3 --payload "$W/big-payload"
"$B" push "$W/big.ouk" "oci://$R/ouk/big:3" --trust-root "$ROOT" "${AUTH[@]}" --json > "$W/push-big.json"
DB=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"])' "$W/push-big.json")
start_proxy() { # start_proxy DROP_AFTER DROPS
  if [ -n "$PROXY_PID" ]; then # the old one must have let go of the port
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
  fi
  rm -f "$W/proxy.pid"
  python3 ci/drop_proxy.py --listen 127.0.0.1:$PROXY_PORT --target "$R" --drop-after "$1" --drops "$2" \
    --pidfile "$W/proxy.pid" --log "$W/proxy.log" &
  PROXY_PID=$!
  for _ in $(seq 50); do [ -f "$W/proxy.pid" ] && break; sleep 0.1; done
}
start_proxy $((8 * 1024 * 1024)) 2
S3="$W/store-3"
"$I" pull "oci://127.0.0.1:$PROXY_PORT/ouk/big@$DB" --trust-root "$ROOT" --store "$S3" "${AUTH[@]}" --json > "$W/pull-drop.json"
cat "$W/proxy.log"
python3 - "$W/pull-drop.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["resumes"] >= 2 and r["import"]["outcome"] == "imported", r
print(f"two dropped connections resumed within one pull ({r['resumes']} resumes), kit imported")
PY
# Giving up: no retries, the partial download stays; the next run (no proxy) fetches the rest only.
start_proxy $((20 * 1024 * 1024)) 1
S4="$W/store-4"
expect_fail oci_interrupted "$I" pull "oci://127.0.0.1:$PROXY_PORT/ouk/big@$DB" --retries 0 --trust-root "$ROOT" --store "$S4" "${AUTH[@]}"
kept=$(stat -c %s "$S4"/downloads/*.partial)
echo "  kept $kept bytes in $(basename "$S4"/downloads/*.partial)"
[ "$kept" -gt $((10 * 1024 * 1024)) ] || { echo "partial download not kept"; exit 1; }
[ "$(generations "$S4")" -eq 0 ] || { echo "a generation appeared after a failed pull"; exit 1; }
"$I" pull "oci://$R/ouk/big@$DB" --trust-root "$ROOT" --store "$S4" "${AUTH[@]}" --json > "$W/pull-resume.json"
python3 - "$W/pull-resume.json" "$kept" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["resumed_from"] == int(sys.argv[2]) and r["import"]["outcome"] == "imported", r
print(f"next run resumed at byte {r['resumed_from']} of {r['kit_size']} and imported")
PY

echo "== a corrupted blob in the registry is refused by digest; nothing is imported"
BLOB=$(registry_blob_path "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kit"]["digest"])' "$W/push-big.json")")
cp "$BLOB" "$W/blob.bak"
python3 - "$BLOB" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(30 * 1024 * 1024)
    b = f.read(1)
    f.seek(30 * 1024 * 1024)
    f.write(bytes([b[0] ^ 0xFF]))
PY
S5="$W/store-5"
expect_fail oci_blob_digest "$I" pull "oci://$R/ouk/big@$DB" --trust-root "$ROOT" --store "$S5" "${AUTH[@]}"
[ "$(generations "$S5")" -eq 0 ] || { echo "a generation appeared from a corrupted blob"; exit 1; }
[ -z "$(downloads $S5)" ] || { echo "corrupted download left behind"; exit 1; }
cp "$W/blob.bak" "$BLOB"

echo "== malformed and foreign manifests are refused before any blob is fetched"
put_manifest() { # put_manifest TAG FILE
  curl -sf --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$2" \
    "https://$R/v2/ouk/kits/manifests/$1" -o /dev/null
}
python3 - "$W/manifest-1.json" "$W" <<'PY'
import copy, json, sys
m = json.load(open(sys.argv[1]))
w = sys.argv[2]
def save(name, doc):
    open(f"{w}/bad-{name}.json", "w").write(json.dumps(doc))
two = copy.deepcopy(m); two["layers"].append(two["layers"][0]); save("two-layers", two)
foreign = copy.deepcopy(m); foreign["artifactType"] = "application/vnd.example.other+type"; save("foreign", foreign)
gz = copy.deepcopy(m); gz["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"; save("gzip-layer", gz)
big = copy.deepcopy(m); big["annotations"]["pad"] = "x" * (1 << 20); save("oversized", big)
PY
for bad in two-layers foreign gzip-layer oversized; do
  # distribution 2.8 stores all four: a refused PUT means the check below would test nothing.
  put_manifest "bad-$bad" "$W/bad-$bad.json" || { echo "the registry refused bad-$bad"; exit 1; }
  kind=oci_manifest
  [ "$bad" = oversized ] && kind=oci_manifest_size
  echo "- $bad"
  expect_fail "$kind" "$I" pull "oci://$R/ouk/kits:bad-$bad" --trust-root "$ROOT" --store "$W/store-bad" "${AUTH[@]}"
done
[ "$(generations "$W/store-bad")" -eq 0 ] || { echo "a malformed manifest imported something"; exit 1; }

HUGE_MIB="${HUGE_MIB:-512}" # 512 in CI; smaller only to iterate on this script
echo "== a kit larger than the memory ceiling: $HUGE_MIB MiB pulled and imported under 64 MiB RSS"
mkdir -p "$W/huge-payload"
head -c $((HUGE_MIB * 1024 * 1024)) /dev/urandom > "$W/huge-payload/noise.bin"
kit "$W/huge.ouk" 4 --payload "$W/huge-payload"
rm -rf "$W/huge-payload"
"$PROBE" "$W/push-huge.rss" "$B" push "$W/huge.ouk" "oci://$R/ouk/huge:4" --trust-root "$ROOT" "${AUTH[@]}" --json > "$W/push-huge.json"
echo "push (verify + upload) of $HUGE_MIB MiB: builder peak RSS $(( $(cat "$W/push-huge.rss") / 1024 )) MiB"
[ "$(cat "$W/push-huge.rss")" -lt $((128 * 1024)) ] || { echo "push peak RSS over 128 MiB"; exit 1; }
DH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"])' "$W/push-huge.json")
# A hard ceiling, not only a measurement: the importer's whole address space is capped at 256 MiB
# (half the kit; it needed less than 128 MiB on 2 cores when this was written), and its peak RSS
# must stay under 64 MiB.
(
  ulimit -v $((256 * 1024))
  exec "$PROBE" "$W/pull-huge.rss" "$I" pull "oci://$R/ouk/huge@$DH" --trust-root "$ROOT" \
    --store "$W/store-huge" "${AUTH[@]}" --quiet
)
kib=$(cat "$W/pull-huge.rss")
echo "pull + import of $(( $(stat -c %s "$W/huge.ouk") / 1048576 )) MiB under ulimit -v 256 MiB: importer peak RSS $((kib / 1024)) MiB"
[ "$(generations "$W/store-huge")" -eq 1 ] || { echo "the large kit was not imported"; exit 1; }
[ "$kib" -lt $((64 * 1024)) ] || { echo "pull peak RSS over 64 MiB"; exit 1; }
rm -f "$W/huge.ouk"

echo "== skopeo copies our artifact to an OCI layout and back, digest unchanged"
skopeo --version
skopeo copy --quiet --src-cert-dir "$REGISTRY_CERT_DIR" --src-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  "docker://$R/ouk/kits@$D1" "oci:$W/skopeo-layout:day-1"
"$I" import --layout "$W/skopeo-layout" --trust-root "$ROOT" --store "$W/store-skopeo" --json > "$W/import-skopeo.json"
python3 - "$W/import-skopeo.json" "$D1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["manifest"] == sys.argv[2] and r["import"]["outcome"] == "imported", r
print("skopeo's layout imports, manifest digest unchanged:", r["manifest"])
PY
skopeo copy --quiet --dest-cert-dir "$REGISTRY_CERT_DIR" --dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  "oci:$W/skopeo-layout:day-1" "docker://$R/ouk/copied:day-1"
back=$(curl -sfI --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "https://$R/v2/ouk/copied/manifests/day-1" |
  tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
echo "copied back: $back"
[ "$back" = "$D1" ] || { echo "skopeo round trip changed the digest ($D1 -> $back)"; exit 1; }

echo "== export-layout -> import --layout; the compat shape round trip"
"$B" export-layout "$W/day-1.ouk" "$W/layout" --trust-root "$ROOT" --json > "$W/export.json"
"$B" export-layout "$W/day-2.ouk" "$W/layout" --trust-root "$ROOT" --json > /dev/null
expect_fail oci_layout_choice "$I" import --layout "$W/layout" --trust-root "$ROOT" --store "$W/store-layout"
"$I" import --layout "$W/layout" --ref stable-2 --trust-root "$ROOT" --store "$W/store-layout" --json > "$W/import-layout.json"
python3 - "$W/export.json" "$D1" "$W/import-layout.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
assert e["manifest"] == sys.argv[2], (e["manifest"], sys.argv[2])
r = json.load(open(sys.argv[3]))
assert r["import"]["kit"]["sequence"] == 2 and r["ref_name"] == "stable-2", r
print("export-layout writes the digest push published; import --layout --ref stable-2 imported sequence 2")
PY
"$B" push "$W/day-1.ouk" "oci://$R/ouk/compat:1" --shape compat --trust-root "$ROOT" "${AUTH[@]}" --json > "$W/push-compat.json"
DC=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["shape"]=="compat"; print(r["manifest"])' "$W/push-compat.json")
curl -sf --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "https://$R/v2/ouk/compat/manifests/$DC" > "$W/manifest-compat.json"
python3 - "$W/manifest-compat.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert "artifactType" not in m and m["config"]["mediaType"] == "application/vnd.ouk.kit.config.v1+json", m
print("compat shape as served: no artifactType, the kit type in config.mediaType")
PY
"$I" pull "oci://$R/ouk/compat@$DC" --trust-root "$ROOT" --store "$W/store-compat" "${AUTH[@]}" --json > /dev/null
echo "compat shape ($DC) pulled and imported"

echo "== a hostile registry (ci/fake_registry.py): every body capped or unread, every loop bounded"
FAKE_PID=""
python3 ci/fake_registry.py --port "$FAKE_PORT" --cert "$W/registry/server.crt" --key "$W/registry/server.key" \
  --manifest "$W/manifest-1.json" --layer "$W/day-1.ouk" --pidfile "$W/fake.pid" &
FAKE_PID=$!
for _ in $(seq 50); do [ -f "$W/fake.pid" ] && break; sleep 0.1; done
hostile() { # hostile MODE EXPECTED_KIND|ok [ARGS...]: pull from the fake registry under rss_probe
  local mode="$1" want="$2" rc=0
  shift 2
  "$PROBE" "$W/fake-$mode.rss" "$I" pull "oci://127.0.0.1:$FAKE_PORT/$mode@$D1" --trust-root "$ROOT" \
    --store "$W/store-fake-$mode" --json "$@" > "$W/fake-$mode.json" 2>/dev/null || rc=$?
  local kib
  kib=$(cat "$W/fake-$mode.rss")
  python3 - "$W/fake-$mode.json" "$want" "$mode" "$rc" "$kib" <<'PY'
import json, sys
r, want, mode, rc, kib = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
got = "ok" if rc == 0 else r["error"]["kind"]
assert got == want, (mode, got, want, r)
assert kib < 64 * 1024, (mode, kib)
detail = r["error"]["message"][:110] if rc else f"imported, {r['resumes']} resumes"
print(f"  {mode}: {got} (exit {rc}), peak RSS {kib // 1024} MiB: {detail}")
PY
}
hostile honest ok --ca-cert "$REGISTRY_CA"
hostile hugetoken oci_registry --ca-cert "$REGISTRY_CA"
hostile hugemanifest oci_manifest_size --ca-cert "$REGISTRY_CA"
hostile hugeerror oci_interrupted --retries 1 --ca-cert "$REGISTRY_CA"
hostile ignorerange ok --ca-cert "$REGISTRY_CA"
hostile short oci_blob_digest --ca-cert "$REGISTRY_CA"
hostile trickle oci_interrupted --deadline 3 --ca-cert "$REGISTRY_CA"
grep -q "larger than" "$W/fake-hugetoken.json" || { echo "hugetoken: not refused for its size"; exit 1; }
grep -q "deadline" "$W/fake-trickle.json" || { echo "trickle: not stopped by the deadline"; exit 1; }
kill "$FAKE_PID" 2>/dev/null || true
wait "$FAKE_PID" 2>/dev/null || true
# A plain-HTTP registry: only with --plain-http, and never with credentials.
rm -f "$W/fake.pid"
python3 ci/fake_registry.py --plain --port "$FAKE_PORT" --manifest "$W/manifest-1.json" \
  --layer "$W/day-1.ouk" --pidfile "$W/fake.pid" &
FAKE_PID=$!
for _ in $(seq 50); do [ -f "$W/fake.pid" ] && break; sleep 0.1; done
rm -rf "$W/store-fake-honest"
hostile honest ok --plain-http
rm -rf "$W/store-fake-honest"
hostile honest oci_registry
expect_fail oci_reference "$I" pull "oci://127.0.0.1:$FAKE_PORT/honest@$D1" --plain-http --trust-root "$ROOT" \
  --store "$W/store-plain" --username "$REGISTRY_USER" --password-file "$W/registry/password.txt"
kill "$FAKE_PID" 2>/dev/null || true

echo "== credentials and TLS"
echo wrong > "$W/wrong-password.txt"
expect_fail oci_auth "$I" pull "oci://$R/ouk/kits@$D1" --trust-root "$ROOT" --store "$W/store-auth" \
  --ca-cert "$REGISTRY_CA" --username "$REGISTRY_USER" --password-file "$W/wrong-password.txt"
grep -q "401" "$W/fail.json" || { echo "wrong password: not refused as 401"; exit 1; }
expect_fail oci_tls "$I" pull "oci://$R/ouk/kits@$D1" --trust-root "$ROOT" --store "$W/store-auth" \
  --username "$REGISTRY_USER" --password-file "$W/registry/password.txt"
grep -q "UnknownIssuer" "$W/fail.json" || { echo "missing CA: not refused for the unknown issuer"; exit 1; }
[ "$(generations "$W/store-auth")" -eq 0 ] || { echo "something imported without credentials"; exit 1; }
echo "registry part OK"
