#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest half of the system-mode section of bench/run.sh (installed in the
# test VM as /etc/bd/bench-system.sh). Boot with
#   bd.kmod=1 bd.run=/etc/bd/bench-system.sh [bdbench.n=N] [bdbench.reps=R]
#   [bdbench.rounds=K] [bdbench.mmio_n=M] [bdbench.kernel_n=KN]
#   [bdbench.pause_us=P]
# pause_us: bench-guest-marks --pause-us P (a pause after each repetition,
# for the ring channel's consumer to drain: bench/ring.sh); kernel_n=0
# skips the kernel marks (bd_sched bench= times the trap channel only).
# The host runs it once per setup (plain QEMU, plugin unrecorded, recorded).
#
# Prints one line per measurement, each starting with "bench: " (the host
# keeps the minimum of each key over the rounds):
#   bench: user_marks ns_per_op X taken T     bd_mark_args from user space
#   bench: user_baseline ns_per_op X          same loop + record fill, no trap
#   bench: mmio ns_per_op X                   write to an ivshmem BAR0 register
#   bench: kernel X baseline Y taken T        bd_sched bench=KN (kernel marks)
#   bench: done                               last line when everything ran
# A failure prints "bench: FAIL <what>" and the script exits 1.

n=300000 reps=5 rounds=3 mmio_n=20000 kernel_n=1000000 pause_us=
# shellcheck disable=SC2013 # the command line is one line of words
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        bdbench.n=*) n=${arg#*=} ;;
        bdbench.reps=*) reps=${arg#*=} ;;
        bdbench.rounds=*) rounds=${arg#*=} ;;
        bdbench.mmio_n=*) mmio_n=${arg#*=} ;;
        bdbench.kernel_n=*) kernel_n=${arg#*=} ;;
        bdbench.pause_us=*) pause_us=${arg#*=} ;;
    esac
done

status=0
fail() { echo "bench: FAIL $*"; status=1; }

# value KEY FILE: the value of "KEY value" in a bench program's output.
value() { awk -v k="$1" '$1 == k {print $2; exit}' "$2"; }

echo "bench: start n=$n reps=$reps rounds=$rounds mmio_n=$mmio_n kernel_n=$kernel_n"

# With the ring (pause_us set), the consumer drains only once its clock map
# is good (<bd/ring.h> SYNC: within about 1 s of bd_sched loading); a burst
# before that fills the ring and is partly dropped. Warm up until one burst
# of half a default ring is taken whole (a condition, not a fixed wait).
if [ -n "$pause_us" ]; then
    tries=0
    until bench-guest-marks --pause-us "$pause_us" 8192 1 >/tmp/warm.out 2>&1 &&
          [ "$(value taken /tmp/warm.out)" = 8192 ]; do
        tries=$((tries + 1))
        if [ "$tries" -ge 2000 ]; then
            fail "the ring never took a whole burst of 8192 marks (is its consumer draining?)"
            break
        fi
    done
    echo "bench: warmup bursts $tries"
fi

# User space: marks and baseline alternate, then the MMIO trap, per round.
i=1
while [ "$i" -le "$rounds" ]; do
    if bench-guest-marks ${pause_us:+--pause-us "$pause_us"} "$n" "$reps" >/tmp/marks.out 2>/tmp/marks.err; then
        echo "bench: user_marks ns_per_op $(value ns_per_op /tmp/marks.out) taken $(value taken /tmp/marks.out)"
    else
        fail "bench-guest-marks: $(tail -c 300 /tmp/marks.err)"
    fi
    if bench-guest-marks --baseline "$n" "$reps" >/tmp/base.out 2>/tmp/base.err; then
        echo "bench: user_baseline ns_per_op $(value ns_per_op /tmp/base.out)"
    else
        fail "bench-guest-marks --baseline: $(tail -c 300 /tmp/base.err)"
    fi
    if bench-guest-mmio "$mmio_n" "$reps" >/tmp/mmio.out 2>/tmp/mmio.err; then
        echo "bench: mmio ns_per_op $(value ns_per_op /tmp/mmio.out)"
    else
        fail "bench-guest-mmio: $(tail -c 300 /tmp/mmio.err)"
    fi
    i=$((i + 1))
done

# Kernel: bd_sched times its own marks at load (bench=N), after the
# handshake; the result is in the kernel log.
bench_kernel() {
    if grep -q '^bd_sched ' /proc/modules; then
        bd-kmod unload || fail "rmmod bd_sched"
    fi
    if bd-kmod load bench="$kernel_n"; then
        line=$(dmesg | grep 'bd_sched: bench ' | tail -n 1)
        # "bd_sched: bench N marks: X ns/mark, baseline Y ns (... T of N marks taken ...)"
        # shellcheck disable=SC2046 # split into the three numbers on purpose
        set -- $(echo "$line" | sed -n 's/.*bench [0-9]* marks: \([0-9.]*\) ns\/mark, baseline \([0-9.]*\) ns.*; \([0-9]*\) of [0-9]* marks taken.*/\1 \2 \3/p')
        if [ $# -eq 3 ]; then
            echo "bench: kernel $1 baseline $2 taken $3"
        else
            fail "no bench line from bd_sched in dmesg (got: '$line')"
        fi
    else
        fail "bd-kmod load bench=$kernel_n"
        dmesg | grep 'bd_sched' | tail -n 5 | sed 's/^/bench: dmesg /'
    fi
}
if [ "$kernel_n" = 0 ]; then
    echo "bench: kernel skipped"
else
    bench_kernel
fi

if dmesg | grep -E -q 'Oops|BUG:|WARNING:|Call Trace'; then
    dmesg | grep -E -A5 'Oops|BUG:|WARNING:|Call Trace' | sed 's/^/bench: dmesg /'
    fail "kernel warnings in dmesg"
fi
[ "$status" = 0 ] && echo "bench: done"
exit "$status"
