#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The C, C++ and protobuf sources in clang-format's style (.clang-format at
# the root; guest-probes/kmod/.clang-format keeps the kernel's style there).
#   format.sh --check   list the files clang-format would change; exit 1 if any
#   format.sh --apply   reformat them in place
# ./bdtrace test runs --check (Debian 12's clang-format 14).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
command -v clang-format >/dev/null || { echo "format.sh: clang-format is missing: apt-get install clang-format (./bdtrace deps)" >&2; exit 2; }

# Tracked sources (or, outside a clone, what find sees); symlinks are left
# alone (clang-format -i would replace them by copies).
sources() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files '*.c' '*.h' '*.cc' '*.proto'
  else
    find . \( -path ./build -o -path './build-*' -o -path ./.git \) -prune -o \
      -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.proto' \) -print | sed 's|^\./||'
  fi | while IFS= read -r f; do [ -L "$f" ] || printf '%s\n' "$f"; done
}

case "${1:-}" in
  --check)
    bad=$(sources | xargs -r clang-format --style=file --dry-run 2>&1 | grep -o '^[^:]*:[0-9]*:[0-9]*: warning' | cut -d: -f1 | sort -u || true)
    if [ -n "$bad" ]; then
      printf '%s: not in clang-format style (tools/dev/format.sh --apply fixes it)\n' $bad >&2
      exit 1
    fi
    echo "format.sh: every source is in clang-format style"
    ;;
  --apply) sources | xargs -r clang-format --style=file -i ;;
  *) echo "usage: $0 --check|--apply" >&2; exit 2 ;;
esac
