#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The one home of which license covers which file (LICENSE explains why).
#   license.sh --check   list every source file whose first lines lack the
#                        SPDX-License-Identifier its folder needs; exit 1 if any
#   license.sh --apply   add the missing identifiers (a file that names a
#                        different license is reported, never rewritten)
# ./bdtrace test runs --check.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

# The license of a path, first match wins.
license_of() {
  case "$1" in
    guest-probes/kmod/*) echo GPL-2.0-only ;;
    plugin/* | usermode/* | device/*) echo GPL-2.0-or-later ;;
    *) echo MIT ;;
  esac
}

# The source files: what git tracks (or, outside a clone, what find sees),
# without test data, fuzz corpora, images and the license texts. Symlinks
# are skipped: their targets are checked as themselves.
source_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files
  else
    find . -path ./build -prune -o -path './build-*' -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||'
  fi | while IFS= read -r f; do
    [ -L "$f" ] && continue
    case "$f" in
      LICENSES/* | tests/fuzz/corpus/* | */data/* | *.md | *.png | .gitignore | LICENSE) continue ;;
      *.c | *.h | *.cc | *.proto | *.cmake | */CMakeLists.txt | CMakeLists.txt | *.sh | *.txtpb | *.supp | *.map | *.in) ;;
      */Kbuild | */Makefile | bdtrace | .ci/run) ;;
      *) continue ;;
    esac
    printf '%s\n' "$f"
  done
}

# The identifier line in the file's own comment syntax.
spdx_line() {
  local f=$1 id=$2
  case "$f" in
    *.h | *.map) echo "/* SPDX-License-Identifier: $id */" ;;
    *.c | *.cc | *.proto) echo "// SPDX-License-Identifier: $id" ;;
    *) echo "# SPDX-License-Identifier: $id" ;;
  esac
}

mode=${1:-}
case "$mode" in
  --check | --apply) ;;
  *) echo "usage: $0 --check|--apply" >&2; exit 2 ;;
esac

bad=0
while IFS= read -r f; do
  id=$(license_of "$f")
  head_lines=$(head -n 3 "$f")
  if grep -q "SPDX-License-Identifier: $id\$\|SPDX-License-Identifier: $id \*/\$" <<<"$head_lines"; then
    continue
  fi
  if grep -q "SPDX-License-Identifier:" <<<"$head_lines"; then
    echo "$f: names another license than its folder's ($id): fix it by hand" >&2
    bad=1
    continue
  fi
  if [ "$mode" = --check ]; then
    echo "$f: no 'SPDX-License-Identifier: $id' in its first lines (tools/dev/license.sh --apply adds it)" >&2
    bad=1
    continue
  fi
  line=$(spdx_line "$f" "$id")
  tmp=$(mktemp)
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$line"; cat "$f"; } >"$tmp"
  fi
  cat "$tmp" >"$f"  # keeps the file's mode (scripts stay executable)
  rm -f "$tmp"
done < <(source_files)

if [ "$bad" -ne 0 ]; then
  exit 1
fi
[ "$mode" = --check ] && echo "license.sh: every source file names its license"
exit 0
