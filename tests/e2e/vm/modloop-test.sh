#!/bin/sh
# SPDX-License-Identifier: MIT
# The kernel module's test (tests/e2e/kmod_e2e_test.cc, boot without
# bd.kmod=1): bd_sched loaded and unloaded 200 times while processes mark
# and switch contexts; after each cycle the kernel log must hold the
# module's unload line and no lockup, oops or warning. Plain insmod and
# rmmod with every CPU online; bd.kmodtool=bd-kmod on the kernel command
# line: through the image's bd-kmod (the other CPUs offline meanwhile, what
# bd-init does: safe on QEMU before 10.2 too).
say() { echo "bd-test: $*"; }
dmesg -c > /dev/null
touch /tmp/run
( while [ -f /tmp/run ]; do guest-threads --threads 2 --marks 2000 > /dev/null; done ) &
( while [ -f /tmp/run ]; do guest-pingpong 2000 > /dev/null; done ) &
# bd.cycles=N on the kernel command line: another number of cycles.
cycles=200
tool=plain
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        bd.cycles=*) cycles=${arg#bd.cycles=} ;;
        bd.kmodtool=*) tool=${arg#bd.kmodtool=} ;;
    esac
done
load() { if [ "$tool" = bd-kmod ]; then bd-kmod load; else insmod /lib/bd/bd_sched.ko; fi; }
unload() { if [ "$tool" = bd-kmod ]; then bd-kmod unload; else rmmod bd_sched; fi; }
say "loading and unloading with $tool"
start=$(date +%s)
i=0; failed=0; unloads=0; problems=0
while [ $i -lt "$cycles" ]; do
    load || failed=$((failed + 1))
    unload || failed=$((failed + 1))
    log=$(dmesg -c)
    unloads=$((unloads + $(echo "$log" | grep -c 'bd_sched: unloaded')))
    if echo "$log" | grep -q -E 'soft lockup|hard LOCKUP|BUG:|Oops|WARNING:|Call Trace|stall|blocked for more than'; then
        problems=$((problems + 1))
        echo "$log" | head -n 40 | sed 's/^/bd-test: dmesg /'
    fi
    i=$((i + 1))
    [ $((i % 20)) -eq 0 ] && say progress $i cycles $(( $(date +%s) - start )) s
done
rm /tmp/run
wait
say cycles $i failed $failed unloads $unloads problems $problems seconds $(( $(date +%s) - start ))
say end
