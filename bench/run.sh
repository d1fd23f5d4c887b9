#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR — the benchmark behind `./bdtrace bench`.
#
# Runs every scenario side by side in this one invocation (setups that are
# compared run in alternation, so a noisy neighbour weighs on both) and prints
# a table of absolute numbers plus the ratios the design targets, each marked
# PASS or MISS. The verdicts are informational: the script exits 0 even on
# MISS, and non-zero only when a scenario failed to run.
#
# Each timed program reports the best of a few repetitions measured inside
# the process (QEMU and LTTng start-up are never counted).
#
# Overrides (environment), e.g. to try pieces from other build directories:
#   BD_BENCH_PLUGIN   path of libbdtrace-qemu.so  (default BUILD_DIR/lib/...)
#   BD_BENCH_BDRUN    path of bd-run              (default BUILD_DIR/bin/bd-run)
#   BD_BENCH_ANALYZE  path of bd-analyze          (default BUILD_DIR/bin/bd-analyze)
#   BD_BENCH_BIN      where the bench-* programs are (default BUILD_DIR/bench/bin:
#                     bench/build_dirs.sh reads it from BUILD_DIR's CMake cache)
#   QEMU              qemu-x86_64 binary
#   BD_BENCH_ONLY     run only these sections (comma-separated; default all):
#                     marks (unrecorded and recorded marks, x86_64 and the
#                     other guest architectures), calls (bd_call to a no-op
#                     host handler), trap (the 2011 trap),
#                     cpu (CPU-bound guest), flood, system (the test VM),
#                     versions (user-mode marks and the CPU-bound guest per
#                     QEMU version), versions_system (the test VM per QEMU
#                     version; both in bench/versions.sh).
#                     E.g. BD_BENCH_ONLY=marks bench/run.sh build
#   BD_TEST_QEMU_BUILDS  install prefixes of ./bdtrace qemu builds, measured
#                     beside Debian's 7.2 in the versions sections
#                     (./bdtrace bench sets it)
#   BD_BENCH_ARCHES   other guest architectures whose marks are measured
#                     beside x86_64's (default: BDTRACE_GUEST_ARCHES from
#                     BUILD_DIR's CMake cache, else "aarch64 riscv64 s390x"); each
#                     needs BD_BENCH_BIN/ARCH/bench-guest-marks (cross-built)
#                     and qemu-ARCH, else its rows say why they were skipped
#   QEMU_<ARCH>       qemu-<arch> binary, e.g. QEMU_AARCH64 (default qemu-<arch>)
#   BD_BENCH_N        marks per repetition (300000), BD_BENCH_REPS (5)
#   BD_BENCH_FLOOD_SECONDS (10), BD_BENCH_FLOOD_RATE (1000000), BD_BENCH_FLOOD_THREADS (4)
#   BD_BENCH_ALT (3), BD_BENCH_REC_ALT (2), BD_BENCH_CPU_ALT (5): alternating
#   runs of the unrecorded, recorded and CPU-bound scenarios; minimum kept
#   System mode (the test VM booted 3 times: plain QEMU, plugin unrecorded,
#   plugin recording; each boot runs bench/vm/bench-system.sh inside):
#   BD_BENCH_VM        image directory (default BUILD_DIR/vm: vmlinuz, initramfs.cpio.gz)
#   QEMU_SYSTEM        qemu-system-x86_64 binary
#   BD_BENCH_SYS_N (300000) user marks per repetition in the VM (BD_BENCH_REPS
#   repetitions), BD_BENCH_SYS_ROUNDS (3) rounds per boot, BD_BENCH_SYS_MMIO_N
#   (20000) MMIO writes per repetition, BD_BENCH_SYS_KERNEL_N (1000000) kernel
#   marks (bd_sched bench=N), BD_BENCH_SYS_TIMEOUT (180) seconds per boot
#
# LTTng sessions are machine-wide: this script creates only sessions named
# bdbench-<pid>-<scenario>, touches no other, and destroys its own on any exit.

set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "bench: no build directory '$1' (run cmake --build first)" >&2; exit 2; }
# shellcheck source=bench/build_dirs.sh
. "$HERE/build_dirs.sh"
BIN=${BD_BENCH_BIN:-$BENCH_BIN}
PLUGIN=${BD_BENCH_PLUGIN:-$BUILD/lib/libbdtrace-qemu.so}
BDRUN=${BD_BENCH_BDRUN:-$BUILD/bin/bd-run}
ANALYZE=${BD_BENCH_ANALYZE:-$BUILD/bin/bd-analyze}
QEMU=${QEMU:-qemu-x86_64}
N=${BD_BENCH_N:-300000}
REPS=${BD_BENCH_REPS:-5}
TRAP_N=${BD_BENCH_TRAP_N:-5000}
FLOOD_SECONDS=${BD_BENCH_FLOOD_SECONDS:-10}
FLOOD_RATE=${BD_BENCH_FLOOD_RATE:-1000000}
FLOOD_THREADS=${BD_BENCH_FLOOD_THREADS:-4}
ALT=${BD_BENCH_ALT:-3}         # alternating runs of the unrecorded mark scenarios
REC_ALT=${BD_BENCH_REC_ALT:-2} # alternating runs of the recorded scenarios
CPU_ALT=${BD_BENCH_CPU_ALT:-5} # alternating runs of the CPU-bound guest
CODE_LIMIT=${BD_BENCH_CODE_LIMIT:-200000} # bench-guest-primes: primes below it (code tracing)
VM_DIR=${BD_BENCH_VM:-$BUILD/vm}
QEMU_SYSTEM=${QEMU_SYSTEM:-qemu-system-x86_64}
SYS_N=${BD_BENCH_SYS_N:-300000}
SYS_ROUNDS=${BD_BENCH_SYS_ROUNDS:-3}
SYS_MMIO_N=${BD_BENCH_SYS_MMIO_N:-20000}
SYS_KERNEL_N=${BD_BENCH_SYS_KERNEL_N:-1000000}
SYS_TIMEOUT=${BD_BENCH_SYS_TIMEOUT:-180}
ONLY=${BD_BENCH_ONLY:-}
if [ -z "${BD_BENCH_ARCHES+set}" ]; then
    BD_BENCH_ARCHES=$(sed -n 's/^BDTRACE_GUEST_ARCHES:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null | tr ';' ' ')
    [ -n "$BD_BENCH_ARCHES" ] || BD_BENCH_ARCHES="aarch64 riscv64 s390x"
fi
read -r -a ARCHES <<<"$BD_BENCH_ARCHES"

SECTIONS="marks calls trap cpu flood system versions versions_system"
# section NAME: true when NAME is to run (BD_BENCH_ONLY empty or lists it).
section() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
for s in ${ONLY//,/ }; do
    [[ " $SECTIONS " == *" $s "* ]] || { echo "bench: BD_BENCH_ONLY: unknown section '$s' (sections: $SECTIONS)" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bdbench.XXXXXX") || exit 1
SESSIONS=()
FAILED=()

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local s
    for s in "${SESSIONS[@]}"; do
        lttng destroy "$s" >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

log() { printf 'bench: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; FAILED+=("$1"); }

# ---- LTTng sessions ----------------------------------------------------------

ensure_sessiond() {
    if ! lttng list >/dev/null 2>&1; then
        lttng-sessiond --daemonize >/dev/null 2>&1 ||
            { log "cannot start lttng-sessiond (are you root or in the tracing group?)"; return 1; }
    fi
}

# session_start TAG: creates and starts bdbench-$$-TAG recording bdtrace:*
# into $WORK/trace-TAG with per-UID buffers 4 MiB x 8 (bd-run's settings).
session_start() {
    local name="bdbench-$$-$1" dir="$WORK/trace-$1"
    lttng create "$name" --output "$dir" >/dev/null || return 1
    SESSIONS+=("$name")
    lttng enable-channel -u --buffers-uid --subbuf-size 4M --num-subbuf 8 \
        -s "$name" bdbench >/dev/null &&
        lttng enable-event -u 'bdtrace:*' -s "$name" -c bdbench >/dev/null &&
        lttng start "$name" >/dev/null
}

# session_end TAG: stops the session, sets DISCARDED to its discarded-event
# count (reliable for per-UID buffers), destroys it and deletes its trace.
# (Not called in $(...): it must update SESSIONS in this shell.)
DISCARDED=""
session_end() {
    local name="bdbench-$$-$1"
    lttng stop "$name" >/dev/null 2>&1
    DISCARDED=$(lttng list "$name" 2>/dev/null | awk '/Discarded events:/ {s += $3} END {print s + 0}')
    lttng destroy "$name" >/dev/null 2>&1
    local kept=()
    local s
    for s in "${SESSIONS[@]}"; do [ "$s" = "$name" ] || kept+=("$s"); done
    SESSIONS=("${kept[@]+"${kept[@]}"}")
    rm -rf "$WORK/trace-$1"
}

# ---- running programs ------------------------------------------------------

declare -A R # results: R[scenario.key] = value

# measure SCENARIO COMMAND...: runs it, stores every "key value" line it
# prints as R[SCENARIO.key]. A failure is recorded and reported at the end.
measure() {
    local sc=$1
    shift
    local out="$WORK/$sc.out" err="$WORK/$sc.err"
    local rc=0
    "$@" >"$out" 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$sc ($*): exit status $rc; stderr: $(tail -c 400 "$err")"
        return 1
    fi
    local k v
    while read -r k v _; do
        [ -n "$k" ] && R[$sc.$k]=$v
    done <"$out"
    return 0
}

have() { [ -n "${R[$1]:-}" ]; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
le() { awk "BEGIN { exit !($1 <= $2) }"; }

# min_into KEY VALUE: R[KEY] = min(R[KEY], VALUE) (unset counts as +inf).
min_into() {
    local key=$1 v=$2
    if [ -z "${R[$key]:-}" ] || le "$v" "${R[$key]}"; then R[$key]=$v; fi
}

# measure_alt ROUND SCENARIO KEY COMMAND...: one run of an alternating
# series; keeps the minimum of KEY as R[SCENARIO.KEY] and the other keys of
# the latest run. Alternating A B A B... spreads a noisy neighbour's load
# over both setups instead of biasing one.
measure_alt() {
    local round=$1 sc=$2 key=$3
    shift 3
    measure "${sc}_$round" "$@" || return 1
    local k
    for k in "${!R[@]}"; do
        case $k in "${sc}_$round".*) R[$sc.${k#"${sc}_$round".}]=${R[$k]} ;; esac
    done
    R[$sc.$key]=""
    R[$sc.$key.max]=""
    local i v
    for ((i = 1; i <= round; i++)); do
        v=${R[${sc}_$i.$key]:-}
        [ -n "$v" ] || continue
        min_into "$sc.$key" "$v"
        if [ -z "${R[$sc.$key.max]}" ] || le "${R[$sc.$key.max]}" "$v"; then R[$sc.$key.max]=$v; fi
    done
    return 0
}

# json_report FILE: "discarded N" and "marks M" from bd-analyze's JSON report
# (discarded_events.count and totals.marks; proto3 JSON prints 64-bit
# integers as strings). Also accepts a flat discardedEvents/discarded_events
# number. Prints nothing for a field it cannot find.
json_report() {
    python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def num(v):
    if isinstance(v, dict):
        v = v.get("count")
    try:
        return int(v)
    except (TypeError, ValueError):
        return None
d = None
for k in ("discarded_events", "discardedEvents"):
    if k in r:
        d = num(r[k])
        break
m = num((r.get("totals") or {}).get("marks"))
if d is not None:
    print("discarded", d)
if m is not None:
    print("marks", m)
PY
}

# ---- preconditions -----------------------------------------------------------

# Missing pieces are reported once and their scenarios skipped (and counted
# as failed), instead of failing each run with the same message.
declare -A OK
ok() { [ -n "${OK[$1]:-}" ]; }
for p in bench-native-tp bench-2011-trap bench-guest-cpu bench-guest-marks bench-guest-primes; do
    if [ -x "$BIN/$p" ]; then OK[$p]=1; else fail "missing $BIN/$p (build the bench targets)"; fi
done
if command -v "$QEMU" >/dev/null; then OK[qemu]=1; else fail "no $QEMU (apt-get install qemu-user)"; fi
if [ -f "$PLUGIN" ]; then OK[plugin]=1; else fail "missing plugin $PLUGIN (build target bdtrace-qemu)"; fi
if ensure_sessiond; then OK[lttng]=1; else fail "lttng-sessiond not available"; fi
# needs PIECE...: true when every piece is available (scenario can run).
needs() {
    local p
    for p in "$@"; do ok "$p" || return 1; done
}
others=$(lttng list 2>/dev/null | grep -c '\[active\]' || true)
if [ "${others:-0}" -gt 0 ]; then
    log "note: $others other active LTTng session(s) exist; if they enable bdtrace:* (or -a), 'unrecorded' runs are recorded by them"
fi

PLUG=(-plugin "$PLUGIN")

# Other guest architectures: ARCH_OK lists those that can run; ARCH_SKIP[a]
# says why another was skipped (a cross toolchain not installed is not a
# failure of the bench: its rows say so and the script still exits 0).
declare -A ARCH_QEMU ARCH_SKIP
ARCH_OK=()
for a in "${ARCHES[@]}"; do
    qv="QEMU_${a^^}"
    ARCH_QEMU[$a]=${!qv:-qemu-$a}
    if [ ! -x "$BIN/$a/bench-guest-marks" ]; then
        ARCH_SKIP[$a]="no $BIN/$a/bench-guest-marks (not cross-built: no $a-linux-gnu-gcc, or $a not in the build's BDTRACE_GUEST_ARCHES; see cmake/GuestCross.cmake)"
    elif ! command -v "${ARCH_QEMU[$a]}" >/dev/null; then
        ARCH_SKIP[$a]="no ${ARCH_QEMU[$a]} (apt-get install qemu-user)"
    elif ! needs plugin; then
        ARCH_SKIP[$a]="no plugin $PLUGIN"
    else
        ARCH_OK+=("$a")
    fi
done
T0=$(date +%s)

# ---- 1. unrecorded: native tracepoint, guest marks --------------------------

# The other guest architectures run in the same alternation as x86_64's
# rows (scenarios a_plain_ARCH, a_base_ARCH, a_unrec_ARCH, a_rec_ARCH), each
# under its qemu-ARCH with the same plugin.
arch_unrec_round() {
    local i=$1 a
    for a in "${ARCH_OK[@]}"; do
        local q=${ARCH_QEMU[$a]} prog="$BIN/$a/bench-guest-marks"
        measure_alt "$i" "a_plain_$a" ns_per_op "$q" "$prog" "$N" "$REPS"
        measure_alt "$i" "a_base_$a" ns_per_op "$q" "$prog" --baseline "$N" "$REPS"
        measure_alt "$i" "a_unrec_$a" ns_per_op "$q" "${PLUG[@]}" "$prog" "$N" "$REPS"
    done
}
arch_rec_round() {
    local i=$1 a
    for a in "${ARCH_OK[@]}"; do
        measure_alt "$i" "a_rec_$a" ns_per_op "${ARCH_QEMU[$a]}" "${PLUG[@]}" "$BIN/$a/bench-guest-marks" "$N" "$REPS"
    done
}

if section marks && needs bench-native-tp; then
    log "native tracepoint, unrecorded"
    measure tp_unrec "$BIN/bench-native-tp" "$N" "$REPS"
fi
if section marks && { needs bench-guest-marks qemu || [ ${#ARCH_OK[@]} -gt 0 ]; }; then
    log "guest marks: plain qemu, baseline, plugin unrecorded ($ALT alternating runs each; x86_64${ARCH_OK[*]:+ ${ARCH_OK[*]}})"
    for ((i = 1; i <= ALT; i++)); do
        if needs bench-guest-marks qemu; then
            measure_alt $i qemu_plain ns_per_op "$QEMU" "$BIN/bench-guest-marks" "$N" "$REPS"
            measure_alt $i qemu_base ns_per_op "$QEMU" "$BIN/bench-guest-marks" --baseline "$N" "$REPS"
            if needs plugin; then
                measure_alt $i bd_unrec ns_per_op "$QEMU" "${PLUG[@]}" "$BIN/bench-guest-marks" "$N" "$REPS"
            fi
        fi
        arch_unrec_round $i
    done
fi

# ---- 2. recorded: native tracepoint vs bdtrace, one session, alternating -----
# Both write into the same per-UID ring buffer of one session of ours, in
# turns, so the consumer daemon and a busy neighbour weigh on both alike.

REC_TP=""
REC_BD=""
REC_ARCH=""
needs bench-native-tp && REC_TP=1
needs bench-guest-marks qemu plugin && REC_BD=1
[ ${#ARCH_OK[@]} -gt 0 ] && REC_ARCH=1
if section marks && needs lttng && [ -n "$REC_TP$REC_BD$REC_ARCH" ]; then
    log "recorded: native tracepoint and bdtrace plugin ($REC_ALT alternating runs each; x86_64${ARCH_OK[*]:+ ${ARCH_OK[*]}})"
    if session_start rec; then
        for ((i = 1; i <= REC_ALT; i++)); do
            [ -n "$REC_TP" ] && measure_alt $i tp_rec ns_per_op "$BIN/bench-native-tp" "$N" "$REPS"
            [ -n "$REC_BD" ] && measure_alt $i bd_rec ns_per_op "$QEMU" "${PLUG[@]}" "$BIN/bench-guest-marks" "$N" "$REPS"
            arch_rec_round $i
        done
        session_end rec
        R[rec.discarded]=$DISCARDED
    else
        session_end rec
        fail "recorded runs: could not set up LTTng session bdbench-$$-rec"
    fi
fi
ops=$((N * REPS))
for sc in bd_unrec bd_rec; do
    if have "$sc.taken" && [ "${R[$sc.taken]}" != "$ops" ]; then
        fail "$sc: the plugin took ${R[$sc.taken]} of $ops marks (is $PLUGIN the bdtrace plugin?)"
    fi
done
for a in "${ARCH_OK[@]}"; do
    for sc in "a_unrec_$a" "a_rec_$a"; do
        if have "$sc.taken" && [ "${R[$sc.taken]}" != "$ops" ]; then
            fail "$sc: the plugin took ${R[$sc.taken]} of $ops marks under ${ARCH_QEMU[$a]}"
        fi
    done
    if have "a_plain_$a.taken" && [ "${R[a_plain_$a.taken]}" != 0 ]; then
        fail "a_plain_$a: ${R[a_plain_$a.taken]} marks taken under ${ARCH_QEMU[$a]} without the plugin"
    fi
done

# ---- calls to a host handler (bd_call), beside a mark, one process ----------

CALL_HANDLER="$BENCH_LIB/libbench-noop-handler.so"
if section calls && needs qemu plugin && [ -x "$BIN/bench-guest-calls" ] && [ -f "$CALL_HANDLER" ]; then
    log "calls: bd_call round trips to a no-op handler beside bd_mark_args ($ALT alternating runs)"
    for ((i = 1; i <= ALT; i++)); do
        measure_alt $i calls call_ns "$QEMU" -plugin "$PLUGIN,handler=$CALL_HANDLER" \
            "$BIN/bench-guest-calls" $((N / 10)) "$REPS"
    done
    if have calls.ok && [ "${R[calls.ok]}" = 0 ]; then fail "calls: no bd_call was answered"; fi
elif section calls; then
    fail "calls: missing $BIN/bench-guest-calls or $CALL_HANDLER (build the bench targets)"
fi

# ---- 3. the 2011 trap ------------------------------------------------------

if section trap && needs bench-2011-trap; then
    log "2011 trap, native"
    measure trap_native "$BIN/bench-2011-trap" "$TRAP_N" 3
    if needs qemu; then
        log "2011 trap, under qemu"
        measure trap_qemu "$QEMU" "$BIN/bench-2011-trap" "$((TRAP_N / 2))" 3
    fi
fi

# ---- 4. CPU-bound guest ------------------------------------------------------

if section cpu && needs bench-guest-cpu qemu plugin; then
    log "CPU-bound guest, with and without the plugin ($CPU_ALT alternating runs each)"
    for ((i = 1; i <= CPU_ALT; i++)); do
        measure_alt $i cpu_plain ns_total "$QEMU" "$BIN/bench-guest-cpu"
        measure_alt $i cpu_plugin ns_total "$QEMU" "${PLUG[@]}" "$BIN/bench-guest-cpu"
    done
fi

# ---- 5. flood ---------------------------------------------------------------

FLOOD_HOW="not run"
if section flood && needs bench-guest-marks qemu plugin lttng; then
    log "flood: $FLOOD_THREADS threads, $FLOOD_RATE marks/s, ${FLOOD_SECONDS}s"
    FLOOD_ARGS=(--flood --threads "$FLOOD_THREADS" --rate "$FLOOD_RATE" --seconds "$FLOOD_SECONDS")
    if [ -x "$BDRUN" ]; then
        FLOOD_HOW="bd-run"
        measure flood "$BDRUN" --trace "$WORK/flood" --plugin "$PLUGIN" --qemu "$(command -v "$QEMU")" -- "$BIN/bench-guest-marks" "${FLOOD_ARGS[@]}"
        if have flood.marks && [ -x "$ANALYZE" ]; then
            if "$ANALYZE" "$WORK/flood" --format json >"$WORK/flood.json" 2>"$WORK/flood.json.err"; then
                while read -r k v; do R[flood_report.$k]=$v; done < <(json_report "$WORK/flood.json")
                if have flood_report.discarded; then
                    R[flood.discarded]=${R[flood_report.discarded]}
                    FLOOD_HOW="$FLOOD_HOW + bd-analyze"
                else
                    fail "flood: bd-analyze JSON has no discarded_events.count"
                fi
            else
                fail "flood: bd-analyze failed: $(tail -c 400 "$WORK/flood.json.err")"
            fi
        fi
        if have flood.marks && ! have flood.discarded && [ -d "$WORK/flood" ] && command -v babeltrace2 >/dev/null; then
            # Slow fallback (~1 µs/event): babeltrace2 reports "discarded N events".
            R[flood.discarded]=$(babeltrace2 "$WORK/flood" 2>&1 >/dev/null |
                grep -Eo 'discarded [0-9]+ events' | awk '{s += $2} END {print s + 0}')
            FLOOD_HOW="$FLOOD_HOW + babeltrace2"
        fi
        rm -rf "$WORK/flood"
    else
        # bd-run not built: the same recording through our own session.
        FLOOD_HOW="own session (no bd-run)"
        if session_start flood; then
            if measure flood "$QEMU" "${PLUG[@]}" "$BIN/bench-guest-marks" "${FLOOD_ARGS[@]}"; then
                session_end flood
                R[flood.discarded]=$DISCARDED
            else
                session_end flood
            fi
        else
            session_end flood
            fail "flood: could not set up LTTng session bdbench-$$-flood"
        fi
    fi
    if have flood.marks && have flood.taken && [ "${R[flood.taken]}" != "${R[flood.marks]}" ]; then
        fail "flood: the plugin took ${R[flood.taken]} of ${R[flood.marks]} marks"
    fi
fi

# ---- 6. system mode: the test VM, three boots ------------------------------
# Each boot runs bench/vm/bench-system.sh inside the VM: user-space marks and
# their baseline, the MMIO-exit trap, and bd_sched's kernel mark bench
# (insmod bench=N), each the best of a few rounds within the boot.

SYS_HOW=""
SYS_RAN=""
if ! section system; then
    SYS_HOW="not run (BD_BENCH_ONLY=$ONLY)"
elif [ ! -f "$VM_DIR/vmlinuz" ] || [ ! -f "$VM_DIR/initramfs.cpio.gz" ]; then
    SYS_HOW="skipped: no test VM image in $VM_DIR (build it with ./bdtrace test, or tools/vm/build-image.sh)"
elif ! command -v "$QEMU_SYSTEM" >/dev/null; then
    SYS_HOW="skipped: no $QEMU_SYSTEM (apt-get install qemu-system-x86)"
elif [ ! -x "$BDRUN" ]; then
    SYS_HOW="skipped: no $BDRUN (build target bd-run)"
elif ! needs plugin; then
    SYS_HOW="skipped: no plugin $PLUGIN"
fi

# num_min KEY VALUE: min_into for a number; anything else is ignored (a
# garbled console line must not break awk).
num_min() {
    [[ $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] && min_into "$1" "$2"
    return 0
}

# sys_boot SCENARIO SETUP QEMU_SYSTEM PLUGIN BD-RUN-OPTIONS...: boots the VM
# under QEMU_SYSTEM with the bench script (SETUP plain: no plugin; unrec,
# rec: PLUGIN) and stores R[SCENARIO.KEY] (minimum over the rounds) for KEY
# in user, user_base, mmio, kernel, kernel_base, and the taken counts
# user_taken, kernel_taken.
sys_boot() {
    local sc=$1 setup=$2 qsys=$3 plugin=$4
    shift 4
    local out="$WORK/$sc.out" err="$WORK/$sc.err" rc=0
    local to=() plug=(--plugin "$plugin")
    command -v timeout >/dev/null && to=(timeout -k 10 "$SYS_TIMEOUT")
    [ "$setup" = plain ] && plug=(--no-plugin)
    "${to[@]}" "$BDRUN" --system --qemu "$(command -v "$qsys")" "${plug[@]}" \
        --vm "bdbench-$setup" --kernel "$VM_DIR/vmlinuz" --initrd "$VM_DIR/initramfs.cpio.gz" \
        --append "bd.kmod=1 bd.run=/etc/bd/bench-system.sh bdbench.n=$SYS_N bdbench.reps=$REPS bdbench.rounds=$SYS_ROUNDS bdbench.mmio_n=$SYS_MMIO_N bdbench.kernel_n=$SYS_KERNEL_N" \
        "$@" </dev/null 2>"$err" | tr -d '\r' >"$out" || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$sc: bd-run --system exit status $rc; stderr: $(tail -c 400 "$err"); console: $(grep -E '^(bench|bd-init):' "$out" | tail -n 5)"
        return 1
    fi
    if grep -q 'bench-system.sh: no such file' "$out"; then
        fail "$sc: the VM image in $VM_DIR has no /etc/bd/bench-system.sh: rebuild it (./bdtrace test, or build_vm in ./bdtrace)"
        return 1
    fi
    # Lines: "bench: user_marks ns_per_op X taken T", "bench: user_baseline
    # ns_per_op X", "bench: mmio ns_per_op X", "bench: kernel X baseline Y
    # taken T", "bench: FAIL ...", "bench: done".
    local tag k rest f1 f2 f3 f4 f5
    while read -r tag k rest; do
        [ "$tag" = "bench:" ] || continue
        read -r f1 f2 f3 f4 f5 _ <<<"$rest"
        case $k in
            user_marks) num_min "$sc.user" "$f2"; R[$sc.user_taken]=$f4 ;;
            user_baseline) num_min "$sc.user_base" "$f2" ;;
            mmio) num_min "$sc.mmio" "$f2" ;;
            kernel) num_min "$sc.kernel" "$f1"; num_min "$sc.kernel_base" "$f3"; R[$sc.kernel_taken]=$f5 ;;
            FAIL) fail "$sc: in the VM: $rest" ;;
            done) R[$sc.done]=1 ;;
        esac
    done <"$out"
    if ! have "$sc.done"; then
        fail "$sc: the bench script did not finish in the VM; console tail: $(grep -E '^(bench|bd-init):' "$out" | tail -n 5)"
        return 1
    fi
    R[$sc.discarded]=$(grep -Eo 'LTTng discarded [0-9]+ events' "$err" | awk '{s += $3} END {print s + 0}')
    # The plugin takes every mark when it is loaded, none without it.
    local want_user=$((SYS_N * REPS)) want_kernel=$SYS_KERNEL_N
    if [ "$setup" = plain ]; then want_user=0 want_kernel=0; fi
    [ "${R[$sc.user_taken]:-}" = "$want_user" ] ||
        fail "$sc: the plugin took ${R[$sc.user_taken]:-?} of $((SYS_N * REPS)) user marks (expected $want_user)"
    [ "${R[$sc.kernel_taken]:-}" = "$want_kernel" ] ||
        fail "$sc: the plugin took ${R[$sc.kernel_taken]:-?} of $SYS_KERNEL_N kernel marks (expected $want_kernel)"
    return 0
}

if [ -z "$SYS_HOW" ]; then
    SYS_HOW="$SYS_N marks x $REPS, kernel $SYS_KERNEL_N, MMIO $SYS_MMIO_N x $REPS"
    SYS_RAN=1
    log "system mode: test VM, 3 boots (plain qemu-system, plugin unrecorded, plugin recording)"
    sys_boot sys_plain plain "$QEMU_SYSTEM" "$PLUGIN"
    sys_boot sys_unrec unrec "$QEMU_SYSTEM" "$PLUGIN"
    if needs lttng; then
        sys_boot sys_rec rec "$QEMU_SYSTEM" "$PLUGIN" --trace "$WORK/systrace"
        rm -rf "$WORK/systrace"
    else
        fail "system mode, recorded: lttng-sessiond not available"
    fi
else
    log "system mode $SYS_HOW"
fi

# ---- 7. QEMU versions side by side (bench/versions.sh) -----------------------

# shellcheck source=bench/versions.sh
. "$HERE/versions.sh"
versions_section

ELAPSED=$(($(date +%s) - T0))

# ---- report ------------------------------------------------------------------

val() { if have "$1"; then printf '%s' "${R[$1]}"; else printf 'n/a'; fi; }

echo
echo "bdtrace bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, ${ELAPSED}s"
[ -z "$ONLY" ] || echo "sections run: $ONLY (BD_BENCH_ONLY); the others show n/a"
echo "marks: $N x $REPS repetitions, best repetition; unrecorded guest runs best of $ALT alternating"
echo "runs, recorded runs best of $REC_ALT alternating runs;"
echo "2011 trap: $TRAP_N commands x 3 natively, $((TRAP_N / 2)) x 3 under qemu"
echo
printf '%-58s %14s\n' "scenario" "ns per op"
printf '%-58s %14s\n' "--------" "---------"
printf '%-58s %14s\n' "native LTTng-UST tracepoint, unrecorded (no session)" "$(val tp_unrec.ns_per_op)"
printf '%-58s %14s\n' "native LTTng-UST tracepoint, recorded" "$(val tp_rec.ns_per_op)"
printf '%-58s %14s\n' "guest bd_mark_args, plain qemu-x86_64 (no plugin)" "$(val qemu_plain.ns_per_op)"
printf '%-58s %14s\n' "guest baseline: same call + record fill, no trap (qemu)" "$(val qemu_base.ns_per_op)"
printf '%-58s %14s\n' "guest bd_mark_args, bdtrace plugin, unrecorded" "$(val bd_unrec.ns_per_op)"
printf '%-58s %14s\n' "guest bd_mark_args, bdtrace plugin, recorded" "$(val bd_rec.ns_per_op)"
printf '%-58s %14s\n' "2011 trap (2 SIGSEGV + 4 mprotect), native" "$(val trap_native.ns_per_op)"
printf '%-58s %14s\n' "2011 trap, under qemu-x86_64" "$(val trap_qemu.ns_per_op)"
echo
printf '%-58s %14s   (worst %s)\n' "CPU-bound guest, plain qemu (ns total, best of $CPU_ALT)" "$(val cpu_plain.ns_total)" "$(val cpu_plain.ns_total.max)"
printf '%-58s %14s   (worst %s)\n' "CPU-bound guest, with plugin (ns total, best of $CPU_ALT)" "$(val cpu_plugin.ns_total)" "$(val cpu_plugin.ns_total.max)"
echo
if [ -n "$SYS_RAN" ]; then
    echo "side by side, ns per op. System mode: qemu-system-x86_64 TCG, the test VM, one"
    echo "boot per column, best of $SYS_ROUNDS rounds in it ($SYS_HOW)."
else
    echo "side by side, ns per op. System mode $SYS_HOW."
fi
side() { printf '%-46s %12s %14s %14s\n' "$1" "$2" "$3" "$4"; }
side "" "plain QEMU" "plugin," "plugin,"
side "" "(no plugin)" "unrecorded" "recorded"
side "system, user space: bd_mark_args" "$(val sys_plain.user)" "$(val sys_unrec.user)" "$(val sys_rec.user)"
side "system, user space: baseline (no trap)" "$(val sys_plain.user_base)" "$(val sys_unrec.user_base)" "$(val sys_rec.user_base)"
side "system, kernel: bd_sched mark" "$(val sys_plain.kernel)" "$(val sys_unrec.kernel)" "$(val sys_rec.kernel)"
side "system, kernel: baseline (no trap)" "$(val sys_plain.kernel_base)" "$(val sys_unrec.kernel_base)" "$(val sys_rec.kernel_base)"
side "system: MMIO-exit trap (ivshmem BAR0 write)" "$(val sys_plain.mmio)" "$(val sys_unrec.mmio)" "$(val sys_rec.mmio)"
side "user mode (qemu-x86_64): bd_mark_args" "$(val qemu_plain.ns_per_op)" "$(val bd_unrec.ns_per_op)" "$(val bd_rec.ns_per_op)"
side "user mode (qemu-x86_64): baseline (no trap)" "$(val qemu_base.ns_per_op)" "" ""
side "native LTTng-UST tracepoint (no QEMU)" "-" "$(val tp_unrec.ns_per_op)" "$(val tp_rec.ns_per_op)"
for a in "${ARCHES[@]}"; do
    if [ -n "${ARCH_SKIP[$a]:-}" ]; then
        side "user mode (qemu-$a): skipped" "-" "-" "-"
        echo "    $a: ${ARCH_SKIP[$a]}"
        continue
    fi
    side "user mode (qemu-$a): bd_mark_args" "$(val "a_plain_$a.ns_per_op")" "$(val "a_unrec_$a.ns_per_op")" "$(val "a_rec_$a.ns_per_op")"
    side "user mode (qemu-$a): baseline (no trap)" "$(val "a_base_$a.ns_per_op")" "" ""
done
if [ ${#ARCHES[@]} -gt 0 ]; then
    echo "ring channel, x86_64 and ${ARCHES[*]}: bench/ring.sh's table (./bdtrace bench runs it next)."
fi
echo
echo "calls to a no-op host handler (bd_call, qemu-x86_64 with the plugin, ns per call; same process:"
echo "  bd_mark_args $(val calls.mark_ns)): no bytes $(val calls.call_ns), 64 B in $(val calls.call_64_ns),"
echo "  4 KiB in $(val calls.call_4k_ns), 64 KiB in $(val calls.call_64k_ns)"
echo "bulk marks (bd_mark_blob, same process, no session: the transfer, not LTTng's copy; ns per mark):"
echo "  64 B $(val calls.blob_64_ns), 4 KiB $(val calls.blob_4k_ns), 64 KiB $(val calls.blob_64k_ns)"
echo
echo "flood via $FLOOD_HOW: marks $(val flood.marks), achieved $(val flood.rate) marks/s over $(val flood.seconds) s, taken $(val flood.taken), marks in trace $(val flood_report.marks)"
echo "discarded events: recorded runs (native + bdtrace${ARCH_OK[*]:+ + ${ARCH_OK[*]}}, one session) $(val rec.discarded), flood $(val flood.discarded), system recorded boot $(val sys_rec.discarded)"
if have flood.marks && have flood_report.marks && have flood.discarded; then
    unaccounted=$((${R[flood.marks]} - ${R[flood_report.marks]} - ${R[flood.discarded]}))
    [ "$unaccounted" -eq 0 ] || echo "WARNING: flood: $unaccounted marks neither in the trace nor counted as discarded"
fi
if have rec.discarded && [ "${R[rec.discarded]}" != 0 ]; then
    echo "WARNING: the recorded runs lost ${R[rec.discarded]} events: their ns/op are too optimistic (discarded events cost less)"
fi
if have sys_rec.discarded && [ "${R[sys_rec.discarded]}" != 0 ]; then
    echo "WARNING: the system recorded boot lost ${R[sys_rec.discarded]} events: its ns/op are too optimistic"
fi
echo

verdict() { if le "$1" "$2"; then echo PASS; else echo MISS; fi; }
row() { printf '%-50s %12s   %-10s %s\n' "$1" "$2" "$3" "$4"; }
row "ratio" "measured" "target" "verdict"
row "-----" "--------" "------" "-------"

if have bd_rec.ns_per_op && have qemu_base.ns_per_op && have tp_rec.ns_per_op; then
    bd_cost=$(calc "${R[bd_rec.ns_per_op]} - ${R[qemu_base.ns_per_op]}")
    r1=$(calc "$bd_cost / ${R[tp_rec.ns_per_op]}")
    row "bdtrace recorded / native tracepoint (a)" "${r1}x" "<= 1.15x" "$(verdict "$r1" 1.15)"
    r1raw=$(calc "${R[bd_rec.ns_per_op]} / ${R[tp_rec.ns_per_op]}")
    row "  same without subtracting the baseline" "${r1raw}x" "" "(info)"
else
    row "bdtrace recorded / native tracepoint" "n/a" "<= 1.15x" "n/a"
fi
for a in "${ARCH_OK[@]}"; do
    if have "a_rec_$a.ns_per_op" && have "a_base_$a.ns_per_op" && have tp_rec.ns_per_op; then
        r=$(calc "(${R[a_rec_$a.ns_per_op]} - ${R[a_base_$a.ns_per_op]}) / ${R[tp_rec.ns_per_op]}")
        row "  same under qemu-$a (a)" "${r}x" "" "(info)"
    fi
done
if have bd_unrec.ns_per_op && have qemu_plain.ns_per_op; then
    r2=$(calc "${R[bd_unrec.ns_per_op]} - ${R[qemu_plain.ns_per_op]}")
    row "unrecorded: added ns over plain qemu (b)" "${r2} ns" "<= 6 ns" "$(verdict "$r2" 6)"
else
    row "unrecorded: added ns over plain qemu" "n/a" "<= 6 ns" "n/a"
fi
for a in "${ARCH_OK[@]}"; do
    if have "a_unrec_$a.ns_per_op" && have "a_plain_$a.ns_per_op"; then
        r=$(calc "${R[a_unrec_$a.ns_per_op]} - ${R[a_plain_$a.ns_per_op]}")
        row "  same under qemu-$a (b)" "${r} ns" "" "(info)"
    fi
done
if have trap_native.ns_per_op && have bd_rec.ns_per_op; then
    r3=$(calc "${R[trap_native.ns_per_op]} / ${R[bd_rec.ns_per_op]}" 1)
    row "2011 trap (native) / bdtrace recorded (c)" "${r3}x" ">= 100x" "$(verdict 100 "$r3")"
    if have trap_qemu.ns_per_op; then
        r3q=$(calc "${R[trap_qemu.ns_per_op]} / ${R[bd_rec.ns_per_op]}" 1)
        row "  2011 trap under qemu / bdtrace recorded" "${r3q}x" "" "(info)"
    fi
else
    row "2011 trap / bdtrace recorded" "n/a" ">= 100x" "n/a"
fi
if have cpu_plain.ns_total && have cpu_plugin.ns_total; then
    r4=$(calc "(${R[cpu_plugin.ns_total]} - ${R[cpu_plain.ns_total]}) * 100 / ${R[cpu_plain.ns_total]}")
    row "CPU-bound slowdown with plugin (d)" "${r4} %" "<= 1 %" "$(verdict "$r4" 1)"
else
    row "CPU-bound slowdown with plugin" "n/a" "<= 1 %" "n/a"
fi
if have flood.discarded; then
    row "flood: discarded events" "${R[flood.discarded]}" "0" "$(verdict "${R[flood.discarded]}" 0)"
else
    row "flood: discarded events" "n/a" "0" "n/a"
fi

# System mode. The baselines contain no trap, so the plugin cannot change
# them: the lowest of the three boots is the one subtracted (the larger,
# conservative cost).
for b in user_base kernel_base; do
    for setup in plain unrec rec; do
        have "sys_$setup.$b" && min_into "sys.$b" "${R[sys_$setup.$b]}"
    done
done
for what in user kernel; do
    label="user-space"
    [ "$what" = kernel ] && label="kernel"
    if have "sys_unrec.$what" && have "sys_plain.$what"; then
        r=$(calc "${R[sys_unrec.$what]} - ${R[sys_plain.$what]}")
        row "system, $label mark: added ns over plain (e)" "${r} ns" "<= 15 ns" "$(verdict "$r" 15)"
    else
        row "system, $label mark: added ns over plain (e)" "n/a" "<= 15 ns" "n/a"
    fi
done
if have sys_plain.mmio && have sys_unrec.user; then
    r=$(calc "${R[sys_plain.mmio]} / ${R[sys_unrec.user]}")
    row "MMIO-exit trap / system user mark, unrec. (f)" "${r}x" ">= 5x" "$(verdict 5 "$r")"
    if have sys.user_base; then
        r=$(calc "${R[sys_plain.mmio]} / (${R[sys_unrec.user]} - ${R[sys.user_base]})")
        row "  same, mark minus its baseline" "${r}x" "" "(info)"
    fi
    if have sys_unrec.kernel; then
        r=$(calc "${R[sys_plain.mmio]} / ${R[sys_unrec.kernel]}")
        row "  MMIO-exit trap / system kernel mark, unrec." "${r}x" "" "(info)"
    fi
else
    row "MMIO-exit trap / system user mark, unrec. (f)" "n/a" ">= 5x" "n/a"
fi
for what in user kernel; do
    label="user-space"
    [ "$what" = kernel ] && label="kernel"
    if have "sys_rec.$what" && have "sys.${what}_base" && have tp_rec.ns_per_op; then
        cost=$(calc "${R[sys_rec.$what]} - ${R[sys.${what}_base]}")
        r=$(calc "$cost / ${R[tp_rec.ns_per_op]}")
        row "system, $label recorded / native tp (a)" "${r}x" "<= 1.15x" "$(verdict "$r" 1.15)"
        r=$(calc "${R[sys_rec.$what]} / ${R[tp_rec.ns_per_op]}")
        row "  same without subtracting the baseline" "${r}x" "" "(info)"
    else
        row "system, $label recorded / native tp (a)" "n/a" "<= 1.15x" "n/a"
    fi
done
echo
echo "(a) (recorded - guest baseline) / native recorded: the baseline (same call and"
echo "    record fill without the trap, under qemu) removes loop and emulated record-fill"
echo "    cost, leaving trap + plugin + LTTng; the raw ratio is shown below it."
echo "    System mode subtracts its own baseline, measured in the VM (user space:"
echo "    bench-guest-marks --baseline; kernel: bd_sched's record fill without the trap),"
echo "    the lowest of the three boots."
echo "(b) plugin loaded, no session, minus plain qemu; same loop both sides, no baseline."
echo "    Other guest architectures: the same, informational (the targets are x86_64's)."
echo "(c) raw recorded cost, baseline not subtracted (the conservative ratio)."
echo "(d) best with plugin vs best without; compare with the best-to-worst spread of"
echo "    each setup above: on a shared host the spread is often larger than 1 %."
echo "(e) the same mark loop in a boot with the plugin (no session) minus a boot of"
echo "    plain qemu-system-x86_64; no baseline. Kernel marks: bd_sched bench=N, N marks"
echo "    into this CPU's kernel slot with preemption disabled."
echo "(f) a 32-bit write to ivshmem's BAR0 IntrMask register (exits to QEMU's MMIO"
echo "    path, as a hypertrace-style trap does; plain QEMU) over the whole unrecorded"
echo "    user-space mark (loop, record fill, trap, plugin)."
versions_report

if [ ${#FAILED[@]} -gt 0 ]; then
    echo
    echo "bench: ${#FAILED[@]} scenario(s) failed to run:"
    printf '  - %s\n' "${FAILED[@]}"
    exit 1
fi
exit 0
