#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The .debs of ./bdtrace package are well-formed, without root: CPack makes
# them from this build (into a throwaway directory; build/packages is left
# alone), then dpkg-deb reads each: its control fields, that the files users
# need are in it, that nothing is under /usr/local, that no test program
# slipped in, that owners and permissions are what Debian expects and that
# binaries are stripped. Installing them is ./bdtrace package --install-test
# (needs root).
#
#   deb_check.sh BUILD_DIR VERSION SOURCE_DIR
set -uo pipefail
# fail_each ends pipelines: it must count in this shell, not a subshell.
shopt -s lastpipe

BUILD=${1:?usage: deb_check.sh BUILD_DIR VERSION SOURCE_DIR}
VERSION=${2:?usage: deb_check.sh BUILD_DIR VERSION SOURCE_DIR}
SOURCE=${3:?usage: deb_check.sh BUILD_DIR VERSION SOURCE_DIR}
# shellcheck source=../support/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
check_temp_dir deb-test

# fail_each MESSAGE: one failure per line of stdin ("MESSAGE: line").
fail_each() {
  local line
  while IFS= read -r line; do
    [ -n "$line" ] && fail "$1: $line"
  done
}

if ! cpack --config "$BUILD/CPackConfig.cmake" -B "$T/out" >"$T/cpack.log" 2>&1; then
  cat "$T/cpack.log"
  echo "FAIL: cpack failed"
  exit 1
fi

# check_package NAME ARCH DEPENDS_REGEX... -- FILE_REGEX...: one package.
# Each DEPENDS_REGEX must match one entry of Depends; each FILE_REGEX one
# path of the listing (paths as dpkg-deb prints them: ./usr/...).
check_package() {
  local name=$1 arch=$2
  shift 2
  local deps=() files=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do deps+=("$1"); shift; done
  shift
  files=("$@")
  local deb=$T/out/${name}_${VERSION}-1_${arch}.deb
  if [ ! -f "$deb" ]; then
    local made=("$T"/out/*.deb)
    fail "no $(basename "$deb") among: ${made[*]##*/}"
    return
  fi
  echo "== $(basename "$deb")"

  local field value
  for field in Package Version Architecture Maintainer Description Section; do
    value=$(dpkg-deb -f "$deb" "$field")
    [ -n "$value" ] || fail "$name: no $field field"
  done
  [ "$(dpkg-deb -f "$deb" Package)" = "$name" ] || fail "$name: Package is $(dpkg-deb -f "$deb" Package)"
  [ "$(dpkg-deb -f "$deb" Version)" = "$VERSION-1" ] || fail "$name: Version is $(dpkg-deb -f "$deb" Version), expected $VERSION-1"
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "$name: Architecture is $(dpkg-deb -f "$deb" Architecture)"
  dpkg-deb -f "$deb" Maintainer | grep -Eq '^[^<]+ <[^@ ]+@[^> ]+>$' || fail "$name: Maintainer is not 'Name <address>'"
  # A synopsis line and a long description under it.
  [ "$(dpkg-deb -f "$deb" Description | wc -l)" -ge 2 ] || fail "$name: Description has no long description"

  local depends d
  depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//')
  echo "Depends: $(tr '\n' ',' <<<"$depends")"
  for d in "${deps[@]}"; do
    grep -Eq "^($d)( |\$)" <<<"$depends" || fail "$name: Depends has no $d"
  done

  local listing
  listing=$(dpkg-deb -c "$deb") || { fail "$name: dpkg-deb -c failed"; return; }
  local paths
  paths=$(awk '{ print $6 }' <<<"$listing")
  local f
  for f in "${files[@]}"; do
    grep -Eq "^$f\$" <<<"$paths" || fail "$name: no file matches $f"
  done
  # Debian policy 12.5, once the tree has its LICENSE.
  if [ -f "$SOURCE/LICENSE" ]; then
    grep -q "^\./usr/share/doc/$name/copyright\$" <<<"$paths" || fail "$name: no /usr/share/doc/$name/copyright"
  fi
  grep -E '^\./usr/local(/|$)' <<<"$paths" | fail_each "$name: under /usr/local"
  grep -Ev '^\./$|^\./usr(/|$)' <<<"$paths" | fail_each "$name: outside /usr"
  # Test and benchmark programs stay in the build tree.
  grep -E '/([^/]*[_-]test|guest-[^/]*|bench-[^/]*|fuzz-[^/]*|[^/]*gtest[^/]*|[^/]*gmock[^/]*)$' <<<"$paths" | fail_each "$name: a test program"
  # Owned by root; directories 0755, files 0644 or 0755, symlinks.
  awk '$2 != "root/root" { print $6 }' <<<"$listing" | fail_each "$name: not owned by root/root"
  awk '!($1 == "drwxr-xr-x" || $1 == "-rw-r--r--" || $1 == "-rwxr-xr-x" || $1 == "lrwxrwxrwx") { print $1, $6 }' \
    <<<"$listing" | fail_each "$name: unusual permissions"
  # Programs are executable, headers and data are not.
  awk '$1 ~ /^-/ && $1 !~ /^-..x/ && $6 ~ /^\.\/usr\/bin\// { print $6 }' <<<"$listing" | fail_each "$name: not executable"
  awk '$1 ~ /^-..x/ && $6 ~ /\.(h|pc|cmake|conf|[0-9](\.gz)?)$/ { print $6 }' <<<"$listing" | fail_each "$name: executable data file"

  # Host ELF files are stripped (RelWithDebInfo builds carry DWARF).
  mkdir -p "$T/x/$name"
  dpkg-deb -x "$deb" "$T/x/$name" || { fail "$name: dpkg-deb -x failed"; return; }
  while IFS= read -r -d '' f; do
    [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
    readelf -S "$f" 2>/dev/null | grep -q '\.debug_info' && fail "$name: not stripped: ${f#"$T/x/$name"}"
  done < <(find "$T/x/$name" -type f \( -path '*/bin/*' -o -name '*.so*' \) -print0)
  echo "$(grep -c . <<<"$paths") entries"
}

check_package bdtrace amd64 'qemu-user' 'lttng-tools' 'libbabeltrace2-0' 'liblttng-ust1' 'libc6' -- \
  '\./usr/bin/bd-run' '\./usr/bin/bd-analyze' '\./usr/lib/.*/libbdtrace-qemu\.so' \
  '\./usr/share/man/man1/bd-run\.1\.gz' '\./usr/share/man/man1/bd-analyze\.1\.gz'

check_package libbdguest-dev amd64 'libc6-dev' -- \
  '\./usr/lib/(.*/)?libbdguest\.a' '\./usr/lib/(.*/)?libbdguest\.so' '\./usr/include/bd/bd\.h' \
  '\./usr/lib/(.*/)?pkgconfig/bdguest\.pc' '\./usr/lib/(.*/)?cmake/bdtrace/bdtraceConfig\.cmake'

check_package bd-sched-dkms all 'dkms' -- \
  "\./usr/src/bd-sched-$VERSION/dkms\.conf" "\./usr/src/bd-sched-$VERSION/bd_sched\.c" \
  "\./usr/src/bd-sched-$VERSION/Kbuild" "\./usr/src/bd-sched-$VERSION/Makefile" \
  "\./usr/src/bd-sched-$VERSION/include/bd/ring\.h"

# The DKMS maintainer scripts: executable, valid sh, doing what they say.
deb=$T/out/bd-sched-dkms_${VERSION}-1_all.deb
if [ -f "$deb" ]; then
  dpkg-deb -e "$deb" "$T/control" || fail "bd-sched-dkms: dpkg-deb -e failed"
  for s in postinst prerm; do
    [ -x "$T/control/$s" ] || { fail "bd-sched-dkms: no executable $s"; continue; }
    sh -n "$T/control/$s" || fail "bd-sched-dkms: $s is not valid sh"
  done
  # shellcheck disable=SC2016  # the script's own $NAME and $VERSION, literally
  grep -q 'dkms add -m "\$NAME" -v "\$VERSION"' "$T/control/postinst" || fail "bd-sched-dkms: postinst does not dkms add"
  grep -q '^VERSION='"$VERSION"'$' "$T/control/postinst" || fail "bd-sched-dkms: postinst names another version"
  # shellcheck disable=SC2016
  grep -q 'dkms remove -m "\$NAME" -v "\$VERSION" --all' "$T/control/prerm" || fail "bd-sched-dkms: prerm does not dkms remove"
fi

# Every man page the issue names is in some package.
# Debian compresses man pages (policy 12.1).
for deb in "$T"/out/*.deb; do dpkg-deb -c "$deb"; done | awk '{ print $6 }' >"$T/all-paths"
for page in bd-run bd-analyze bd-mark; do
  grep -Eq "^\./usr/share/man/man1/$page\.1\.gz\$" "$T/all-paths" || fail "no package holds the man page $page.1.gz"
done
grep -E '/share/man/.*\.[1-9]$' "$T/all-paths" | fail_each "a man page not compressed"

finish
