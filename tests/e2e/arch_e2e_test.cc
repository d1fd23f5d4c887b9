// Guests of other architectures in user mode (qemu-aarch64, qemu-riscv64
// with the plugin, the trap channel): the cross-built guest-threads and
// guest-hostile under bd-run, checked event by event with babeltrace2 and
// through bd-analyze, as for x86_64.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <sstream>
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

std::string program(const std::string &arch, const std::string &name) {
  return std::string(BD_BIN_DIR) + "/" + arch + "/" + name;
}

class OtherArch : public ::testing::TestWithParam<std::string> {};

TEST_P(OtherArch, EveryThreadsMarksArriveExactly) {
  const std::string arch = GetParam();
  constexpr int kThreads = 4, kMarks = 10000;
  TempDir dir("e2e-arch-" + arch);
  const std::string trace = dir.path() + "/trace";
  RunResult r = run({BD_RUN, "--trace", trace, "--", program(arch, "guest-threads"), "--threads",
                     std::to_string(kThreads), "--marks", std::to_string(kMarks)});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(value_after(r.out, "present"), 1) << r.out;

  const std::vector<TraceEvent> events = bdtest::events_of_guest(read_trace_with_babeltrace2(trace), "guest-threads");
  std::string session_arch;
  for (const TraceEvent &e : events)
    if (e.name == "session") session_arch = e.fields.at("arch");
  EXPECT_EQ(session_arch, arch) << "bdtrace:session names the guest's architecture";
  bdtest::expect_guest_threads_events(events, r.out, kThreads, kMarks, /*ring_times=*/false);

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
