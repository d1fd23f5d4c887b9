#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# help_test.sh must fail when ./bdtrace's help misses a command: it runs here
# on copies of bdtrace with one omission each (a command left out of the
# list, a command without its own help, a dispatcher command nobody
# documented) and must exit non-zero naming the command every time.
#
#   help_test_catches.sh PATH/TO/help_test.sh PATH/TO/bdtrace
set -uo pipefail

HELP_TEST=${1:?usage: help_test_catches.sh PATH/TO/help_test.sh PATH/TO/bdtrace}
BDTRACE=${2:?usage: help_test_catches.sh PATH/TO/help_test.sh PATH/TO/bdtrace}
# shellcheck source=../support/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
check_temp_dir help-catches

# mutant NAME SED_SCRIPT EXPECTED: a copy of bdtrace edited by SED_SCRIPT
# must make help_test.sh fail with a line matching EXPECTED.
mutant() {
  local name=$1 script=$2 expected=$3 copy=$T/$1/bdtrace out rc
  mkdir -p "$T/$name"
  sed "$script" "$BDTRACE" >"$copy"
  chmod +x "$copy"
  if cmp -s "$BDTRACE" "$copy"; then
    fail "$name: the edit '$script' changed nothing (has bdtrace changed? update this test)"
    return
  fi
  out=$(bash "$HELP_TEST" "$copy" 2>&1)
  rc=$?
  [ $rc -ne 0 ] || fail "$name: help_test.sh passed on a bdtrace whose help has an omission"
  grep -q -- "$expected" <<<"$out" || fail "$name: help_test.sh did not say '$expected': $out"
}

mutant no-bench-in-list '/^  bench  /d' "does not list the command 'bench'"
mutant no-deps-in-list '/^  deps  /d' "does not list the command 'deps'"
mutant no-deps-help "s/^    deps) cat <<'EOF_HELP' ;;/    deps-gone) cat <<'EOF_HELP' ;;/" "'bdtrace help deps' exited"
mutant undocumented-command '/^case "\$cmd" in/a\  newcmd) no_options newcmd "$@" ;;' \
  "does not list the command 'newcmd'"

finish
