#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-qemu-user.sh CACHE_DIR — Debian's newer qemu-user builds, for the ring
# channel's tests: QEMUs that cannot load bdtrace's plugin.
#
#   CACHE_DIR/bookworm-backports/qemu-ARCH   Debian's QEMU 10.0 (static, no plugins)
#   CACHE_DIR/sid/qemu-ARCH                  Debian's newest QEMU (11.x when written)
# for ARCH in x86_64 and the other guest architectures bdtrace runs
# (aarch64, riscv64, s390x).
#
# Downloads the qemu-user .deb of each suite with apt-get (a private apt
# configuration under CACHE_DIR: the system's sources and state are not
# touched) and unpacks only those binaries. Binaries already in the cache
# are kept: delete CACHE_DIR to fetch newer ones. Prints each suite's version.
set -euo pipefail

cache=${1:?usage: fetch-qemu-user.sh CACHE_DIR}
suites=(bookworm-backports sid)
arches=(x86_64 aarch64 riscv64 s390x)
mkdir -p "$cache"

missing=()
for s in "${suites[@]}"; do
  for a in "${arches[@]}"; do
    if [ ! -x "$cache/$s/qemu-$a" ]; then
      missing+=("$s")
      break
    fi
  done
done

if [ ${#missing[@]} -gt 0 ]; then
  apt_dir="$cache/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  {
    for s in "${missing[@]}"; do
      echo "deb [signed-by=$keyring] http://deb.debian.org/debian $s main"
    done
  } >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir"
            -o "Dir::Cache::archives=$apt_dir/archives" -o Debug::NoLocking=1
            -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update \
    || { echo "fetch-qemu-user: apt-get update for ${missing[*]} failed (network? Debian mirror?)" >&2; exit 1; }
  for s in "${missing[@]}"; do
    rm -f "$apt_dir/debs"/*.deb
    (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -qq download "qemu-user/$s") \
      || { echo "fetch-qemu-user: downloading qemu-user from $s failed" >&2; exit 1; }
    unpack="$apt_dir/unpack"
    rm -rf "$unpack"
    dpkg-deb -x "$apt_dir/debs"/qemu-user_*.deb "$unpack"
    mkdir -p "$cache/$s"
    for a in "${arches[@]}"; do
      install -m 0755 "$unpack/usr/bin/qemu-$a" "$cache/$s/qemu-$a.tmp"
      mv "$cache/$s/qemu-$a.tmp" "$cache/$s/qemu-$a"
    done
    rm -rf "$unpack" "$apt_dir/debs"/*.deb
  done
fi

for s in "${suites[@]}"; do
  printf '%s: %s\n' "$s" "$("$cache/$s/qemu-x86_64" -version | head -n 1)"
done
