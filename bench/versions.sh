# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# bench/versions.sh — the "versions" and "versions_system" sections of
# bench/run.sh (sourced by it; uses its results R, its helpers section,
# needs, measure_alt, min_into, session_start, session_end, sys_boot, log,
# fail, have, calc, val, and its settings N, REPS, ALT, REC_ALT, CPU_ALT,
# SYS_*, QEMU, QEMU_SYSTEM, PLUGIN, BIN, VM_DIR, BDRUN, WORK).
#
# Each QEMU version side by side, measured in alternation (one run of every
# version in turn, repeated; the best run kept): Debian's 7.2 ($QEMU,
# $QEMU_SYSTEM) and every install prefix in BD_TEST_QEMU_BUILDS (./bdtrace
# qemu VERSION builds; ./bdtrace bench sets it), each with the plugin build
# of its API generation (plugin_file below):
#   versions         user mode (PREFIX/bin/qemu-x86_64): bench-guest-marks
#                    plain, --baseline, plugin unrecorded, plugin recorded
#                    (one LTTng session of run.sh's for every version),
#                    bench-guest-cpu plain vs with the plugin, and code
#                    tracing on bench-guest-primes (plain, gate closed, open
#                    unrecorded, every block recorded)
#   versions_system  full system (PREFIX/bin/qemu-system-x86_64, the test
#                    VM, run.sh's system section's boot): one boot per
#                    version per setup (plain, plugin unrecorded, plugin
#                    recording), the setups in turn (three versions: 9 boots,
#                    about a minute on 2 cores)
# A version whose binaries or plugin build are missing is skipped: its
# column says so, which is not a failure.

# plugin_file MAJOR.MINOR: the file name of the plugin build for that QEMU.
# Mirrors tools/bd-run/plugin_api.cc (plugin_api_for, plugin_file_name):
# API 1 up to 8.2, 2 for 9.0, 3 for 9.1, 4 for 9.2 to 10.0, 5 for 10.1 and
# 10.2, 6 for 11.0, 7 from 11.1 on.
plugin_file() {
    local major=${1%%.*} rest=${1#*.}
    local v=$((major * 100 + ${rest%%.*}))
    if ((v < 900)); then
        echo libbdtrace-qemu.so
    elif ((v < 901)); then
        echo libbdtrace-qemu-v2.so
    elif ((v < 902)); then
        echo libbdtrace-qemu-v3.so
    elif ((v < 1001)); then
        echo libbdtrace-qemu-v4.so
    elif ((v < 1100)); then
        echo libbdtrace-qemu-v5.so
    elif ((v < 1101)); then
        echo libbdtrace-qemu-v6.so
    else
        echo libbdtrace-qemu-v7.so
    fi
}

# qemu_version QEMU_BINARY: its version, e.g. 10.2.2 (empty when it does not run).
qemu_version() {
    "$1" -version 2>/dev/null | sed -n '1s/.* version \([0-9][0-9.]*\).*/\1/p'
}

# The versions: V_NAME[k] (its version), V_USER[k], V_SYS[k], V_PLUGIN[k];
# V_SKIP[k] says why version k cannot run (V_SYS_SKIP[k]: its full system).
V_NAME=()
V_USER=()
V_SYS=()
V_PLUGIN=()
V_SKIP=()
V_SYS_SKIP=()
V_OK=()     # the indexes of the versions whose user mode can run
V_SYS_OK=() # ... whose full system can run (a prefix of Debian's binary
            # system emulators has no qemu-x86_64: full system only)
versions_setup() {
    local qemus=("$QEMU") systems=("$QEMU_SYSTEM") labels=("$QEMU") p k q s ver sver v
    for p in ${BD_TEST_QEMU_BUILDS:-}; do
        qemus+=("$p/bin/qemu-x86_64")
        systems+=("$p/bin/qemu-system-x86_64")
        labels+=("${p##*/}")
    done
    for k in "${!qemus[@]}"; do
        q=${qemus[$k]}
        s=${systems[$k]}
        V_USER[k]=$q
        V_SYS[k]=$s
        V_SKIP[k]=""
        V_SYS_SKIP[k]=""
        ver=""
        sver=""
        command -v "$q" >/dev/null && ver=$(qemu_version "$q")
        command -v "$s" >/dev/null && sver=$(qemu_version "$s")
        v=${ver:-$sver}
        V_NAME[k]=${v:-${labels[$k]}}
        if [ -z "$v" ]; then
            V_SKIP[k]="no runnable $q"
            V_SYS_SKIP[k]="no runnable $s"
            continue
        fi
        # shellcheck disable=SC2153 # PLUGIN: run.sh's API 1 build; its siblings
        V_PLUGIN[k]=${PLUGIN%/*}/$(plugin_file "$v")
        if [ ! -f "${V_PLUGIN[$k]}" ]; then
            V_SKIP[k]="no plugin build ${V_PLUGIN[$k]} for QEMU $v"
            V_SYS_SKIP[k]=${V_SKIP[$k]}
            continue
        fi
        if [ -z "$ver" ]; then
            V_SKIP[k]="no $q (system emulators only)"
        elif [ ! -x "$BIN/bench-guest-marks" ] || [ ! -x "$BIN/bench-guest-cpu" ] ||
             [ ! -x "$BIN/bench-guest-primes" ]; then
            V_SKIP[k]="no $BIN/bench-guest-marks, bench-guest-cpu or bench-guest-primes"
        else
            V_OK+=("$k")
        fi
        if [ -z "$sver" ]; then
            V_SYS_SKIP[k]="no runnable $s"
        elif [ -n "$ver" ] && [ "$sver" != "$ver" ]; then
            V_SYS_SKIP[k]="$s is not QEMU $ver"
        else
            V_SYS_OK+=("$k")
        fi
    done
}

# versions_user: the user-mode rows, every version in each round.
versions_user() {
    local i k plug
    log "versions, user mode: plain, baseline, plugin unrecorded ($ALT alternating runs; QEMU ${V_NAME[*]})"
    for ((i = 1; i <= ALT; i++)); do
        for k in "${V_OK[@]}"; do
            plug=(-plugin "${V_PLUGIN[$k]}")
            measure_alt $i "v_plain_$k" ns_per_op "${V_USER[$k]}" "$BIN/bench-guest-marks" "$N" "$REPS"
            measure_alt $i "v_base_$k" ns_per_op "${V_USER[$k]}" "$BIN/bench-guest-marks" --baseline "$N" "$REPS"
            measure_alt $i "v_unrec_$k" ns_per_op "${V_USER[$k]}" "${plug[@]}" "$BIN/bench-guest-marks" "$N" "$REPS"
        done
    done
    log "versions, user mode: plugin recorded, one session ($REC_ALT alternating runs)"
    if ! needs lttng; then
        fail "versions, recorded: lttng-sessiond not available"
    elif session_start vrec; then
        for ((i = 1; i <= REC_ALT; i++)); do
            for k in "${V_OK[@]}"; do
                measure_alt $i "v_rec_$k" ns_per_op "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]}" "$BIN/bench-guest-marks" "$N" "$REPS"
            done
        done
        session_end vrec
        R["vrec.discarded"]=$DISCARDED
    else
        session_end vrec
        fail "versions, recorded: could not set up LTTng session bdbench-$$-vrec"
    fi
    # The closed code-tracing gate: a trace_code rule for a process that is
    # not this one (pid 1), so every block gets the plugin's exec callback
    # and returns at once (filter/README.md; bench/filter.sh measures 7.2's).
    local gate_closed="$WORK/versions-gate-closed.txtpb"
    echo 'rule { process { pid: 1 } trace_code: true action: RECORD }' >"$gate_closed"
    log "versions, CPU-bound guest, plain, with the plugin and with a closed code-tracing gate ($CPU_ALT alternating runs)"
    for ((i = 1; i <= CPU_ALT; i++)); do
        for k in "${V_OK[@]}"; do
            measure_alt $i "v_cpu_plain_$k" ns_total "${V_USER[$k]}" "$BIN/bench-guest-cpu"
            measure_alt $i "v_cpu_plugin_$k" ns_total "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]}" "$BIN/bench-guest-cpu"
            measure_alt $i "v_cpu_gate_$k" ns_total "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]},filter=$gate_closed" \
                "$BIN/bench-guest-cpu"
        done
    done
    # Code tracing at scale (issue #11): a branchy guest whose blocks are
    # short (bench-guest-primes, trial division below CODE_LIMIT), plain,
    # with a closed gate, with the gate open but no session recording, and
    # with every block recorded into a session of its own (tb_batch).
    local code_closed="$WORK/versions-code-closed.txtpb" code_open="$WORK/versions-code-open.txtpb"
    echo 'rule { process { pid: 1 } trace_code: true action: RECORD }' >"$code_closed"
    echo 'rule { process { comm: "bench-guest-primes" } trace_code: true action: RECORD }' >"$code_open"
    local code_counts="$WORK/versions-code-counts.txtpb"
    echo 'rule { process { comm: "bench-guest-primes" } trace_code: true code_events: BLOCK_COUNTS action: RECORD }' >"$code_counts"
    log "versions, code tracing: primes below $CODE_LIMIT, plain / gate closed / open unrecorded ($CPU_ALT alternating runs)"
    for ((i = 1; i <= CPU_ALT; i++)); do
        for k in "${V_OK[@]}"; do
            measure_alt $i "v_code_plain_$k" ns_total "${V_USER[$k]}" "$BIN/bench-guest-primes" "$CODE_LIMIT"
            measure_alt $i "v_code_closed_$k" ns_total "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]},filter=$code_closed" \
                "$BIN/bench-guest-primes" "$CODE_LIMIT"
            measure_alt $i "v_code_open_$k" ns_total "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]},filter=$code_open" \
                "$BIN/bench-guest-primes" "$CODE_LIMIT"
            measure_alt $i "v_code_counts_$k" ns_total "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]},filter=$code_counts" \
                "$BIN/bench-guest-primes" "$CODE_LIMIT"
        done
    done
    log "versions, code tracing: every block recorded, one session per run ($REC_ALT alternating runs)"
    local disc=0
    for ((i = 1; i <= REC_ALT; i++)); do
        for k in "${V_OK[@]}"; do
            if session_start "vcode$k"; then
                measure_alt $i "v_code_rec_$k" ns_total "${V_USER[$k]}" -plugin "${V_PLUGIN[$k]},filter=$code_open" \
                    "$BIN/bench-guest-primes" "$CODE_LIMIT"
                session_end "vcode$k"
                disc=$((disc + DISCARDED))
            else
                session_end "vcode$k"
                fail "versions, code tracing recorded: could not set up LTTng session bdbench-$$-vcode$k"
            fi
        done
    done
    R["vcode.discarded"]=$disc
    # Thread CPU time as well (the guest's cpu_ns_total, best run): a busy
    # neighbour delays a run's wall time more than its CPU time.
    local sc v
    for k in "${V_OK[@]}"; do
        for sc in "v_cpu_plain_$k" "v_cpu_plugin_$k" "v_cpu_gate_$k"; do
            for ((i = 1; i <= CPU_ALT; i++)); do
                v=${R[${sc}_$i.cpu_ns_total]:-}
                [ -z "$v" ] || min_into "$sc.cpu" "$v"
            done
        done
    done
    # The plugin takes every mark; plain QEMU none.
    local ops=$((N * REPS))
    for k in "${V_OK[@]}"; do
        for sc in "v_unrec_$k" "v_rec_$k"; do
            if have "$sc.taken" && [ "${R[$sc.taken]}" != "$ops" ]; then
                fail "$sc: the plugin ${V_PLUGIN[$k]} took ${R[$sc.taken]} of $ops marks under QEMU ${V_NAME[$k]}"
            fi
        done
        if have "v_plain_$k.taken" && [ "${R[v_plain_$k.taken]}" != 0 ]; then
            fail "v_plain_$k: ${R[v_plain_$k.taken]} marks taken under QEMU ${V_NAME[$k]} without the plugin"
        fi
    done
}

# versions_system: one boot per version per setup, the setups in turn.
versions_system() {
    local setup k
    if [ ! -f "$VM_DIR/vmlinuz" ] || [ ! -f "$VM_DIR/initramfs.cpio.gz" ] || [ ! -x "$BDRUN" ]; then
        V_SYS_HOW="skipped: no test VM image in $VM_DIR (./bdtrace bench builds it) or no $BDRUN"
        return 0
    fi
    V_SYS_HOW="$SYS_N marks x $REPS, kernel marks $SYS_KERNEL_N, MMIO $SYS_MMIO_N x $REPS"
    log "versions, full system: test VM, one boot per version per setup (plain, unrecorded, recording)"
    for setup in plain unrec rec; do
        for k in "${V_SYS_OK[@]}"; do
            if [ "$setup" = rec ]; then
                sys_boot "v_sys_rec_$k" rec "${V_SYS[$k]}" "${V_PLUGIN[$k]}" --trace "$WORK/vsystrace"
                rm -rf "$WORK/vsystrace"
            else
                sys_boot "v_sys_${setup}_$k" "$setup" "${V_SYS[$k]}" "${V_PLUGIN[$k]}"
            fi
        done
    done
}

V_SYS_HOW="not run"
# versions_section: the measurements of both sections, as BD_BENCH_ONLY says.
versions_section() {
    section versions || section versions_system || return 0
    versions_setup
    section versions && [ ${#V_OK[@]} -gt 0 ] && versions_user
    section versions_system && versions_system
    return 0
}

# plugin_gen FILE: the API generation of a plugin build's file, e.g. v5.
plugin_gen() {
    case ${1##*/} in
        libbdtrace-qemu.so) echo v1 ;;
        libbdtrace-qemu-v*.so) local f=${1##*-}; echo "${f%.so}" ;;
        *) echo "?" ;;
    esac
}

# vcell KEY: R[KEY], or for "A - B" the difference and for "A pct B" the
# relative difference of A over B in percent; n/a when a value is missing.
vcell() {
    local a op b
    read -r a op b <<<"$1"
    if [ -z "$op" ]; then
        val "$a"
    elif have "$a" && have "$b"; then
        case $op in
            -) calc "${R[$a]} - ${R[$b]}" ;;
            pct) calc "(${R[$a]} - ${R[$b]}) * 100 / ${R[$b]}" 1 ;;
            x) calc "${R[$a]} / ${R[$b]}" 2 ;;
        esac
    else
        printf 'n/a'
    fi
}

# vrow LABEL KEY [sys]: one row, a cell per version; % in KEY is the
# version's index; sys: a full-system row (skipped as V_SYS_SKIP says).
vrow() {
    local k line skip
    line=$(printf '%-46s' "$1")
    for k in "${!V_NAME[@]}"; do
        skip=${V_SKIP[$k]}
        [ "${3:-}" != sys ] || skip=${V_SYS_SKIP[$k]}
        if [ -n "$skip" ]; then
            line+=$(printf ' %11s' skipped)
        else
            line+=$(printf ' %11s' "$(vcell "${2//%/$k}")")
        fi
    done
    echo "$line"
}

# versions_report: the table, one column per version.
versions_report() {
    section versions || section versions_system || return 0
    local k line
    echo
    echo "QEMU versions side by side, ns per mark unless said."
    line=$(printf '%-46s' "QEMU")
    for k in "${!V_NAME[@]}"; do line+=$(printf ' %11s' "${V_NAME[$k]}"); done
    echo "$line"
    line=$(printf '%-46s' "plugin build (API generation)")
    for k in "${!V_NAME[@]}"; do
        line+=$(printf ' %11s' "$( [ -n "${V_PLUGIN[$k]:-}" ] && plugin_gen "${V_PLUGIN[$k]}" || echo -)")
    done
    echo "$line"
    if section versions; then
        echo "user mode, qemu-x86_64: marks $N x $REPS, best repetition; best of $ALT"
        echo "alternating runs unrecorded, $REC_ALT recorded (one session), $CPU_ALT CPU-bound:"
        vrow "user: plain qemu-x86_64 (no plugin)" "v_plain_%.ns_per_op"
        vrow "user: baseline (no trap)" "v_base_%.ns_per_op"
        vrow "user: plugin, unrecorded" "v_unrec_%.ns_per_op"
        vrow "user: plugin, recorded" "v_rec_%.ns_per_op"
        vrow "  unrecorded - plain (what the plugin adds)" "v_unrec_%.ns_per_op - v_plain_%.ns_per_op"
        vrow "  plain - baseline (the trap load, no plugin)" "v_plain_%.ns_per_op - v_base_%.ns_per_op"
        vrow "  recorded - baseline" "v_rec_%.ns_per_op - v_base_%.ns_per_op"
        vrow "CPU-bound guest, plain (ns total)" "v_cpu_plain_%.ns_total"
        vrow "CPU-bound guest, plugin loaded (ns total)" "v_cpu_plugin_%.ns_total"
        vrow "  slowdown with the plugin (%)" "v_cpu_plugin_%.ns_total pct v_cpu_plain_%.ns_total"
        vrow "  spread of plain runs: worst over best (%)" "v_cpu_plain_%.ns_total.max pct v_cpu_plain_%.ns_total"
        vrow "  slowdown in thread CPU time (%)" "v_cpu_plugin_%.cpu pct v_cpu_plain_%.cpu"
        vrow "CPU-bound, code-tracing gate closed (ns total)" "v_cpu_gate_%.ns_total"
        vrow "  slowdown, gate closed (%; target <= 2)" "v_cpu_gate_%.ns_total pct v_cpu_plain_%.ns_total"
        vrow "  the same in thread CPU time (%)" "v_cpu_gate_%.cpu pct v_cpu_plain_%.cpu"
        echo "discarded events in the recorded session: $(val vrec.discarded)"
        echo "code tracing, branchy guest (bench-guest-primes $CODE_LIMIT), best of $CPU_ALT / $REC_ALT:"
        vrow "code: plain (ns total)" "v_code_plain_%.ns_total"
        vrow "  gate closed (x plain)" "v_code_closed_%.ns_total x v_code_plain_%.ns_total"
        vrow "  gate open, unrecorded (x plain; target 1.5)" "v_code_open_%.ns_total x v_code_plain_%.ns_total"
        vrow "  every block recorded (x plain; target 5)" "v_code_rec_%.ns_total x v_code_plain_%.ns_total"
        vrow "  block counts, inline (x plain; target 1.3)" "v_code_counts_%.ns_total x v_code_plain_%.ns_total"
        echo "discarded events in the code-tracing sessions: $(val vcode.discarded)"
    fi
    if section versions_system; then
        echo "full system, qemu-system-x86_64 and the test VM, one boot per column and"
        echo "setup, best of $SYS_ROUNDS rounds in it: $V_SYS_HOW"
        vrow "system, user mark: plain (no plugin)" "v_sys_plain_%.user" sys
        vrow "system, user mark: plugin, unrecorded" "v_sys_unrec_%.user" sys
        vrow "system, user mark: plugin, recorded" "v_sys_rec_%.user" sys
        vrow "  unrecorded - plain" "v_sys_unrec_%.user - v_sys_plain_%.user" sys
        vrow "system, user baseline (no trap), unrec. boot" "v_sys_unrec_%.user_base" sys
        vrow "system, kernel mark: plain (no plugin)" "v_sys_plain_%.kernel" sys
        vrow "system, kernel mark: plugin, unrecorded" "v_sys_unrec_%.kernel" sys
        vrow "system, kernel mark: plugin, recorded" "v_sys_rec_%.kernel" sys
        vrow "  unrecorded - plain" "v_sys_unrec_%.kernel - v_sys_plain_%.kernel" sys
        vrow "system, kernel baseline (no trap), unrec. boot" "v_sys_unrec_%.kernel_base" sys
        vrow "system: MMIO-exit trap, plain boot" "v_sys_plain_%.mmio" sys
        for k in "${!V_NAME[@]}"; do
            have "v_sys_rec_$k.discarded" && [ "${R[v_sys_rec_$k.discarded]}" != 0 ] &&
                echo "WARNING: QEMU ${V_NAME[$k]}'s recorded boot lost ${R[v_sys_rec_$k.discarded]} events"
        done
    fi
    for k in "${!V_NAME[@]}"; do
        [ -z "${V_SKIP[$k]}" ] || echo "    QEMU ${V_NAME[$k]} skipped: ${V_SKIP[$k]}"
        if section versions_system && [ -n "${V_SYS_SKIP[$k]}" ] && [ "${V_SYS_SKIP[$k]}" != "${V_SKIP[$k]}" ]; then
            echo "    QEMU ${V_NAME[$k]}, full system skipped: ${V_SYS_SKIP[$k]}"
        fi
    done
    return 0
}
