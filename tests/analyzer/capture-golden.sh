#!/bin/sh
# SPDX-License-Identifier: MIT
# Captures tests/analyzer/data/small-trace (user mode, the default),
# tests/analyzer/data/system-trace (`system`: trace-gen --system, with
# sched_switch events) or tests/analyzer/data/ring-trace (`ring`: trace-gen
# --ring, ring-channel events with guest_ts) with a real lttng-sessiond.
# Run by hand (as a user allowed to trace), never from the tests:
#   tests/analyzer/capture-golden.sh BUILD_DIR [user|system|ring]
# then regenerate the expected outputs deliberately:
#   BD_UPDATE_GOLDEN=1 BUILD_DIR/tests/bin/analyzer_test
set -eu
build=${1:?usage: capture-golden.sh BUILD_DIR [user|system|ring]}
mode=${2:-user}
case "$mode" in
  user) name=small-trace; gen_args= ;;
  system) name=system-trace; gen_args=--system ;;
  ring) name=ring-trace; gen_args=--ring ;;
  *) echo "capture-golden.sh: mode must be user, system or ring" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
gen="$build/tests/bin/trace-gen"
[ -x "$gen" ] || { echo "capture-golden.sh: build trace-gen first" >&2; exit 2; }
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize
session="bd-golden-$$"
out=$(mktemp -d)
trap 'lttng destroy "$session" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
lttng create "$session" --output="$out/trace" >/dev/null
# Small sub-buffers keep the stream files a few KB; per-UID buffers give one
# trace directory. The filter keeps other processes' bdtrace events out.
lttng enable-channel -u -s "$session" --buffers-uid --subbuf-size=4096 --num-subbuf=2 ch >/dev/null
lttng enable-event -u -s "$session" -c ch 'bdtrace:*' --filter '$ctx.procname == "trace-gen"' >/dev/null
lttng start "$session" >/dev/null
"$gen" $gen_args
lttng stop "$session" >/dev/null
lttng destroy "$session" >/dev/null
rm -rf "$here/data/$name"
mkdir -p "$here/data/$name"
cp -r "$out/trace/." "$here/data/$name/"
# LTTng also writes an index directory; the analyzer does not need it.
find "$here/data/$name" -type d -name index -prune -exec rm -rf {} +
echo "captured into $here/data/$name:"
find "$here/data/$name" -type f | sort
