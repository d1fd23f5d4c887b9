#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest half of tools/vm/smoke-test.sh (installed as /etc/bd/smoke.sh):
# exercises bd_sched inside the VM. Boot with bd.kmod=1 bd.run=/etc/bd/smoke.sh.
# Every line starts with "smoke: "; the last is "smoke: ok" or "smoke: FAIL ...".
fail() { echo "smoke: FAIL $*"; exit 1; }

echo "smoke: start"
grep -q '^bd_sched ' /proc/modules || fail "bd_sched is not loaded (boot with bd.kmod=1)"

ctxt() { awk '/^ctxt/ {print $2}' /proc/stat; }
c0=$(ctxt)
# Context switches: a few short-lived processes and a pipe.
i=0
while [ $i -lt 50 ]; do
    echo x | cat >/dev/null
    i=$((i + 1))
done
c1=$(ctxt)
echo "smoke: /proc/stat ctxt grew by $((c1 - c0)) during the workload"

bd-kmod unload || fail "rmmod bd_sched"
dmesg | grep 'bd_sched: unloaded' | tail -n 1 | sed 's/^/smoke: /'

# A second load/unload cycle: the handshake must work again.
bd-kmod load || fail "insmod bd_sched (second load)"
sleep 1
bd-kmod unload || fail "rmmod bd_sched (second unload)"
dmesg | grep 'bd_sched: unloaded' | tail -n 1 | sed 's/^/smoke: /'

# force=1 writes records and traps even without the plugin: the record
# path runs, and the host checks the records left in the channel file.
bd-kmod load force=1 || fail "insmod bd_sched force=1"
i=0
while [ $i -lt 20 ]; do
    echo x | cat >/dev/null
    i=$((i + 1))
done
bd-kmod unload || fail "rmmod bd_sched (force=1)"
line=$(dmesg | grep 'bd_sched: unloaded' | tail -n 1)
echo "smoke: force=1: $line"
case "$line" in
    *"marked 0 switches"*) fail "force=1 marked no switch" ;;
esac

if dmesg | grep -E -q 'Oops|BUG:|WARNING:|Call Trace'; then
    dmesg | grep -E -A5 'Oops|BUG:|WARNING:|Call Trace' | sed 's/^/smoke: dmesg: /'
    fail "kernel warnings in dmesg"
fi
echo "smoke: ok"
