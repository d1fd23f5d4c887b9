# SPDX-License-Identifier: MIT
# Sourced by the shell tests that hold bd-analyze's two readers against
# each other (tests/support/checks.sh first):
#   readers_agree BD_ANALYZE PATH...
#       every report kind in every format, and the Chrome and SVG exports,
#       of PATH... read with --reader fast and --reader babeltrace2: the
#       same bytes on stdout and the same exit status. Needs $T.
#   default_agrees BD_ANALYZE PATH...
#       the default reader (auto) and babeltrace2 give the same summary
#       and exit status, whatever the trace (a corrupt one included).

readers_agree() {
  ra_bin=$1
  shift
  for ra_report in summary processes regions marks timeline; do
    for ra_format in text json csv; do
      reader_pair "$ra_bin" -r "$ra_report" -f "$ra_format" -- "$@"
    done
  done
  reader_pair "$ra_bin" -f chrome -- "$@"
  reader_pair "$ra_bin" -f svg -- "$@"
}

# reader_pair BD_ANALYZE OPTION... -- PATH...: fast and babeltrace2 agree
# (and both succeed).
reader_pair() {
  rp_bin=$1
  shift
  rp_opts=""
  while [ "$1" != "--" ]; do
    rp_opts="$rp_opts $1"
    shift
  done
  shift
  # shellcheck disable=SC2086 # rp_opts is a list of options
  "$rp_bin" --no-progress --reader fast $rp_opts "$@" >"$T/fast.out" 2>"$T/fast.err"
  rp_fast=$?
  # shellcheck disable=SC2086
  "$rp_bin" --no-progress --reader babeltrace2 $rp_opts "$@" >"$T/bt.out" 2>"$T/bt.err"
  rp_bt=$?
  [ "$rp_bt" -eq 0 ] || fail "bd-analyze --reader babeltrace2$rp_opts $*: exit $rp_bt: $(head -3 "$T/bt.err")"
  [ "$rp_fast" -eq "$rp_bt" ] || fail "bd-analyze --reader fast$rp_opts $*: exit $rp_fast: $(head -3 "$T/fast.err")"
  [ -s "$T/bt.out" ] || fail "bd-analyze$rp_opts $* wrote nothing"
  cmp -s "$T/fast.out" "$T/bt.out" || {
    fail "the readers' outputs differ for$rp_opts $*:"
    diff "$T/bt.out" "$T/fast.out" | head -10
  }
}

default_agrees() {
  da_bin=$1
  shift
  "$da_bin" --no-progress "$@" >"$T/auto.out" 2>"$T/auto.err"
  da_auto=$?
  "$da_bin" --no-progress --reader babeltrace2 "$@" >"$T/bt.out" 2>"$T/bt.err"
  da_bt=$?
  [ "$da_auto" -eq "$da_bt" ] || fail "$*: the default reader exits $da_auto, babeltrace2 $da_bt"
  cmp -s "$T/auto.out" "$T/bt.out" || fail "$*: the default reader and babeltrace2 write other reports"
}
