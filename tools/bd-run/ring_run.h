// A run over the ring channel (<bd/ring.h>): bd-run creates the ring
// region file, starts bd-ring-consumer inside the session, runs the guest
// with BD_RING naming the file, then stops the consumer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "child.h"
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

// How a ring run sets up its region and consumer (user, native and system
// mode differ only here).
struct RingSetup {
  const char* mode = "user";       // bd-ring-consumer --mode
  std::string program;             // bdtrace:session.program
  uint32_t kernel_rings = 0;       // system mode: one per vCPU
  bool pad_for_ivshmem = false;    // size the file to a power of two
  std::vector<std::string> consumer_args;  // more bd-ring-consumer options
  ChildStdio stdio;                // the guest's
};

// Creates the region file (removed when the run ends), starts
// bd-ring-consumer inside the session and waits for its "ready", runs the
// guest that make_guest builds for the region's path, then stops the
// consumer. The caller has checked everything else and installed
// SignalForwarding. Returns bd-run's exit status.
int run_ring_session(const RunOptions& o, const RingSetup& setup,
                     const std::function<GuestCommand(const std::string& region_path)>& make_guest);

}  // namespace bdtrace::bdrun
