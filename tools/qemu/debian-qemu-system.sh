#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# debian-qemu-system.sh VERSION CACHE_DIR — Debian's own qemu-system-x86 and
# qemu-system-arm binary packages of a QEMU release, made runnable here, for
# testing the plugin on a QEMU whose source Debian does not serve (its
# system emulators are built with plugin support; its qemu-user is static,
# without). build-qemu.sh falls back to this when fetching the source fails.
#
#   VERSION   MAJOR.MINOR (11.1) or an exact upstream version (11.1.3); the
#             newest Debian package of it wins (suites as build-qemu.sh)
#   CACHE_DIR CACHE_DIR/qemu-<upstream version>-debian/ is the prefix:
#             bin/qemu-system-x86_64 and bin/qemu-system-aarch64 (no
#             qemu-x86_64: it marks the prefix as system emulation only)
#
# Those binaries need the C library and shared libraries of their own suite
# (QEMU 11.1.3 of sid needs glibc 2.43; bookworm has 2.36). So the packages
# and every library they depend on are unpacked (dpkg-deb -x, nothing
# installed) under PREFIX/root, and bin/ holds wrappers that start each
# emulator through that root's dynamic loader with its library path, its
# module directory and its firmware (-L). A plugin loaded into it resolves
# the libraries the root lacks (liblttng-ust, ...) from this machine's.
#
# The prefix is the LAST line of standard output; progress goes to standard
# error. A finished prefix is reused (delete it to fetch again).
# --cached: only print a finished prefix of VERSION; exit 1 when there is none.
set -euo pipefail

usage() { echo "usage: debian-qemu-system.sh [--cached] VERSION CACHE_DIR   (e.g. debian-qemu-system.sh 11.1 ~/.cache/bdtrace)" >&2; exit 2; }
cached_only=0
if [ "${1:-}" = --cached ]; then
  cached_only=1
  shift
fi
want=${1:-}
cache=${2:-}
[ -n "$want" ] && [ -n "$cache" ] || usage
[[ $want =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || { echo "debian-qemu-system: '$want' is not a QEMU version (e.g. 11.1)" >&2; exit 2; }
log() { printf 'debian-qemu-system: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUITES=(trixie trixie-backports forky sid experimental)
PACKAGES=(qemu-system-x86 qemu-system-arm)
# The emulators a prefix offers: wrapper name -> binary in the root.
EMULATORS=(qemu-system-x86_64 qemu-system-aarch64)
TRIPLET=x86_64-linux-gnu

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

cached_prefix() {
  local d
  for d in $(ls -d "$cache"/qemu-"$want"*-debian 2>/dev/null | sort -V -r); do
    local v=${d##*/qemu-}
    [[ ${v%-debian} =~ ^$want(\.[0-9]+)?$ ]] || continue
    [ -f "$d/.complete" ] && { echo "$d"; return 0; }
  done
  return 1
}
if prefix=$(cached_prefix); then
  log "Debian's QEMU $want system emulators are cached: $prefix"
  echo "$prefix"
  exit 0
fi
[ $cached_only -eq 0 ] || exit 1

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
apt_dir=$cache/apt-qemu-bin
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
: >"$apt_dir/status"  # an empty dpkg status: apt resolves every dependency
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir"
          -o "Dir::Cache::archives=$apt_dir/archives" -o "Dir::State::status=$apt_dir/status"
          -o Debug::NoLocking=1 -o APT::Sandbox::User=root
          -o APT::Architecture=amd64 -o APT::Architectures=amd64)
sources() {
  local s
  for s in "$@"; do echo "deb [signed-by=$keyring] http://deb.debian.org/debian $s main"; done >"$apt_dir/sources.list"
  apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update failed (network? Debian mirror?)"
}

log "looking up Debian's qemu-system-x86 packages of QEMU $want"
sources "${SUITES[@]}"
# "qemu-system-x86 | 1:11.1.3+ds-1 | http://deb.debian.org/debian sid/main amd64 Packages"
line=$(apt-cache "${apt_opts[@]}" madison qemu-system-x86 |
       awk -F' *[|] *' -v w="$want" '{ u = $2; sub(/^[0-9]+:/, "", u); sub(/[+~-].*/, "", u)
                                       if (u == w || index(u, w ".") == 1) print u " " $2 " " $3 }' |
       sort -V | tail -n 1)
[ -n "$line" ] || die "no Debian qemu-system-x86 package of QEMU $want in ${SUITES[*]} (known: $(apt-cache "${apt_opts[@]}" madison qemu-system-x86 | awk -F' *[|] *' '{ print $2 }' | sort -uV | tr '\n' ' '))"
read -r upstream debver origin <<<"$line"
suite=$(awk '{ print $2 }' <<<"$origin")
suite=${suite%%/*}
prefix=$cache/qemu-$upstream-debian
log "QEMU $upstream: Debian's binary packages $debver from $suite"

# Resolve against that suite alone, so that every library comes from it (a
# backports suite with the release it extends).
if [[ $suite == *-backports ]]; then sources "$suite" "${suite%-backports}"; else sources "$suite"; fi
mapfile -t debs < <(apt-get "${apt_opts[@]}" -s install --no-install-recommends \
                      "${PACKAGES[@]/%/=$debver}" 2>/dev/null | awk '/^Inst /{ print $2 }')
[ ${#debs[@]} -gt 0 ] || die "apt could not resolve ${PACKAGES[*]} $debver in $suite"
work=$cache/qemu-$upstream-debian.tmp
rm -rf "$work" "$prefix"
mkdir -p "$work/debs" "$work/root"
log "downloading ${#debs[@]} packages"
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "${debs[@]}" >&2) || die "downloading the packages failed"
for f in "$work"/debs/*.deb; do dpkg-deb -x "$f" "$work/root"; done
rm -rf "$work/debs"

root=$prefix/root
lib=$root/usr/lib/$TRIPLET
mkdir -p "$work/bin"
for e in "${EMULATORS[@]}"; do
  [ -x "$work/root/usr/bin/$e" ] || die "$e is not in Debian's packages ${PACKAGES[*]} $debver"
  cat >"$work/bin/$e" <<EOF
#!/bin/sh
# Debian's $e $debver ($suite), started with its suite's C library and
# libraries unpacked in $root (made by bdtrace's tools/qemu/debian-qemu-system.sh).
QEMU_MODULE_DIR=$lib/qemu
export QEMU_MODULE_DIR
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$root/usr/bin/$e" \\
  -L "$root/usr/share/qemu" -L "$root/usr/share/seabios" -L "$root/usr/lib/ipxe/qemu" "\$@"
EOF
  chmod 0755 "$work/bin/$e"
done
mv "$work" "$prefix"
for e in "${EMULATORS[@]}"; do
  "$prefix/bin/$e" -version >/dev/null 2>&1 || die "$prefix/bin/$e does not start: $("$prefix/bin/$e" -version 2>&1 | head -n 3)"
done
touch "$prefix/.complete"
log "$("$prefix/bin/qemu-system-x86_64" -version | head -n 1) in $prefix (system emulation only)"
echo "$prefix"
