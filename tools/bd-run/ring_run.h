/* SPDX-License-Identifier: MIT */
// A run over the ring channel (<bd/ring.h>): bd-run creates the ring
// region file, starts bd-ring-consumer inside the session, runs the guest
// with BD_RING naming the file, then stops the consumer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <bd/ring.h>

#include "bdtrace/byte_order.h"
#include "bdtrace/tools/elf_check.h"
#include "child.h"
#include "options.h"
#include "run_stats.h"
#include "session_run.h"

namespace bdtrace::bdrun {

// The guest as bd-run starts it: [QEMU [QEMU options]] PROGRAM ARGS... with
// its environment.
struct GuestCommand {
  std::vector<std::string> argv;
  std::vector<std::string> envp;
};

// envp without any `name` entry, plus name=<region>. Pure, for tests.
std::vector<std::string> with_ring_env(const std::vector<std::string>& envp, const std::string& region,
                                       const char* name = BD_RING_ENV);

// Which processes a user-mode or native run's ring is for.
enum class RingRole {
  Guest,  // every libbdguest process (BD_RING): --channel ring or both, --native
  Exec,   // those the trap does not reach (BD_RING_EXEC): programs a guest
          // under qemu-x86_64 execs run natively, outside the plugin
};

// A user-mode or native run with a ring.
struct RingGuest {
  std::string program;        // the guest program: bdtrace:session.program, checked for ring support
  std::string script;         // the script it runs, if any (for messages)
  const char* mode = "user";  // "user" or "native"
  GuestCommand command;       // without the ring's variable: run_with_ring adds it
  RingRole role = RingRole::Guest;
  const StatsFile* stats = nullptr;                  // the plugin's and the consumer's counts
  tools::GuestArch arch = tools::GuestArch::X86_64;  // the region's clock, bdtrace:session.arch
};

// The ring clock (<bd/ring.h> bd_ring_clock) of a guest architecture.
bd_ring_clock ring_clock_of(tools::GuestArch arch);

// The whole run. Returns bd-run's exit status.
int run_with_ring(const RunOptions& o, const RingGuest& guest);

// How a ring run sets up its region and consumer (user, native and system
// mode differ only here).
struct RingSetup {
  const char* mode = "user";                // bd-ring-consumer --mode
  std::string program;                      // bdtrace:session.program
  uint32_t kernel_rings = 0;                // system mode: one per vCPU
  bool pad_for_ivshmem = false;             // size the file to a power of two
  std::vector<std::string> consumer_args;   // more bd-ring-consumer options
  ChildStdio stdio;                         // the guest's
  const StatsFile* stats = nullptr;         // bd-ring-consumer --stats; the end-of-run check
  GuestReport report;                       // with stats: what the end of the run names
  bd_ring_clock clock = BD_RING_CLOCK_TSC;  // the guest architecture's
  ByteOrder byte_order = kHostByteOrder;    // the guest's (<bd/ring.h>, BYTE ORDER)
};

// Creates the region file (removed when the run ends), starts
// bd-ring-consumer inside the session and waits for its "ready", runs the
// guest that make_guest builds for the region's path, then stops the
// consumer. The caller has checked everything else and installed
// SignalForwarding. Returns bd-run's exit status.
int run_ring_session(const RunOptions& o, const RingSetup& setup,
                     const std::function<GuestCommand(const std::string& region_path)>& make_guest);

}  // namespace bdtrace::bdrun
