#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the aarch64 test VM (qemu-system-aarch64 -M virt, bd-init
# starts it after loading bd_sched): every check of
# tests/e2e/system_a64_e2e_test.cc shares this one boot, the only aarch64
# boot of the suite. Lines starting with "bd-test:" are read by the host.
say() { echo "bd-test: $*"; }

say begin
say arch $(uname -m)
say present $(bd-mark --present && echo 1 || echo 0)
say kmod $(grep -c '^bd_sched ' /proc/modules)

# Context switches: the guest's own count around a switch-heavy workload,
# bracketed by marks so the host counts the switches it recorded between them.
say before $(guest-ctxt)
bd-mark 900
# User marks from 2 processes x 2 threads, at the same time as a ping-pong.
guest-threads --threads 2 --marks 1000 > /tmp/p1.out &
guest-threads --threads 2 --marks 1000 > /tmp/p2.out &
guest-pingpong 5000 > /tmp/pp.out
wait
bd-mark 901
say after $(guest-ctxt)
sed 's/^/bd-test: p1 /' /tmp/p1.out
sed 's/^/bd-test: p2 /' /tmp/p2.out

# Forged kernel events from user space (the plugin's kernel/user split on
# aarch64) and hostile records: rejected, counted.
guest-forge | sed 's/^/bd-test: forge /'
guest-hostile-system | sed 's/^/bd-test: hostile /'

if bd-kmod unload; then say rmmod ok; else say rmmod failed; fi
dmesg | grep -E 'bd_sched|Oops|BUG:|WARNING:' | sed 's/^/bd-test: dmesg /'
say end
