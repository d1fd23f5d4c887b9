// SPDX-License-Identifier: MIT
#include "ring_run.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include <bd/ring.h>

#include "bdtrace/ring/region_file.h"
#include "channel_choice.h"
#include "child.h"
#include "filter_check.h"
#include "install_layout.h"
#include "session_run.h"
#include "subprocess.h"

namespace bdtrace::bdrun {
namespace {

// The consumer emits bdtrace:session and registers with LTTng before it
// says "ready" (liblttng-ust waits up to 3 s for the session daemon).
constexpr int kConsumerReadyMs = 20000;
// After the guest ends: the final drain of full rings plus the exit.
constexpr int kConsumerFinishMs = 60000;

// Removes the region file when the run ends, however it ends.
class RegionFileGuard {
 public:
  explicit RegionFileGuard(std::string path) : path_(std::move(path)) {}
  RegionFileGuard(const RegionFileGuard&) = delete;
  RegionFileGuard& operator=(const RegionFileGuard&) = delete;
  ~RegionFileGuard() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string fresh_region_path() {
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return "/dev/shm/bdtrace-ring-" + std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
         std::to_string(counter++);
}

// Beside bd-run in a build tree, in <libexecdir>/bdtrace when installed.
Expected<std::string> resolve_consumer() {
  const std::vector<std::string> dirs = helper_dirs();
  const std::string path = first_accessible(dirs, "bd-ring-consumer", X_OK);
  if (path.empty()) {
    return make_error("the ring consumer is missing (no " + candidates_text(dirs, "bd-ring-consumer") +
                      "): build it (./bdtrace build) or install bdtrace again");
  }
  return path;
}

}  // namespace

std::vector<std::string> with_ring_env(const std::vector<std::string>& envp, const std::string& region,
                                       const char* name) {
  return with_env(envp, {std::string(name) + "=" + region});
}

bd_ring_clock ring_clock_of(tools::GuestArch arch) {
  switch (arch) {
    case tools::GuestArch::AArch64:
      return BD_RING_CLOCK_CNTVCT;
    case tools::GuestArch::RiscV64:
      return BD_RING_CLOCK_RISCV_TIME;
    case tools::GuestArch::S390X:
      return BD_RING_CLOCK_S390X_TOD;
    case tools::GuestArch::X86_64:
      break;
  }
  return BD_RING_CLOCK_TSC;
}

int run_with_ring(const RunOptions& o, const RingGuest& guest) {
  // A program that uses the trap itself needs no ring support; what it
  // execs is not known in advance.
  if (guest.role == RingRole::Guest && guest_ring_support(guest.program) == GuestRingSupport::TooOld) {
    return fail(guest.program +
                " was linked with a libbdguest older than the ring channel (it lacks the "
                "'bdguest-ring-abi-1' marker), so its marks would not reach the ring: relink it with "
                "this build's libbdguest (build/lib/libbdguest.a), or use --channel trap under a QEMU "
                "that loads the plugin");
  }
  if (Status st = check_tracing(o); !st) return fail(st.error());
  RingSetup setup;
  setup.mode = guest.mode;
  setup.program = guest.program;
  setup.stats = guest.stats;
  setup.report = GuestReport{guest.stats, guest.program, guest.script};
  // The plugin's name for a user-mode guest, so that both channels' sessions agree.
  setup.consumer_args = {"--vm", "user", "--arch", tools::arch_name(guest.arch)};
  setup.clock = ring_clock_of(guest.arch);
  setup.byte_order = tools::is_big_endian(guest.arch) ? ByteOrder::Big : ByteOrder::Little;
  // Beside the trap the ring is a safety net: its session and summary only when used.
  if (guest.role == RingRole::Exec) setup.consumer_args.push_back("--standby");
  const char* env = guest.role == RingRole::Exec ? BD_RING_EXEC_ENV : BD_RING_ENV;
  SignalForwarding signals;
  return run_ring_session(o, setup, [&guest, env](const std::string& region) {
    GuestCommand g = guest.command;
    g.envp = with_ring_env(g.envp, region, env);
    return g;
  });
}

int run_ring_session(const RunOptions& o, const RingSetup& setup,
                     const std::function<GuestCommand(const std::string& region_path)>& make_guest) {
  Expected<std::string> consumer = resolve_consumer();
  if (!consumer) return fail(consumer.error());

  RegionFileGuard region(fresh_region_path());
  const uint64_t file_size = setup.pad_for_ivshmem ? ring::ivshmem_file_size(o.rings, o.ring_slots) : 0;
  const bd_ring_mode mode = setup.kernel_rings != 0 ? BD_RING_MODE_SYSTEM : BD_RING_MODE_USER;
  if (Status created = ring::create_region_file(region.path(), o.rings, o.ring_slots, mode,
                                                setup.kernel_rings, file_size, setup.clock, setup.byte_order);
      !created) {
    return fail(created.error());
  }
  const GuestCommand guest = make_guest(region.path());
  std::vector<std::string> consumer_argv = {consumer.value(), "--ring", region.path(), "--program",
                                            setup.program,    "--mode", setup.mode};
  consumer_argv.insert(consumer_argv.end(), setup.consumer_args.begin(), setup.consumer_args.end());
  if (setup.stats != nullptr) {
    consumer_argv.push_back("--stats");
    consumer_argv.push_back(setup.stats->path());
  }
  if (!o.filter.empty()) {
    // Checked with the plugin's own parser; the consumer applies it.
    Expected<std::string> filter = check_filter(o.filter);
    if (!filter) return fail(filter.error());
    consumer_argv.push_back("--filter");
    consumer_argv.push_back(filter.value());
  }

  return run_in_session(
      o,
      [&](SessionContext& session) -> Expected<int> {
        const SessionEnv& session_env = session.env;
        Expected<PipedChild> started =
            PipedChild::spawn(consumer_argv, with_env(current_environment(), session_env));
        if (!started) return started.take_error();
        PipedChild& child = started.value();
        Expected<std::string> line = child.read_line(kConsumerReadyMs, "bd-ring-consumer");
        if (!line) return line.take_error();
        if (line.value() != "ready") {
          return make_error("bd-ring-consumer said '" + line.value() + "' instead of 'ready'");
        }
        Expected<int> status = run_child(guest.argv, with_env(guest.envp, session_env), setup.stdio);
        Expected<int> consumer_status = child.finish(kConsumerFinishMs);
        if (!consumer_status) {
          session.trace_incomplete("bd-ring-consumer: " + consumer_status.error().message);
        } else if (consumer_status.value() != 0) {
          session.trace_incomplete("bd-ring-consumer exited with status " +
                                   std::to_string(consumer_status.value()) +
                                   ": the trace may lack ring events");
        }
        return status;
      },
      setup.stats != nullptr ? &setup.report : nullptr);
}

}  // namespace bdtrace::bdrun
