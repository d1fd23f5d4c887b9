// SPDX-License-Identifier: MIT
// bd-ring-consumer: drains a ring channel region (<bd/ring.h>) into
// bdtrace:* LTTng-UST events. The work is in bdring (ring/); this file is
// the process contract with bd-run: start-up handshake, the drain loop, how
// it stops, the summary.
#include <CLI/CLI.hpp>

#include <bd/ring.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "bdtrace/bdtrace_tp.h"
#include "bdtrace/byte_order.h"
#include "bdtrace/filter/plugin_filter.h"
#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/clock_sync.h"
#include "bdtrace/ring/consumer.h"
#include "bdtrace/ring/filtering_sink.h"
#include "bdtrace/ring/guest_word.h"
#include "bdtrace/ring/realtime_counter_clock.h"
#include "bdtrace/ring/region_file.h"
#include "bdtrace/session_join.h"

namespace br = bdtrace::ring;

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int64_t kMaxPollUs = 1'000'000;
constexpr uint64_t kBusyLookNs = 1'000'000;

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int fail(int code, const std::string &message) {
  std::fprintf(stderr, "bd-ring-consumer: error: %s\n", message.c_str());
  return code;
}

// SIGTERM/SIGINT end the loop like EOF on stdin. No SA_RESTART: a signal
// during ppoll() returns EINTR at once.
bool install_signal_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  return ::sigaction(SIGTERM, &sa, nullptr) == 0 && ::sigaction(SIGINT, &sa, nullptr) == 0;
}

// Waits up to timeout_us (0: just looks) for stdin; false once it reached
// EOF (or is unusable: closed, error), which means "stop". Bytes that
// arrive on stdin are read and ignored.
bool stdin_open(int64_t timeout_us) {
  struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(timeout_us / 1'000'000);
  ts.tv_nsec = static_cast<long>(timeout_us % 1'000'000) * 1000;
  const int r = ::ppoll(&pfd, 1, &ts, nullptr);
  if (r <= 0) return true;  // timeout, or EINTR (the loop checks g_stop)
  if (pfd.revents & POLLNVAL) return false;
  char buf[256];
  const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
  if (n > 0) return true;
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  return false;  // EOF or a read error
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

// The byte order of a guest architecture's region (<bd/ring.h>, BYTE
// ORDER): s390x is the big-endian one bdtrace runs; every other target
// name (x86_64, aarch64, riscv64) is little-endian.
bdtrace::ByteOrder byte_order_of(const std::string &arch) {
  return arch == "s390x" ? bdtrace::ByteOrder::Big : bdtrace::ByteOrder::Little;
}

// System mode: one clock exchange with the guest this often once the map
// is good, this often before.
constexpr uint64_t kSyncEveryNs = 10'000'000;
constexpr uint64_t kSyncSettlingEveryNs = 1'000'000;
// The map is good for draining once an exchange's round trip was at most
// kGoodRoundTripNs (its error is at most half that), or, for a guest that
// never answers that fast (idle vCPUs switch rarely), kSettleNs after the
// first answer: a map from one slow exchange may be off by 100 us.
constexpr uint64_t kGoodRoundTripNs = 20'000;
constexpr uint64_t kSettleNs = 1'000'000'000;

// The guest clock of a system-mode run: the fit from the sync exchanges
// once it exists. Until then nothing is drained (records wait in the
// rings); at the very end, without any answer, the host TSC's map stands
// in and the times are off by the VM's TSC offset (the summary says so).
class SystemGuestClock final : public br::GuestClock {
 public:
  SystemGuestClock(br::LinearClockMap &fit, br::TscClock &host) : fit_(fit), host_(host) {}
  br::LinearMap current() const noexcept override { return fit_.ready() ? fit_.current() : host_.current(); }

 private:
  br::LinearClockMap &fit_;
  br::TscClock &host_;
};

// --standby: bdtrace:session goes out just before the first event, so a
// ring nobody used leaves no trace.
class SessionOnFirstUse final : public br::RecordSink {
 public:
  SessionOnFirstUse(br::RecordSink &next, std::function<void()> emit_session)
      : next_(next), emit_session_(std::move(emit_session)) {}
  void record(const bd_record &r, const bdtrace::EmitContext &ctx) noexcept override {
    first_use();
    next_.record(r, ctx);
  }
  void ring_dropped(uint32_t ring, uint32_t pid, uint32_t tid, uint64_t count, uint64_t total,
                    bool final) noexcept override {
    first_use();
    next_.ring_dropped(ring, pid, tid, count, total, final);
  }
  void blob(uint32_t event, const uint8_t *data, uint32_t len,
            const bdtrace::EmitContext &ctx) noexcept override {
    first_use();
    next_.blob(event, data, len, ctx);
  }

  bool used() const noexcept { return used_; }

 private:
  void first_use() noexcept {
    if (used_) return;
    used_ = true;
    emit_session_();
  }
  br::RecordSink &next_;
  std::function<void()> emit_session_;
  bool used_ = false;
};

// --stats FILE: one line, appended in one write.
bool append_stats(const std::string &path, const br::RingConsumer &consumer) {
  char line[160];
  const int n = std::snprintf(line, sizeof line, "records %llu dropped %llu rejected %llu\n",
                              static_cast<unsigned long long>(consumer.records()),
                              static_cast<unsigned long long>(consumer.dropped()),
                              static_cast<unsigned long long>(consumer.rejected()));
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool ok = n > 0 && ::write(fd, line, static_cast<size_t>(n)) == n;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{
      "Drains the rings of a bdtrace ring channel region (the shared-memory file guests "
      "write marks into, see proto/include/bd/ring.h) and emits the same bdtrace:* "
      "LTTng-UST events as the trap channel, each with guest_ts = the time of the guest's "
      "call in host CLOCK_MONOTONIC ns. Every record is copied out of the region and "
      "validated before use; malformed ones are counted (bdtrace:rejected, "
      "bdtrace:rejected_total), records a guest could not write because its ring was full "
      "are reported as bdtrace:ring_dropped.\n"
      "Normally started by bd-run. Contract: the consumer maps the region, writes its pid "
      "into the region's consumer_pid, emits bdtrace:session (channel \"ring\"), then "
      "prints the line \"ready\" on standard output. It then drains every ring in a loop, "
      "sleeping --poll-us between passes that found nothing, until standard input reaches "
      "end of file (the parent closes its end after the guest exited) or it receives "
      "SIGTERM or SIGINT. It then drains a last time, reports the final drop counts and "
      "prints one summary line on standard error: \"bd-ring-consumer: N records, D "
      "dropped, R rejected, emission delay p50 X us p99 Y us max Z us\" (and a line "
      "listing the rejection reasons if any). Keep standard input open for as long as "
      "records should be drained (started from a shell: Ctrl-D or Ctrl-C ends it).\n"
      "System mode (--mode system, a full-system guest): the guest's TSC is not the host's; "
      "the consumer exchanges clock readings with the guest's bd_sched module through the "
      "region's sync area (see ring.h) and drains nothing until the first exchange was "
      "answered; the summary adds a line on the clock sync.\n"
      "Exit status: 0 success, 1 the region cannot be used (the message says why), 2 bad "
      "usage.",
      "bd-ring-consumer"};
  std::string ring_path, program, mode = "user", vm, accel = "tcg", filter_path, arch = "x86_64";
  std::string stats_path;
  bool standby = false;
  int64_t poll_us = 100;
  app.add_option("--ring", ring_path,
                 "the region file (bd-run creates it in /dev/shm and names it in the guest's " BD_RING_ENV
                 " variable)")
      ->option_text("FILE")
      ->required();
  app.add_option("--program", program, "the guest program's name (bdtrace:session.program)")
      ->option_text("NAME")
      ->required();
  app.add_option("--mode", mode,
                 "user (a guest under qemu-x86_64) or native (the program run directly), "
                 "both reading the guest TSC as the host TSC; or system (a full-system guest "
                 "with kernel rings, clock synchronised with the guest) (bdtrace:session.mode)")
      ->check(CLI::IsMember({"user", "native", "system"}))
      ->capture_default_str();
  app.add_option("--accel", accel,
                 "system mode: tcg (guest TSC = host TSC + offset: only the offset is fitted) "
                 "or kvm (the rate is fitted too)")
      ->check(CLI::IsMember({"tcg", "kvm"}))
      ->capture_default_str();
  app.add_option("--arch", arch,
                 "the guest's architecture, QEMU's target name (bdtrace:session.arch); it gives "
                 "the region's byte order (s390x: big-endian, the others little-endian); its "
                 "clock is the region's clock field (<bd/ring.h>)")
      ->option_text("ARCH")
      ->capture_default_str();
  app.add_option("--vm", vm, "a name for this run (bdtrace:session.vm; default empty)")->option_text("NAME");
  app.add_option("--filter", filter_path,
                 "filter config (filter/README.md): records it drops are not emitted, and the "
                 "region's enable bitmap lets the guest skip what it drops for certain; reloaded "
                 "when the file changes. The ring index stands for the vCPU; the comm is the "
                 "program's file name (user, native) or, in system mode, the name the guest kernel "
                 "last gave the thread in a context switch")
      ->option_text("FILE");
  app.add_option("--poll-us", poll_us,
                 "microseconds to wait after a pass that found nothing ready (1 to 1000000; "
                 "default 100)")
      ->option_text("N")
      ->check(CLI::Range(int64_t{1}, kMaxPollUs))
      ->capture_default_str();
  app.add_option("--stats", stats_path,
                 "at the end, append the line \"records N dropped D rejected R\" to FILE (bd-run "
                 "reads it to tell whether any guest record arrived)")
      ->option_text("FILE");
  app.add_flag("--standby", standby,
               "a ring beside the trap channel for the programs a guest execs outside QEMU "
               "(bd-run's BD_RING_EXEC): bdtrace:session is emitted before the first record "
               "instead of at start, and the summary is printed only when something arrived, "
               "was dropped or was rejected");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(kExitUsage, std::string(e.what()) + " (see bd-ring-consumer --help)");
  }

  bdtrace::Expected<br::MappedRegion> opened = br::MappedRegion::open(ring_path, byte_order_of(arch));
  if (!opened) return fail(kExitError, opened.error().ToString());
  br::MappedRegion &region = *opened;
  const bool system = mode == "system";
  if ((region.layout().mode == BD_RING_MODE_SYSTEM) != system) {
    return fail(kExitError, "ring region '" + ring_path + "' is a " + (system ? "user-mode" : "system-mode") +
                                " region but --mode is " + mode +
                                " (bd-run passes the mode it created the region for)");
  }
  // The host's TSC against CLOCK_MONOTONIC. In user mode and natively
  // it is the guest's clock too.
  br::TscClock clock;
  if (!clock.calibrate()) {
    return fail(kExitError,
                "cannot calibrate the TSC against CLOCK_MONOTONIC (the TSC does not "
                "advance or every reading was interrupted); guest times would be wrong");
  }
  if (!install_signal_handlers()) return fail(kExitError, "cannot install signal handlers");
  // Before the first event: a tracing bd-run records only the processes
  // that joined its session, and a consumer whose events are not
  // recorded has no reason to run.
  {
    char why[256] = "";
    if (bdtrace::tracepoints::join_session(why, sizeof why) == bdtrace::tracepoints::JoinResult::kFailed)
      return fail(kExitError, std::string("cannot join bd-run's session: ") + why);
  }

  // The filter, before anything is drained: a bad file is refused here
  // (bd-run checked it already), and the enable bitmap is in the region
  // before the consumer says it is ready.
  if (!filter_path.empty()) {
    // The fixed comm of user mode and native runs: the program's file
    // name; system mode has none (the guest's tasks have theirs).
    const auto slash = program.rfind('/');
    const std::string comm = system ? "" : slash == std::string::npos ? program : program.substr(slash + 1);
    auto publish = [&region](uint64_t, const bdtrace::filter::CompiledFilter &f) {
      br::publish_enable_map(region, f);
    };
    if (const bdtrace::Status loaded =
            bdtrace::filter::g_plugin_filter.load(filter_path, comm, publish, false);
        !loaded)
      return fail(kExitError, loaded.error().ToString());
  }

  br::store_guest(region.layout().byte_order, &region.header()->consumer_pid,
                  static_cast<uint32_t>(::getpid()), __ATOMIC_RELAXED);
  // bdtrace:session, then bdtrace:filter (a no-op without --filter).
  auto emit_session = [&] {
    lttng_ust_tracepoint(bdtrace, session, mode.c_str(), arch.c_str(), program.c_str(), BD_RING_VERSION,
                         static_cast<uint32_t>(::getpid()), vm.c_str(), "ring", "", 0u, 0u);
    bdtrace::filter::g_plugin_filter.begin();
  };
  if (!standby) emit_session();
  if (std::fputs("ready\n", stdout) < 0 || std::fflush(stdout) != 0)
    return fail(kExitError, "cannot write \"ready\" on standard output");

  br::LttngSink lttng;
  br::FilteringSink filtered(bdtrace::filter::g_plugin_filter, lttng, system);
  br::RecordSink &decided = filter_path.empty() ? static_cast<br::RecordSink &>(lttng) : filtered;
  // --standby: the session and filter events just before the first record
  // (filtered or not) or drop report.
  SessionOnFirstUse first_use(decided, emit_session);
  br::RecordSink &sink = standby ? static_cast<br::RecordSink &>(first_use) : decided;
  br::LinearClockMap fit;
  // Under TCG an x86_64 guest's TSC runs at the host TSC's rate (only the
  // offset is fitted); KVM's TSC and aarch64's cntvct_el0 (its own
  // frequency) have their rate fitted too.
  br::ClockSync sync(region, fit, clock, accel == "tcg" && region.layout().clock == BD_RING_CLOCK_TSC);
  // aarch64 under TCG: cntvct_el0 at QEMU's fixed counter frequency, 62.5
  // MHz (QEMU before 9.0, older machine types) or 1 GHz: its rate is one of
  // these, found by the fit (ClockSync::add_rate_candidate).
  if (accel == "tcg" && region.layout().clock == BD_RING_CLOCK_CNTVCT) {
    sync.add_rate_candidate(16.0);
    sync.add_rate_candidate(1.0);
  }
  SystemGuestClock system_clock(fit, clock);
  // The guest's clock: the host TSC itself for x86_64's rdtsc and
  // qemu-riscv64's rdtime (measured), host realtime for qemu-aarch64's
  // cntvct_el0 and qemu-s390x's TOD clock; system mode fits the VM's TSC.
  const uint32_t region_clock = region.layout().clock;
  br::RealtimeCounterClock realtime(region, region_clock == BD_RING_CLOCK_S390X_TOD
                                                ? br::RealtimeCounterClock::Counter::S390xTod
                                                : br::RealtimeCounterClock::Counter::Cntvct);
  const bool counts_realtime =
      region_clock == BD_RING_CLOCK_CNTVCT || region_clock == BD_RING_CLOCK_S390X_TOD;
  br::GuestClock &guest_clock = system            ? static_cast<br::GuestClock &>(system_clock)
                                : counts_realtime ? static_cast<br::GuestClock &>(realtime)
                                                  : static_cast<br::GuestClock &>(clock);
  br::RingConsumer consumer(region, guest_clock, clock, sink);
  // Drop reports at most every 10 ms per ring: a flooded ring drops at
  // every pass, microseconds apart (the end-of-run reports are exact).
  consumer.set_drop_report_interval_ns(10'000'000);
  uint64_t last_look = 0, last_sync = 0, first_answer = 0;
  bool clock_good = false;
  while (!g_stop) {
    if (system) {
      const uint64_t now = clock.now_ns();
      if (now - last_sync >= (clock_good ? kSyncEveryNs : kSyncSettlingEveryNs)) {
        sync.exchange();
        last_sync = now;
        if (fit.ready() && first_answer == 0) first_answer = now;
        clock_good = fit.ready() && (sync.round_trips().percentile(0) <= kGoodRoundTripNs ||
                                     now - first_answer >= kSettleNs);
      }
      if (!clock_good) {  // records wait in the rings for the clock
        if (!stdin_open(poll_us)) break;
        continue;
      }
    }
    const uint64_t n = consumer.drain_once();
    if (n > 0) {
      // Busy: look at stdin (a system call) once a millisecond, not
      // after every pass, which may have found only a few records.
      const uint64_t now = clock.now_ns();
      if (now - last_look < kBusyLookNs) continue;
      last_look = now;
      if (!stdin_open(0)) break;
    } else if (!stdin_open(poll_us)) {  // idle: sleep on stdin
      break;
    }
  }
  std::string clock_note;
  if (system && !fit.ready()) {
    if (sync.use_estimate()) {
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "no timely clock sync answer: guest times use a late one, off by up to "
                    "%.1f us",
                    us(sync.late_round_trip_ns()) / 2);
      clock_note = buf;
    } else {
      clock_note =
          "no clock sync answer (is bd_sched loaded in the guest?): guest times "
          "are off by the VM's TSC offset";
    }
  }
  consumer.finish();
  // Final dropped and filter_stats, unless a standby ring was never used.
  if (!standby || first_use.used()) bdtrace::filter::g_plugin_filter.finish();

  if (!stats_path.empty() && !append_stats(stats_path, consumer))
    std::fprintf(stderr, "bd-ring-consumer: warning: cannot append to the stats file %s: %s\n",
                 stats_path.c_str(), std::strerror(errno));
  const bool nothing = consumer.records() == 0 && consumer.dropped() == 0 && consumer.rejected() == 0;
  if (standby && nothing) return 0;
  const br::LogHistogram &d = consumer.delay();
  std::fprintf(stderr,
               "bd-ring-consumer: %llu records, %llu dropped, %llu rejected, emission delay "
               "p50 %.1f us p99 %.1f us max %.1f us\n",
               static_cast<unsigned long long>(consumer.records()),
               static_cast<unsigned long long>(consumer.dropped()),
               static_cast<unsigned long long>(consumer.rejected()), us(d.percentile(0.5)),
               us(d.percentile(0.99)), us(d.max()));
  if (system) {
    const br::LogHistogram &rt = sync.round_trips();
    int64_t lo = 0, hi = 0;
    std::size_t used = 0;
    if (clock_note.empty() && sync.error_bounds(lo, hi, used)) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "true time = mapped time + c, c in [%+.2f, %+.2f] us (by the last %zu "
                    "exchanges' windows%s)",
                    static_cast<double>(lo) / 1000.0, static_cast<double>(hi) / 1000.0, used,
                    fit.set_aside() != 0 ? "; the newest, unconfirmed, set aside" : "");
      clock_note = buf;
    }
    std::string rate_note;
    if (sync.snapped_rate() != 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "; guest clock at %.1f MHz (the fitted rate, taken as exact)",
                    1000.0 / sync.snapped_rate());
      rate_note = buf;
    }
    std::fprintf(stderr,
                 "bd-ring-consumer: clock sync: %llu exchanges, %llu answered in time, %llu "
                 "kept, round trip min %.1f us p50 %.1f us%s%s%s\n",
                 static_cast<unsigned long long>(sync.exchanges()),
                 static_cast<unsigned long long>(sync.answered()),
                 static_cast<unsigned long long>(sync.kept()), us(rt.percentile(0)), us(rt.percentile(0.5)),
                 clock_note.empty() ? "" : "; ", clock_note.c_str(), rate_note.c_str());
  }
  const std::string rejects = consumer.rejects().summary();
  if (!rejects.empty()) std::fprintf(stderr, "bd-ring-consumer: %s\n", rejects.c_str());
  return 0;
}
