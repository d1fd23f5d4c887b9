#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test VM booted under plain QEMU (no plugin): the same
# programs run and every bdtrace call returns 0.
echo "bd-test: begin"
guest-threads --threads 2 --marks 1000 | sed 's/^/bd-test: p1 /'
guest-pingpong 2000 > /dev/null && echo "bd-test: pingpong ok"
echo "bd-test: end"
