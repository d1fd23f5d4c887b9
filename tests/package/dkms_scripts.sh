#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bd-sched-dkms's maintainer scripts (cmake/deb/bd-sched-dkms.*.in, as
# configured into BUILD_DIR/deb/bd-sched-dkms) do what the package promises,
# without root: run against a stub `dkms` that logs its calls (and fails
# where a case says so) and a stub `uname` naming the running kernel:
#   - headers for the running kernel: add, build and install for it;
#   - a build that fails: the installation still succeeds, with a message;
#   - no headers: only add, the installation succeeds, with a message;
#   - registered already (reinstall): no second add;
#   - prerm: remove --all when registered, nothing when not.
#
#   dkms_scripts.sh BUILD_DIR VERSION
# Exits 77 (skipped) when no /lib/modules/*/build has a Makefile.
set -uo pipefail

BUILD=${1:?usage: dkms_scripts.sh BUILD_DIR VERSION}
VERSION=${2:?usage: dkms_scripts.sh BUILD_DIR VERSION}
SCRIPTS=$BUILD/deb/bd-sched-dkms
# shellcheck source=../support/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
check_temp_dir dkms-scripts

for s in postinst prerm; do
  [ -f "$SCRIPTS/$s" ] || { echo "FAIL: no $SCRIPTS/$s (configure the build)"; exit 1; }
done

with_headers=
for d in /lib/modules/*/build/Makefile; do
  [ -f "$d" ] && { with_headers=$(basename "$(dirname "$(dirname "$d")")"); break; }
done
[ -n "$with_headers" ] || { echo "SKIP: no kernel headers in /lib/modules/*/build"; exit 77; }

# Stubs: dkms logs "dkms ARGS" to $T/calls; `dkms status` prints
# $T/status; DKMS_FAIL=build makes `dkms build` fail. uname -r prints $KVER.
mkdir "$T/bin"
cat >"$T/bin/dkms" <<EOF_STUB
#!/bin/sh
echo "dkms \$*" >>"$T/calls"
case "\$1" in
  status) cat "$T/status" 2>/dev/null ;;
  "\${DKMS_FAIL:-none}") exit 1 ;;
esac
exit 0
EOF_STUB
# shellcheck disable=SC2016  # $KVER is the stub's, expanded when it runs
printf '#!/bin/sh\necho "$KVER"\n' >"$T/bin/uname"
chmod +x "$T/bin/dkms" "$T/bin/uname"

# run CASE SCRIPT ARG STATUS KVER [DKMS_FAIL]: one run; sets rc, calls, err.
run() {
  local case=$1 script=$2 arg=$3 status=$4 kver=$5 dkms_fail=${6:-none}
  rm -f "$T/calls"
  printf '%s' "$status" >"$T/status"
  PATH="$T/bin:$PATH" KVER=$kver DKMS_FAIL=$dkms_fail sh "$SCRIPTS/$script" "$arg" 2>"$T/err"
  rc=$?
  calls=$(grep -v '^dkms status' "$T/calls" 2>/dev/null)
  err=$(cat "$T/err")
  echo "-- $case: exit $rc; calls: $(tr '\n' ';' <<<"$calls")"
}
id="-m bd-sched -v $VERSION"

run "headers present" postinst configure "" "$with_headers"
[ $rc -eq 0 ] || fail "postinst exited $rc"
[ "$calls" = "dkms add $id
dkms build $id -k $with_headers
dkms install $id -k $with_headers" ] || fail "with headers, postinst called: $calls"

run "build fails" postinst configure "" "$with_headers" build
[ $rc -eq 0 ] || fail "postinst exited $rc when the build failed (must not fail the installation)"
grep -q "did not build for kernel $with_headers" <<<"$err" || fail "no message when the build failed: $err"
grep -q "dkms install $id" <<<"$calls" && fail "postinst installed a module that did not build"

run "no headers" postinst configure "" "0.0.0-no-such-kernel"
[ $rc -eq 0 ] || fail "postinst exited $rc without headers"
[ "$calls" = "dkms add $id" ] || fail "without headers, postinst called: $calls"
grep -q "no headers for the running kernel 0.0.0-no-such-kernel" <<<"$err" || fail "no message without headers: $err"

run "reinstall" postinst configure "bd-sched/$VERSION: added" "0.0.0-no-such-kernel"
[ $rc -eq 0 ] || fail "postinst exited $rc when registered already"
[ -z "$calls" ] || fail "registered already, postinst called: $calls"

run "prerm registered" prerm remove "bd-sched/$VERSION: added" "$with_headers"
[ $rc -eq 0 ] || fail "prerm exited $rc"
[ "$calls" = "dkms remove $id --all" ] || fail "prerm called: $calls"

run "prerm not registered" prerm remove "" "$with_headers"
[ $rc -eq 0 ] || fail "prerm exited $rc"
[ -z "$calls" ] || fail "not registered, prerm called: $calls"

finish
