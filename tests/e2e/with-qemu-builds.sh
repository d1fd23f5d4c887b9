#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# with-qemu-builds.sh TEST_BINARY [ARGS...] — runs an end-to-end test binary
# once per QEMU built by `./bdtrace qemu VERSION`, each time with
# BD_TEST_QEMU_PREFIX naming that install (support.h: with_qemu_under_test
# then hands its qemu-x86_64 / qemu-system-x86_64 to every bd-run), so the
# same checks that run on Debian's QEMU 7.2 run on every newer QEMU.
#
# BD_TEST_QEMU_BUILDS: the install prefixes, space-separated (./bdtrace test
# builds them and sets it). Unset or empty is a failure, not a pass: a
# suite run without it has not tested the newer QEMUs.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: with-qemu-builds.sh TEST_BINARY [ARGS...]" >&2; exit 2; }
builds=${BD_TEST_QEMU_BUILDS:-}
if [ -z "$builds" ]; then
  echo "BD_TEST_QEMU_BUILDS is not set: run the tests through ./bdtrace test (it builds QEMU with ./bdtrace qemu)" >&2
  exit 1
fi
failed=0
for prefix in $builds; do
  echo "=== $("$prefix/bin/qemu-x86_64" -version | head -n 1) ($prefix)"
  if ! BD_TEST_QEMU_PREFIX=$prefix "$@"; then
    echo "=== FAILED with $prefix"
    failed=1
  fi
done
exit $failed
