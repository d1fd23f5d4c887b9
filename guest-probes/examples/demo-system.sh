#!/bin/sh
# SPDX-License-Identifier: MIT
# The full-system demo's workload, run inside the VM by bd-init
# (./bdtrace demo --system): several processes at once on 2 vCPUs, so the
# report shows which guest process ran on which vCPU.
echo "demo: bdtrace host present: $(bd-mark --present && echo yes || echo no)"
bd-mark --name 900 demo
bd-mark 900 "workload starts"
guest-pingpong 20000 > /dev/null &
bd-demo-workload &
wait
bd-mark 900 "workload done"
echo "demo: workload done"
