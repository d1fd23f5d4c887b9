#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# with-qemu-builds.sh [--system] TEST_BINARY [ARGS...] — runs an end-to-end
# test binary once per QEMU install of `./bdtrace qemu VERSION`, each time
# with BD_TEST_QEMU_PREFIX naming that install (support.h:
# with_qemu_under_test then hands its qemu-x86_64 / qemu-system-x86_64 to
# every bd-run), so the same checks that run on Debian's QEMU 7.2 run on
# every newer QEMU.
#
# --system: the test runs whole VMs only (bd-run --system). It then runs on
# every install, the system-emulation-only ones included (Debian's binary
# packages of a QEMU whose source Debian does not serve, e.g. 11.1:
# tools/qemu/debian-qemu-system.sh; they have no qemu-x86_64). Without it
# those installs are skipped, and the output says so.
#
# BD_TEST_QEMU_BUILDS: the install prefixes, space-separated (./bdtrace test
# builds them and sets it). Unset or empty is a failure, not a pass: a
# suite run without it has not tested the newer QEMUs; so is a run in which
# no install qualified.
set -uo pipefail
system=0
if [ "${1:-}" = --system ]; then
  system=1
  shift
fi
[ $# -ge 1 ] || { echo "usage: with-qemu-builds.sh [--system] TEST_BINARY [ARGS...]" >&2; exit 2; }
builds=${BD_TEST_QEMU_BUILDS:-}
if [ -z "$builds" ]; then
  echo "BD_TEST_QEMU_BUILDS is not set: run the tests through ./bdtrace test (it builds QEMU with ./bdtrace qemu)" >&2
  exit 1
fi
failed=0
ran=0
for prefix in $builds; do
  if [ $system -eq 1 ]; then
    qemu=$prefix/bin/qemu-system-x86_64
  else
    qemu=$prefix/bin/qemu-x86_64
    if [ ! -x "$qemu" ] && [ -x "$prefix/bin/qemu-system-x86_64" ]; then
      echo "=== skipped: $prefix has system emulators only ($("$prefix/bin/qemu-system-x86_64" -version | head -n 1))"
      continue
    fi
  fi
  echo "=== $("$qemu" -version | head -n 1) ($prefix)"
  ran=$((ran + 1))
  if ! BD_TEST_QEMU_PREFIX=$prefix "$@"; then
    echo "=== FAILED with $prefix"
    failed=1
  fi
done
if [ $ran -eq 0 ]; then
  echo "no QEMU install in BD_TEST_QEMU_BUILDS ($builds) can run this test" >&2
  exit 1
fi
exit $failed
