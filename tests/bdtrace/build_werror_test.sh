#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ./bdtrace build and -Werror: with CI set, a build directory configured
# without -DBDTRACE_WERROR=ON is re-configured with it before it is built (CI
# must fail on a warning, also in a build directory it did not create);
# without CI the build keeps what the directory was configured with, and a
# new directory gets OFF.
#
# cmake and dpkg-query are stubs (every package "installed"; cmake logs its
# arguments and succeeds), so only ./bdtrace's own decisions run: what it
# asks cmake to do, in which order.
#
#   build_werror_test.sh PATH/TO/bdtrace
set -uo pipefail

BDTRACE=${1:?usage: build_werror_test.sh PATH/TO/bdtrace}
# shellcheck source=../support/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
check_temp_dir werror-test

mkdir "$T/stubs"
printf '#!/bin/sh\necho "install ok installed"\n' >"$T/stubs/dpkg-query"
printf '#!/bin/sh\necho "cmake $*" >>"%s/cmake.log"\nexit 0\n' "$T" >"$T/stubs/cmake"
chmod +x "$T/stubs/dpkg-query" "$T/stubs/cmake"
export PATH="$T/stubs:$PATH"
export BDTRACE_CACHE="$T/cache"

# build_with CACHED CI: runs `./bdtrace build` on a build directory whose
# cache says BDTRACE_WERROR:BOOL=CACHED ("none": no cache, a new directory),
# with CI=CI (empty: unset). Sets rc, calls (the cmake calls, one a line).
build_with() {
  local cached=$1 ci=$2 dir
  dir=$(mktemp -d "$T/build.XXXXXX")
  rm -f "$T/cmake.log"
  if [ "$cached" != none ]; then
    printf 'CMAKE_BUILD_TYPE:STRING=RelWithDebInfo\nBDTRACE_WERROR:BOOL=%s\n' "$cached" >"$dir/CMakeCache.txt"
  else
    rmdir "$dir"
  fi
  if [ -n "$ci" ]; then
    CI=$ci BDTRACE_BUILD_DIR=$dir "$BDTRACE" build >"$T/out" 2>&1
  else
    (unset CI; BDTRACE_BUILD_DIR=$dir "$BDTRACE" build >"$T/out" 2>&1)
  fi
  rc=$?
  calls=$(cat "$T/cmake.log" 2>/dev/null)
  [ $rc -eq 0 ] || fail "build (cache $cached, CI '$ci') exited $rc: $(cat "$T/out")"
  tail -n 1 <<<"$calls" | grep -q -- "^cmake --build " ||
    fail "build (cache $cached, CI '$ci') did not end with cmake --build: $calls"
}

# configures CALLS VALUE: CALLS hold a configure with -DBDTRACE_WERROR=VALUE.
configures() {
  grep -q -- "^cmake -S .* -DBDTRACE_WERROR=$2\( \|\$\)" <<<"$1"
}

# CI on a directory configured without -Werror: re-configured with it first.
build_with OFF true
configures "$calls" ON || fail "CI=true on a directory configured OFF: no re-configure with ON: $calls"
[ "$(grep -c -- '^cmake -S' <<<"$calls")" -eq 1 ] || fail "CI=true on OFF: expected one configure: $calls"
grep -q "re-configuring .* -DBDTRACE_WERROR=ON" "$T/out" || fail "CI=true on OFF: the re-configure is not announced: $(cat "$T/out")"

# CI on a directory already ON, and without CI either way: no configure.
for c in "ON true" "ON " "OFF "; do
  read -r cached ci <<<"$c"
  build_with "$cached" "${ci:-}"
  ! grep -q -- '^cmake -S' <<<"$calls" ||
    fail "cache $cached, CI '${ci:-}': re-configured though nothing asked for it: $calls"
done

# A new directory: ON under CI, OFF otherwise.
build_with none true
configures "$calls" ON || fail "CI=true on a new directory: not configured with ON: $calls"
build_with none ""
configures "$calls" OFF || fail "a new directory without CI: not configured with OFF: $calls"

finish
