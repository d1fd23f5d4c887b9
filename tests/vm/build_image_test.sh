#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/vm/build-image.sh as a user meets it: its --help says where things
# land, a dynamically linked program is refused before anything is written,
# and a real build writes only into OUT_DIR (and the --debs cache it is
# given): no bd_sched.ko next to it.
#
#   build_image_test.sh SOURCE_DIR STATIC_PROGRAM [AARCH64_STATIC_PROGRAM]
#
# The real build needs Debian's kernel .deb (shared with the test VM in
# ${BDTRACE_CACHE:-~/.cache/bdtrace}/vm-debs) and its linux-headers.
set -euo pipefail

src=$1
static_prog=$2
a64_prog=${3:-}
script=$src/tools/vm/build-image.sh
cache=${BDTRACE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/bdtrace}
tmp=$(mktemp -d /tmp/bd-build-image-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
has() { grep -qF -- "$2" <<<"$1" || fail "$3: no '$2' in: $1"; }

echo "== --help is complete"
help=$("$script" --help) || fail "--help exited non-zero"
for want in "--programs FILE" "/bin/NAME" "statically linked" "-static" "program is refused" \
            "--extra FILE" "/etc/bd/NAME" "bd.kmod=1" "bd.run=/path" "bd.cmd=BASE64" "run-status N" \
            "kmod/bd_sched.ko" "initramfs.cpio.gz" "vmlinuz" "--debs DIR" "Everything it writes goes into OUT_DIR" \
            "--arch ARCH" "linux-image-arm64" "DIR/arm64"; do
    has "$help" "$want" "--help"
done

echo "== a dynamically linked program is refused before anything is written"
mkdir "$tmp/parent"
status=0
out=$("$script" "$tmp/parent/vm" --programs /bin/ls 2>&1) || status=$?
[ "$status" != 0 ] || fail "a dynamic program was accepted"
has "$out" "--programs /bin/ls is dynamically linked" "refusal"
has "$out" "Link it statically: add -static to its link line" "refusal"
[ -z "$(ls -A "$tmp/parent")" ] || fail "the refused build wrote: $(ls -A "$tmp/parent")"

echo "== a program of another architecture is refused before anything is written"
status=0
out=$("$script" "$tmp/parent/vm" --arch riscv64 2>&1) || status=$?
[ "$status" != 0 ] || fail "--arch riscv64 was accepted"
has "$out" "--arch riscv64: give x86_64 or aarch64" "unknown --arch"
if [ -n "$a64_prog" ]; then
    status=0
    out=$("$script" "$tmp/parent/vm" --programs "$a64_prog" 2>&1) || status=$?
    [ "$status" != 0 ] || fail "an aarch64 program went into an x86_64 image"
    has "$out" "--programs $a64_prog is a program for AArch64, but this is an x86_64 image (--arch)" "foreign"
    status=0
    out=$("$script" "$tmp/parent/vm" --arch aarch64 --programs "$static_prog" 2>&1) || status=$?
    [ "$status" != 0 ] || fail "an x86_64 program went into an aarch64 image"
    has "$out" "is a program for Advanced Micro Devices X86-64, but this is an aarch64 image" "foreign"
fi
[ -z "$(ls -A "$tmp/parent")" ] || fail "the refused builds wrote: $(ls -A "$tmp/parent")"

echo "== a real build writes only into OUT_DIR (named vm, as build/vm is)"
mkdir "$tmp/progs"
cp "$static_prog" "$tmp/progs/static-one"
cp /bin/true "$tmp/progs/dyn-true"
printf '#!/bin/sh\necho job\n' >"$tmp/job.sh"
chmod +x "$tmp/job.sh"
status=0
out=$("$script" "$tmp/parent/vm" --debs "$cache/vm-debs" --programs "$static_prog" --programs "$tmp/progs" \
      --extra "$tmp/job.sh" 2>&1) || status=$?
[ "$status" = 0 ] || fail "build-image.sh failed ($status): $out"
has "$out" "skipped the dynamically linked dyn-true" "directory mode"
[ "$(ls -A "$tmp/parent")" = vm ] || fail "written next to OUT_DIR: $(ls -A "$tmp/parent")"
for f in vmlinuz kernel-version kmod/bd_sched.ko initramfs.cpio.gz initramfs-root/lib/bd/bd_sched.ko \
         "initramfs-root/bin/$(basename "$static_prog")" initramfs-root/bin/static-one initramfs-root/etc/bd/job.sh; do
    [ -e "$tmp/parent/vm/$f" ] || fail "no $f in OUT_DIR"
done
[ ! -e "$tmp/parent/vm/initramfs-root/bin/dyn-true" ] || fail "the dynamic program from the directory went in"
[ ! -e "$tmp/parent/vm/debs" ] || fail "--debs given, but OUT_DIR/debs was made"
grep -q 'bd.cmd=\*)' "$tmp/parent/vm/initramfs-root/init" || fail "/init does not read bd.cmd="

if [ "$failures" != 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all build-image.sh checks passed"
