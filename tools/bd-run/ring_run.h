// A run over the ring channel (<bd/ring.h>): bd-run creates the ring
// region file, starts bd-ring-consumer inside the session, runs the guest
// with BD_RING naming the file, then stops the consumer.
#pragma once

#include <string>
#include <vector>

#include "options.h"

namespace bdtrace::bdrun {

// The guest as bd-run starts it: [QEMU [QEMU options]] PROGRAM ARGS... with
// its environment (without BD_RING: run_with_ring adds it).
struct GuestCommand {
  std::vector<std::string> argv;
  std::vector<std::string> envp;
};

// envp without any BD_RING entry, plus BD_RING=<region>. Pure, for tests.
std::vector<std::string> with_ring_env(const std::vector<std::string>& envp, const std::string& region);

// The whole run. `program` is the guest program (named in bdtrace:session
// and checked for ring support); `mode` is "user" or "native". Returns
// bd-run's exit status.
int run_with_ring(const RunOptions& o, const std::string& program, const char* mode, GuestCommand guest);

}  // namespace bdtrace::bdrun
