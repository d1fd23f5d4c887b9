// bd-run's command line: parsed into RunOptions, nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bdtrace::bdrun {

struct RunOptions {
  std::string trace_dir;      // empty: run without creating a session
  std::string session_name;   // empty: a unique name
  std::string qemu;           // empty: qemu-x86_64 from PATH
  std::string plugin;         // empty: <dir of bd-run>/../lib/libbdtrace-qemu.so
  std::vector<std::pair<std::string, std::string>> plugin_args;  // extra name=value
  uint64_t subbuf_size = 4u << 20;
  uint64_t subbuf_count = 8;
  std::string program;        // as typed by the user
  std::vector<std::string> program_args;
};

// Either options to run with, or an exit status to return at once (0 after
// --help, 2 after a usage error, with the message already printed).
struct ParseOutcome {
  std::optional<RunOptions> options;
  int exit_status = 0;
};

ParseOutcome parse_command_line(int argc, char** argv);

}  // namespace bdtrace::bdrun
