#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/filter.sh BUILD_DIR — what filtering costs, measured side by side in
# one run (no LTTng session: the costs of deciding, not of recording):
#   - a mark the plugin filters (a DROP rule matches) vs one it accepts;
#   - a mark skipped in the guest (system-mode channel whose enable bitmap
#     says "disabled": no trap at all), natively, vs one sent;
#   - a CPU-bound guest with process-gated code tracing: gate closed (the
#     selected process is not running) and gate open, vs no filter.
# Informational: exits non-zero only when a step fails to run.
set -euo pipefail

BUILD=${1:?usage: bench/filter.sh BUILD_DIR}
# shellcheck source=bench/build_dirs.sh
. "$(dirname "${BASH_SOURCE[0]}")/build_dirs.sh"
BIN=$BENCH_BIN
PLUGIN=$BUILD/lib/libbdtrace-qemu.so
QEMU=${QEMU:-qemu-x86_64}
N=${BD_BENCH_N:-300000}
REPS=${BD_BENCH_REPS:-5}
WORK=$(mktemp -d /tmp/bdbench-filter.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
log() { printf 'bench: %s\n' "$*" >&2; }

# value KEY: the number after KEY in the last command's output file.
value() { awk -v k="$1" '$1 == k {print $2}' "$2"; }

cat >"$WORK/drop-marks.txtpb" <<'CFG'
rule { events { id: 43 } action: DROP }
CFG
cat >"$WORK/gate-closed.txtpb" <<'CFG'
rule { process { pid: 1 } trace_code: true action: RECORD }
CFG
cat >"$WORK/gate-open.txtpb" <<'CFG'
rule { process { comm: "bench-guest-cpu" } trace_code: true action: RECORD }
CFG

log "filter: marks accepted vs filtered by the plugin (qemu-x86_64)"
best() { sort -g | head -n 1; }
for i in 1 2 3; do
  "$QEMU" -plugin "$PLUGIN" "$BIN/bench-guest-marks" "$N" "$REPS" >"$WORK/acc.$i"
  "$QEMU" -plugin "$PLUGIN,filter=$WORK/drop-marks.txtpb" "$BIN/bench-guest-marks" "$N" "$REPS" >"$WORK/flt.$i"
done
accepted=$(for i in 1 2 3; do value ns_per_op "$WORK/acc.$i"; done | best)
filtered=$(for i in 1 2 3; do value ns_per_op "$WORK/flt.$i"; done | best)

log "filter: marks sent vs skipped in the guest (native, channel file)"
# A channel file as the plugin lays it out, with event 43 disabled in the
# union bitmap that libbdguest tests (proto/include/bd/channel.h).
python3 - "$WORK/chan-on" "$WORK/chan-off" <<'PY'
import struct, sys
SIZE = 1024 * 1024
def header(union_word0):
    h = bytearray(SIZE)
    struct.pack_into('<IHHIIIIIIII', h, 0, 0x62646368, 1, 128, SIZE, 1,
                     0x2000, 64, 0x4000, 0x8000, 1024, 0)
    struct.pack_into('<4Q', h, 64, union_word0, *([0xffffffffffffffff] * 3))
    for v in range(64):
        struct.pack_into('<4Q', h, 96 + 32 * v, *([0xffffffffffffffff] * 4))
    return h
open(sys.argv[1], 'wb').write(header(0xffffffffffffffff))
open(sys.argv[2], 'wb').write(header(0xffffffffffffffff & ~(1 << 43)))
PY
for i in 1 2 3; do
  BD_DEVICE="$WORK/chan-on" "$BIN/bench-guest-marks" "$N" "$REPS" >"$WORK/sent.$i"
  BD_DEVICE="$WORK/chan-off" "$BIN/bench-guest-marks" "$N" "$REPS" >"$WORK/skip.$i"
done
sent=$(for i in 1 2 3; do value ns_per_op "$WORK/sent.$i"; done | best)
skipped=$(for i in 1 2 3; do value ns_per_op "$WORK/skip.$i"; done | best)

log "filter: CPU-bound guest, code tracing gate closed / open vs no filter"
for i in 1 2 3; do
  "$QEMU" -plugin "$PLUGIN" "$BIN/bench-guest-cpu" >"$WORK/cpu.$i"
  "$QEMU" -plugin "$PLUGIN,filter=$WORK/gate-closed.txtpb" "$BIN/bench-guest-cpu" >"$WORK/closed.$i"
  "$QEMU" -plugin "$PLUGIN,filter=$WORK/gate-open.txtpb" "$BIN/bench-guest-cpu" >"$WORK/open.$i"
done
cpu=$(for i in 1 2 3; do value cpu_ns_total "$WORK/cpu.$i"; done | best)
closed=$(for i in 1 2 3; do value cpu_ns_total "$WORK/closed.$i"; done | best)
open=$(for i in 1 2 3; do value cpu_ns_total "$WORK/open.$i"; done | best)

printf '\nfilter bench — %s, %s CPUs, best of 3 alternating runs, no session\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)"
python3 - "$accepted" "$filtered" "$sent" "$skipped" "$cpu" "$closed" "$open" <<'PY'
import sys
acc, flt, sent, skip, cpu, closed, opn = map(float, sys.argv[1:])
rows = [
    ("mark accepted by the plugin (qemu-x86_64), ns", acc),
    ("mark filtered by the plugin (DROP rule), ns", flt),
    ("mark sent to the channel, native, ns", sent),
    ("mark skipped in the guest (bitmap), native, ns", skip),
    ("CPU-bound guest, no filter, ms", cpu / 1e6),
    ("  code tracing gate closed, ms", closed / 1e6),
    ("  code tracing gate open (unrecorded), ms", opn / 1e6),
]
for name, v in rows:
    print(f"{name:52s} {v:12.2f}")
def verdict(ok): return "PASS" if ok else "MISS"
print(f"{'skipped mark, native (target <= 2 ns)':52s} {skip:11.2f}  {verdict(skip <= 2)}")
slow_closed = (closed / cpu - 1) * 100
slow_open = opn / cpu
print(f"{'gate closed slowdown (target <= 5 %)':52s} {slow_closed:10.1f} %  {verdict(slow_closed <= 5)}")
print(f"{'gate open, unrecorded (target <= 2x)':52s} {slow_open:11.2f}x  {verdict(slow_open <= 2)}")
PY
