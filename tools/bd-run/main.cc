// SPDX-License-Identifier: MIT
// bd-run: run an x86_64 program under qemu-x86_64 (or, with --system, boot a
// VM under qemu-system-x86_64) with the bdtrace plugin, optionally recording
// an LTTng trace. See `bd-run --help`.
#include <cstdio>
#include <exception>

#include "options.h"
#include "run.h"

int main(int argc, char** argv) {
  try {
    bdtrace::bdrun::ParseOutcome parsed = bdtrace::bdrun::parse_command_line(argc, argv);
    if (!parsed.options) return parsed.exit_status;
    return bdtrace::bdrun::run(*parsed.options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bd-run: error: %s\n", e.what());
    return 2;
  }
}
