/* SPDX-License-Identifier: MIT */
// The qemu-x86_64 command line and environment for one guest run.
// Pure: no I/O, so tests can check it directly.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bdtrace::bdrun {

struct QemuInvocation {
  std::string qemu;     // path of qemu-x86_64
  std::string plugin;   // path of libbdtrace-qemu.so
  std::string program;  // guest program path QEMU opens
  std::vector<std::string> program_args;
  std::vector<std::pair<std::string, std::string>> plugin_args;
  std::string fork_wrapper;  // liblttng-ust-fork.so path, or "" for none
};

struct QemuCommand {
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=VALUE" entries
};

// QEMU's option parser splits on ',' and reads ",," as a literal comma.
std::string escape_plugin_value(const std::string& value);

// argv: qemu -plugin PLUGIN,program=PROGRAM[,name=value...]
//            [-U LD_PRELOAD | -E LD_PRELOAD=<user's>] PROGRAM ARGS...
// envp: `environ` with LD_PRELOAD=<fork wrapper> for QEMU itself; the guest
// gets the user's LD_PRELOAD back (or none) through -E/-U.
QemuCommand build_qemu_command(const QemuInvocation& inv, const std::vector<std::string>& environ_in);

}  // namespace bdtrace::bdrun
