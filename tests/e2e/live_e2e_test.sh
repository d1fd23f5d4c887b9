#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bd-run --live and bd-analyze --live, for real: qemu-x86_64 with the
# plugin, lttng-sessiond, lttng-relayd (bd-run's own when none runs) and
# babeltrace2's lttng-live source. guest-live marks 25 times, opens a
# region and waits for a file this test writes only once bd-analyze --live
# has shown those 25 marks; then it ends the region, marks 15 times more
# and exits, the session ends, and bd-analyze --live must end with the
# report of the whole session, its counts exact.
#   live_e2e_test.sh BD_RUN BD_ANALYZE GUEST_LIVE
set -u
. "$(dirname "$0")/../support/checks.sh"
BD_RUN=$1 BD_ANALYZE=$2 GUEST_LIVE=$3
check_temp_dir live
pids=()
stop_started() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap stop_started EXIT

# wait_for FILE PATTERN SECONDS: polls FILE until a line matches PATTERN.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}
# wait_exit PID SECONDS: waits until PID ended (it is this shell's child),
# sets $status to its exit status; 1 when it still runs at the deadline.
wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
  wait "$1"
  status=$?
}

session="bdtrace-live-test-$$-$RANDOM"
# --live-wait: the guest starts once bd-analyze --live follows the session
# (babeltrace2's lttng-live attaches at the newest data: a reader that came
# later would miss the start).
"$BD_RUN" --live --live-wait --session "$session" --trace "$T/trace" -- "$GUEST_LIVE" "$T/go" >"$T/run.out" 2>"$T/run.err" &
pids+=($!)
run_pid=$!

if ! wait_for "$T/run.err" "^bd-run: live: bd-analyze --live net://localhost/host/.*/$session\$" 60; then
  fail "bd-run did not say how to follow the session:"; cat "$T/run.err"
  finish
fi

# The session's name alone: the relay daemon on this host. stdout is a
# file: one summary line per second.
"$BD_ANALYZE" --live "$session" >"$T/live.out" 2>"$T/live.err" &
pids+=($!)
analyze_pid=$!

# The guest waits, so the 25 marks can only have reached bd-analyze live.
# One summary line: the marks, the region open while the guest waits, the
# guest's thread on vCPU 0.
if ! wait_for "$T/live.out" "^live: marks 25; .*; open regions 1 (event 32 x1); vcpus 0: pid [1-9]" 60; then
  fail "bd-analyze --live did not show the guest's 25 marks and open region while it waited:"
  cat "$T/live.out" "$T/live.err"
fi
kill -0 "$run_pid" 2>/dev/null || fail "bd-run ended before the guest was told to go on"
: >"$T/go"

wait_exit "$run_pid" 120 || fail "bd-run did not end within 120 s of the guest's go"
[ "${status:-x}" = 0 ] || { fail "bd-run exited with ${status:-?}:"; cat "$T/run.err"; }
grep -qx "done" "$T/run.out" || fail "the guest did not finish: $(cat "$T/run.out")"
status=
wait_exit "$analyze_pid" 120 || fail "bd-analyze --live did not end within 120 s of the session's end"
[ "${status:-x}" = 0 ] || { fail "bd-analyze --live exited with ${status:-?}:"; cat "$T/live.err"; }

# The last summary line counts all 40 marks; the report follows it.
grep -q "^live: marks 40; " "$T/live.out" || fail "no summary line with all 40 marks: $(grep '^live:' "$T/live.out" | tail -1)"
"$BD_ANALYZE" --help >/dev/null || fail "bd-analyze --help failed"
report=$(sed '/^live: /d' "$T/live.out")
echo "$report" >"$T/report.txt"
trace_dir=$(find "$T/trace" -name metadata -printf '%h\n' 2>/dev/null | head -1)
if grep -q "an lttng-relayd already runs" "$T/run.err"; then
  echo "note: a relay daemon already ran; its output directory holds the trace: not compared"
elif [ -z "$trace_dir" ]; then
  fail "the relay daemon wrote no trace under $T/trace"
else
  # The same report from the trace on disk: the live view saw all of it.
  "$BD_ANALYZE" "$trace_dir" >"$T/disk.txt" 2>&1 || fail "bd-analyze on the relay daemon's trace failed: $(cat "$T/disk.txt")"
fi

# Exact counts: 25 + 15 marks of event 31, one region 32 begun and ended,
# one event name, nothing lost.
grep -q "^events: *[0-9]* total: 40 marks, 0 text marks, 1 region begins, 1 region ends, 1 event names, 0 rejected" \
  "$T/report.txt" || fail "the final report's event counts are wrong: $(grep '^events:' "$T/report.txt")"
grep -q "^discarded: *0 events lost" "$T/report.txt" || fail "the final report says events were lost"
grep -Eq "^ +31 +live_tick +40( |$)" "$T/report.txt" ||
  fail "the final report does not count 40 live_tick marks: $(sed -n '/^events (marks/,/^$/p' "$T/report.txt")"
if [ -s "$T/disk.txt" ]; then
  # From the session line on (the trace: lines name where it was read).
  diff <(sed -n '/^session:/,$p' "$T/report.txt") <(sed -n '/^session:/,$p' "$T/disk.txt") >"$T/diff" ||
    fail "the live report differs from the report of the trace on disk: $(cat "$T/diff")"
fi
[ "$failures" -eq 0 ] || { echo "--- bd-run stderr"; cat "$T/run.err"; echo "--- bd-analyze --live"; cat "$T/live.out" "$T/live.err"; }
finish
