#!/bin/sh
# SPDX-License-Identifier: MIT
# The system region-of-interest test's guest job (tests/e2e/code_trace_system_e2e_test.cc,
# bd-run --handler with the roi example): guest-roi's code is traced only
# between its two calls.
say() { echo "bd-test: $*"; }
guest-roi | sed 's/^/bd-test: roi /'
say end
