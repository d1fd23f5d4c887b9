# SPDX-License-Identifier: MIT
# What the shell tests share; source it:
#   check_temp_dir NAME   T = a fresh temporary directory, removed at exit
#   fail MESSAGE          one failure, said on stdout; the test goes on
#   finish                the verdict: "N failure(s)" and exit 1, or "ok"
failures=0

check_temp_dir() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/bdtrace-$1.XXXXXX")
  trap 'rm -rf "$T"' EXIT
}

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
  fi
  echo "ok"
}
