/* SPDX-License-Identifier: GPL-2.0-or-later */
// Options of the plugin (both backends), parsed from QEMU's
// "-plugin lib,name=value".
#ifndef BDTRACE_PLUGIN_OPTIONS_H
#define BDTRACE_PLUGIN_OPTIONS_H

#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::plugin {

struct Options {
  std::string program;       // guest program for bdtrace:session ("" = guess)
  std::string vm;            // VM name for bdtrace:session ("" = "user" / "system")
  std::string channel;       // system mode only: the ivshmem backing file
  std::string filter;        // filter config file (filter/README.md), "" = none
  std::string stats;         // user mode: file to append "records N rejected R pid P" to at exit
  std::string qemu_version;  // for bdtrace:session, as bd-run read it ("" = not known)
  // host handlers to load, each "PATH[:ARGS]" (<bd/handler.h>);
  // one handler= argument each, in order.
  std::vector<std::string> handlers;
  bool verbose = false;
};

// Parses argv (each "name=value"), or an error that names the bad argument
// and the accepted forms.
Expected<Options> parse_options(int argc, const char *const *argv);

// Best-effort guest program name from /proc/self/cmdline of QEMU (the first
// argument that is neither an option nor an option's value); "" if unknown.
std::string guess_guest_program();

// Pure part of guess_guest_program(), testable: args = QEMU's argv.
std::string guest_program_from_qemu_args(const std::string *args, std::size_t n);

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_OPTIONS_H
