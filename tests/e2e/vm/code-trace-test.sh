#!/bin/sh
# SPDX-License-Identifier: MIT
# The system code-tracing test's guest job (tests/e2e/code_trace_system_e2e_test.cc):
# the traced process (guest-spin, 40 ms of CPU on vCPU 1) beside untraced
# ones (threads that mark, a ping-pong of context switches), short enough
# that every block of guest-spin is recorded and read back by babeltrace2.
say() { echo "bd-test: $*"; }
guest-threads --threads 2 --marks 1000 > /tmp/p1.out &
guest-spin 1 40 > /tmp/s1.out &
guest-pingpong 2000 > /tmp/pp.out
wait
sed 's/^/bd-test: /' /tmp/s1.out
say end
