#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build-qemu.sh VERSION CACHE_DIR — a plugin-enabled QEMU built from Debian's
# source package of that version, for testing the plugin on QEMUs whose
# Debian binaries cannot load it (./bdtrace qemu VERSION runs this).
#
#   VERSION   a QEMU release as MAJOR.MINOR (10.0, 10.2, ...) or an exact
#             upstream version (10.2.2); the newest Debian source package of
#             it wins (trixie, trixie-backports, forky, sid and experimental
#             are searched)
#   CACHE_DIR where builds live: CACHE_DIR/qemu-<upstream version>/ is the
#             install prefix (bin/qemu-x86_64, bin/qemu-system-x86_64,
#             bin/qemu-aarch64, bin/qemu-system-aarch64)
#
# Targets: x86_64-linux-user, x86_64-softmmu, aarch64-linux-user,
# aarch64-softmmu, configured with --enable-plugins. A finished install is
# reused (delete its directory to rebuild). The install prefix is the LAST
# line of standard output; progress goes to standard error.
#
# When Debian does not serve the source of VERSION (its 11.1 files returned
# 404 here), Debian's binary system emulators of it are used instead
# (debian-qemu-system.sh: CACHE_DIR/qemu-<version>-debian/, system
# emulation only), and kept: delete that directory to try the source again.
#
# Nothing on the system changes but missing build dependencies (apt-get
# install): the source and a newer meson (QEMU >= 10 needs meson >= 1.5,
# bookworm has 1.0) come through a private apt configuration under
# CACHE_DIR/apt, and the meson lives in a private Python venv.
set -euo pipefail

usage() { echo "usage: build-qemu.sh VERSION CACHE_DIR   (e.g. build-qemu.sh 10.2 ~/.cache/bdtrace)" >&2; exit 2; }
want=${1:-}
cache=${2:-}
[ -n "$want" ] && [ -n "$cache" ] || usage
[[ $want =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || { echo "build-qemu: '$want' is not a QEMU version (MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 10.2)" >&2; exit 2; }
log() { printf 'build-qemu: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

TARGETS=x86_64-linux-user,x86_64-softmmu,aarch64-linux-user,aarch64-softmmu
# What configure and the build need beyond ./bdtrace's own packages.
BUILD_DEPS=(ninja-build python3-venv libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
            flex bison libslirp-dev dpkg-dev)
# The suites searched for the source (newest package of VERSION wins) and the
# one a meson >= 1.5 comes from.
SRC_SUITES=(trixie trixie-backports forky sid experimental)
MESON_SUITE=trixie

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
apt_dir=$cache/apt-qemu-src
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir"
          -o "Dir::Cache::archives=$apt_dir/archives" -o Debug::NoLocking=1
          -o APT::Sandbox::User=root)

# Is an install of the requested version already there? (Exact versions name
# their directory; MAJOR.MINOR takes the newest cached patch release.)
cached_prefix() {
  local d
  for d in $(ls -d "$cache"/qemu-"$want"* 2>/dev/null | sort -V -r); do
    [[ ${d##*/qemu-} =~ ^$want(\.[0-9]+)?$ ]] || continue
    [ -x "$d/bin/qemu-x86_64" ] && [ -x "$d/bin/qemu-system-x86_64" ] &&
      [ -x "$d/bin/qemu-aarch64" ] && [ -x "$d/bin/qemu-system-aarch64" ] && [ -f "$d/.complete" ] &&
      { echo "$d"; return 0; }
  done
  return 1
}
# Debian's source has no firmware blobs (--disable-install-blobs): link those
# of the installed Debian QEMU (SeaBIOS, iPXE, ... of qemu-system-x86, from
# Debian's firmware path) into the install, so that qemu-system-x86_64 -M pc
# boots without -L. Repeated on every call: packages installed later count.
link_firmware() {
  local dir=$1/share/qemu d f
  mkdir -p "$dir"
  for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
    [ -d "$d" ] || continue
    for f in "$d"/*; do
      [ -f "$f" ] && [ ! -e "$dir/${f##*/}" ] && ln -s "$f" "$dir/${f##*/}"
    done
  done
  return 0
}
if prefix=$(cached_prefix); then
  log "QEMU $want is cached: $prefix"
  link_firmware "$prefix"
  echo "$prefix"
  exit 0
fi
# Where Debian does not serve the source, its binary packages' system
# emulators (plugins enabled) are the next best: debian-qemu-system.sh,
# which also answers for a copy it cached earlier.
binary_fallback() {
  log "$1; using Debian's binary qemu-system packages of QEMU $want instead (system emulation only: Debian's qemu-user cannot load plugins)"
  exec "$(dirname "$0")/debian-qemu-system.sh" "$want" "$cache"
}
if prefix=$("$(dirname "$0")/debian-qemu-system.sh" --cached "$want" "$cache"); then
  echo "$prefix"
  exit 0
fi

missing=()
for p in "${BUILD_DEPS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing build dependencies: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi

log "looking up Debian's source packages of QEMU $want"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
{
  for s in "${SRC_SUITES[@]}"; do echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $s main"; done
  echo "deb [signed-by=$keyring] http://deb.debian.org/debian $MESON_SUITE main"
} >"$apt_dir/sources.list"
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update failed (network? Debian mirror?)"
# Debian versions look like 1:10.2.2+ds-1: the upstream version is between
# the epoch and the first '+' or '-'.
debver=$(apt-cache "${apt_opts[@]}" showsrc qemu 2>/dev/null | sed -n 's/^Version: //p' |
         awk -v w="$want" '{ u = $0; sub(/^[0-9]+:/, "", u); sub(/[+~-].*/, "", u)
                             if (u == w || index(u, w ".") == 1) print }' | sort -V | tail -n 1)
[ -n "$debver" ] || binary_fallback "no Debian source package of QEMU $want in ${SRC_SUITES[*]} (known: $(apt-cache "${apt_opts[@]}" showsrc qemu 2>/dev/null | sed -n 's/^Version: //p' | tr '\n' ' '))"
upstream=${debver#*:}
upstream=${upstream%%[+~-]*}
prefix=$cache/qemu-$upstream
work=$cache/qemu-build-$upstream
log "QEMU $upstream from Debian's source package $debver; building in $work"

# The source, unpacked once.
src=$(ls -d "$work"/qemu-"$upstream"*/ 2>/dev/null | head -n 1 || true)
if [ -z "$src" ] || [ ! -x "$src/configure" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  if ! (cd "$work" && apt-get "${apt_opts[@]}" -qq source "qemu=$debver" >&2); then
    rm -rf "$work"
    binary_fallback "fetching the source of qemu $debver failed (Debian serves 404 for some suites' files)"
  fi
  src=$(ls -d "$work"/qemu-"$upstream"*/ | head -n 1)
fi

# A meson new enough for QEMU >= 10, in a venv of its own (QEMU's configure
# builds its own venv on top of the python it is given; a .pth file in the
# system python would not reach it).
venv=$cache/qemu-meson-venv
if ! "$venv/bin/python3" -c 'import mesonbuild' 2>/dev/null; then
  log "a private meson from $MESON_SUITE (bookworm's is too old for QEMU >= 10)"
  rm -rf "$venv"
  python3 -m venv --without-pip "$venv" || die "python3 -m venv failed"
  debs=$apt_dir/debs
  rm -rf "$debs"
  mkdir -p "$debs"
  (cd "$debs" && apt-get "${apt_opts[@]}" -qq download "meson/$MESON_SUITE" >&2) || die "downloading meson failed"
  dpkg-deb -x "$debs"/meson_*.deb "$debs/x"
  site=$("$venv/bin/python3" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # mesonbuild and its egg-info (how QEMU's configure sees meson's version)
  cp -r "$debs/x/usr/lib/python3/dist-packages/." "$site/"
  install -m 0755 "$debs/x/usr/bin/meson" "$venv/bin/meson"
  sed -i "1s|.*|#!$venv/bin/python3|" "$venv/bin/meson"
  rm -rf "$debs"
fi

log "configuring (targets $TARGETS)"
rm -rf "$work/build"
mkdir -p "$work/build"
(cd "$work/build" && "$src/configure" --prefix="$prefix" --target-list="$TARGETS" --enable-plugins \
   --python="$venv/bin/python3" --disable-docs --disable-tools --disable-download --disable-install-blobs \
   --disable-werror >"$work/configure.log" 2>&1) \
  || { tail -n 30 "$work/configure.log" >&2; die "configure failed (whole log: $work/configure.log)"; }
# --disable-rust exists only where rust support does (QEMU >= 9.2); the
# default is off where it exists, so it is not passed.
log "building (log: $work/build.log; several minutes on 2 cores)"
start=$(date +%s)
(cd "$work/build" && make -j "$(nproc)" >"$work/build.log" 2>&1 && make install >>"$work/build.log" 2>&1) \
  || { tail -n 30 "$work/build.log" >&2; die "the build failed (whole log: $work/build.log)"; }
link_firmware "$prefix"
touch "$prefix/.complete"
log "built in $(( $(date +%s) - start )) s; $("$prefix/bin/qemu-x86_64" -version | head -n 1)"
rm -rf "$work"
echo "$prefix"
