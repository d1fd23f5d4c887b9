#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs bdtrace's Debian packages on this machine, uses them from /usr
# the way a user would, and purges them again (./bdtrace package
# --install-test runs it; needs root and a running lttng-sessiond):
#
#   1. apt-get installs the .debs and what they depend on;
#   2. /usr/bin/bd-run runs the installed demo guest (bd-demo-workload) under
#      qemu-x86_64 with the installed plugin; /usr/bin/bd-analyze reports it;
#   3. a guest program builds against /usr with `pkg-config --cflags --libs
#      bdguest` (shared and --static) and with CMake's find_package(bdtrace)
#      (bdtrace::bdguest); each runs under bd-run and its marks are counted;
#   4. DKMS builds bd_sched for a kernel whose headers are installed (the
#      postinst builds it only for the running kernel's);
#   5. apt-get purges the packages and every package the installation added;
#      the list of installed packages must then be what it was before.
#
#   install-test.sh BDTRACE.deb LIBBDGUEST-DEV.deb BD-SCHED-DKMS.deb
# Refuses to start when one of the packages is already installed (purging
# it afterwards would not leave the machine as it was).
set -euo pipefail

log() { printf 'install-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -gt 0 ] || die "usage: install-test.sh DEB..."
[ "$(id -u)" -eq 0 ] || die "installs into /usr: run as root"
command -v apt-get >/dev/null || die "no apt-get: this test is for Debian systems"

debs=() names=()
for d in "$@"; do
  [ -f "$d" ] || die "no such package file: $d"
  debs+=("$(realpath "$d")")
  names+=("$(dpkg-deb -f "$d" Package)")
done
version=$(dpkg-deb -f "${debs[0]}" Version)
version=${version%-*}

installed() { dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
for n in "${names[@]}"; do
  if installed | grep -Eq "^$n(:.*)?\$"; then
    die "$n is installed already; purge it first (apt-get purge $n) so that the test can leave the machine as it found it"
  fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/bdtrace-install-test.XXXXXX")
installed >"$T/before"
# DKMS keeps its module signing key (mok.key, mok.pub) there past a purge.
dkms_tree_before=0
[ -e /var/lib/dkms ] && dkms_tree_before=1

# Step 5, also when a step before failed.
cleanup() {
  local rc=$?
  set +e
  installed >"$T/after"
  mapfile -t added < <(comm -13 "$T/before" "$T/after")
  if [ ${#added[@]} -gt 0 ]; then
    log "purging ${added[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${added[@]}" >"$T/purge.log" 2>&1 ||
      { cat "$T/purge.log" >&2; log "error: apt-get purge failed"; rc=1; }
  fi
  [ $dkms_tree_before -eq 1 ] || rm -rf /var/lib/dkms
  installed >"$T/after"
  if ! cmp -s "$T/before" "$T/after"; then
    log "error: the installed packages differ from before the test:"
    diff "$T/before" "$T/after" >&2
    rc=1
  fi
  for p in "/usr/src/bd-sched-$version" /var/lib/dkms/bd-sched /usr/bin/bd-run; do
    [ ! -e "$p" ] || { log "error: $p is still there after the purge"; rc=1; }
  done
  rm -rf "$T"
  [ $rc -eq 0 ] && log "ok: installed, used from /usr and purged; the machine's packages are as before"
  exit $rc
}
trap cleanup EXIT

# 1. Install.
log "installing ${names[*]} (apt-get, with their dependencies)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]}" >"$T/install.log" 2>&1 ||
  { cat "$T/install.log" >&2; die "apt-get install failed"; }
sed -n 's/^bd-sched-dkms: /postinst: /p' "$T/install.log" >&2
comm -13 "$T/before" <(installed) | tr '\n' ' ' | sed 's/^/installed: /; s/$/\n/' >&2
for n in "${names[@]}"; do
  dpkg -L "$n" | grep -E '^/usr/local(/|$)' && die "$n installed files under /usr/local"
done

bd_run=/usr/bin/bd-run bd_analyze=/usr/bin/bd-analyze
for tool in "$bd_run" "$bd_analyze"; do
  [ -x "$tool" ] || die "no $tool after the installation"
done
demo=$(dpkg -L "${names[@]}" | grep -E '/bd-demo-workload$' | head -n 1)
[ -n "$demo" ] || die "no package installed bd-demo-workload"

# report_item TRACE ITEM: one summary value of bd-analyze's CSV report.
report_item() {
  "$bd_analyze" "$1" --format csv | awk -F, -v item="$2" '$1 == "summary" && $2 == item { print $3; exit }'
}

# 2. The demo from /usr.
log "running $demo under $bd_run"
"$bd_run" --trace "$T/demo-trace" -- "$demo" >"$T/demo.log" 2>&1 ||
  { cat "$T/demo.log" >&2; die "bd-run of the demo failed"; }
"$bd_analyze" "$T/demo-trace" >"$T/demo-report.txt" || die "bd-analyze of the demo trace failed"
marks=$(report_item "$T/demo-trace" marks)
[ "${marks:-0}" -gt 0 ] || { cat "$T/demo-report.txt" >&2; die "the demo's report shows no marks"; }
log "demo: $marks marks; report:"
sed 's/^/  /' "$T/demo-report.txt" >&2

# 3. A guest program built against /usr only: 3 threads x 50 marks + 1 text.
cat >"$T/hello.c" <<'EOF_C'
#include <bd/bd.h>
#include <pthread.h>

static void *worker(void *arg)
{
    for (int i = 0; i < 50; i++)
        bd_mark_args(1, (long)arg, i, 0, 0);
    return NULL;
}

int main(void)
{
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    bd_mark_text(2, "installed");
    return 0;
}
EOF_C
mkdir -p "$T/cmake-app"
cat >"$T/cmake-app/CMakeLists.txt" <<'EOF_CMAKE'
cmake_minimum_required(VERSION 3.18)
project(hello C)
find_package(bdtrace REQUIRED)
add_executable(hello ../hello.c)
target_link_libraries(hello PRIVATE bdtrace::bdguest)
EOF_CMAKE

# check_program NAME: runs $T/NAME under bd-run; 150 marks and 1 text mark.
check_program() {
  "$bd_run" --trace "$T/$1-trace" -- "$T/$1" >"$T/$1.log" 2>&1 ||
    { cat "$T/$1.log" >&2; die "bd-run of $1 failed"; }
  local m t
  m=$(report_item "$T/$1-trace" marks)
  t=$(report_item "$T/$1-trace" text_marks)
  if [ "$m" != 150 ] || [ "$t" != 1 ]; then
    "$bd_analyze" "$T/$1-trace" >&2
    die "$1: $m marks and $t text marks, expected 150 and 1"
  fi
  log "$1: $m marks, $t text mark"
}

log "building a guest program with pkg-config bdguest (shared, then --static)"
[ "$(pkg-config --variable=prefix bdguest)" = /usr ] ||
  die "pkg-config bdguest names the prefix '$(pkg-config --variable=prefix bdguest)', not /usr"
# shellcheck disable=SC2046  # pkg-config prints several words
cc -o "$T/hello-shared" "$T/hello.c" $(pkg-config --cflags --libs bdguest) -lpthread ||
  die "cc with pkg-config --cflags --libs bdguest failed"
ldd "$T/hello-shared" | grep -Eq '=> (/usr)?/lib/(.*/)?libbdguest\.so' ||
  die "hello-shared does not load libbdguest.so from /usr/lib: $(ldd "$T/hello-shared")"
check_program hello-shared
# shellcheck disable=SC2046
cc -static -o "$T/hello-static" "$T/hello.c" $(pkg-config --static --cflags --libs bdguest) -lpthread ||
  die "cc -static with pkg-config --static bdguest failed"
check_program hello-static

log "building a guest program with find_package(bdtrace)"
if ! { cmake -S "$T/cmake-app" -B "$T/cmake-app/build" && cmake --build "$T/cmake-app/build"; } >"$T/cmake.log" 2>&1; then
  cat "$T/cmake.log" >&2
  die "the find_package(bdtrace) project did not build"
fi
grep -Eq '^bdtrace_DIR:PATH=/usr/lib/(.*/)?cmake/bdtrace$' "$T/cmake-app/build/CMakeCache.txt" ||
  die "find_package(bdtrace) did not find the installed package: $(grep '^bdtrace_DIR' "$T/cmake-app/build/CMakeCache.txt")"
cp "$T/cmake-app/build/hello" "$T/hello-cmake"
check_program hello-cmake

# 4. DKMS: registered by the postinst; built here for installed headers.
dkms status -m bd-sched -v "$version" | grep -q . || die "bd-sched $version is not registered with DKMS: $(dkms status)"
kver=
for d in /lib/modules/*/build/Makefile; do
  [ -f "$d" ] && { kver=$(basename "$(dirname "$(dirname "$d")")"); break; }
done
if [ -n "$kver" ]; then
  log "dkms build -m bd-sched -v $version -k $kver"
  dkms build -m bd-sched -v "$version" -k "$kver" >"$T/dkms.log" 2>&1 ||
    { cat "$T/dkms.log" >&2; die "dkms build failed for $kver"; }
  ko=$(find "/var/lib/dkms/bd-sched/$version/$kver" -name 'bd_sched.ko*' | head -n 1)
  [ -n "$ko" ] || die "dkms build succeeded but made no bd_sched.ko under /var/lib/dkms/bd-sched/$version/$kver"
  log "DKMS built $ko"
else
  log "no kernel headers in /lib/modules/*/build: DKMS build not tried (registration checked)"
fi
