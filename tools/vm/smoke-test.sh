#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots the test VM built by tools/vm/build-image.sh and checks that the
# kernel boots, bd_sched loads and unloads cleanly (twice), and the guest
# powers off. Runs without the plugin: the script writes the channel header
# itself, so the module loads with "plugin absent" and marks nothing.
#
#   tools/vm/smoke-test.sh OUT_DIR [--plugin PATH/libbdtrace-qemu.so] [--log FILE]
#                          [--channel PATH (kept afterwards)]
#
# With --plugin the plugin is loaded with channel=<the channel file> (the
# plugin then owns the header); the run must report marked switches.
# Exit status 0 and a last line "1 passed, 0 failed" on success.
set -euo pipefail

say() { echo "smoke-test: $*"; }
die() { echo "smoke-test: error: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

OUT_DIR=""
CHANNEL=""
KEEP_CHANNEL=0
PLUGIN=""
LOG=""
while [ $# -gt 0 ]; do
    case "$1" in
        --plugin) PLUGIN="$2"; shift 2 ;;
        --log) LOG="$2"; shift 2 ;;
        --channel) CHANNEL="$2"; KEEP_CHANNEL=1; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) OUT_DIR="$1"; shift ;;
    esac
done
[ -n "$OUT_DIR" ] || die "usage: $0 OUT_DIR [--plugin SO] [--log FILE]"
for f in vmlinuz initramfs.cpio.gz; do
    [ -f "$OUT_DIR/$f" ] || die "$OUT_DIR/$f missing: run tools/vm/build-image.sh $OUT_DIR first"
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
[ -z "$PLUGIN" ] || [ -f "$PLUGIN" ] || die "plugin $PLUGIN not found"

[ -n "$CHANNEL" ] || CHANNEL="/dev/shm/bdvm-smoke-$$"
[ -n "$LOG" ] || LOG="$(mktemp /tmp/bdvm-smoke-XXXXXX.log)"
cleanup() { [ "$KEEP_CHANNEL" = 1 ] || rm -f "$CHANNEL"; }
trap cleanup EXIT

# The channel file: 8 MiB, header per struct bd_channel_header
# (<bd/channel.h>), little-endian. Without the plugin nobody else writes it.
rm -f "$CHANNEL"
truncate -s 8M "$CHANNEL"
if [ -z "$PLUGIN" ]; then
    # shellcheck disable=SC2059 # the format is built to emit raw bytes
    le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
    {
        le32 0x62646368            # magic
        printf '\x01\x00\x80\x00'  # version 1, record_size 128
        le32 0x800000              # channel_size
        le32 2                     # nr_vcpus
        le32 0x2000; le32 64       # kernel_offset, kernel_slots
        le32 0x4000                # claims_offset
        le32 0x8000; le32 1024     # user_offset, user_slots
        le32 0                     # data_offset (no plugin: no calls served)
    } | dd of="$CHANNEL" conv=notrunc status=none
    # enable bitmaps (offset 96, 64 x 4 x 8 bytes): all ones.
    head -c 2048 /dev/zero | tr '\0' '\377' | dd of="$CHANNEL" bs=1 seek=96 conv=notrunc status=none
fi

APPEND="console=ttyS0 quiet panic=-1 bd.kmod=1 bd.run=/etc/bd/smoke.sh"
# shellcheck disable=SC2054 # commas belong to QEMU's option syntax
QEMU=(qemu-system-x86_64 -accel tcg -smp 2 -m 512M -nographic -no-reboot
      -monitor none -serial stdio
      -kernel "$OUT_DIR/vmlinuz" -initrd "$OUT_DIR/initramfs.cpio.gz"
      -append "$APPEND"
      -object "memory-backend-file,id=bdchan,mem-path=$CHANNEL,size=8M,share=on"
      -device ivshmem-plain,memdev=bdchan)
[ -z "$PLUGIN" ] || QEMU+=(-plugin "$PLUGIN,channel=$CHANNEL")

say "booting (log: $LOG)"
start=$(date +%s.%N)
set +e
timeout 300 "${QEMU[@]}" </dev/null >"$LOG" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
say "qemu exited with status $rc after $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"
grep -a -E '^(bd-init|smoke):' "$LOG" | tr -d '\r' | sed 's/^/  /'

failures=0
check() {
    if grep -a -q -E "$2" "$LOG"; then
        say "ok: $1"
    else
        say "FAILED: $1 (no line matching /$2/ in $LOG)"
        failures=$((failures + 1))
    fi
}
[ "$rc" = 0 ] || { say "FAILED: qemu exit status $rc (124 = timeout)"; failures=$((failures + 1)); }
check "init ran" '^bd-init: up at'
check "bd_sched loaded" '^bd-init: bd_sched loaded'
check "smoke script passed" '^smoke: ok'
check "module unloaded with a count" 'smoke: .*bd_sched: unloaded, marked [0-9]+ switches'
if [ -n "$PLUGIN" ]; then
    check "handshake answered" 'plugin present'
    check "switches marked, none rejected" 'bd_sched: unloaded, marked [1-9][0-9]* switches .* 0 rejected, 0 unanswered'
else
    check "handshake unanswered without the plugin" 'plugin absent'
fi
check "guest powered off" '^bd-init: poweroff'
check "force=1 marked switches" '^smoke: force=1: .*marked [1-9][0-9]* switches'
if [ -z "$PLUGIN" ]; then
    # The force=1 cycle left SCHED_SWITCH records in the kernel slots:
    # magic "bdtr" (LE 0x62647472), version 1, kind 7.
    found=0
    for cpu in 0 1; do
        got="$(od -An -tx1 -j $((0x2000 + cpu * 128)) -N 8 "$CHANNEL" | tr -d ' \n')"
        [ "$got" = 7274646201000700 ] && found=$((found + 1))
    done
    if [ "$found" -gt 0 ]; then
        say "ok: SCHED_SWITCH records in $found kernel slot(s) of the channel file"
    else
        say "FAILED: no SCHED_SWITCH record in kernel slots 0/1 of the channel file"
        failures=$((failures + 1))
    fi
fi
if grep -a -q -E 'Kernel panic|Oops|BUG:' "$LOG"; then
    say "FAILED: kernel panic/oops in the log"; failures=$((failures + 1))
fi

if [ "$failures" = 0 ]; then
    echo "1 passed, 0 failed"
else
    say "$failures check(s) failed; full console log: $LOG"
    echo "0 passed, 1 failed"
    exit 1
fi
