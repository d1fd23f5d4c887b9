#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The plugin inside QEMU under ThreadSanitizer (build-tsan only, label tsan):
# QEMU cannot dlopen a TSan module by itself (libtsan.so.2 "cannot allocate
# memory in static TLS block"), so the runtime is preloaded into
# qemu-x86_64, the only program that is not instrumented here. guest-threads
# (4 threads) runs with a filter that traces its code, inside an LTTng
# session of this script's own that records only this QEMU: the trap path,
# the per-thread state, the code-tracing drain thread and the filter's
# watcher all run, with a session reading what they emit. A TSan report
# ends QEMU with exit status 66 (TSAN_OPTIONS: halt_on_error=1).
#
# GLib's slice allocator (GLib 2.74) hands the memory of small blocks
# from thread to thread under its own locks, which TSan cannot see: the
# plugin's per-thread GByteArrays (API 5) then looked shared (a false
# report, seen on QEMU 10.2). G_SLICE=always-malloc makes GLib use malloc,
# which TSan sees, so nothing needs suppressing.
#
#   qemu_tsan_test.sh PLUGIN_LIB_DIR GUEST_THREADS
# QEMU: Debian's qemu-x86_64, or $BD_TEST_QEMU_PREFIX/bin/qemu-x86_64
# (with-qemu-builds.sh); the plugin build is chosen from its version as
# bd-run does (plugin/api/CMakeLists.txt lists the generations).
set -uo pipefail

libdir=${1:?usage: qemu_tsan_test.sh PLUGIN_LIB_DIR GUEST_THREADS}
guest=${2:?usage: qemu_tsan_test.sh PLUGIN_LIB_DIR GUEST_THREADS}
qemu=qemu-x86_64
[ -n "${BD_TEST_QEMU_PREFIX:-}" ] && qemu=$BD_TEST_QEMU_PREFIX/bin/qemu-x86_64
threads=4 marks=2000

fail() { echo "FAIL: $*"; exit 1; }

version=$("$qemu" -version | head -n 1 | sed -n 's/.*version \([0-9]*\.[0-9]*\).*/\1/p')
case "$version" in
  7.2|8.*) api=1 ;;
  9.0) api=2 ;;
  9.1) api=3 ;;
  9.2|10.0) api=4 ;;
  10.1|10.2) api=5 ;;
  11.0) api=6 ;;
  *) fail "$qemu: version '$version' has no plugin build here" ;;
esac
plugin=$libdir/libbdtrace-qemu.so
[ $api -eq 1 ] || plugin=$libdir/libbdtrace-qemu-v$api.so
runtime=$(ldd "$plugin" | awk '/libtsan\.so/ { print $3 }')
[ -n "$runtime" ] || fail "$plugin is not built with ThreadSanitizer (no libtsan in ldd)"
lttng list >/dev/null 2>&1 || fail "no lttng-sessiond is running: start one with lttng-sessiond --daemonize"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bdtrace-qemu-tsan.XXXXXX")
session=bdtrace-qemu-tsan-$$-$RANDOM
cleanup() {
  lttng destroy "$session" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/filter.txtpb" <<'EOT'
rule { name: "its code" process { comm: "guest-threads" } action: RECORD trace_code: true }
EOT
lttng create "$session" --output="$tmp/trace" >/dev/null || fail "lttng create $session"
lttng enable-event --userspace --session="$session" 'bdtrace:*' >/dev/null || fail "lttng enable-event"
lttng untrack --userspace --session="$session" --all --vpid >/dev/null || fail "lttng untrack"

# The QEMU process is this subshell after exec: tracked before it starts.
mkfifo "$tmp/go"
(
  read -r _ <"$tmp/go"
  exec env LD_PRELOAD="$runtime" G_SLICE=always-malloc "$qemu" -plugin "$plugin,filter=$tmp/filter.txtpb" \
    "$guest" --threads $threads --marks $marks >"$tmp/out" 2>"$tmp/err"
) &
pid=$!
lttng track --userspace --session="$session" --vpid="$pid" >/dev/null || fail "lttng track"
lttng start "$session" >/dev/null || fail "lttng start"
echo go >"$tmp/go"
wait "$pid"
status=$?
lttng stop "$session" >/dev/null || fail "lttng stop"
if [ $status -ne 0 ]; then
  cat "$tmp/err"
  fail "QEMU exited with $status (66: a ThreadSanitizer report, above)"
fi

babeltrace2 "$tmp/trace" >"$tmp/text" 2>/dev/null || fail "babeltrace2 cannot read the trace"
marks_seen=$(grep -c 'bdtrace:mark:' "$tmp/text")
batches=$(grep -c 'bdtrace:tb_batch:' "$tmp/text")
# Per worker: M marks, 3 text marks and one final mark (tests/guest/threads.c).
want=$((threads * (marks + 4)))
[ "$marks_seen" -eq "$want" ] || fail "$marks_seen marks recorded, $want sent"
[ "$batches" -gt 0 ] || fail "no tb_batch event: the drain thread emitted nothing"
echo "ok: QEMU $version ($(basename "$plugin")) under TSan: $marks_seen marks, $batches code batches, no report"
