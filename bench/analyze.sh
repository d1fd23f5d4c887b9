#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/analyze.sh BUILD_DIR — bd-analyze against babeltrace2 (issue #15).
#
# For each size (1 M, 10 M and 100 M events by default) generates one trace
# natively (trace-gen, the provider linked into a plain program) in its own
# LTTng session, then reads it, one after the other in the same run, with:
#   bd-analyze --reader fast          bdtrace's own CTF decoding
#   bd-analyze --reader babeltrace2   libbabeltrace2's source and muxer
#   babeltrace2 -c sink.utils.counter decoding without printing: the
#                                     fastest a babeltrace2 graph reads
# each making the summary report (the counter: counting), and prints
# events/s, peak RSS and the ratios to the counter. The issue's target: the
# fast reader at >= 3x the counter's events/s, peak RSS <= 64 MB and flat
# from the smallest to the largest size. Informational: exits non-zero only
# when a step fails to run. A trace of 100 M events takes ~7 GB in /tmp
# while its size is measured.
#
#   BD_BENCH_AN_SIZES    event counts, space-separated (default "1000000 10000000 100000000")
#   BD_BENCH_AN_KEEP     keep the traces (set: any value)
set -euo pipefail

BUILD=${1:?usage: bench/analyze.sh BUILD_DIR}
# shellcheck source=bench/build_dirs.sh
. "$(dirname "${BASH_SOURCE[0]}")/build_dirs.sh"
SIZES=${BD_BENCH_AN_SIZES:-1000000 10000000 100000000}
WORK=$(mktemp -d /tmp/bdbench-an.XXXXXX)
SESSION="bdbench-an-$$"
cleanup() {
  lttng destroy "$SESSION" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
KEEP=${BD_BENCH_AN_KEEP:-}

log() { printf 'bench: %s\n' "$*" >&2; }

# generate N DIR: a trace of ~N bdtrace:* events in DIR.
generate() {
  log "analyzer: generating a trace of ~$1 events"
  lttng create "$SESSION" --output "$2" >/dev/null
  lttng enable-channel -u --buffers-uid --subbuf-size 4M --num-subbuf 8 -s "$SESSION" ch >/dev/null
  lttng enable-event -u 'bdtrace:*' -s "$SESSION" -c ch >/dev/null
  lttng start "$SESSION" >/dev/null
  # trace-gen writes the small golden set plus EXTRA marks.
  "$TESTS_BIN/trace-gen" "$1" >/dev/null
  lttng stop "$SESSION" >/dev/null
  lttng destroy "$SESSION" >/dev/null
}

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

rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }
events_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["events"])' "$1"; }

results=()
for size in $SIZES; do
  trace="$WORK/trace-$size"
  generate "$size" "$trace"
  # Once through the page cache before any reader is timed: the first read
  # of files LTTng just wrote runs ~2x slower whoever makes it (measured:
  # the fast reader 2.3 s first, 1.0 s after), which would favour whoever
  # comes second.
  find "$trace" -type f -exec cat {} + >/dev/null
  log "analyzer: bd-analyze --reader fast"
  run fast "$BUILD/bin/bd-analyze" --no-progress --reader fast --report summary --format json "$trace"
  log "analyzer: bd-analyze --reader babeltrace2"
  run bda "$BUILD/bin/bd-analyze" --no-progress --reader babeltrace2 --report summary --format json "$trace"
  cmp -s "$WORK/fast.out" "$WORK/bda.out" || log "the two readers' reports differ for $size events"
  read_events=$(events_of "$WORK/fast.out")
  log "analyzer: babeltrace2 -c sink.utils.counter"
  inputs=()
  while IFS= read -r m; do inputs+=("$(dirname "$m")"); done < <(find "$trace" -name metadata)
  run bt babeltrace2 -c source.ctf.fs --params "inputs=[\"$(IFS=,; echo "${inputs[*]}" | sed 's/,/","/g')\"]" \
    -c sink.utils.counter --params step=+0
  counted=$(awk '/Event messages/ {n = $1} END {print n + 0}' "$WORK/bt.out")
  [ "$read_events" = "$counted" ] || log "bd-analyze read $read_events events, babeltrace2 counted $counted"
  trace_mb=$(du -sm "$trace" | cut -f1)
  [ -n "$KEEP" ] || rm -rf "$trace"
  results+=("$read_events $trace_mb $fast_s $fast_kb $bda_s $bda_kb $bt_s $bt_kb")
done

printf '\nanalyzer bench — %s, %s CPUs, one run of each reader per trace\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)"
printf '%-12s %8s  %-36s %9s %14s %9s %9s\n' events MB reader seconds events/s "RSS MB" "vs counter"
for r in "${results[@]}"; do
  read -r n mb fs fk bs bk cs ck <<<"$r"
  for row in "bd-analyze --reader fast:$fs:$fk" "bd-analyze --reader babeltrace2:$bs:$bk" \
    "babeltrace2 -c sink.utils.counter:$cs:$ck"; do
    IFS=: read -r name s kb <<<"$row"
    printf '%-12s %8s  %-36s %9s %14s %9s %8.2fx\n' "$n" "$mb" "$name" "$s" "$(rate "$n" "$s")" \
      "$((kb / 1024))" "$(python3 -c "print($cs/$s)")"
  done
done
python3 - "${results[@]}" <<'PY'
import sys
rows = [list(map(float, r.split())) for r in sys.argv[1:]]
speeds = [r[6] / r[2] for r in rows]
rss = [r[3] / 1024 for r in rows]
print(f"{'fast reader vs counter (events/s)':44s} {min(speeds):6.2f}x at worst   target >= 3x   "
      f"{'PASS' if min(speeds) >= 3 else 'MISS'}")
flat = max(rss) <= 64 and (len(rss) < 2 or max(rss) <= 1.25 * min(rss) + 2)
print(f"{'fast reader peak RSS':44s} {', '.join(f'{x:.0f}' for x in rss)} MB   target <= 64 MB, flat   "
      f"{'PASS' if flat else 'MISS'}")
PY
