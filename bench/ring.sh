#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/ring.sh BUILD_DIR — the ring channel (<bd/ring.h>) side by side with
# the trap channel and a native LTTng-UST tracepoint, all recorded by
# bd-run's own LTTng sessions in this one run:
#   - ns per recorded mark on the guest thread: ring natively, ring under
#     Debian 12's qemu-x86_64 7.2 and under Debian's QEMU 10.0 (no plugin
#     support), the trap under 7.2, and the native tracepoint; the other
#     guest architectures' rings (qemu-ARCH 7.2 and 10.0) in the same
#     alternation. Ring marks in
#     the steady state: bursts of half a default ring (8192 marks) with a
#     pause after each for the consumer to drain, best burst of 30, so the
#     ring's pages were touched in an earlier lap; and the first lap alone
#     (a ring big enough for every mark, each page touched for the first
#     time: a page fault per 64 marks);
#   - bd-ring-consumer's throughput (records/s it validates and emits);
#   - the flood (4 threads, 1 M marks/s, 10 s) over the ring under QEMU:
#     dropped marks, LTTng discards and the emission delay.
# Informational (PASS/MISS against the targets of the ring issue); exits
# non-zero only when a step fails to run.
#
# Environment: BD_TEST_QEMU_10 (./bdtrace bench sets it), BD_BENCH_RING_N
# (200000 marks per repetition), BD_BENCH_REPS (5), BD_BENCH_ALT (3
# alternating runs, best kept), BD_BENCH_FLOOD_SECONDS (10),
# BD_BENCH_FLOOD_RATE (1000000), BD_BENCH_FLOOD_THREADS (4), BD_BENCH_ARCHES
# (the other guest architectures: default BDTRACE_GUEST_ARCHES of BUILD_DIR's
# CMake cache; each needs BUILD_DIR/bench/bin/ARCH/bench-guest-marks and qemu-ARCH,
# else its row says why it was skipped), QEMU_<ARCH> (default qemu-<arch>).
set -uo pipefail

BUILD=${1:?usage: bench/ring.sh BUILD_DIR}
# shellcheck source=bench/build_dirs.sh
. "$(dirname "${BASH_SOURCE[0]}")/build_dirs.sh"
BIN=$BENCH_BIN
BDRUN=$BUILD/bin/bd-run
N=${BD_BENCH_RING_N:-200000}
REPS=${BD_BENCH_REPS:-5}
ALT=${BD_BENCH_ALT:-3}
FLOOD_SECONDS=${BD_BENCH_FLOOD_SECONDS:-10}
FLOOD_RATE=${BD_BENCH_FLOOD_RATE:-1000000}
FLOOD_THREADS=${BD_BENCH_FLOOD_THREADS:-4}
QEMU10=${BD_TEST_QEMU_10:-}
WORK=$(mktemp -d /tmp/bdbench-ring.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
log() { printf 'bench: %s\n' "$*" >&2; }
FAILED=0
if [ -z "${BD_BENCH_ARCHES+set}" ]; then
  BD_BENCH_ARCHES=$(sed -n 's/^BDTRACE_GUEST_ARCHES:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null | tr ';' ' ')
fi
read -r -a ARCHES <<<"$BD_BENCH_ARCHES"
# The other architectures that can run (ARCH_OK), with their qemu-ARCH 7.2
# and, beside BD_TEST_QEMU_10's qemu-x86_64, Debian's 10.0 qemu-ARCH.
declare -A ARCH_QEMU ARCH_QEMU10 ARCH_SKIP
ARCH_OK=()
for a in "${ARCHES[@]}"; do
  qv="QEMU_${a^^}"
  ARCH_QEMU[$a]=${!qv:-qemu-$a}
  [ -n "$QEMU10" ] && [ -x "${QEMU10%/*}/qemu-$a" ] && ARCH_QEMU10[$a]=${QEMU10%/*}/qemu-$a
  if [ ! -x "$BIN/$a/bench-guest-marks" ]; then
    ARCH_SKIP[$a]="no $BIN/$a/bench-guest-marks (not cross-built)"
  elif ! command -v "${ARCH_QEMU[$a]}" >/dev/null; then
    ARCH_SKIP[$a]="no ${ARCH_QEMU[$a]} (apt-get install qemu-user)"
  else
    ARCH_OK+=("$a")
  fi
done

# Steady state: bursts that fit half a default ring, a pause after each.
BURST=(--pause-us 3000 8192 30)
# First lap: every mark of a run must fit its ring (a mark the ring drops
# costs less than one it records and would flatter the number).
SLOTS=1
while [ "$SLOTS" -lt $((N * REPS + 64)) ]; do SLOTS=$((SLOTS * 2)); done
RING=(--rings 4 --ring-slots "$SLOTS")

# run TAG BD-RUN-ARGS...: bd-run with a fresh trace; stdout in $WORK/TAG.out,
# stderr in $WORK/TAG.err; the trace is deleted afterwards.
run() {
  local tag=$1
  shift
  if ! "$BDRUN" --trace "$WORK/trace-$tag" "$@" >"$WORK/$tag.out" 2>"$WORK/$tag.err"; then
    log "FAILED: $tag: $(tail -c 400 "$WORK/$tag.err")"
    FAILED=1
  fi
  rm -rf "$WORK/trace-$tag"
}
value() { awk -v k="$1" '$1 == k {print $2}' "$2" | tail -n 1; }
best() { sort -g | head -n 1; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo "**missed**"; }

declare -A NS
scenarios=(tp ring_native ring_qemu72 trap_qemu72 ring_native_lap1 ring_qemu72_lap1)
[ -n "$QEMU10" ] && scenarios+=(ring_qemu10)
for a in "${ARCH_OK[@]}"; do
  scenarios+=("ring_qemu72_$a")
  [ -n "${ARCH_QEMU10[$a]:-}" ] && scenarios+=("ring_qemu10_$a")
done
log "ring: recorded marks, $ALT alternating runs of ${scenarios[*]}"
for ((i = 1; i <= ALT; i++)); do
  run "tp.$i" --native -- "$BIN/bench-native-tp" "$N" "$REPS"
  run "ring_native.$i" --native -- "$BIN/bench-guest-marks" "${BURST[@]}"
  run "ring_qemu72.$i" --channel ring -- "$BIN/bench-guest-marks" "${BURST[@]}"
  [ -n "$QEMU10" ] && run "ring_qemu10.$i" --qemu "$QEMU10" -- "$BIN/bench-guest-marks" "${BURST[@]}"
  run "trap_qemu72.$i" --channel trap -- "$BIN/bench-guest-marks" "$N" "$REPS"
  run "ring_native_lap1.$i" --native "${RING[@]}" -- "$BIN/bench-guest-marks" "$N" "$REPS"
  run "ring_qemu72_lap1.$i" --channel ring "${RING[@]}" -- "$BIN/bench-guest-marks" "$N" "$REPS"
  for a in "${ARCH_OK[@]}"; do
    run "ring_qemu72_$a.$i" --channel ring --qemu "$(command -v "${ARCH_QEMU[$a]}")" -- \
      "$BIN/$a/bench-guest-marks" "${BURST[@]}"
    [ -n "${ARCH_QEMU10[$a]:-}" ] &&
      run "ring_qemu10_$a.$i" --qemu "${ARCH_QEMU10[$a]}" -- "$BIN/$a/bench-guest-marks" "${BURST[@]}"
  done
done
for sc in "${scenarios[@]}"; do
  NS[$sc]=$(for ((i = 1; i <= ALT; i++)); do value ns_per_op "$WORK/$sc.$i.out"; done | best)
  if [ "$sc" != tp ]; then
    taken=$(value taken "$WORK/$sc.1.out")
    ops=$(value ops "$WORK/$sc.1.out")
    [ -n "$taken" ] && [ "$taken" = "$ops" ] || { log "FAILED: $sc: $taken of $ops marks taken"; FAILED=1; }
  fi
done

# System mode: the test VM over the ring (bench/vm/bench-system.sh inside:
# bd_mark_args bursts with pauses, as above, and the same loop without the
# ring as the baseline); kernel marks are not timed (bd_sched bench= times
# the trap channel only).
VM=$BUILD/vm
SYS_MARKS="" SYS_BASE="" SYS_HOW="skipped: no test VM in $VM (./bdtrace bench builds it)"
if [ -f "$VM/vmlinuz" ] && [ -f "$VM/initramfs.cpio.gz" ]; then
  log "ring: system mode, the test VM under qemu-system-x86_64 with --channel ring"
  if timeout -k 10 300 "$BDRUN" --system --channel ring --trace "$WORK/trace-sys" --vm bdbench-ring \
      --kernel "$VM/vmlinuz" --initrd "$VM/initramfs.cpio.gz" \
      --append "bd.kmod=1 bd.run=/etc/bd/bench-system.sh bdbench.n=8192 bdbench.reps=30 bdbench.pause_us=3000 bdbench.rounds=3 bdbench.mmio_n=2000 bdbench.kernel_n=0" \
      </dev/null 2>"$WORK/sys.err" | tr -d '\r' >"$WORK/sys.out"; then
    SYS_MARKS=$(awk '$1 == "bench:" && $2 == "user_marks" {print $4}' "$WORK/sys.out" | best)
    SYS_BASE=$(awk '$1 == "bench:" && $2 == "user_baseline" {print $4}' "$WORK/sys.out" | best)
    bad=$(awk '$1 == "bench:" && $2 == "user_marks" && $6 != 8192 * 30' "$WORK/sys.out")
    [ -z "$bad" ] || { log "FAILED: system ring: not every mark was taken: $bad"; FAILED=1; }
    grep -q '^bench: done' "$WORK/sys.out" || { log "FAILED: system ring: the VM bench did not finish: $(grep '^bench' "$WORK/sys.out" | tail -n 3)"; FAILED=1; }
    SYS_HOW="measured"
  else
    log "FAILED: system ring boot: $(tail -c 400 "$WORK/sys.err")"
    FAILED=1
    SYS_HOW="failed"
  fi
  rm -rf "$WORK/trace-sys"
fi

log "ring: consumer throughput"
run consumer --native -- "$BIN/bench-ring-consumer"
CONSUMER_RATE=$(value records_per_s "$WORK/consumer.out")

log "ring: flood, $FLOOD_THREADS threads, $FLOOD_RATE marks/s, ${FLOOD_SECONDS}s under qemu-x86_64 7.2"
run flood --channel ring -- "$BIN/bench-guest-marks" --flood --threads "$FLOOD_THREADS" \
  --rate "$FLOOD_RATE" --seconds "$FLOOD_SECONDS"
FLOOD_MARKS=$(value marks "$WORK/flood.out")
FLOOD_TAKEN=$(value taken "$WORK/flood.out")
FLOOD_RATE_GOT=$(value rate "$WORK/flood.out")
FLOOD_DISCARDED=$(grep -Eo 'LTTng discarded [0-9]+ events' "$WORK/flood.err" | awk '{s += $3} END {print s + 0}')
# "bd-ring-consumer: N records, D dropped, R rejected, emission delay p50 X us p99 Y us max Z us"
SUMMARY=$(grep -E '^bd-ring-consumer: [0-9]+ records' "$WORK/flood.err" | tail -n 1)
P99=$(sed -nE 's/.*p99 ([0-9.]+) us.*/\1/p' <<<"$SUMMARY")
P50=$(sed -nE 's/.*p50 ([0-9.]+) us.*/\1/p' <<<"$SUMMARY")
DMAX=$(sed -nE 's/.*max ([0-9.]+) us.*/\1/p' <<<"$SUMMARY")

echo
echo "## Ring channel ($(date -u +%Y-%m-%d), recorded by bd-run's LTTng session, best of $ALT)"
echo
echo "| scenario | ns per mark |"
echo "|---|---:|"
echo "| native LTTng-UST tracepoint, recorded | ${NS[tp]} |"
echo "| ring, native (\`bd-run --native\`) | ${NS[ring_native]} |"
echo "| ring, qemu-x86_64 7.2 (\`--channel ring\`) | ${NS[ring_qemu72]} |"
[ -n "$QEMU10" ] && echo "| ring, Debian's QEMU 10.0 (no plugin support) | ${NS[ring_qemu10]} |"
echo "| trap, qemu-x86_64 7.2 (\`--channel trap\`) | ${NS[trap_qemu72]} |"
if [ -n "$SYS_MARKS" ]; then
  echo "| ring, qemu-system-x86_64 TCG guest, user space (baseline: the same loop, record fill only: $SYS_BASE) | $SYS_MARKS |"
else
  echo "| ring, qemu-system-x86_64 TCG guest | $SYS_HOW |"
fi
echo "| ring, native, first lap (fresh pages) | ${NS[ring_native_lap1]} |"
echo "| ring, qemu-x86_64 7.2, first lap (fresh pages) | ${NS[ring_qemu72_lap1]} |"
for a in "${ARCHES[@]}"; do
  if [ -n "${ARCH_SKIP[$a]:-}" ]; then
    echo "| ring, qemu-$a | skipped: ${ARCH_SKIP[$a]} |"
    continue
  fi
  echo "| ring, qemu-$a 7.2 (\`--channel ring\`) | ${NS[ring_qemu72_$a]} |"
  [ -n "${ARCH_QEMU10[$a]:-}" ] && echo "| ring, Debian's qemu-$a 10.0 (no plugin support) | ${NS[ring_qemu10_$a]} |"
done
echo
echo "| target | measured | verdict |"
echo "|---|---|---|"
r72=$(calc "${NS[ring_qemu72]} / ${NS[tp]}")
echo "| ring mark under qemu-x86_64 <= 0.25x a native tracepoint | ${r72}x (7.2)$([ -n "$QEMU10" ] && echo ", $(calc "${NS[ring_qemu10]} / ${NS[tp]}")x (10.0)") | $(verdict "$r72 <= 0.25") |"
echo "| ring mark natively <= 12 ns | ${NS[ring_native]} ns | $(verdict "${NS[ring_native]} <= 12") |"
echo "| consumer >= 5 M records/s on one core | $(calc "${CONSUMER_RATE:-0} / 1e6") M/s | $(verdict "${CONSUMER_RATE:-0} >= 5e6") |"
echo "| 0 dropped in the flood | $((FLOOD_MARKS - FLOOD_TAKEN)) of $FLOOD_MARKS marks dropped by full rings, $FLOOD_DISCARDED discarded by LTTng (achieved $FLOOD_RATE_GOT marks/s) | $(verdict "$((FLOOD_MARKS - FLOOD_TAKEN + FLOOD_DISCARDED)) == 0") |"
echo "| emission delay p99 <= 1 ms | p50 ${P50:-?} us, p99 ${P99:-?} us, max ${DMAX:-?} us | $(verdict "${P99:-1e9} <= 1000") |"
exit "$FAILED"
