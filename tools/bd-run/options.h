/* SPDX-License-Identifier: MIT */
// bd-run's command line: parsed into RunOptions, nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bdtrace::bdrun {

// --system: boot a VM under qemu-system-x86_64 (or qemu-system-aarch64)
// instead of running one program under qemu-x86_64.
struct SystemOptions {
  std::string arch = "x86_64";         // --arch: x86_64 or aarch64
  unsigned smp = 2;                    // vCPUs, 1..BD_CHANNEL_KERNEL_SLOTS
  uint64_t memory_mib = 512;           // guest RAM
  std::string kernel;                  // -kernel (empty: none)
  std::string initrd;                  // -initrd (needs kernel)
  std::string append;                  // appended to the default kernel command line
  std::string vm_name = "vm";          // plugin's vm= argument
  bool no_plugin = false;              // plain QEMU (the ivshmem device stays)
  bool kvm = false;                    // --accel kvm (ring channel only), else tcg
  std::vector<std::string> qemu_args;  // after --, passed to QEMU as is
  // --program FILE... / --run CMD: with no --kernel bd-run builds (or takes
  // from its cache) an image holding the programs and bd-mark and boots it
  // with bd.kmod=1; CMD runs in the guest (kernel argument bd.cmd=).
  std::vector<std::string> programs;
  std::optional<std::string> run_command;
  // An image bd-run builds itself (programs, or --run without --kernel).
  bool builds_image() const { return !programs.empty() || (run_command && kernel.empty()); }
};

// How guest records reach the host (README "Channels"): the trap needs the
// bdtrace QEMU plugin; the ring (<bd/ring.h>) needs no plugin: a consumer
// process drains shared-memory rings.
// Both: the plugin is loaded and the ring offered; libbdguest uses the
// ring while raw traps still reach the plugin (to compare the channels).
enum class ChannelChoice { Auto, Trap, Ring, Both };

struct RunOptions {
  std::string trace_dir;     // empty: run without creating a session
  std::string session_name;  // empty: a unique name
  // --live: the session streams through the local lttng-relayd (started
  // when none runs) for bd-analyze --live; trace_dir is then where a relay
  // daemon bd-run starts writes (README "Live view").
  bool live = false;
  // --live-wait: start the guest only once a live reader follows the session.
  bool live_wait = false;
  // --relayd URL: the session streams to the lttng-relayd at URL (someone
  // else's: bd-run never starts one for it), a live session with --live;
  // that relay daemon writes the trace under HOST/SESSION-DATE/ in its
  // output directory (README "Several runs"). Not with --trace.
  std::string relayd_url;
  // A session of bd-run's own: with --trace, --live or --relayd.
  bool traces() const { return !trace_dir.empty() || live || !relayd_url.empty(); }
  std::string qemu;    // empty: qemu-<arch> (system: qemu-system-<arch>) from PATH
  std::string arch;    // --arch: the guest's architecture; empty: from PROGRAM's ELF header
  std::string plugin;  // empty: resolve_plugin's default (preflight.h)
  std::vector<std::pair<std::string, std::string>> plugin_args;  // extra name=value
  std::string filter;                                            // --filter FILE (both modes), "" = none
  std::vector<std::string> handlers;  // --handler PATH[:ARGS], user mode with the trap
  uint64_t subbuf_size = 4u << 20;
  uint64_t subbuf_count = 8;
  std::string program;  // as typed by the user (user mode only)
  std::vector<std::string> program_args;
  std::optional<SystemOptions> system;          // set with --system
  ChannelChoice channel = ChannelChoice::Auto;  // --channel
  bool native = false;                          // --native: run PROGRAM on the host, ring channel
  uint32_t rings = 64;                          // --rings: guest threads marking at once (ring channel)
  uint32_t ring_slots = 16384;                  // --ring-slots: 64-byte slots per ring
};

// Either options to run with, or an exit status to return at once (0 after
// --help, 2 after a usage error, with the message already printed).
struct ParseOutcome {
  std::optional<RunOptions> options;
  int exit_status = 0;
};

ParseOutcome parse_command_line(int argc, char** argv);

// "512M", "1G", "2048" (MiB), "65536K" -> MiB. Errors unless the size is a
// whole number of MiB between 16 MiB and 1 TiB.
std::optional<uint64_t> parse_memory_mib(const std::string& text);

}  // namespace bdtrace::bdrun
