#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one of the README's recipes exactly as written.
#
#   run-recipe.sh SOURCE_DIR BUILD_DIR NAME [WORKDIR]
#
# A recipe is every fenced block of README.md that directly follows a marker
# line `<!-- recipe: NAME -->` (a shell block: run) or
# `<!-- recipe: NAME file=PATH -->` (any block: written to PATH first), in
# the order they appear. A marker may name several recipes
# (`<!-- recipe: A B file=x.c -->`): one block shared by recipes. The markers are HTML comments, invisible on a
# rendered page, so the reader sees exactly what the test runs.
#
# The shell blocks run, concatenated, under `bash -euo pipefail` in WORKDIR
# (default: a fresh temporary directory), where `build`, `guest-probes`,
# `proto` and `tools` point at the real tree and build, so a recipe's
# `build/bin/bd-run …` and `-I guest-probes/include` work as in a checkout.
# Prints the workdir on the last line of stderr; exits with the recipe's
# status.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 SOURCE_DIR BUILD_DIR NAME [WORKDIR]" >&2; exit 2; }
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
name=$3
work=${4:-$(mktemp -d /tmp/bd-recipe.XXXXXX)}
mkdir -p "$work"

# Split the README into the recipe's parts: files first go to
# $work/.recipe/NNN.file (their target in NNN.path), shell blocks to
# NNN.sh.
parts=$work/.recipe
rm -rf "$parts"
mkdir -p "$parts"
awk -v name="$name" -v dir="$parts" '
  function start(kind, path) { n++; mode = kind; out = sprintf("%s/%03d.%s", dir, n, kind)
                               printf "" > out
                               if (kind == "file") print path > sprintf("%s/%03d.path", dir, n) }
  state == "in" && /^```/ { close(out); state = ""; next }
  state == "in" { print > out; next }
  state == "armed" && /^```/ { state = "in"; next }
  state == "armed" && /^[[:space:]]*$/ { next }
  state == "armed" { print "recipe " name ": a marker is not followed by a fenced block" > "/dev/stderr"; bad = 1; state = "" }
  /^<!-- recipe: / {
    line = $0; sub(/^<!-- recipe: /, "", line); sub(/[[:space:]]*-->[[:space:]]*$/, "", line)
    nw = split(line, w, /[[:space:]]+/)
    mine = 0; p = ""
    for (i = 1; i <= nw; i++) {
      if (w[i] ~ /^file=/) { p = w[i]; sub(/^file=/, "", p) }
      else if (w[i] == name) mine = 1
    }
    if (!mine) next
    if (p != "") start("file", p); else start("sh", "")
    state = "armed"; found = 1
  }
  END { if (!found) { print "no recipe named " name " in the README" > "/dev/stderr"; exit 3 }
        if (bad || state != "") exit 3 }
' "$src/README.md"

for link in guest-probes proto tools; do ln -sfn "$src/$link" "$work/$link"; done
ln -sfn "$build" "$work/build"

script=$work/.recipe-run.sh
: > "$script"
for part in "$parts"/*; do
  case "$part" in
    *.file) target=$(cat "${part%.file}.path"); mkdir -p "$work/$(dirname "$target")"
            cp "$part" "$work/$target" ;;
    *.sh) cat "$part" >> "$script" ;;
  esac
done
[ -s "$script" ] || { echo "recipe $name has no shell block" >&2; exit 3; }

status=0
(cd "$work" && bash -euo pipefail "$script") || status=$?
echo "recipe $name: workdir $work" >&2
exit "$status"
