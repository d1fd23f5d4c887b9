#!/usr/bin/env bash
# fetch-qemu-user.sh CACHE_DIR — Debian's newer qemu-user builds, for the ring
# channel's tests: QEMUs that cannot load bdtrace's plugin.
#
#   CACHE_DIR/bookworm-backports/qemu-x86_64   Debian's QEMU 10.0 (static, no plugins)
#   CACHE_DIR/sid/qemu-x86_64                  Debian's newest QEMU (11.x when written)
#
# Downloads the qemu-user .deb of each suite with apt-get (a private apt
# configuration under CACHE_DIR: the system's sources and state are not
# touched) and unpacks only qemu-x86_64. A binary already in the cache is
# kept: delete CACHE_DIR to fetch newer ones. Prints each binary's version.
set -euo pipefail

cache=${1:?usage: fetch-qemu-user.sh CACHE_DIR}
suites=(bookworm-backports sid)
mkdir -p "$cache"

missing=()
for s in "${suites[@]}"; do
  [ -x "$cache/$s/qemu-x86_64" ] || missing+=("$s")
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
    install -m 0755 "$unpack/usr/bin/qemu-x86_64" "$cache/$s/qemu-x86_64.tmp"
    mv "$cache/$s/qemu-x86_64.tmp" "$cache/$s/qemu-x86_64"
    rm -rf "$unpack" "$apt_dir/debs"/*.deb
  done
fi

for s in "${suites[@]}"; do
  printf '%s: %s\n' "$s" "$("$cache/$s/qemu-x86_64" -version | head -n 1)"
done
