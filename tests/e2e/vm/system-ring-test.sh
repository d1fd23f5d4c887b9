#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test VM booted with bd-run --system --channel ring (no
# plugin; bd_sched writes context switches into the kernel rings and answers
# the consumer's clock sync): every check of
# tests/e2e/system_ring_e2e_test.cc shares this one boot. Lines starting
# with "bd-test:" are read by the host side of the test.
say() { echo "bd-test: $*"; }

say begin
say present $(bd-mark --present && echo 1 || echo 0)

# Context switches: the guest's own count around a switch-heavy workload,
# bracketed by marks; the host counts the switches whose guest time lies
# between the two marks' times.
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

# The filter (the host test runs bd-run --filter, see system_ring_e2e_test):
# event 190 is dropped for certain (the guest skips it: ids below 192 have
# a bit of their own in the enable bitmap), 191 is not.
bd-mark 190
bd-mark 190
bd-mark 191

# Bulk marks through a user ring: the bytes exactly as sent.
guest-calls blobs | sed 's/^/bd-test: blobs /'

# More threads than user rings (62 here): the threads without a ring lose
# their marks, and the consumer reports each (ring_dropped, no ring). Before
# the sleeps: the clock sync's last exchanges, whose agreement the host
# test checks, then happen on a quiet guest.
guest-slot-exhaust 2 40 20 | sed 's/^/bd-test: exhaust /'

# Ground truth for the ring's times: regions around fixed sleeps, measured
# by the guest's own CLOCK_MONOTONIC.
guest-sleeps 50 100 200 | sed 's/^/bd-test: sleeps /'

if bd-kmod unload; then say rmmod ok; else say rmmod failed; fi
dmesg | grep -E 'bd_sched|Oops|BUG:|WARNING:' | sed 's/^/bd-test: dmesg /'

# Hostile root, with the kernel rings idle now: garbage in every kernel
# ring and forged switches in its own user ring, all rejected and counted.
guest-hostile-ring-system 100 | sed 's/^/bd-test: hostile-ring /'
say end
