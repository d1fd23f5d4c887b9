// SPDX-License-Identifier: MIT
// Several runs in one report: which run each trace belongs to (runs.h), the
// VM name each run gets, the model keyed by (run, id), and bd-analyze on
// real traces laid out as bd-run and lttng-relayd write them (copies of the
// golden trace: each is a run of trace-gen, whose session names its VM
// "golden").
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../lttng/temp_dir.h"
#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/model.h"
#include "bdtrace/analyzer/report_format.h"
#include "bdtrace/analyzer/runs.h"

namespace fs = std::filesystem;
using namespace bdtrace::analyzer;
using bdtrace::testing::TempDir;
namespace report = bdtrace::report;

namespace {

const std::string kGoldenTrace = std::string(BD_TEST_DATA_DIR) + "/small-trace";
const std::string kStreams = "ust/uid/0/64-bit";
// The golden trace's marks (kind MARK): 8 by thread 4242, 4 by 4243; 4242
// also makes 1 text mark.
constexpr uint64_t kGoldenMarks = 12;

// Copies the golden trace's CTF directory to run_dir/ust/uid/0/64-bit.
void CopyGoldenRun(const fs::path &run_dir) {
  fs::create_directories(run_dir / kStreams);
  fs::copy(fs::path(kGoldenTrace) / kStreams, run_dir / kStreams, fs::copy_options::recursive);
}

std::string Slurp(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RunBdAnalyze(const std::string &args, int *exit_code) {
  TempDir tmp;
  const std::string out = tmp / "out";
  const std::string cmd = std::string("'") + BD_ANALYZE_BIN + "' " + args + " >'" + out + "' 2>/dev/null";
  const int status = std::system(cmd.c_str());
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return Slurp(out);
}

MarkEvent Mark(uint32_t trace, int64_t ts, uint32_t pid, uint32_t tid, uint32_t event) {
  MarkEvent m{ts, 0, pid, tid, kKindMark, event, {}, 1, ""};
  m.trace = trace;
  return m;
}

SessionEvent UserSession(uint32_t trace, std::string_view program, std::string_view vm) {
  return SessionEvent{0, "user", "x86_64", program, 1, 100 + trace, vm, trace};
}

size_t Count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

}  // namespace

// ---- which run a trace belongs to ---------------------------------------------

TEST(Runs, ARunIsTheDirectoryAboveUst) {
  EXPECT_EQ(RunDirOf("/t/run1/ust/uid/1000/64-bit"), "/t/run1");
  EXPECT_EQ(RunDirOf("/t/run1/ust/pid/qemu-x86_64-77-20261127-063000"), "/t/run1");
  EXPECT_EQ(RunDirOf("/relayd/host-a/web-20261127-063000/ust/uid/0/64-bit"),
            "/relayd/host-a/web-20261127-063000");
  EXPECT_EQ(RunDirOf("/t/ust/run/ust/uid/0/64-bit"), "/t/ust/run") << "the last ust/uid wins";
  EXPECT_EQ(RunDirOf("/t/copied-trace"), "/t/copied-trace") << "not under ust/: a run of its own";
  EXPECT_EQ(RunDirOf("ust/uid/0/64-bit"), ".");
}

TEST(Runs, PerPidTracesOfOneRunAreOneRun) {
  const Runs runs = GroupRuns({"/t/a/ust/pid/qemu-1-x", "/t/a/ust/pid/qemu-2-x", "/t/b/ust/uid/0/64-bit"});
  EXPECT_EQ(runs.dirs, (std::vector<std::string>{"/t/a", "/t/b"}));
  EXPECT_EQ(runs.of_trace, (std::vector<uint32_t>{0, 0, 1}));
  EXPECT_TRUE(runs.several());
  EXPECT_FALSE(GroupRuns({"/t/a/ust/pid/qemu-1-x", "/t/a/ust/pid/qemu-2-x"}).several());
}

TEST(Runs, OneRunKeepsTheSessionNamesOfItsTraces) {
  const Runs runs = GroupRuns({"/t/a/ust/pid/p1", "/t/a/ust/pid/p2"});
  EXPECT_EQ(ResolveVmNames(runs, {"prog", "other"}), (std::vector<std::string>{"prog", "other"}));
  EXPECT_EQ(ResolveVmNames(runs, {"prog"}), (std::vector<std::string>{"prog", ""}));
}

TEST(Runs, SeveralRunsKeepUniqueSessionNamesElseTheirDirectoryNames) {
  const Runs distinct = GroupRuns({"/t/a/ust/uid/0/64-bit", "/t/b/ust/uid/0/64-bit"});
  EXPECT_EQ(ResolveVmNames(distinct, {"web", "db"}), (std::vector<std::string>{"web", "db"}));
  // Two runs of the same program: named by their directories.
  EXPECT_EQ(ResolveVmNames(distinct, {"guest", "guest"}), (std::vector<std::string>{"a", "b"}));
  // A run without a session name is named by its directory too.
  EXPECT_EQ(ResolveVmNames(distinct, {"web", ""}), (std::vector<std::string>{"web", "b"}));
  // Same basenames (one session name per host on a relayd): the shortest
  // tail that tells them apart.
  const Runs hosts = GroupRuns(
      {"/r/host-a/s-1/ust/uid/0/64-bit", "/r/host-b/s-1/ust/uid/0/64-bit", "/r/host-b/s-2/ust/uid/0/64-bit"});
  EXPECT_EQ(ResolveVmNames(hosts, {"g", "g", "g"}),
            (std::vector<std::string>{"host-a/s-1", "host-b/s-1", "s-2"}));
  // All traces of a run share its name (the first session name it gives).
  const Runs per_pid = GroupRuns({"/t/a/ust/pid/p1", "/t/a/ust/pid/p2", "/t/b/ust/pid/p3"});
  EXPECT_EQ(ResolveVmNames(per_pid, {"", "x", "y"}), (std::vector<std::string>{"x", "x", "y"}));
}

// ---- the model, keyed by (run, id) -----------------------------------------------

TEST(RunsModel, EqualIdsInTwoRunsOfOneProgramAreTwoVms) {
  ModelOptions options;
  options.runs = GroupRuns({"/t/run1/ust/uid/0/64-bit", "/t/run2/ust/uid/0/64-bit"});
  Model m(options);
  m.OnSession(UserSession(0, "guest", ""));
  m.OnSession(UserSession(1, "guest", ""));
  // The same pid and tid in both runs: 3 marks in run1, 5 in run2.
  for (int i = 0; i < 3; ++i) m.OnMark(Mark(0, 10 + i, 7, 7, 1));
  for (int i = 0; i < 5; ++i) m.OnMark(Mark(1, 20 + i, 7, 7, 1));
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.vms_size(), 2);
  EXPECT_EQ(r.vms(0).name(), "run1");
  EXPECT_EQ(r.vms(0).run(), "/t/run1");
  EXPECT_EQ(r.vms(1).name(), "run2");
  EXPECT_EQ(r.vms(1).run(), "/t/run2");
  ASSERT_EQ(r.threads_size(), 2);
  EXPECT_EQ(r.threads(0).vm(), "run1");
  EXPECT_EQ(r.threads(0).marks(), 3u);
  EXPECT_EQ(r.threads(1).vm(), "run2");
  EXPECT_EQ(r.threads(1).marks(), 5u);
  ASSERT_EQ(r.process_activity_size(), 2);
  EXPECT_EQ(r.process_activity(0).vm(), "run1");
  EXPECT_EQ(r.process_activity(1).vm(), "run2");
  ASSERT_EQ(r.events_size(), 1);
  EXPECT_EQ(r.events(0).count(), 8u);
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("run1/7:3 run2/7:5"), std::string::npos) << text;
  // The session names stay what the runs gave.
  ASSERT_EQ(r.sessions_size(), 2);
  EXPECT_EQ(r.sessions(1).program(), "guest");
}

TEST(RunsModel, EqualVcpusOfTwoSystemRunsOfOneVmNameAreTwoVcpus) {
  ModelOptions options;
  options.runs = GroupRuns({"/t/monday/ust/uid/0/64-bit", "/t/tuesday/ust/uid/0/64-bit"});
  Model m(options);
  for (uint32_t trace : {0u, 1u}) {
    m.OnSession(SessionEvent{0, "system", "x86_64", "vmlinuz", 1, 100 + trace, "web", trace});
  }
  // vCPU 0 of each run: task 5 runs 0..100 on monday, task 5 runs 0..300 on tuesday.
  const auto sw = [&](uint32_t trace, int64_t ts, uint32_t prev, uint32_t next) {
    SchedSwitchEvent e{
        ts, 0, prev, prev, prev == 0 ? "swapper/0" : "task", 0, next, next, next == 0 ? "swapper/0" : "task"};
    e.trace = trace;
    m.OnSchedSwitch(e);
  };
  sw(0, 0, 0, 5);
  sw(0, 100, 5, 0);
  sw(1, 0, 0, 5);
  sw(1, 300, 5, 0);
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.vcpus_size(), 2);
  EXPECT_EQ(r.vcpus(0).vm(), "monday");
  EXPECT_EQ(r.vcpus(0).busy_ns(), 100u);
  EXPECT_EQ(r.vcpus(1).vm(), "tuesday");
  EXPECT_EQ(r.vcpus(1).busy_ns(), 300u);
  ASSERT_EQ(r.processes_size(), 2);
  EXPECT_EQ(r.processes(0).vm(), "tuesday") << "largest first";
  EXPECT_EQ(r.processes(0).total_ns(), 300u);
  EXPECT_EQ(r.processes(1).vm(), "monday");
  EXPECT_EQ(r.processes(1).total_ns(), 100u);
}

TEST(RunsModel, OneRunOfOneProgramHasNoVmColumn) {
  ModelOptions options;
  options.runs = GroupRuns({"/t/run1/ust/uid/0/64-bit"});
  Model m(options);
  m.OnSession(UserSession(0, "guest", ""));
  m.OnMark(Mark(0, 10, 7, 7, 1));
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.vms_size(), 1);
  EXPECT_EQ(r.vms(0).name(), "guest");
  EXPECT_EQ(r.vms(0).run(), "/t/run1");
  EXPECT_EQ(r.threads(0).vm(), "guest");
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("per thread (tid:count)"), std::string::npos) << text;
  EXPECT_EQ(text.find("per thread (vm/tid:count)"), std::string::npos) << text;
}

// ---- bd-analyze on real traces -------------------------------------------------

TEST(RunsCli, TwoRunsOfOneProgramAreTwoVmsWithExactCounts) {
  TempDir tmp;
  const fs::path a = tmp / "run-a", b = tmp / "run-b";
  CopyGoldenRun(a);
  CopyGoldenRun(b);

  int code = -1;
  const std::string json = RunBdAnalyze("--format json '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << json;
  auto r = ParseJson(json);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->vms_size(), 2);
  EXPECT_EQ(r->vms(0).name(), "run-a");
  EXPECT_EQ(r->vms(0).run(), a.string());
  EXPECT_EQ(r->vms(1).name(), "run-b");
  EXPECT_EQ(r->vms(1).run(), b.string());
  EXPECT_EQ(r->totals().marks(), 2 * kGoldenMarks);
  EXPECT_EQ(r->totals().sessions(), 2u);
  std::map<std::pair<std::string, uint32_t>, uint64_t> marks;  // (vm, tid) -> marks + text marks
  for (const report::ThreadStats &t : r->threads()) marks[{t.vm(), t.tid()}] += t.marks() + t.text_marks();
  const std::map<std::pair<std::string, uint32_t>, uint64_t> expected = {
      {{"run-a", 4242}, 9}, {{"run-a", 4243}, 4}, {{"run-b", 4242}, 9}, {{"run-b", 4243}, 4}};
  EXPECT_EQ(marks, expected);

  const std::string text = RunBdAnalyze("'" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << text;
  EXPECT_NE(text.find("   vm      pid   tid  events"), std::string::npos) << text;
  EXPECT_NE(text.find("run-a/4242:5 run-a/4243:4 run-b/4242:5 run-b/4243:4"), std::string::npos) << text;

  const std::string csv = RunBdAnalyze("--format csv '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << csv;
  EXPECT_EQ(Count(csv, "thread,,,run-a,4242,4242,"), 1u) << csv;
  EXPECT_EQ(Count(csv, "thread,,,run-b,4242,4242,"), 1u) << csv;

  const std::string chrome = RunBdAnalyze("--format chrome '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << chrome;
  EXPECT_EQ(Count(chrome, "\"name\":\"process_name\""), 2u) << chrome;
  EXPECT_NE(chrome.find("{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"process_name\",\"args\":{\"name\":"
                        "\"run-a (user: trace-gen)\"}}"),
            std::string::npos)
      << chrome;
  EXPECT_NE(chrome.find("{\"ph\":\"M\",\"pid\":2,\"tid\":2,\"name\":\"process_name\",\"args\":{\"name\":"
                        "\"run-b (user: trace-gen)\"}}"),
            std::string::npos)
      << chrome;
}

TEST(RunsCli, TheSvgLabelsLanesByRun) {
  TempDir tmp;
  const fs::path a = tmp / "run-a", b = tmp / "run-b";
  CopyGoldenRun(a);
  CopyGoldenRun(b);
  int code = -1;
  const std::string svg = RunBdAnalyze("--format svg '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << svg;
  for (const char *lane : {">run-a tid 4242<", ">run-a tid 4243<", ">run-b tid 4242<", ">run-b tid 4243<"}) {
    EXPECT_EQ(Count(svg, lane), 1u) << lane << "\n" << svg.substr(0, 3000);
  }
  EXPECT_NE(svg.find("run-a: trace-gen (user mode); run-b: trace-gen (user mode)"), std::string::npos)
      << svg.substr(0, 3000);
}

TEST(RunsCli, ARelaydOutputDirectoryHoldsOneRunPerSession) {
  // lttng-relayd writes <output>/<hostname>/<session>-<date>/ust/...: two
  // hosts that ran a session of the same name.
  TempDir tmp;
  const fs::path host_a = tmp / "relayd/host-a/bdtrace-20261127-063000";
  const fs::path host_b = tmp / "relayd/host-b/bdtrace-20261127-063000";
  CopyGoldenRun(host_a);
  CopyGoldenRun(host_b);
  int code = -1;
  const std::string json = RunBdAnalyze("--format json '" + (tmp / "relayd") + "'", &code);
  ASSERT_EQ(code, 0) << json;
  auto r = ParseJson(json);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->vms_size(), 2);
  EXPECT_EQ(r->vms(0).name(), "host-a/bdtrace-20261127-063000");
  EXPECT_EQ(r->vms(1).name(), "host-b/bdtrace-20261127-063000");
  EXPECT_EQ(r->totals().marks(), 2 * kGoldenMarks);
  ASSERT_EQ(r->threads_size(), 4);
  EXPECT_EQ(r->threads(0).vm(), "host-a/bdtrace-20261127-063000");
  EXPECT_EQ(r->threads(3).vm(), "host-b/bdtrace-20261127-063000");
}

TEST(RunsCli, OneRunGivenTwiceOrByItsTraceDirectoryIsStillOneVm) {
  TempDir tmp;
  const fs::path a = tmp / "run-a";
  CopyGoldenRun(a);
  int code = -1;
  const std::string json =
      RunBdAnalyze("--format json '" + a.string() + "' '" + (a / kStreams).string() + "'", &code);
  ASSERT_EQ(code, 0) << json;
  auto r = ParseJson(json);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->vms_size(), 1);
  EXPECT_EQ(r->vms(0).name(), "golden");
  EXPECT_EQ(r->totals().marks(), kGoldenMarks);
}

TEST(RunsCli, EachTraceIsNumberedByItsDirectory) {
  // Two runs whose first events are in the other order than their
  // directories: trace numbers still follow trace_dirs.
  int code = -1;
  const std::string system_trace = std::string(BD_TEST_DATA_DIR) + "/system-trace";
  const std::string json = RunBdAnalyze("--format json '" + system_trace + "' '" + kGoldenTrace + "'", &code);
  ASSERT_EQ(code, 0) << json;
  auto r = ParseJson(json);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->trace_dirs_size(), 2);
  ASSERT_EQ(r->vms_size(), 2);
  for (const report::VmInfo &vm : r->vms()) {
    ASSERT_LT(vm.trace(), 2u);
    EXPECT_EQ(RunDirOf(r->trace_dirs(static_cast<int>(vm.trace()))), vm.run());
    EXPECT_EQ(vm.name(), vm.run() == kGoldenTrace ? "golden" : "golden-vm");
  }
}

TEST(RunsCli, TheTimelineNamesEachRunsVm) {
  // Two copies of the system-mode golden trace: both sessions name their VM
  // "golden-vm", so the runs are named by their directories.
  TempDir tmp;
  const fs::path a = tmp / "sys-a", b = tmp / "sys-b";
  for (const fs::path &run : {a, b}) {
    fs::create_directories(run / kStreams);
    fs::copy(fs::path(BD_TEST_DATA_DIR) / "system-trace" / kStreams, run / kStreams,
             fs::copy_options::recursive);
  }
  int code = -1;
  const std::string one = RunBdAnalyze("--report timeline --format csv '" + a.string() + "'", &code);
  ASSERT_EQ(code, 0) << one;
  const size_t intervals = Count(one, "\n") - 1;  // less the header
  ASSERT_GT(intervals, 0u) << one;
  EXPECT_EQ(Count(one, "golden-vm,"), intervals) << one;
  const std::string both =
      RunBdAnalyze("--report timeline --format csv '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << both;
  EXPECT_EQ(Count(both, "\nsys-a,"), intervals) << both;
  EXPECT_EQ(Count(both, "\nsys-b,"), intervals) << both;
}

TEST(RunsCli, VmSelectsARunByTheNameTheReportGivesIt) {
  TempDir tmp;
  const fs::path a = tmp / "run-a", b = tmp / "run-b";
  CopyGoldenRun(a);
  CopyGoldenRun(b);
  int code = -1;
  const std::string json =
      RunBdAnalyze("--vm run-b --format json '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << json;
  auto r = ParseJson(json);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->totals().marks(), kGoldenMarks);
  ASSERT_EQ(r->threads_size(), 2);
  for (const report::ThreadStats &t : r->threads()) EXPECT_EQ(t.vm(), "run-b");
  for (const std::string &w : r->warnings()) EXPECT_EQ(w.find("names no VM"), std::string::npos) << w;
  // The sessions' own name still selects (both runs give it).
  const std::string by_session =
      RunBdAnalyze("--vm golden --format json '" + a.string() + "' '" + b.string() + "'", &code);
  ASSERT_EQ(code, 0) << by_session;
  auto s = ParseJson(by_session);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->totals().marks(), 2 * kGoldenMarks);
  RunBdAnalyze("--vm run-c '" + a.string() + "' '" + b.string() + "'", &code);
  EXPECT_EQ(code, 1) << "a name no run has is an error";
}
