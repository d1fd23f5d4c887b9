#!/bin/sh
# SPDX-License-Identifier: MIT
# The system-mode overload test (tests/e2e/overload_system_e2e_test.cc):
# 4 threads mark as fast as they can for 2 s into LTTng buffers far too
# small; every mark the guest issued must be in the trace or counted as
# discarded. Prints bench-guest-marks' "marks M" and "taken T".
bench-guest-marks --flood --threads 4 --rate 1000000000 --seconds 2 | sed 's/^/bd-test: /'
echo "bd-test: end"
