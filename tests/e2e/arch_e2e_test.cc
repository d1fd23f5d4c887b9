// SPDX-License-Identifier: MIT
// Guests of other architectures in user mode (every cross-built one:
// qemu-aarch64, qemu-riscv64 and the big-endian qemu-s390x), over the trap,
// the ring and the ring under QEMU 10: the cross-built guest-threads and
// guest-hostile under bd-run, checked event by event with babeltrace2 and
// through bd-analyze, as for x86_64.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <sstream>
#include <tuple>
#include <string>
#include <vector>

#include "report.pb.h"
#include "support.h"
#include "threads_check.h"

namespace {

using bdtest::read_trace_with_babeltrace2;
using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;
using bdtest::value_after;

std::vector<std::string> arches() {
  std::vector<std::string> out;
  std::istringstream in(GUEST_ARCHES);
  for (std::string a; std::getline(in, a, ',');)
    if (!a.empty()) out.push_back(a);
  return out;
}

// A cross-built guest test program (build/tests/bin/<arch>/).
std::string program(const std::string &arch, const std::string &name) {
  return std::string(BD_TESTS_BIN_DIR) + "/" + arch + "/" + name;
}

class OtherArch : public ::testing::TestWithParam<std::string> {};

// How a run reaches the trace: the trap (Debian 12's qemu-<arch> 7.2 with
// the plugin), the ring under the same QEMU, and the ring under Debian's
// QEMU 10.0, which cannot load the plugin (bd-run's auto choice).
struct Channel {
  const char *name;
  bool ring;
};
constexpr Channel kChannels[] = {{"trap", false}, {"ring", true}, {"qemu10", true}};

std::vector<std::string> channel_args(const std::string &arch, const std::string &channel) {
  if (channel == "ring") return {"--channel", "ring"};
  if (channel == "qemu10") {
    const char *x86 = std::getenv("BD_TEST_QEMU_10");
    EXPECT_NE(x86, nullptr) << "BD_TEST_QEMU_10 is not set: run the tests through ./bdtrace test";
    const std::string dir = x86 ? std::string(x86).substr(0, std::string(x86).rfind('/')) : ".";
    return {"--qemu", dir + "/qemu-" + arch};
  }
  return {};
}

class OtherArchChannel : public ::testing::TestWithParam<std::tuple<std::string, Channel>> {};

TEST_P(OtherArchChannel, EveryThreadsMarksArriveExactly) {
  const std::string arch = std::get<0>(GetParam());
  const Channel channel = std::get<1>(GetParam());
  constexpr int kThreads = 4, kMarks = 10000;
  TempDir dir("e2e-arch-" + arch);
  const std::string trace = dir.path() + "/trace";
  std::vector<std::string> argv = {BD_RUN, "--trace", trace};
  for (const std::string &a : channel_args(arch, channel.name)) argv.push_back(a);
  for (const std::string &a : {std::string("--"), program(arch, "guest-threads"), std::string("--threads"),
                               std::to_string(kThreads), std::string("--marks"), std::to_string(kMarks)})
    argv.push_back(a);
  RunResult r = run(argv);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(value_after(r.out, "present"), 1) << r.out;

  const std::vector<TraceEvent> all = read_trace_with_babeltrace2(trace, /*cycles=*/true);
  const std::vector<TraceEvent> events = channel.ring ? all : bdtest::events_of_guest(all, "guest-threads");
  std::string session_arch, session_channel;
  for (const TraceEvent &e : events) {
    if (e.name != "session") continue;
    session_arch = e.fields.at("arch");
    session_channel = e.fields.at("channel");
  }
  EXPECT_EQ(session_arch, arch) << "bdtrace:session names the guest's architecture";
  EXPECT_EQ(session_channel, channel.ring ? "ring" : "trap");
  bdtest::expect_guest_threads_events(events, r.out, kThreads, kMarks, channel.ring);
  if (channel.ring) {
    // The guest's clock mapped to host CLOCK_MONOTONIC: each mark's
    // guest_ts just before its emission (the consumer drains within ms).
    uint64_t checked = 0;
    for (const TraceEvent &e : events) {
      if (e.name != "mark") continue;
      const int64_t lag = static_cast<int64_t>(e.u("timestamp_cycles") - e.u("guest_ts"));
      ASSERT_GT(lag, -1'000'000) << "guest_ts after its emission";
      ASSERT_LT(lag, 100'000'000) << "guest_ts far before its emission";
      ++checked;
    }
    EXPECT_EQ(checked, kThreads * (kMarks + 1u + 3u)) << "marks and text marks";
  }

  RunResult a = run({BD_ANALYZE, trace, "--format", "json"});
  ASSERT_EQ(a.status, 0) << a.err;
  bdtrace::report::Report report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a.out, &report).ok());
  EXPECT_EQ(report.totals().marks(), kThreads * (kMarks + 1u));
  EXPECT_EQ(report.totals().text_marks(), kThreads * 3u);
  EXPECT_EQ(report.totals().region_begins(), static_cast<uint64_t>(kThreads));
  EXPECT_EQ(report.totals().region_ends(), static_cast<uint64_t>(kThreads));
  EXPECT_EQ(report.rejected().total(), 0u);
  ASSERT_GE(report.sessions_size(), 1);
  EXPECT_EQ(report.sessions(0).arch(), arch);
}

INSTANTIATE_TEST_SUITE_P(Arches, OtherArchChannel,
                         ::testing::Combine(::testing::ValuesIn(arches()), ::testing::ValuesIn(kChannels)),
                         [](const ::testing::TestParamInfo<std::tuple<std::string, Channel>> &i) {
                           return std::get<0>(i.param) + "_" + std::get<1>(i.param).name;
                         });

TEST_P(OtherArch, HostileGuestIsRejectedAndCounted) {
  const std::string arch = GetParam();
  TempDir dir("e2e-arch-hostile-" + arch);
  const std::string trace = dir.path() + "/trace";
  RunResult r = run({BD_RUN, "--trace", trace, "--", program(arch, "guest-hostile")});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const long expected = value_after(r.out, "expect_rejected");
  ASSERT_GT(expected, 0) << r.out;
  uint64_t total = 0, marks = 0;
  for (const TraceEvent &ev : bdtest::events_of_guest(read_trace_with_babeltrace2(trace), "guest-hostile")) {
    if (ev.name == "rejected_total") total += ev.u("count");
    if (ev.name == "mark" || ev.name == "region_begin" || ev.name == "region_end") ++marks;
  }
  EXPECT_EQ(total, static_cast<uint64_t>(expected));
  EXPECT_EQ(marks, 0u) << "a malformed record became an event";
}

INSTANTIATE_TEST_SUITE_P(Arches, OtherArch, ::testing::ValuesIn(arches()),
                         [](const ::testing::TestParamInfo<std::string> &i) { return i.param; });

}  // namespace
