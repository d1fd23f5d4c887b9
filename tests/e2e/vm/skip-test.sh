#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test VM under a filter that drops event 2 and every
# context switch (system_e2e_test.cc, DisabledEventsCostNoTrap): the guest
# skips those records by the channel's enable bitmaps, so no trap reaches
# the plugin for them. Lines starting with "bd-test:" are read by the host.
say() { echo "bd-test: $*"; }
say begin
say present $(bd-mark --present && echo 1 || echo 0)
guest-filter enabled 1000 | sed 's/^/bd-test: /'
if bd-kmod unload; then say rmmod ok; else say rmmod failed; fi
dmesg | grep 'bd_sched: unloaded' | sed 's/^.*bd_sched: /bd-test: kmod /'
say end
