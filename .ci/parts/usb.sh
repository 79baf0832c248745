#!/usr/bin/env bash
# Split kits on a real FAT32 file system (no root, no mount: mtools reads and writes the image).
#  1. a kit from testdata/ feeds plus 3 MiB of generated payload, built with --split 1MiB, copied
#     onto a FAT32 image and back out: `import --from DIR` imports it;
#  2. FAT32 names are case-insensitive: the parts of a second kit named kit.OUK.* collide with
#     KIT.ouk.*; mcopy without a clash option refuses (exit 1, the old file kept), with `-D o`
#     it overwrites (and stores the new spelling). The importer then refuses kit KIT.ouk: the
#     overwritten part is `part_digest` (read by the name its index lists, as the vfat driver
#     resolves it), or `part_missing` when copied out under the stored new spelling;
#  3. a truncated part on the stick: the import fails naming it; with the full part the next
#     import succeeds and reuses the parts it had verified (not read from the stick again).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS

if ! command -v mcopy >/dev/null || ! command -v mkfs.vfat >/dev/null; then
  apt-get update -qq && apt-get install -y -qq dosfstools mtools >/dev/null
fi
export MTOOLS_SKIP_CHECK=1

if [ -n "${OUK_BIN_DIR:-}" ]; then
  bin="$OUK_BIN_DIR" # prebuilt ouk-builder and ouk-importer (local runs)
else
  cargo build --release -q -p ouk-builder
  cargo build --release -q -p ouk-importer
  bin="${CARGO_TARGET_DIR:-target}/release"
fi
work=target/ci-usb
rm -rf "$work" && mkdir -p "$work"
trust=keys/dev/trust-root.json

payload() { # DIR SEED: 3 MiB of incompressible, reproducible bytes
  mkdir -p "$1"
  python3 -c "import random,sys; sys.stdout.buffer.write(random.Random($2).randbytes(3*1024*1024))" >"$1/blob.bin"
}

kit() { # OUT SEQUENCE SEED
  payload "$(dirname "$1")/payload" "$3"
  "$bin/ouk-builder" build \
    --source osv=testdata/feeds/osv --source ghsa=testdata/feeds/ghsa --source nvd=testdata/feeds/nvd \
    --payload "$(dirname "$1")/payload" \
    --key keys/dev/kit.key --attestation-key keys/dev/attestation.key \
    --sequence "$2" --expires 30d --channel stable \
    --builder-id https://ouk.dev/builders/dev \
    --no-blob-signature --quiet --split 1MiB --out "$1"
}

json() { # FILE EXPR: print a field of a JSON report
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"
}

expect_refusal() { # REPORT CODE GOT_CODE KIND NAME
  local got_kind msg
  got_kind=$(json "$1" 'd["error"]["kind"]')
  msg=$(json "$1" 'd["error"]["message"]')
  if [ "$3" != "$2" ] || [ "$got_kind" != "$4" ] || [[ "$msg" != *"$5"* ]]; then
    echo "usb: expected exit $2 / $4 naming $5, got exit $3 / $got_kind: $msg" >&2
    exit 1
  fi
  echo "usb: refused as expected (exit $3, $got_kind): $msg"
}

mkdir -p "$work/a" "$work/b"
kit "$work/a/KIT.ouk" 1 1
kit "$work/b/kit.OUK" 2 2
a_parts=("$work"/a/KIT.ouk.0*)
b_parts=("$work"/b/kit.OUK.0*)
echo "usb: kit KIT.ouk is ${#a_parts[@]} parts, kit.OUK ${#b_parts[@]} parts"
[ "${#a_parts[@]}" -ge 4 ] || { echo "usb: the kit should be > 3 MiB" >&2; exit 1; }
[ ! -e "$work/a/KIT.ouk" ] || { echo "usb: the whole kit should be removed" >&2; exit 1; }

# 1. Round trip through FAT32.
mkfs.vfat -C "$work/stick1.img" 64000 >/dev/null
mcopy -i "$work/stick1.img" "${a_parts[@]}" "$work/a/KIT.ouk.parts.json" ::/
mdir -i "$work/stick1.img" ::/
mkdir "$work/out1"
mcopy -i "$work/stick1.img" '::/*' "$work/out1/"
"$bin/ouk-importer" import --from "$work/out1" --trust-root "$trust" --store "$work/store1" --json >"$work/r1.json"
echo "usb: round trip imported $(json "$work/r1.json" 'd["imported"]["generation"]'), parts from the medium: $(json "$work/r1.json" 'len(d["imported"]["parts"]["read_from_medium"])')"

# 2. Case-insensitive collision.
img="$work/stick2.img"
mkfs.vfat -C "$img" 64000 >/dev/null
mcopy -i "$img" "${a_parts[@]}" "$work/a/KIT.ouk.parts.json" ::/
rc=0
mcopy -i "$img" "${b_parts[0]}" ::/ </dev/null >"$work/mcopy-clash.log" 2>&1 || rc=$?
mkdir "$work/probe"
mcopy -i "$img" ::KIT.ouk.001 "$work/probe/KIT.ouk.001"
if [ "$rc" -ne 0 ] && cmp -s "$work/probe/KIT.ouk.001" "${a_parts[0]}"; then
  echo "usb: mcopy without -D refused the clash kit.OUK.001 / KIT.ouk.001 (exit $rc, old file kept): $(tr '\n' ' ' <"$work/mcopy-clash.log")"
else
  echo "usb: mcopy without -D: exit $rc; unexpected (the old file should be kept)" >&2
  exit 1
fi
mcopy -i "$img" -D o "${b_parts[@]}" ::/
mdir -i "$img" ::/
# Read back by the names kit KIT.ouk's index lists: the FAT lookup is case-insensitive, as the
# vfat driver's is on a mounted stick.
mkdir "$work/out2"
cp "$work/a/KIT.ouk.parts.json" "$work/out2/"
for p in "${a_parts[@]}"; do
  n=$(basename "$p")
  mcopy -i "$img" "::$n" "$work/out2/$n"
done
cmp -s "$work/out2/KIT.ouk.001" "${b_parts[0]}" || { echo "usb: mcopy -D o did not overwrite" >&2; exit 1; }
echo "usb: mcopy -D o overwrote KIT.ouk.001 with kit.OUK.001's bytes"
rc=0
"$bin/ouk-importer" import "$work/out2/KIT.ouk.parts.json" --trust-root "$trust" --store "$work/store2" --json >"$work/r2.json" || rc=$?
expect_refusal "$work/r2.json" 10 "$rc" part_digest KIT.ouk.001
# Copied out under the names the stick stores, the overwritten part now has the other spelling.
mkdir "$work/out3"
mcopy -i "$img" '::/*' "$work/out3/"
ls "$work/out3"
rc=0
"$bin/ouk-importer" import "$work/out3/KIT.ouk.parts.json" --trust-root "$trust" --store "$work/store2" --json >"$work/r3.json" || rc=$?
expect_refusal "$work/r3.json" 30 "$rc" part_missing KIT.ouk.001

# 3. Truncated part, then the whole part: resume.
img="$work/stick3.img"
mkfs.vfat -C "$img" 64000 >/dev/null
third="${a_parts[2]}"
head -c 300000 "$third" >"$work/truncated"
mcopy -i "$img" "$work/a/KIT.ouk.parts.json" ::/
for p in "${a_parts[@]}"; do
  if [ "$p" = "$third" ]; then
    mcopy -i "$img" "$work/truncated" "::$(basename "$p")"
  else
    mcopy -i "$img" "$p" ::/
  fi
done
mkdir "$work/out4"
mcopy -i "$img" '::/*' "$work/out4/"
rc=0
"$bin/ouk-importer" import --from "$work/out4" --trust-root "$trust" --store "$work/store3" --json >"$work/r4.json" || rc=$?
[ "$rc" -eq 30 ] || { echo "usb: truncated part: expected exit 30, got $rc" >&2; cat "$work/r4.json" >&2; exit 1; }
json "$work/r4.json" '[c["error"] for c in d["candidates"]][0]' | tee "$work/r4.err"
grep -q "KIT.ouk.003" "$work/r4.err" && [ "$(json "$work/r4.json" 'd["candidates"][0]["error_kind"]')" = part_size ] \
  || { echo "usb: the truncated part is not named" >&2; exit 1; }
mcopy -i "$img" -D o "$third" ::/
mkdir "$work/out5"
mcopy -i "$img" '::/*' "$work/out5/"
"$bin/ouk-importer" import --from "$work/out5" --trust-root "$trust" --store "$work/store3" --json >"$work/r5.json"
reused=$(json "$work/r5.json" '" ".join(d["imported"]["parts"]["reused"])')
medium=$(json "$work/r5.json" '" ".join(d["imported"]["parts"]["read_from_medium"])')
echo "usb: resumed: reused [$reused], read from the medium [$medium]"
[ "$reused" = "KIT.ouk.001 KIT.ouk.002" ] || { echo "usb: expected parts 001 and 002 reused" >&2; exit 1; }
[ ! -e "$work/store3/incoming" ] || { echo "usb: incoming/ should be gone" >&2; exit 1; }

echo "usb: all FAT32 checks passed in $((SECONDS - start)) s"
