#!/bin/sh
# SPDX-License-Identifier: MIT
# bd-analyze's fast reader against babeltrace2 (issue #15) on the captured
# traces: every report kind and format, one trace at a time and several at
# once (several runs: the vm column, the merge of their streams); then on
# corrupted copies, where the default reader must give what babeltrace2
# gives (the fast reader hands a trace with a bad packet to babeltrace2
# before reading an event; a bad event is an error for both); and the
# --reader option's own errors.
# Usage: readers_agree_test.sh BD_ANALYZE DATA_DIR
set -u
BIN=$1
DATA=$2
. "$(dirname "$0")/../support/checks.sh"
. "$(dirname "$0")/readers_agree.sh"
check_temp_dir readers-agree

for trace in small-trace system-trace ring-trace; do
  readers_agree "$BIN" "$DATA/$trace"
done
readers_agree "$BIN" "$DATA/small-trace" "$DATA/system-trace" "$DATA/ring-trace"
readers_agree "$BIN" "$DATA/ring-trace" "$DATA/small-trace"

# An empty stream file (no packet): babeltrace2 skips it, and so does the
# fast reader (rather than handing the trace to babeltrace2).
stream=ust/uid/0/64-bit/ch_0
corrupt() {
  rm -rf "$T/bad"
  cp -r "$DATA/small-trace" "$T/bad"
  chmod -R u+w "$T/bad"
}
corrupt
: >"$T/bad/ust/uid/0/64-bit/ch_9"
readers_agree "$BIN" "$T/bad"

# Corrupted copies of the small trace: one defect each.
size=$(wc -c <"$DATA/small-trace/$stream")
# poke OFFSET BYTE: one byte of the stream file replaced.
poke() { printf "$(printf '\\%03o' "$2")" | dd of="$T/bad/$stream" bs=1 seek="$1" conv=notrunc 2>/dev/null; }

corrupt
truncate -s $((size / 2)) "$T/bad/$stream"
default_agrees "$BIN" "$T/bad"
"$BIN" --no-progress --reader fast "$T/bad" >/dev/null 2>"$T/err" && fail "--reader fast read a truncated stream"
grep -q "the fast reader cannot read" "$T/err" || fail "--reader fast did not say why: $(cat "$T/err")"

corrupt
poke 0 0 # the first packet's magic number
default_agrees "$BIN" "$T/bad"

corrupt
printf 'garbage' >"$T/bad/ust/uid/0/64-bit/metadata"
default_agrees "$BIN" "$T/bad"

# Bytes flipped all over the stream (headers, event ids, payloads): 40
# seeds, each byte at a fixed pseudo-random place.
i=1
while [ $i -le 40 ]; do
  corrupt
  poke $(((i * 7919) % size)) $(((i * 131) % 256))
  poke $(((i * 104729) % size)) $(((i * 37 + 11) % 256))
  default_agrees "$BIN" "$T/bad"
  i=$((i + 1))
done

"$BIN" --reader quick "$DATA/small-trace" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--reader quick is not a usage error (exit 2)"
finish
