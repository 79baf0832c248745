#!/usr/bin/env bash
# Writes the RPM database of each root file system in testdata/trivy/os/rootfs that lists its
# packages in rpm-packages.txt (NAME EPOCH VERSION RELEASE ARCH per line), so that Trivy finds
# them as it finds the packages of an AlmaLinux or Rocky Linux image: ROOT/var/lib/rpm/rpmdb.sqlite,
# made by Debian's rpm (installed with apt-get when missing) from empty packages built here. The
# database is generated, not committed: it is a binary SQLite file, and this list is its source.
#
#   testdata/trivy/os/make-rpmdb.sh [ROOTFS_DIR ...]     (default: every rootfs with the list)
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v rpmbuild >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rpm >/dev/null
fi
roots=("$@")
[ ${#roots[@]} -gt 0 ] || for list in rootfs/*/rpm-packages.txt; do roots+=("$(dirname "$list")"); done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/empty.spec" <<'SPEC'
Name: %{pname}
Epoch: %{pepoch}
Version: %{pversion}
Release: %{prelease}
Summary: Constructed package for the OUK Trivy acceptance test
License: MIT
BuildArch: %{parch}
%description
Constructed package for the OUK Trivy acceptance test; it installs nothing.
%files
SPEC

for root in "${roots[@]}"; do
  root=$(cd "$root" && pwd)
  # The CI parts that scan these file systems each call this script: a database newer than its
  # package list is kept.
  if [ "$root/var/lib/rpm/rpmdb.sqlite" -nt "$root/rpm-packages.txt" ]; then
    echo "$(basename "$root"): var/lib/rpm/rpmdb.sqlite is up to date"
    continue
  fi
  rm -rf "$root/var/lib/rpm" "$work/top"
  mkdir -p "$root/var/lib/rpm"
  rpms=()
  while read -r name epoch version release arch; do
    case "$name" in ''|'#'*) continue ;; esac
    rpmbuild --quiet -bb --define "_topdir $work/top" --define "_build_id_links none" \
      --define "pname $name" --define "pepoch $epoch" --define "pversion $version" \
      --define "prelease $release" --define "parch $arch" --target "$arch" \
      "$work/empty.spec" >/dev/null 2>&1
    rpms+=("$work/top/RPMS/$arch/$name-$version-$release.$arch.rpm")
  done < "$root/rpm-packages.txt"
  rpm --root "$root" --dbpath /var/lib/rpm --define "_db_backend sqlite" --initdb
  # Debian's rpm warns that it is not the system package manager: expected here.
  rpm --root "$root" --dbpath /var/lib/rpm --define "_db_backend sqlite" -i --justdb --nodeps \
    --noscripts --ignorearch --ignoreos "${rpms[@]}" 2>/dev/null
  # rpm has checkpointed its write-ahead log on exit; keep it if it has not.
  rm -f "$root/var/lib/rpm/.rpm.lock" "$root/var/lib/rpm/rpmdb.sqlite-shm"
  [ -s "$root/var/lib/rpm/rpmdb.sqlite-wal" ] || rm -f "$root/var/lib/rpm/rpmdb.sqlite-wal"
  echo "$(basename "$root"): ${#rpms[@]} packages in var/lib/rpm/rpmdb.sqlite"
done
