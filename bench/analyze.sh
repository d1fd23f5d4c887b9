#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/analyze.sh BUILD_DIR — bd-analyze against babeltrace2 on one trace.
#
# Generates one trace of ~10 M bdtrace:* events natively (trace-gen, the
# provider linked into a plain program) in its own LTTng session, then reads
# it once with `bd-analyze --report summary` and once with
# `babeltrace2 -c sink.utils.counter` (decoding without printing: the fastest
# a babeltrace2 graph reads), and prints events/s, peak RSS and the ratios.
# Informational: exits non-zero only when a step fails to run.
#
#   BD_BENCH_AN_EVENTS   events to generate (default 10000000)
set -euo pipefail

BUILD=${1:?usage: bench/analyze.sh BUILD_DIR}
# shellcheck source=bench/build_dirs.sh
. "$(dirname "${BASH_SOURCE[0]}")/build_dirs.sh"
EVENTS=${BD_BENCH_AN_EVENTS:-10000000}
WORK=$(mktemp -d /tmp/bdbench-an.XXXXXX)
SESSION="bdbench-an-$$"
cleanup() {
  lttng destroy "$SESSION" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
KEEP=${BD_BENCH_AN_KEEP:-}

log() { printf 'bench: %s\n' "$*" >&2; }

log "analyzer: generating a trace of ~$EVENTS events"
lttng create "$SESSION" --output "$WORK/trace" >/dev/null
lttng enable-channel -u --buffers-uid --subbuf-size 4M --num-subbuf 8 -s "$SESSION" ch >/dev/null
lttng enable-event -u 'bdtrace:*' -s "$SESSION" -c ch >/dev/null
lttng start "$SESSION" >/dev/null
# trace-gen writes the small golden set plus EXTRA marks.
"$TESTS_BIN/trace-gen" "$EVENTS" >/dev/null
lttng stop "$SESSION" >/dev/null
lttng destroy "$SESSION" >/dev/null

# run NAME CMD...: wall seconds and peak RSS (KiB) of one run, via GNU time.
run() {
  local name=$1
  shift
  /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
    log "$name failed:"
    cat "$WORK/$name.err" >&2
    exit 1
  }
  read -r "${name}_s" "${name}_kb" <"$WORK/$name.time"
}

log "analyzer: bd-analyze --report summary"
run bda "$BUILD/bin/bd-analyze" --no-progress --report summary --format json "$WORK/trace"
read_events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["events"])' "$WORK/bda.out")

log "analyzer: babeltrace2 -c sink.utils.counter"
inputs=()
while IFS= read -r m; do inputs+=("$(dirname "$m")"); done < <(find "$WORK/trace" -name metadata)
run bt babeltrace2 -c source.ctf.fs --params "inputs=[\"$(IFS=,; echo "${inputs[*]}" | sed 's/,/","/g')\"]" \
  -c sink.utils.counter --params step=+0
counted=$(awk '/Event messages/ {n = $1} END {print n + 0}' "$WORK/bt.out")

# The fast reader (analyzer/ctf) as far as it goes today: metadata parsed,
# every packet and event decoded, events counted (not yet into a report).
log "analyzer: fast reader's packet walker (ctf-dump --count)"
run fast sh -c 'for d; do "$0" --count "$d" || exit 1; done' "$TESTS_BIN/ctf-dump" "${inputs[@]}"
walked=$(awk '{n += $2} END {print n + 0}' "$WORK/fast.out")

trace_mb=$(du -sm "$WORK/trace" | cut -f1)
printf '\nanalyzer bench — %s, %s CPUs, one run each, trace of %s events (%s MB)\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$read_events" "$trace_mb"
printf '%-44s %12s %14s %12s\n' reader "seconds" "events/s" "peak RSS"
rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }
printf '%-44s %12s %14s %9s MB\n' "bd-analyze --report summary" "$bda_s" "$(rate "$read_events" "$bda_s")" \
  "$((bda_kb / 1024))"
printf '%-44s %12s %14s %9s MB\n' "babeltrace2 -c sink.utils.counter" "$bt_s" "$(rate "$counted" "$bt_s")" \
  "$((bt_kb / 1024))"
printf '%-44s %12s %14s %9s MB\n' "fast reader, packet walker only (ctf-dump)" "$fast_s" \
  "$(rate "$walked" "$fast_s")" "$((fast_kb / 1024))"
[ "$walked" = "$counted" ] || log "the fast reader counted $walked events, babeltrace2 $counted"
python3 - "$bda_s" "$bt_s" "$bda_kb" "$bt_kb" <<'PY'
import sys
bda_s, bt_s, bda_kb, bt_kb = map(float, sys.argv[1:])
speed = bt_s / bda_s
print(f"{'speed: bd-analyze / babeltrace2 counter':44s} {speed:11.2f}x   target >= 1x  {'PASS' if speed >= 1 else 'MISS'}")
print(f"{'peak RSS: bd-analyze / babeltrace2 counter':44s} {bda_kb / bt_kb:11.2f}x")
PY
