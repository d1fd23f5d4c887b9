#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ./bdtrace's help: `help` lists every command the dispatcher knows, every
# command answers -h/--help (and `help COMMAND`) with its own text and exit 0
# and starts nothing, and unknown options are errors with a hint.
#
# "Starts nothing": every program bdtrace could start (apt-get, cmake, ctest,
# lttng, QEMU...) is replaced by a stub that logs its name, and the build
# directory and cache point at paths that must stay absent.
#
#   help_test.sh PATH/TO/bdtrace
set -uo pipefail

BDTRACE=${1:?usage: help_test.sh PATH/TO/bdtrace}
# shellcheck source=../support/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
check_temp_dir help-test

mkdir "$T/stubs"
for prog in apt-get sudo dpkg-query cmake ctest make lttng lttng-sessiond \
            qemu-x86_64 qemu-system-x86_64 babeltrace2; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/started"\nexit 1\n' "$prog" "$T" >"$T/stubs/$prog"
  chmod +x "$T/stubs/$prog"
done
export PATH="$T/stubs:$PATH"
export BDTRACE_BUILD_DIR="$T/build"
export BDTRACE_CACHE="$T/cache"
unset CI

# run ARGS...: runs bdtrace; sets rc, out, err.
run() {
  "$BDTRACE" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  out=$(cat "$T/out")
  err=$(cat "$T/err")
}

# The commands, read from the dispatcher (the case on "$cmd" at the end of
# the script), so that a command added there without help fails this test.
# shellcheck disable=SC2016  # the $ is sed's, matched literally
mapfile -t commands < <(sed -n '/^case "\$cmd" in/,/^esac/p' "$BDTRACE" |
                        sed -n 's/^  \([a-z][a-z_-]*\)).*/\1/p')
[ ${#commands[@]} -ge 6 ] || fail "found only ${#commands[@]} commands in the dispatcher: ${commands[*]}"
echo "commands: ${commands[*]}"

# The overview: `help`, no command, -h, --help.
for args in help "" -h --help; do
  # shellcheck disable=SC2086  # "" means no argument
  run $args
  [ $rc -eq 0 ] || fail "'bdtrace $args' exited $rc"
  [ -z "$err" ] || fail "'bdtrace $args' wrote to stderr: $err"
  for c in "${commands[@]}"; do
    grep -Eq "^  $c( |\$)" <<<"$out" || fail "'bdtrace $args' does not list the command '$c'"
  done
done

# Each command's own help.
for c in "${commands[@]}"; do
  run help "$c"
  page=$out
  [ $rc -eq 0 ] || fail "'bdtrace help $c' exited $rc"
  grep -q "^Usage: ./bdtrace $c" <<<"$page" || fail "'bdtrace help $c' has no usage line: $page"
  grep -q -- "--help" <<<"$page" || fail "'bdtrace help $c' does not mention --help"
  for flag in -h --help; do
    run "$c" "$flag"
    [ $rc -eq 0 ] || fail "'bdtrace $c $flag' exited $rc (stderr: $err)"
    [ -z "$err" ] || fail "'bdtrace $c $flag' wrote to stderr: $err"
    [ "$out" = "$page" ] || fail "'bdtrace $c $flag' differs from 'bdtrace help $c'"
  done
done

# Options documented on the pages.
run help demo
grep -q -- "--system" <<<"$out" || fail "demo's help does not document --system"
run help test
grep -q "CTEST_ARGS" <<<"$out" || fail "test's help does not document its ctest arguments"

# --help among other arguments still only prints help.
for args in "demo --system --help" "demo --help --system" "test -R guest --help" "test -h -R x" \
            "qemu 10.2 --help"; do
  # shellcheck disable=SC2086
  run $args
  [ $rc -eq 0 ] || fail "'bdtrace $args' exited $rc (stderr: $err)"
  grep -q "^Usage: ./bdtrace ${args%% *}" <<<"$out" || fail "'bdtrace $args' printed no help: $out"
done

# Unknown options and commands: exit 2 with a hint, still nothing started.
for args in "build --bogus" "bench --bogus" "deps --bogus" "demo --bogus" "demo extra" "build extra" \
            "qemu" "qemu --bogus" "qemu 10.2 11.0" "qemu latest"; do
  # shellcheck disable=SC2086
  run $args
  c=${args%% *}
  [ $rc -eq 2 ] || fail "'bdtrace $args' exited $rc, expected 2"
  grep -q "bdtrace: error: $c: .*(see: ./bdtrace $c --help)" <<<"$err" ||
    fail "'bdtrace $args' gave no hint: $err"
done
for args in "no-such-command" "help no-such-command"; do
  # shellcheck disable=SC2086
  run $args
  [ $rc -eq 2 ] || fail "'bdtrace $args' exited $rc, expected 2"
  grep -q "unknown command 'no-such-command' (see: ./bdtrace help)" <<<"$err" ||
    fail "'bdtrace $args' gave no hint: $err"
done

# Nothing was started, built or fetched.
[ ! -e "$T/started" ] || fail "help started programs: $(cat "$T/started")"
[ ! -e "$T/build" ] || fail "help created the build directory $T/build"
[ ! -e "$T/cache" ] || fail "help created the cache $T/cache"

finish
