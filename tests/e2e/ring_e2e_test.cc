// SPDX-License-Identifier: MIT
// End to end over the ring channel (<bd/ring.h>), every part real: a guest
// linked with libbdguest writes its records into shared-memory rings while
// bd-ring-consumer (started by bd-run) emits them into an LTTng session;
// under Debian 12's qemu-x86_64 7.2, under Debian's QEMU 10.0 and newest
// qemu-user (static builds without plugin support, fetched by ./bdtrace
// test), and natively. The trace is read back with babeltrace2 and
// bd-analyze.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "report.pb.h"
#include "sleeps_check.h"
#include "support.h"
#include "threads_check.h"

using bdtest::read_trace_with_babeltrace2;
using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;
using bdtest::value_after;

namespace {

constexpr int kThreads = 4;
constexpr int kMarks = 10000;

// A QEMU the scripts fetched (./bdtrace test exports its path).
std::string fetched_qemu(const char *variable) {
  const char *path = std::getenv(variable);
  return path != nullptr ? path : "";
}

// The guest's pid (the events' pid field): bd-analyze --pid selects the
// guest process, which on the ring is not the emitting (consumer) process.
std::string guest_pid_of(const std::vector<TraceEvent> &events) {
  for (const auto &ev : events)
    if (ev.name == "mark" || ev.name == "region_begin") return ev.fields.at("pid");
  ADD_FAILURE() << "no mark in the trace";
  return "";
}

// How a run reaches the ring: which QEMU (or none) and which bd-run flags.
struct Runner {
  std::string name;
  std::vector<std::string> flags;  // before --
  std::string qemu_variable;       // environment variable naming the QEMU, or ""
  std::string mode;                // bdtrace:session mode
};

// gtest prints a parameter with this instead of its bytes.
void PrintTo(const Runner &runner, std::ostream *os) { *os << runner.name; }

std::vector<std::string> bd_run_argv(const Runner &runner, const std::string &trace) {
  std::vector<std::string> argv = {BD_RUN, "--trace", trace};
  argv.insert(argv.end(), runner.flags.begin(), runner.flags.end());
  if (!runner.qemu_variable.empty()) {
    argv.push_back("--qemu");
    argv.push_back(fetched_qemu(runner.qemu_variable.c_str()));
  }
  return argv;
}

// One run of guest-threads (4 x 10 000 marks) per runner, shared by the
// checks of that runner.
struct ThreadsRun {
  std::unique_ptr<TempDir> dir;
  std::string trace;
  RunResult result;
  std::vector<TraceEvent> events;  // the guest's own, by the consumer's vpid
};

const ThreadsRun &threads_run(const Runner &runner) {
  static std::map<std::string, ThreadsRun> runs;
  auto it = runs.find(runner.name);
  if (it != runs.end()) return it->second;
  ThreadsRun &r = runs[runner.name];
  r.dir = std::make_unique<TempDir>("e2e-ring-" + runner.name);
  r.trace = r.dir->path() + "/trace";
  std::vector<std::string> argv = bd_run_argv(runner, r.trace);
  for (const char *a : {"--", GUEST_THREADS, "--threads", "4", "--marks", "10000"}) argv.push_back(a);
  r.result = run(argv);
  r.events = bdtest::events_of_guest(read_trace_with_babeltrace2(r.trace), "guest-threads");
  return r;
}

class RingRun : public ::testing::TestWithParam<Runner> {
 protected:
  void SetUp() override {
    const Runner &runner = GetParam();
    if (!runner.qemu_variable.empty()) {
      const std::string qemu = fetched_qemu(runner.qemu_variable.c_str());
      ASSERT_FALSE(qemu.empty()) << runner.qemu_variable
                                 << " is not set: run the tests through ./bdtrace test, which fetches "
                                    "Debian's newer qemu-user builds (tools/qemu/fetch-qemu-user.sh)";
      RunResult version = run({qemu, "-version"});
      ASSERT_EQ(version.status, 0) << qemu << ": " << version.err;
      std::printf("%s: %s", runner.name.c_str(), version.out.substr(0, version.out.find('\n') + 1).c_str());
    }
  }
};

TEST_P(RingRun, EveryCallIsTakenAndTheSessionNamesTheRing) {
  const ThreadsRun &r = threads_run(GetParam());
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  EXPECT_EQ(value_after(r.result.out, "present"), 1) << r.result.out;
  EXPECT_EQ(value_after(r.result.out, "taken"), (3 + kThreads) + kThreads * (kMarks + 6)) << r.result.out;
  EXPECT_NE(r.result.err.find("trace written to"), std::string::npos) << r.result.err;
  EXPECT_EQ(r.result.err.find("warning"), std::string::npos) << r.result.err;
  int sessions = 0, rejected = 0, dropped = 0;
  for (const auto &ev : r.events) {
    if (ev.name == "session") {
      ++sessions;
      EXPECT_EQ(ev.fields.at("channel"), "ring");
      EXPECT_EQ(ev.fields.at("mode"), GetParam().mode);
      EXPECT_EQ(ev.fields.at("arch"), "x86_64");
      EXPECT_EQ(ev.u("abi_version"), 1u);
    }
    if (ev.name == "rejected" || ev.name == "rejected_total") ++rejected;
    if (ev.name == "ring_dropped") ++dropped;
  }
  EXPECT_EQ(sessions, 1);
  EXPECT_EQ(rejected, 0);
  EXPECT_EQ(dropped, 0);
}

TEST_P(RingRun, EveryThreadsRecordsArriveInOrderWithTheirFieldsAndTimes) {
  const ThreadsRun &r = threads_run(GetParam());
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  bdtest::expect_guest_threads_events(r.events, r.result.out, kThreads, kMarks, /*ring_times=*/true);
}

TEST_P(RingRun, BdAnalyzeCountsExactly) {
  const ThreadsRun &r = threads_run(GetParam());
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  const std::string pid = guest_pid_of(r.events);
  ASSERT_FALSE(pid.empty());
  RunResult a = run({BD_ANALYZE, r.trace, "--format", "json", "--pid", pid});
  ASSERT_EQ(a.status, 0) << a.err;
  bdtrace::report::Report report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a.out, &report).ok()) << a.out.substr(0, 500);
  EXPECT_EQ(report.totals().marks(), kThreads * (kMarks + 1u));
  EXPECT_EQ(report.totals().text_marks(), kThreads * 3u);
  EXPECT_EQ(report.totals().region_begins(), static_cast<uint64_t>(kThreads));
  EXPECT_EQ(report.totals().region_ends(), static_cast<uint64_t>(kThreads));
  EXPECT_EQ(report.discarded_events().count(), 0u);
  EXPECT_EQ(report.rejected().total(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Channels, RingRun,
                         ::testing::Values(Runner{"qemu72", {"--channel", "ring"}, "", "user"},
                                           Runner{"qemu10", {}, "BD_TEST_QEMU_10", "user"},
                                           Runner{"qemuNewest", {}, "BD_TEST_QEMU_NEWEST", "user"},
                                           Runner{"native", {"--native"}, "", "native"}),
                         [](const ::testing::TestParamInfo<Runner> &info) { return info.param.name; });

// Rings far too small for the load: calls return 0, nothing blocks, and
// issued = recorded + dropped, exactly.
TEST(RingFull, IssuedEqualsRecordedPlusDropped) {
  TempDir dir("e2e-ring-full");
  const std::string trace = dir.path() + "/trace";
  RunResult r = run({BD_RUN, "--trace", trace, "--native", "--ring-slots", "16", "--", GUEST_THREADS,
                     "--threads", "4", "--marks", "10000"});
  ASSERT_EQ(r.status, 0) << r.err;
  const long issued = (3 + kThreads) + kThreads * (kMarks + 6);
  const long taken = value_after(r.out, "taken");
  ASSERT_GE(taken, 0) << r.out;
  uint64_t recorded = 0, dropped = 0, finals = 0;
  std::map<uint64_t, uint64_t> final_total, sum_by_ring;
  for (const auto &ev : bdtest::events_of_guest(read_trace_with_babeltrace2(trace), "guest-threads")) {
    if (ev.name == "mark" || ev.name == "region_begin" || ev.name == "region_end" || ev.name == "event_name")
      ++recorded;
    if (ev.name == "ring_dropped") {
      dropped += ev.u("count");
      sum_by_ring[ev.u("ring")] += ev.u("count");
      if (ev.u("final") == 1) {
        ++finals;
        final_total[ev.u("ring")] = ev.u("total");
      }
    }
  }
  EXPECT_GT(dropped, 0u) << "16-slot rings did not overflow: the test tests nothing";
  EXPECT_EQ(recorded, static_cast<uint64_t>(taken));
  EXPECT_EQ(recorded + dropped, static_cast<uint64_t>(issued));
  EXPECT_EQ(final_total, sum_by_ring) << "final totals disagree with the summed counts";
  EXPECT_GE(finals, 1u);
}

// Both floods at once: 256-slot rings and LTTng buffers of 2 x 4 KiB. The
// consumer's drop reports travel in their own channel (bdtrace-counts), so
// the data flood cannot discard them: every call is a record in the trace,
// an event LTTng discarded, or a drop a report counted, exactly.
TEST(RingFull, RingAndTracerFloodsTogetherStillAddUp) {
  TempDir dir("e2e-ring-both-full");
  const std::string trace = dir.path() + "/trace";
  RunResult r = run({BD_RUN, "--trace", trace, "--native", "--ring-slots", "256", "--subbuf-size", "4096",
                     "--subbuf-count", "2", "--", GUEST_THREADS, "--threads", "4", "--marks", "100000"});
  ASSERT_EQ(r.status, 0) << r.err;
  const long issued = (3 + kThreads) + kThreads * (100000 + 6);
  const long taken = value_after(r.out, "taken");
  ASSERT_GE(taken, 0) << r.out;
  uint64_t recorded = 0, dropped = 0;
  std::map<uint64_t, uint64_t> final_total, sum_by_ring;
  for (const auto &ev : read_trace_with_babeltrace2(trace)) {
    if (ev.name == "mark" || ev.name == "region_begin" || ev.name == "region_end" || ev.name == "event_name")
      ++recorded;
    if (ev.name == "ring_dropped") {
      dropped += ev.u("count");
      sum_by_ring[ev.u("ring")] += ev.u("count");
      if (ev.u("final") == 1) final_total[ev.u("ring")] = ev.u("total");
    }
  }
  RunResult report = run({BD_ANALYZE, trace, "-f", "csv"});
  ASSERT_EQ(report.status, 0) << report.err;
  uint64_t discarded = 0, discarded_counts = 0;
  for (const std::string &l : bdtest::lines(report.out)) {
    if (l.rfind("summary,discarded,", 0) == 0) discarded = std::stoull(l.substr(18));
    if (l.rfind("summary,discarded_stream,", 0) == 0 && l.find("bdtrace-counts_") != std::string::npos)
      discarded_counts += std::stoull(l.substr(l.rfind('=') + 1));
  }
  EXPECT_GT(dropped, 0u) << "the rings did not overflow";
  EXPECT_GT(discarded, 0u) << "LTTng's buffers did not overflow";
  EXPECT_EQ(discarded_counts, 0u) << "drop reports were discarded";
  EXPECT_EQ(recorded + discarded, static_cast<uint64_t>(taken));
  EXPECT_EQ(recorded + discarded + dropped, static_cast<uint64_t>(issued));
  EXPECT_EQ(final_total, sum_by_ring);
}

// More live threads than rings: a thread that found no free ring loses its
// marks, and the loss is counted in the region (<bd/ring.h>, UNOWNED DROPS)
// and reported by the consumer as ring BD_RING_NO_RING (0xffffffff):
// calls = recorded + reported, exactly.
TEST(RingFull, ThreadsWithoutARingAreCountedAsDropped) {
  TempDir dir("e2e-ring-unowned");
  const std::string trace = dir.path() + "/trace";
  RunResult r =
      run({BD_RUN, "--trace", trace, "--native", "--rings", "4", "--", GUEST_SLOT_EXHAUST, "2", "4", "20"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const long calls = value_after(r.out, "calls"), ok = value_after(r.out, "ok");
  const long lost = value_after(r.out, "lost");
  ASSERT_EQ(calls, 8 * 21) << r.out;
  EXPECT_EQ(value_after(r.out, "other"), 0) << r.out;
  EXPECT_GE(lost, 4 * 21) << "4 of 8 threads own no ring: " << r.out;
  uint64_t recorded = 0, unowned = 0, unowned_final = 0, other_drops = 0;
  for (const auto &ev : read_trace_with_babeltrace2(trace)) {
    if (ev.name == "mark" && (ev.u("event") == 700 || ev.u("event") == 701)) ++recorded;
    if (ev.name != "ring_dropped") continue;
    if (ev.u("ring") == 0xffffffffu) {
      unowned += ev.u("count");
      if (ev.u("final") == 1) unowned_final = ev.u("total");
    } else {
      other_drops += ev.u("count");
    }
  }
  EXPECT_EQ(recorded, static_cast<uint64_t>(ok));
  EXPECT_EQ(unowned, static_cast<uint64_t>(lost));
  EXPECT_EQ(unowned_final, static_cast<uint64_t>(lost));
  EXPECT_EQ(other_drops, 0u);
}

// A guest scribbling over its whole ring region: the consumer neither
// crashes nor hangs, counts rejections, and keeps the honest records (a
// scribbled head may make it read old slots again: the guest can replay its
// own records, so honest ones may appear more than once, never less).
TEST(HostileRing, ConsumerSurvivesAndCountsRejections) {
  TempDir dir("e2e-ring-hostile");
  const std::string trace = dir.path() + "/trace";
  RunResult r = run({BD_RUN, "--trace", trace, "--native", "--", GUEST_RING_HOSTILE, "--writes", "300000"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(value_after(r.out, "honest"), 100) << r.out;
  EXPECT_EQ(value_after(r.out, "drained"), 1) << r.out;
  EXPECT_EQ(value_after(r.out, "scribbled"), 300000) << r.out;
  EXPECT_EQ(r.err.find("bd-ring-consumer exited"), std::string::npos) << r.err;
  uint64_t rejected = 0;
  std::set<uint64_t> honest;  // a1 of the honest marks
  for (const auto &ev : bdtest::events_of_guest(read_trace_with_babeltrace2(trace), "guest-ring-hostile")) {
    if (ev.name == "rejected_total") rejected += ev.u("count");
    if (ev.name == "mark" && ev.u("event") == 1 && ev.u("a0") == 0x6f6e657374u && ev.u("a1") < 100)
      honest.insert(ev.u("a1"));
  }
  EXPECT_EQ(honest.size(), 100u);
  EXPECT_GT(rejected, 0u) << "300 000 random writes and not one record rejected";
}

// The same marks through both channels on one guest: the ring's guest time
// (TSC mapped to CLOCK_MONOTONIC by the consumer) agrees with the trap's
// host-clock stamp taken a few hundred ns later inside the plugin.
TEST(TrapVsRing, MarkTimesAgreeWithin2Microseconds) {
  TempDir dir("e2e-ring-both");
  const std::string trace = dir.path() + "/trace";
  RunResult r = run({BD_RUN, "--trace", trace, "--channel", "both", "--", GUEST_BOTH, "--pairs", "2000"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(value_after(r.out, "ring_taken"), 2000) << r.out;
  EXPECT_EQ(value_after(r.out, "trap_ok"), 2000) << r.out;
  std::map<uint64_t, int64_t> ring_ts, trap_ts;
  for (const auto &ev : read_trace_with_babeltrace2(trace, /*cycles=*/true)) {
    if (ev.name != "mark") continue;
    if (ev.u("event") == 200) ring_ts[ev.u("a0")] = static_cast<int64_t>(ev.u("guest_ts"));
    if (ev.u("event") == 201) trap_ts[ev.u("a0")] = static_cast<int64_t>(ev.u("timestamp_cycles"));
  }
  ASSERT_EQ(ring_ts.size(), 2000u);
  ASSERT_EQ(trap_ts.size(), 2000u);
  std::vector<int64_t> diffs;  // trap - ring: positive, the trap comes after
  for (auto [i, t] : ring_ts) diffs.push_back(trap_ts.at(i) - t);
  std::sort(diffs.begin(), diffs.end());
  const int64_t p10 = diffs[diffs.size() / 10], median = diffs[diffs.size() / 2],
                p90 = diffs[diffs.size() * 9 / 10];
  std::printf("trap - ring (ns): min %lld p10 %lld median %lld p90 %lld max %lld\n",
              static_cast<long long>(diffs.front()), static_cast<long long>(p10),
              static_cast<long long>(median), static_cast<long long>(p90),
              static_cast<long long>(diffs.back()));
  // The trap follows the ring mark by the emulated code between them plus
  // the plugin's dispatch: never 2 µs apart unless the vCPU thread was
  // preempted in between, which the upper decile allows for.
  EXPECT_GT(p10, -2000);
  EXPECT_LT(p90, 2000);
  EXPECT_LT(std::llabs(median), 2000);
}

// The filter config on the ring: what the enable bitmap can decide is
// skipped in the guest (the call returns 0, nothing is written); what needs
// the record (a process selector) is written and dropped by the consumer.
// Both are counted in bdtrace:filter_stats, and nothing filtered is traced.
TEST(RingFilter, GuestSkipsWhatTheBitmapDropsAndTheConsumerTheRest) {
  constexpr int kT = 2, kM = 1000;
  const long issued = (3 + kT) + kT * (kM + 6);
  struct Case {
    std::string name, config;
    long taken;             // calls that returned 1
    uint64_t marks_traced;  // mark / region events in the trace
    uint64_t filtered;      // sum of filter_stats.filtered
  };
  const Case cases[] = {
      // Event 1 is dropped for certain: the guest never writes it.
      {"bitmap", "rule { events { id: 1 } action: DROP }\n", issued - kT * kM, static_cast<uint64_t>(kT * 6),
       0},
      // Only pid 1 may record: the bitmap cannot tell, the consumer can.
      {"consumer", "rule { process { pid: 1 } action: RECORD }\ndefault_action: DROP\n", issued, 0,
       static_cast<uint64_t>(kT * (kM + 6))},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir("e2e-ring-filter-" + c.name);
    const std::string config = dir.path() + "/filter.txtpb", trace = dir.path() + "/trace";
    bdtest::replace_file(config, c.config);
    RunResult r = run({BD_RUN, "--trace", trace, "--native", "--filter", config, "--", GUEST_THREADS,
                       "--threads", std::to_string(kT), "--marks", std::to_string(kM)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(value_after(r.out, "taken"), c.taken) << r.out;
    uint64_t marks = 0, names = 0, filtered = 0, recorded = 0, filter_events = 0;
    for (const auto &ev : bdtest::events_of_guest(read_trace_with_babeltrace2(trace), "guest-threads")) {
      if (ev.name == "mark" || ev.name == "region_begin" || ev.name == "region_end") ++marks;
      if (ev.name == "mark") {
        EXPECT_NE(ev.u("event"), 1u) << "a filtered mark was traced";
      }
      if (ev.name == "event_name") ++names;
      if (ev.name == "filter") {
        ++filter_events;
        EXPECT_EQ(ev.fields.at("status"), "ok");
      }
      if (ev.name == "filter_stats") {
        filtered += ev.u("filtered");
        recorded += ev.u("recorded");
      }
    }
    EXPECT_EQ(marks, c.marks_traced);
    EXPECT_EQ(names, static_cast<uint64_t>(3 + kT)) << "event names are never filtered by default";
    EXPECT_EQ(filter_events, 1u);
    EXPECT_EQ(filtered, c.filtered);
    EXPECT_EQ(recorded, marks + names);
  }
}

// Bulk marks through the ring (<bd/ring.h>, BULK MARKS), natively and under
// a QEMU without plugin support: the bytes exactly as sent; in a ring too
// small for the 64 KiB one, that one is dropped and counted, the others
// still arrive.
TEST(RingBulkMarks, CarryTheirBytesExactlyAndADropIsCounted) {
  const std::string qemu = fetched_qemu("BD_TEST_QEMU_10");
  ASSERT_FALSE(qemu.empty()) << "BD_TEST_QEMU_10 is not set: run the tests through ./bdtrace test";
  struct Case {
    std::vector<std::string> how;
    std::vector<size_t> arrive;
    uint64_t dropped;
  };
  const std::vector<Case> cases = {
      {{"--native"}, {0, 1, 3969, 65536}, 0},
      {{"--qemu", qemu}, {0, 1, 3969, 65536}, 0},
      {{"--native", "--ring-slots", "512"}, {0, 1, 3969}, 1},  // 65536 B need 1025 slots
  };
  for (const Case &c : cases) {
    TempDir dir("e2e-ring-blobs");
    const std::string trace = dir.path() + "/trace";
    std::vector<std::string> argv = {BD_RUN, "--trace", trace};
    argv.insert(argv.end(), c.how.begin(), c.how.end());
    argv.insert(argv.end(), {"--", GUEST_CALLS, "blobs"});
    RunResult r = run(argv);
    ASSERT_EQ(r.status, 0) << r.err;
    for (size_t len : {0, 1, 3969, 65536}) {
      const bool kept = std::find(c.arrive.begin(), c.arrive.end(), len) != c.arrive.end();
      EXPECT_NE(r.out.find("blob " + std::to_string(len) + (kept ? " 1\n" : " 0\n")), std::string::npos)
          << len << "\n"
          << r.out;
    }
    std::vector<size_t> sizes;
    uint64_t dropped = 0;
    for (const auto &ev : read_trace_with_babeltrace2(trace)) {
      if (ev.name == "ring_dropped" && ev.u("final") == 1) dropped += ev.u("total");
      if (ev.name != "blob") continue;
      EXPECT_EQ(ev.u("event"), 77u);
      EXPECT_NE(ev.u("guest_ts"), 0u);
      const size_t len = bdtest::expect_calls_blob_bytes(ev);
      sizes.push_back(len);
    }
    EXPECT_EQ(sizes, c.arrive) << c.how.back();
    EXPECT_EQ(dropped, c.dropped) << c.how.back();
  }
}

// Ground truth for the ring's times: regions around fixed sleeps under a
// QEMU without plugin support last the sleep the guest measured, within 1 %.
TEST(RingRegionDurations, RegionsAroundFixedSleepsLastTheSleep) {
  const std::string qemu = fetched_qemu("BD_TEST_QEMU_10");
  ASSERT_FALSE(qemu.empty()) << "BD_TEST_QEMU_10 is not set: run the tests through ./bdtrace test";
  TempDir dir("e2e-ring-sleeps");
  const std::string trace = dir.path() + "/trace";
  RunResult r =
      run({BD_RUN, "--trace", trace, "--qemu", qemu, "--", GUEST_SLEEPS, "--repeat", "3", "50", "100"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto slept = bdtest::slept_ranges(bdtest::lines(r.out));
  ASSERT_EQ(slept.size(), 2u) << r.out;
  const std::string pid =
      guest_pid_of(bdtest::events_of_guest(read_trace_with_babeltrace2(trace), "guest-sleeps"));
  bdtest::expect_regions_last_the_sleeps(BD_ANALYZE, trace, pid, slept, 3);
}

// A shell script under each QEMU: the bd-marks it execs run natively and
// reach the trace through the ring: BD_RING_EXEC beside the trap (7.2),
// the inherited BD_RING on the ring channel (10.0, no plugin support).
TEST(ScriptGuest, ExecdBdMarksRecordUnderEveryQemu) {
  TempDir dir("e2e-ring-script");
  const std::string script = dir.path() + "/marks.sh";
  std::ofstream(script) << "#!/bin/sh\nbd-mark 41 one\nbd-mark --begin 9\nbd-mark --end 9\n";
  ::chmod(script.c_str(), 0755);
  const std::string bin = std::filesystem::path(BD_RUN).parent_path().string();
  const std::string qemu10 = fetched_qemu("BD_TEST_QEMU_10");
  ASSERT_FALSE(qemu10.empty()) << "BD_TEST_QEMU_10 is not set: run the tests through ./bdtrace test";
  // What auto picks: the trap under Debian 12's qemu-x86_64 (7.2), the ring under 10.0.
  const std::vector<std::pair<std::string, std::vector<std::string>>> runs = {
      {"7.2 (trap)", {}}, {"10.0 (ring)", {"--qemu", qemu10}}};
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string &what = runs[i].first;
    const std::string trace = dir.path() + "/trace-" + std::to_string(i);
    std::vector<std::string> argv = {BD_RUN, "--trace", trace};
    argv.insert(argv.end(), runs[i].second.begin(), runs[i].second.end());
    argv.insert(argv.end(), {"--", script});
    RunResult r = run(argv, {"PATH=" + bin + ":" + std::getenv("PATH")});
    ASSERT_EQ(r.status, 0) << what << "\n" << r.err;
    EXPECT_EQ(r.err.find("no mark of the guest"), std::string::npos) << what << "\n" << r.err;
    uint64_t marks = 0, begins = 0, ends = 0;
    for (const TraceEvent &ev : read_trace_with_babeltrace2(trace)) {
      if (ev.name == "mark" && ev.u("event") == 41 && ev.fields.at("text") == "one") ++marks;
      if (ev.name == "region_begin" && ev.u("region") == 9) ++begins;
      if (ev.name == "region_end" && ev.u("region") == 9) ++ends;
    }
    EXPECT_EQ(marks, 1u) << what;
    EXPECT_EQ(begins, 1u) << what;
    EXPECT_EQ(ends, 1u) << what;
  }
}

}  // namespace
