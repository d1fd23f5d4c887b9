#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The DKMS source of bd_sched as installed (component dkms, the content of
# bd-sched-dkms) builds the module: install the component into a throwaway
# prefix, read dkms.conf the way DKMS does (it sources the file with
# ${kernelver} set) and run its MAKE[0] in a copy of the source, as DKMS
# does in /var/lib/dkms/<name>/<version>/build, against installed kernel
# headers (the ones the test VM image's module is built with). No root, no
# DKMS needed.
#
#   dkms_build.sh BUILD_DIR VERSION
# BD_TEST_KVER picks the kernel; else the running kernel's, else the first
# /lib/modules/*/build with a Makefile. Exits 77 (skipped) with no headers.
set -uo pipefail

BUILD=${1:?usage: dkms_build.sh BUILD_DIR VERSION}
VERSION=${2:?usage: dkms_build.sh BUILD_DIR VERSION}
T=$(mktemp -d "${TMPDIR:-/tmp}/bdtrace-dkms-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
  echo "FAIL: $*"
  exit 1
}

kver=${BD_TEST_KVER:-}
if [ -z "$kver" ]; then
  if [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
    kver=$(uname -r)
  else
    for d in /lib/modules/*/build/Makefile; do
      [ -f "$d" ] && { kver=$(basename "$(dirname "$(dirname "$d")")"); break; }
    done
  fi
fi
if [ -z "$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
  echo "SKIP: no kernel headers in /lib/modules/*/build (./bdtrace test installs the test VM kernel's)"
  exit 77
fi

cmake --install "$BUILD" --component dkms --prefix "$T/usr" >"$T/install.log" 2>&1 ||
  fail "cmake --install --component dkms failed: $(cat "$T/install.log")"
src=$T/usr/src/bd-sched-$VERSION
[ -f "$src/dkms.conf" ] || fail "no $src/dkms.conf; installed: $(cd "$T" && find . -type f)"

# What DKMS reads from dkms.conf.
conf=$(
  # shellcheck disable=SC2034  # dkms.conf reads it
  kernelver=$kver
  # shellcheck disable=SC1091
  . "$src/dkms.conf" || exit 1
  printf '%s\n' "$PACKAGE_NAME" "$PACKAGE_VERSION" "${BUILT_MODULE_NAME[0]}" "${MAKE[0]}"
) || fail "$src/dkms.conf does not source as a shell fragment"
mapfile -t conf <<<"$conf"
[ "${conf[0]}" = bd-sched ] || fail "dkms.conf PACKAGE_NAME is '${conf[0]}', expected bd-sched (the /usr/src directory's name)"
[ "${conf[1]}" = "$VERSION" ] || fail "dkms.conf PACKAGE_VERSION is '${conf[1]}', expected $VERSION"
[ "${conf[2]}" = bd_sched ] || fail "dkms.conf BUILT_MODULE_NAME[0] is '${conf[2]}', expected bd_sched"

cp -r "$src" "$T/build"
echo "building in a copy of $src for $kver: ${conf[3]}"
(cd "$T/build" && eval "${conf[3]}") >"$T/make.log" 2>&1 ||
  { cat "$T/make.log"; fail "MAKE[0] failed in the installed source (a file the module needs is not installed?)"; }
ko=$T/build/bd_sched.ko
[ -f "$ko" ] || { cat "$T/make.log"; fail "MAKE[0] succeeded but made no bd_sched.ko"; }
# The module's .modinfo section (modinfo without needing kmod installed).
objcopy -O binary --only-section=.modinfo "$ko" "$T/modinfo" || fail "bd_sched.ko has no readable .modinfo section"
vermagic=$(tr '\0' '\n' <"$T/modinfo" | sed -n 's/^vermagic=//p')
[ "${vermagic%% *}" = "$kver" ] || fail "bd_sched.ko's vermagic is '$vermagic', expected it to start with $kver"
echo "ok: bd_sched.ko for $kver built from the installed DKMS source"
