#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs in the test VM booted by plain QEMU without any ivshmem device
# (tests/e2e/kmod_e2e_test.cc): bd_sched must refuse to load, and say why.
say() { echo "bd-test: $*"; }
dmesg -c > /dev/null
if bd-kmod load 2>/dev/null; then
    say insmod loaded
    bd-kmod unload
else
    say insmod refused
fi
dmesg | grep 'bd_sched' | sed 's/^/bd-test: dmesg /'
grep -q '^bd_sched ' /proc/modules && say module listed
say end
