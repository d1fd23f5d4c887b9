#!/bin/sh
# SPDX-License-Identifier: MIT
# The fast reader against babeltrace2 on freshly recorded traces (real
# lttng-sessiond): one that holds every bdtrace:* event kind (trace-gen
# --all-kinds): the same events, times and field values, sequences
# included; and one recorded into tiny sub-buffers in discard mode (a
# flood of marks): the same events and the same discarded-events reports.
# Then bd-analyze's reports of both traces, every kind and format, read by
# the fast reader and by babeltrace2: the same bytes (readers_agree.sh).
# Usage: ctf_lttng_test.sh CTF_DUMP TRACE_GEN BD_ANALYZE
set -u
CTF_DUMP=$1
TRACE_GEN=$2
BD_ANALYZE=$3
. "$(dirname "$0")/../support/checks.sh"
. "$(dirname "$0")/readers_agree.sh"
check_temp_dir ctf-lttng
SESSION="bd-ctf-test-$$"
trap 'lttng destroy "$SESSION" >/dev/null 2>&1; rm -rf "$T"' EXIT
lttng-sessiond --daemonize >/dev/null 2>&1 || true

# record NAME CHANNEL_OPTIONS TRACE_GEN_ARGS: a trace of trace-gen's events
# only in $T/NAME. Sessions are machine-wide: a filter on trace-gen's pid
# (known before it starts: the shell that waits for the go file execs it)
# keeps other tests' events out of the comparison.
record() {
  name=$1
  channel_options=$2
  shift 2
  sh -c 'i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; shift; exec "$@"' \
    sh "$T/go-$name" "$TRACE_GEN" "$@" >/dev/null &
  gen=$!
  # shellcheck disable=SC2086 # channel_options is a list of options
  if lttng create "$SESSION" --output "$T/$name" >/dev/null &&
    lttng enable-channel -u -s "$SESSION" $channel_options ch >/dev/null &&
    lttng enable-event -u 'bdtrace:*' -s "$SESSION" -c ch --filter "\$ctx.vpid == $gen" >/dev/null &&
    lttng start "$SESSION" >/dev/null; then
    touch "$T/go-$name"
    wait "$gen" || fail "trace-gen $*"
    lttng stop "$SESSION" >/dev/null || fail "lttng stop"
  else
    fail "cannot record $name"
    touch "$T/go-$name"
    wait "$gen"
  fi
  lttng destroy "$SESSION" >/dev/null 2>&1
}

# compare NAME [times]: ctf-dump's and babeltrace2's readings of $T/NAME's
# traces are the same (sorted: equal times may be ordered differently);
# with "times", event times and names only. (babeltrace2 2.0's text output
# shows an empty string field as the previous non-empty value of that
# field, a known bug of its: in a trace where an empty text follows a
# non-empty one only times and names can be compared.)
compare() {
  keep='s/^(\[[0-9]+\] [^ ]+:) .*$/\1/'
  [ "${2:-}" = times ] || keep='s/^//'
  found=0
  find "$T/$1" -name metadata >"$T/metadata-files"
  while IFS= read -r meta; do
    dir=$(dirname "$meta")
    found=$((found + 1))
    babeltrace2 --clock-cycles --no-delta --names=none "$dir" >"$T/bt.raw" 2>"$T/bt.err" ||
      fail "babeltrace2 on $dir: $(cat "$T/bt.err")"
    # Leave out the hostname and the packet context (cpu_id), as ctf-dump does.
    sed -E 's/^(\[[0-9]+\]) [^ ]+ ([^ ]+): \{ [^}]* \}, (\{ .* \})$/\1 \2: \3/' "$T/bt.raw" | sed -E "$keep" |
      sort >"$T/bt.txt"
    # Its discarded-events reports, from its warnings: one count per line.
    sed -nE 's/.*Tracer discarded ([0-9]+) events? .*/\1/p' "$T/bt.err" | sort -n >"$T/bt.lost"
    "$CTF_DUMP" "$dir" >"$T/fast.raw" 2>"$T/fast.err" || fail "ctf-dump on $dir: $(cat "$T/fast.err")"
    grep -v '^discarded ' "$T/fast.raw" | sed -E "$keep" | sort >"$T/fast.txt"
    sed -n 's/^discarded //p' "$T/fast.raw" | sort -n >"$T/fast.lost"
    [ -s "$T/bt.txt" ] || fail "babeltrace2 read no events in $dir"
    cmp -s "$T/bt.txt" "$T/fast.txt" || {
      fail "ctf-dump and babeltrace2 read different events in $dir:"
      diff "$T/bt.txt" "$T/fast.txt" | head -20
    }
    cmp -s "$T/bt.lost" "$T/fast.lost" || {
      fail "ctf-dump and babeltrace2 report different discarded events in $dir:"
      diff "$T/bt.lost" "$T/fast.lost" | head -20
    }
  done <"$T/metadata-files"
  [ "$found" -ge 1 ] || fail "no trace recorded in $T/$1"
}

record all-kinds "" --all-kinds
compare all-kinds
# Every kind is there (the comparison alone would pass on an empty trace).
for kind in session mark region_begin region_end event_name rejected rejected_total sched_switch filter \
  dropped filter_stats tb_exec tb_batch tb_counts call blob ring_dropped; do
  grep -q " bdtrace:$kind: " "$T/fast.txt" || fail "no bdtrace:$kind event in the all-kinds trace"
done

readers_agree "$BD_ANALYZE" "$T/all-kinds"

record discards "--buffers-uid --subbuf-size 4096 --num-subbuf 2 --discard" 300000
compare discards times
[ -s "$T/fast.lost" ] || fail "the flood into tiny sub-buffers lost no events: the discard case was not tested"
readers_agree "$BD_ANALYZE" "$T/discards"
readers_agree "$BD_ANALYZE" "$T/all-kinds" "$T/discards"
finish
