#!/bin/sh
# SPDX-License-Identifier: MIT
# The fast reader against babeltrace2 on a freshly recorded trace that holds
# every bdtrace:* event kind (trace-gen --all-kinds, under a real
# lttng-sessiond): the same events, times and field values, sequences
# included.
# Usage: ctf_lttng_test.sh CTF_DUMP TRACE_GEN
set -u
CTF_DUMP=$1
TRACE_GEN=$2
. "$(dirname "$0")/../support/checks.sh"
check_temp_dir ctf-lttng
SESSION="bd-ctf-test-$$"
trap 'lttng destroy "$SESSION" >/dev/null 2>&1; rm -rf "$T"' EXIT

lttng-sessiond --daemonize >/dev/null 2>&1 || true
# Sessions are machine-wide: record trace-gen's events only (a filter on its
# pid, known before it starts: the shell that waits for the go file execs
# it), so that other tests' events cannot make the two readings differ.
sh -c 'i=0; while [ ! -e "$1/go" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; exec "$0" --all-kinds' \
  "$TRACE_GEN" "$T" &
gen=$!
lttng create "$SESSION" --output "$T/trace" >/dev/null || { echo "FAIL: lttng create"; exit 1; }
lttng enable-event -u 'bdtrace:*' -s "$SESSION" --filter "\$ctx.vpid == $gen" >/dev/null ||
  { echo "FAIL: lttng enable-event"; exit 1; }
lttng start "$SESSION" >/dev/null || { echo "FAIL: lttng start"; exit 1; }
touch "$T/go"
wait "$gen" || fail "trace-gen --all-kinds"
lttng stop "$SESSION" >/dev/null || fail "lttng stop"
lttng destroy "$SESSION" >/dev/null || fail "lttng destroy"

found=0
for meta in $(find "$T/trace" -name metadata); do
  dir=$(dirname "$meta")
  found=$((found + 1))
  babeltrace2 --clock-cycles --no-delta --names=none "$dir" >"$T/bt.raw" 2>"$T/bt.err" || fail "babeltrace2 on $dir: $(cat "$T/bt.err")"
  # Leave out the hostname and the packet context (cpu_id), as ctf-dump does.
  sed -E 's/^(\[[0-9]+\]) [^ ]+ ([^ ]+): \{ [^}]* \}, (\{ .* \})$/\1 \2: \3/' "$T/bt.raw" | sort >"$T/bt.txt"
  "$CTF_DUMP" "$dir" >"$T/fast.raw" 2>"$T/fast.err" || fail "ctf-dump on $dir: $(cat "$T/fast.err")"
  sort "$T/fast.raw" >"$T/fast.txt"
  [ -s "$T/bt.txt" ] || fail "babeltrace2 read no events in $dir"
  cmp -s "$T/bt.txt" "$T/fast.txt" || {
    fail "ctf-dump and babeltrace2 differ on $dir:"
    diff "$T/bt.txt" "$T/fast.txt" | head -20
  }
  # Every kind is there (the comparison above would pass on an empty trace).
  for kind in session mark region_begin region_end event_name rejected rejected_total sched_switch filter \
    dropped filter_stats tb_exec tb_batch tb_counts call blob ring_dropped; do
    grep -q " bdtrace:$kind: " "$T/fast.txt" || fail "no bdtrace:$kind event in $dir"
  done
done
[ "$found" -ge 1 ] || fail "no trace recorded"
finish
