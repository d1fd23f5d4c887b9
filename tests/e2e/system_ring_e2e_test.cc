// SPDX-License-Identifier: MIT
// End to end: the ring channel in full-system mode, every part real.
// Debian's kernel boots under qemu-system-x86_64 (TCG) with no plugin (built
// a second time as system_a64_ring_e2e_test with BD_TEST_VM_ARCH "aarch64":
// the aarch64 VM under qemu-system-aarch64, whose records carry cntvct_el0,
// the consumer fitting its rate): bd-run
// --system --channel ring gives the VM the ring region as an ivshmem device,
// bd_sched writes context switches into the kernel rings and answers the
// consumer's clock sync, guest programs find the ring by PCI scan and write
// into user rings, and bd-ring-consumer --mode system emits it all into
// bd-run's LTTng session. One boot serves every check below
// (tests/e2e/vm/system-ring-test.sh runs inside it).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <google/protobuf/util/json_util.h>

#include <bd/ring.h>

#include "report.pb.h"
#include "sleeps_check.h"
#include "support.h"
#include "vm_suite.h"
#include "vm_console.h"

using bdtest::read_trace_with_babeltrace2;
using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

namespace {

const std::string kVmDir = BD_VM_DIR;
const std::string kArch = BD_TEST_VM_ARCH;  // the VM's: x86_64 or aarch64
constexpr int kMarks = 1000;

using bdtest::file_exists;
using bdtest::guest_lines;
using bdtest::guest_value;

class SystemRingVm : public bdtest::VmSuite<SystemRingVm> {
 public:
  static constexpr const char *kTag = "ring";
  static std::string MissingImage() {
    if (file_exists(kVmDir + "/vmlinuz") &&
        file_exists(kVmDir + "/initramfs-root/etc/bd/system-ring-test.sh"))
      return "";
    return "no test VM image with system-ring-test.sh in " + kVmDir + ": run ./bdtrace test";
  }
  static RunResult Boot(const std::string &dir, const std::string &trace, const std::string &vm) {
    // The filter on the system ring: one rule the enable bitmap decides in
    // the guest (event 190), one only the consumer can (a comm, learnt from
    // the kernel's context switches: guest-pingpong's marks, event 50).
    filter_ = dir + "/filter.txtpb";
    bdtest::replace_file(filter_,
                         "rule { events { id: 190 } action: DROP }\n"
                         "rule { process { comm: \"guest-pingpong\" } events { id: 50 } action: DROP }\n");
    return run({"timeout",   "900",
                BD_RUN,      "--system",
                "--arch",    kArch,
                "--channel", "ring",
                "--trace",   trace,
                "--filter",  filter_,
                "--vm",      vm,
                "--kernel",  kVmDir + "/vmlinuz",
                "--initrd",  kVmDir + "/initramfs.cpio.gz",
                "--append",  "bd.kmod=1 bd.run=/etc/bd/system-ring-test.sh"});
  }
  static std::string filter_;
};
std::string SystemRingVm::filter_;

TEST_F(SystemRingVm, SessionSaysRingAndSystemAndTheClockWasSynchronised) {
  ASSERT_FALSE(lines_->empty()) << result_->out;
  EXPECT_EQ(lines_->front(), "begin");
  EXPECT_EQ(lines_->back(), "end");
  EXPECT_EQ(guest_value(*lines_, "present"), 1);
  int sessions = 0;
  for (const auto &ev : *events_)
    if (ev.name == "session") {
      ++sessions;
      EXPECT_EQ(ev.fields.at("mode"), "system");
      EXPECT_EQ(ev.fields.at("channel"), "ring");
      EXPECT_EQ(ev.fields.at("arch"), kArch);
    }
  EXPECT_EQ(sessions, 1);
  // The consumer's summary: exchanges answered, no fallback to estimates.
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(result_->err, m, std::regex(R"(clock sync: (\d+) exchanges, (\d+) answered)")))
      << result_->err;
  EXPECT_GT(std::stoll(m[2]), 0) << result_->err;
  EXPECT_EQ(result_->err.find("no timely clock sync"), std::string::npos) << result_->err;
  EXPECT_EQ(result_->err.find("no clock sync answer"), std::string::npos) << result_->err;
  // The exchanges bound the map's error (ClockSync::error_bounds): a few us
  // at most.
  ASSERT_TRUE(std::regex_search(result_->err, m, std::regex(R"(c in \[([-+0-9.]+), ([-+0-9.]+)\] us)")))
      << result_->err;
  EXPECT_GT(std::stod(m[1]), -5.0) << result_->err;
  EXPECT_LT(std::stod(m[2]), 5.0) << result_->err;
}

// Bulk marks (bd_mark_blob) through a user ring of the VM: every byte.
TEST_F(SystemRingVm, BulkMarksCarryTheirBytesExactly) {
  for (const char *line : {"blobs blob 0 1", "blobs blob 1 1", "blobs blob 3969 1", "blobs blob 65536 1"})
    EXPECT_NE(std::find(lines_->begin(), lines_->end(), line), lines_->end()) << line;
  std::vector<size_t> sizes;
  for (const auto &ev : *events_) {
    if (ev.name != "blob") continue;
    const size_t len = bdtest::expect_calls_blob_bytes(ev);
    EXPECT_GE(ev.u("vcpu"), 2u) << "from a user ring";
    sizes.push_back(len);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{0, 1, 3969, 65536}));
}

TEST_F(SystemRingVm, UserMarksFromTwoProcessesOfTwoThreadsEachAreExact) {
  std::regex pid_re(R"(^(p[12]) pid (\d+)$)"), tid_re(R"(^(p[12]) thread (\d+) tid (\d+)$)");
  std::map<std::string, uint64_t> pid_of;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> k_of;  // (pid, tid) -> k
  for (const auto &l : *lines_) {
    std::smatch m;
    if (std::regex_match(l, m, pid_re)) pid_of[m[1]] = std::stoull(m[2]);
  }
  for (const auto &l : *lines_) {
    std::smatch m;
    if (std::regex_match(l, m, tid_re))
      k_of[std::make_pair(pid_of[m[1]], std::stoull(m[3]))] = std::stoull(m[2]);
  }
  ASSERT_EQ(pid_of.size(), 2u) << "guest-threads did not print its pid";
  ASSERT_EQ(k_of.size(), 4u);
  EXPECT_EQ(guest_value(*lines_, "p1 taken"), 3 + 2 + 2 * (kMarks + 6));
  EXPECT_EQ(guest_value(*lines_, "p2 taken"), 3 + 2 + 2 * (kMarks + 6));

  std::map<std::pair<uint64_t, uint64_t>, uint64_t> next_i;
  for (const auto &ev : *events_) {
    if (ev.name != "mark" || ev.u("kind") != 1 || ev.u("event") != 1) continue;
    if (ev.u("pid") != pid_of["p1"] && ev.u("pid") != pid_of["p2"]) continue;
    const auto key = std::make_pair(ev.u("pid"), ev.u("tid"));
    auto it = k_of.find(key);
    ASSERT_NE(it, k_of.end()) << "mark from unknown tid " << key.second << " of pid " << key.first;
    EXPECT_EQ(ev.u("a0"), it->second);
    ASSERT_EQ(ev.u("a1"), next_i[key]) << "mark lost or reordered";
    ++next_i[key];
    EXPECT_NE(ev.u("guest_ts"), 0u);
    EXPECT_GE(ev.u("vcpu"), 2u) << "user marks come from user rings (after the 2 kernel rings)";
  }
  for (const auto &[key, k] : k_of) EXPECT_EQ(next_i[key], static_cast<uint64_t>(kMarks)) << k;
}

// The switches the host recorded with guest times between marks 900 and
// 901 against the guest's own /proc/stat ctxt delta around them.
TEST_F(SystemRingVm, ContextSwitchesComeFromEveryVcpuAndMatchTheGuestsCount) {
  const long long before = guest_value(*lines_, "before");
  const long long after = guest_value(*lines_, "after");
  ASSERT_GT(before, 0);
  ASSERT_GT(after, before);
  uint64_t t900 = 0, t901 = 0;
  for (const auto &ev : *events_) {
    if (ev.name == "mark" && ev.u("event") == 900) t900 = ev.u("guest_ts");
    if (ev.name == "mark" && ev.u("event") == 901) t901 = ev.u("guest_ts");
  }
  ASSERT_NE(t900, 0u) << "mark 900 missing";
  ASSERT_GT(t901, t900) << "mark 901 missing or before 900";
  std::set<uint64_t> vcpus;
  long long between = 0;
  for (const auto &ev : *events_) {
    if (ev.name != "sched_switch") continue;
    vcpus.insert(ev.u("vcpu"));
    const uint64_t t = ev.u("guest_ts");
    if (t > t900 && t < t901) ++between;
  }
  EXPECT_EQ(vcpus, (std::set<uint64_t>{0, 1}));
  const long long guest = after - before;
  EXPECT_GT(guest, 20000) << "the ping-pong should switch a lot";
  EXPECT_NEAR(static_cast<double>(between), static_cast<double>(guest), 0.01 * guest)
      << "host recorded " << between << " switches, the guest counted " << guest;
}

// Rejected: exactly guest-hostile-ring-system's records (garbage in the
// kernel rings, forged switches in a user ring), none of anyone else's.
// Dropped: exactly the marks of guest-slot-exhaust's threads that found no
// free ring (reported as ring BD_RING_NO_RING), nothing in any ring.
TEST_F(SystemRingVm, OnlyHostileRecordsAreRejectedAndOnlyThreadsWithoutARingDrop) {
  const long long hostile = guest_value(*lines_, "hostile-ring expect_rejected");
  const long long kernel_only = guest_value(*lines_, "hostile-ring expect_kernel_only");
  ASSERT_GT(hostile, 0) << "guest-hostile-ring-system did not run";
  EXPECT_EQ(guest_value(*lines_, "hostile-ring garbage"),
            2 * 100);  // two kernel rings (--smp 2), 100 slots each
  EXPECT_EQ(guest_value(*lines_, "hostile-ring drained"), 1);
  std::map<std::string, uint64_t> totals;
  uint64_t total = 0;
  for (const auto &ev : *events_)
    if (ev.name == "rejected_total") {
      totals[ev.fields.at("reason_name")] += ev.u("count");
      total += ev.u("count");
    }
  EXPECT_EQ(total, static_cast<uint64_t>(hostile));
  EXPECT_EQ(totals["kernel_only_kind"], static_cast<uint64_t>(kernel_only));
  EXPECT_EQ(totals["bad_kind"], static_cast<uint64_t>(hostile - kernel_only));

  const long long threads = guest_value(*lines_, "exhaust threads");
  const long long calls = guest_value(*lines_, "exhaust calls");
  const long long ok = guest_value(*lines_, "exhaust ok");
  const long long lost = guest_value(*lines_, "exhaust lost");
  ASSERT_EQ(threads, 80);
  EXPECT_EQ(calls, 80 * 21);
  EXPECT_EQ(guest_value(*lines_, "exhaust other"), 0);
  EXPECT_EQ(ok + lost, calls);
  EXPECT_GE(lost, (80 - 62) * 21) << "threads without a ring lose every call";
  uint64_t unowned_final = 0, unowned_sum = 0, ring_drops = 0;
  long long recorded = 0;
  for (const auto &ev : *events_) {
    if (ev.name == "mark" && (ev.u("event") == 700 || ev.u("event") == 701)) ++recorded;
    if (ev.name != "ring_dropped") continue;
    if (ev.u("ring") == BD_RING_NO_RING) {
      EXPECT_EQ(ev.u("tid"), 0u);
      unowned_sum += ev.u("count");
      if (ev.u("final")) unowned_final = ev.u("total");
    } else {
      ring_drops += ev.u("count");
    }
  }
  EXPECT_EQ(recorded, ok);
  EXPECT_EQ(unowned_sum, static_cast<uint64_t>(lost));
  EXPECT_EQ(unowned_final, static_cast<uint64_t>(lost));
  EXPECT_EQ(ring_drops, 0u);
}

// Ground truth for the ring's times in system mode: regions around fixed
// sleeps last what the guest measured with its own CLOCK_MONOTONIC, within
// 1 %.
TEST_F(SystemRingVm, RegionsAroundFixedSleepsLastTheSleep) {
  const auto slept = bdtest::slept_ranges(*lines_, "sleeps ");
  ASSERT_EQ(slept.size(), 3u);
  std::string pid;
  for (const auto &ev : *events_)
    if (ev.name == "region_begin" && slept.count(ev.u("region"))) pid = ev.fields.at("pid");
  ASSERT_FALSE(pid.empty()) << "no sleep regions in the trace";
  bdtest::expect_regions_last_the_sleeps(BD_ANALYZE, trace_, pid, slept, 3);
}

TEST_F(SystemRingVm, KernelModuleUsedTheRingAndUnloadsCleanly) {
  EXPECT_NE(std::find(lines_->begin(), lines_->end(), "rmmod ok"), lines_->end());
  bool ring = false;
  for (const auto &l : *lines_) {
    EXPECT_EQ(l.find("Oops"), std::string::npos) << l;
    EXPECT_EQ(l.find("BUG:"), std::string::npos) << l;
    if (l.find("loaded, ring in BAR2") != std::string::npos) ring = true;
  }
  EXPECT_TRUE(ring) << "bd_sched did not find the ring device";
}

// The filter config on the system ring: event 190 never reaches the trace
// (the guest skipped it by the enable bitmap: nothing counts it), 191 does; guest-pingpong's
// marks (event 50, every 1000th of 20000 round trips: 20) are dropped by
// the consumer once a context switch named the thread — only a mark made
// before the process was ever switched in after its exec may get through.
TEST_F(SystemRingVm, FilterDropsByEventInTheGuestAndByCommInTheConsumer) {
  uint64_t m190 = 0, m191 = 0, m50 = 0, filtered = 0, filter_events = 0;
  for (const auto &ev : *events_) {
    if (ev.name == "mark" && ev.u("event") == 190) ++m190;
    if (ev.name == "mark" && ev.u("event") == 191) ++m191;
    if (ev.name == "mark" && ev.u("event") == 50) ++m50;
    if (ev.name == "filter_stats") filtered += ev.u("filtered");
    if (ev.name == "filter") {
      ++filter_events;
      EXPECT_EQ(ev.fields.at("status"), "ok") << ev.fields.at("message");
    }
  }
  EXPECT_EQ(m190, 0u);
  EXPECT_EQ(m191, 1u);
  EXPECT_LE(m50, 1u) << "guest-pingpong's marks were not filtered by its comm";
  EXPECT_GE(filtered, 19u);
  EXPECT_LE(filtered, 20u) << "the consumer filtered more than guest-pingpong's marks: 190 was not skipped";
  EXPECT_EQ(filter_events, 1u);
}

}  // namespace
