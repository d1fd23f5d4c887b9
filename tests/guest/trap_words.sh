#!/bin/sh
# SPDX-License-Identifier: MIT
# Where the bdtrace trap (<bd/abi.h>, THE TRAP) occurs in built code, by
# disassembly: it must decode as the expected instruction (so the record
# pointer is in the register the plugin reads), occur only in libbdguest's
# functions that trap (and in every public one), and nowhere in the files
# given after --absent (the architecture's libc.a, libc.so.6 and
# libstdc++.so.6: compilers never emit it, which is what makes the exact word
# a safe trap).
#
# Usage: trap_words.sh ARCH OBJDUMP FILE... [--absent FILE...]
#   ARCH     x86_64, aarch64, riscv64 or s390x
#   OBJDUMP  that architecture's objdump
#   FILE     libbdguest.a, libbdguest.so or a static guest program
# Prints each file's count per function; exits 1 on the first violation.
set -eu

arch=$1 objdump=$2
shift 2
case $arch in
  x86_64)  word='3e 48 8b 07'; insn='ds mov (%rdi),%rax' ;;
  aarch64) word='f940001f';    insn='ldr xzr, [x0]' ;;
  riscv64) word='00053003';    insn='ld zero,0(a0)' ;;
  # objdump writes the absent base register B2 = 0 as %r0.
  s390x)   word='e3 02 00 00 00 04'; insn='lg %r0,0(%r2,%r0)' ;;
  *) echo "trap_words.sh: unknown architecture '$arch'" >&2; exit 2 ;;
esac

# Functions in which libbdguest traps: the public calls (the user-mode trap
# is inlined into each), and its slow paths (the first call's "does a
# plugin hear the trap?", system mode's retry, handshake and lost-record
# report, the steps of bd_call), which the compiler may inline into one
# another.
required='bd_mark bd_mark_args bd_mark_text bd_region_begin bd_region_end bd_name_event bd_present bd_enabled'
allowed="$required bd_call bd_call_as bd_mark_blob bd_call_steps bd_call_step bd_emit_slow bd_sys_no_reply bd_sys_lost bd_process_mode bd_discover bd_trap_heard bd_chan_handshake bd_chan_handshake_with real_trap"

# "FUNCTION<TAB>INSTRUCTION" for every trap word objdump decodes in $1.
# Local labels (.L*) do not start a function. Continuation lines of long
# x86 instructions have no instruction field and never match.
traps() {
  "$objdump" -d "$1" | awk -v word="$word" '
    /^[0-9a-f]+ <[^>]*>:$/ {
      name = $2; sub(/^</, "", name); sub(/>:$/, "", name)
      if (substr(name, 1, 1) != ".") fn = name
      next
    }
    {
      n = split($0, f, "\t")
      if (n < 3) next
      hex = f[2]; sub(/ +$/, "", hex)
      if (hex != word) next
      ins = f[3]
      for (i = 4; i <= n; i++) ins = ins " " f[i]
      sub(/ *#.*$/, "", ins); gsub(/ +/, " ", ins); sub(/ $/, "", ins)
      print fn "\t" ins
    }'
}

fail() { echo "FAIL: $*"; exit 1; }

absent=0
for f in "$@"; do
  if [ "$f" = --absent ]; then absent=1; continue; fi
  [ -r "$f" ] || fail "$f: not readable"
  out=$(traps "$f") || fail "$f: $objdump failed"
  if [ $absent -eq 1 ]; then
    [ -z "$out" ] || { printf '%s\n' "$out" | head -n 5; fail "$f: holds the $arch trap word $word"; }
    echo "$f: no trap word"
    continue
  fi
  [ -n "$out" ] || fail "$f: no trap at all"
  printf '%s\n' "$out" | sort | uniq -c | sed "s|^|$f: |"
  bad=$(printf '%s\n' "$out" | awk -F '\t' -v insn="$insn" '$2 != insn')
  [ -z "$bad" ] || fail "$f: the trap word decodes as '$(printf '%s' "$bad" | head -n 1 | cut -f 2)', not '$insn'"
  for fn in $(printf '%s\n' "$out" | cut -f 1 | sort -u); do
    case " $allowed " in *" $fn "*) ;; *) fail "$f: trap word in $fn, which is not libbdguest's" ;; esac
  done
  for fn in $required; do
    printf '%s\n' "$out" | cut -f 1 | grep -qx "$fn" || fail "$f: no trap in $fn"
  done
done
echo ok
