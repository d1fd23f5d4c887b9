#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test VM (bd-init starts it after loading bd_sched): every
# system-mode check of tests/e2e/system_e2e_test.cc shares this one boot.
# Lines starting with "bd-test:" are read by the host side of the test.
say() { echo "bd-test: $*"; }

say begin
say present $(bd-mark --present && echo 1 || echo 0)

# Context switches: the guest's own count around a switch-heavy workload,
# bracketed by marks so the host counts the switches it recorded between them.
say before $(guest-ctxt)
bd-mark 900
# User marks from 2 processes x 2 threads, at the same time as a ping-pong.
guest-threads --threads 2 --marks 1000 > /tmp/p1.out &
guest-threads --threads 2 --marks 1000 > /tmp/p2.out &
guest-pingpong 20000 > /tmp/pp.out
wait
bd-mark 901
say after $(guest-ctxt)
sed 's/^/bd-test: p1 /' /tmp/p1.out
sed 's/^/bd-test: p2 /' /tmp/p2.out

# CPU time ground truth: two compute processes pinned to one vCPU each.
guest-spin 0 300 > /tmp/s0.out &
guest-spin 1 600 > /tmp/s1.out &
wait
sed 's/^/bd-test: /' /tmp/s0.out /tmp/s1.out

# Calls to host handlers and bulk marks through the data pages (the host
# test loads the key-value example at 7000 and the echo test handler).
guest-calls system | sed 's/^/bd-test: calls /'

# Forged kernel events from user space and hostile records: rejected, counted.
guest-forge | sed 's/^/bd-test: forge /'
guest-hostile-system | sed 's/^/bd-test: hostile /'
# Hostile BAR2 use (each alone: garbage leaves no slot claimable meanwhile):
# forged switches in every kernel slot, BAR2 full of garbage, handshake
# spam and a handshake that moves the channel to guest RAM; then more
# threads than user slots, whose lost marks the host counts.
guest-hostile-bar kernel-slots | sed 's/^/bd-test: bar-kernel /'
guest-hostile-bar garbage | sed 's/^/bd-test: bar-garbage /'
guest-hostile-bar handshakes 1000 | sed 's/^/bd-test: bar-handshakes /'
guest-slot-exhaust 4 300 20 | sed 's/^/bd-test: exhaust /'
# libbdguest still marks after all of it.
bd-mark 4243

if bd-kmod unload; then say rmmod ok; else say rmmod failed; fi
dmesg | grep -E 'bd_sched|Oops|BUG:|WARNING:' | sed 's/^/bd-test: dmesg /'
say end
