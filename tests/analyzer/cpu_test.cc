// SPDX-License-Identifier: MIT
// Guest CPU time from bdtrace:sched_switch: the model on synthetic switches
// with exact times, and bd-analyze on data/system-trace (captured with
// `trace-gen --system`, see capture-golden.sh).
//
// The system golden compares the text report with its timing-dependent
// numbers (anything with a decimal point) masked, so it checks the
// structure, counts and order; the times are checked against trace-gen's
// timeline with a tolerance in SystemTrace.TimesFollowTraceGenTimeline.
// Regenerate deliberately with BD_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/model.h"
#include "bdtrace/analyzer/report_format.h"
#include "file_bytes.h"

namespace fs = std::filesystem;
using namespace bdtrace::analyzer;
namespace report = bdtrace::report;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;
const std::string kSystemTrace = kDataDir + "/system-trace";
constexpr int64_t kMs = 1000000;

struct Task {
  uint32_t pid, tid;
  const char *comm;
};
const Task kIdle0{0, 0, "swapper/0"};
const Task kIdle1{0, 0, "swapper/1"};

// Feeds the model switches of one trace (one VM).
struct Feeder {
  Model &m;
  uint32_t trace = 0;

  void Session(const char *vm) {
    m.OnSession(SessionEvent{0, "system", "x86_64", "vmlinuz", 1, 1, vm, trace});
  }
  void Switch(int64_t ts, uint32_t vcpu, const Task &prev, const Task &next) {
    m.OnSchedSwitch(
        SchedSwitchEvent{ts, vcpu, prev.pid, prev.tid, prev.comm, 0, next.pid, next.tid, next.comm, trace});
  }
};

const report::VcpuThread *FindThread(const report::VcpuStats &v, uint32_t tid, const std::string &comm) {
  for (const auto &t : v.threads()) {
    if (t.tid() == tid && t.comm() == comm) return &t;
  }
  return nullptr;
}

const report::ProcessCpu *FindProcess(const report::Report &r, uint32_t pid, const std::string &comm,
                                      const std::string &vm = "") {
  for (const auto &p : r.processes()) {
    if (p.pid() == pid && p.comm() == comm && (vm.empty() || p.vm() == vm)) return &p;
  }
  return nullptr;
}

uint64_t NsOn(const report::ProcessCpu &p, uint32_t vcpu) {
  for (const auto &t : p.per_vcpu()) {
    if (t.vcpu() == vcpu) return t.ns();
  }
  return ~uint64_t{0};
}

std::string Warnings(const report::Report &r) {
  std::string out;
  for (const auto &w : r.warnings()) out += w + "\n";
  return out;
}

using analyzer_test_files::ReadFile;

// Masks what depends on timing: decimal numbers (durations, ms, shares)
// become '#', and runs of blanks one blank (column widths follow them).
std::string MaskTimes(const std::string &text) {
  static const std::regex kDecimal("[0-9]+\\.[0-9]+");
  static const std::regex kBlanks(" +");
  return std::regex_replace(std::regex_replace(text, kDecimal, "#"), kBlanks, " ");
}

}  // namespace

// ---- the model on synthetic switches ---------------------------------------------

TEST(CpuModel, TimelinesPerVcpuGiveExactTimesAndShares) {
  Model m;
  Feeder f{m};
  f.Session("vm-a");
  const Task a{10, 10, "a"}, a2{10, 11, "a"}, b{20, 20, "b"}, b2{20, 21, "b"}, x{30, 30, "x"};
  f.Switch(1000, 0, kIdle0, a);
  f.Switch(1200, 1, x, b);  // vCPU 1's first switch: before it, unknown
  f.Switch(1500, 0, a, b2);
  f.Switch(1800, 0, b2, kIdle0);
  f.Switch(2000, 0, kIdle0, a);
  f.Switch(2200, 1, b, a2);
  // A mark is the trace's last event: the running tasks run until it.
  m.OnMark(MarkEvent{3000, 1, 10, 11, kKindMark, 1, {}, 1, ""});
  report::Report r;
  m.Finish(r);

  EXPECT_EQ(r.totals().sched_switches(), 6u);
  EXPECT_EQ(r.totals().events(), 8u);
  ASSERT_EQ(r.vcpus_size(), 2);
  const report::VcpuStats &v0 = r.vcpus(0);
  EXPECT_EQ(v0.vm(), "vm-a");
  EXPECT_EQ(v0.vcpu(), 0u);
  EXPECT_EQ(v0.switches(), 4u);
  EXPECT_EQ(v0.first_switch_timestamp_ns(), 1000);
  EXPECT_EQ(v0.end_timestamp_ns(), 3000);
  EXPECT_EQ(v0.observed_ns(), 2000u);
  EXPECT_EQ(v0.idle_ns(), 200u);
  EXPECT_EQ(v0.busy_ns(), 1800u);
  EXPECT_DOUBLE_EQ(v0.busy_share(), 0.9);
  EXPECT_EQ(v0.prev_mismatches(), 0u);
  ASSERT_EQ(v0.threads_size(), 2);      // the idle task is not a thread here
  EXPECT_EQ(v0.threads(0).tid(), 10u);  // largest first
  EXPECT_EQ(v0.threads(0).ns(), 500u + 1000u);
  EXPECT_DOUBLE_EQ(v0.threads(0).share(), 0.75);
  EXPECT_EQ(v0.threads(0).switches_in(), 2u);
  EXPECT_EQ(v0.threads(1).tid(), 21u);
  EXPECT_EQ(v0.threads(1).ns(), 300u);
  EXPECT_DOUBLE_EQ(v0.threads(1).share(), 0.15);
  EXPECT_EQ(v0.threads(1).comm(), "b");

  const report::VcpuStats &v1 = r.vcpus(1);
  EXPECT_EQ(v1.vcpu(), 1u);
  EXPECT_EQ(v1.switches(), 2u);
  EXPECT_EQ(v1.observed_ns(), 1800u);  // 1200..3000; x's time before is unknown
  EXPECT_EQ(v1.idle_ns(), 0u);
  EXPECT_EQ(v1.busy_ns(), 1800u);
  ASSERT_EQ(v1.threads_size(), 2);
  EXPECT_EQ(v1.threads(0).tid(), 20u);
  EXPECT_EQ(v1.threads(0).ns(), 1000u);
  EXPECT_EQ(v1.threads(1).tid(), 11u);
  EXPECT_EQ(v1.threads(1).ns(), 800u);
  EXPECT_EQ(FindThread(v1, 30, "x"), nullptr) << "x was never seen running";

  ASSERT_EQ(r.processes_size(), 2);
  const report::ProcessCpu &pa = r.processes(0);
  EXPECT_EQ(pa.pid(), 10u);
  EXPECT_EQ(pa.comm(), "a");
  EXPECT_EQ(pa.vm(), "vm-a");
  EXPECT_EQ(pa.total_ns(), 2300u);
  EXPECT_EQ(pa.threads(), 2u);
  EXPECT_EQ(pa.switches_in(), 3u);
  EXPECT_DOUBLE_EQ(pa.share(), 2300.0 / 3800.0);
  ASSERT_EQ(pa.per_vcpu_size(), 2);
  EXPECT_EQ(NsOn(pa, 0), 1500u);
  EXPECT_EQ(NsOn(pa, 1), 800u);
  const report::ProcessCpu &pb = r.processes(1);
  EXPECT_EQ(pb.pid(), 20u);
  EXPECT_EQ(pb.total_ns(), 1300u);
  EXPECT_EQ(NsOn(pb, 0), 300u);
  EXPECT_EQ(NsOn(pb, 1), 1000u);

  // The marking thread is named after sched_switch.
  ASSERT_EQ(r.threads_size(), 1);
  EXPECT_EQ(r.threads(0).comm(), "a");
  EXPECT_EQ(Warnings(r), "");

  const std::string text = FormatText(r);
  EXPECT_NE(text.find("vCPUs: which guest process ran where"), std::string::npos) << text;
  EXPECT_NE(text.find("a[10] 75.0%  b[20] 15.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("6 sched switches"), std::string::npos) << text;
  EXPECT_NE(text.find("guest processes"), std::string::npos) << text;
}

TEST(CpuModel, ExecRenamesMismatchesVmsAndBadVcpus) {
  Model m;
  Feeder vm_a{m, 0}, vm_b{m, 1};
  vm_a.Session("vm-a");
  vm_b.Session("vm-b");
  const Task sh{5, 5, "sh"}, tool{5, 5, "tool"}, other{6, 6, "other"};
  vm_a.Switch(100, 0, kIdle0, sh);
  vm_a.Switch(200, 0, tool, kIdle0);  // exec renamed it while running
  vm_a.Switch(300, 0, kIdle0, tool);
  vm_a.Switch(350, 0, other, kIdle0);     // prev is not what ran: lost events?
  vm_b.Switch(120, 0, kIdle1, other);     // the other VM's vCPU 0
  vm_b.Switch(390, 5000, kIdle1, other);  // not a plausible vCPU index
  m.OnMark(MarkEvent{400, 0, 99, 99, kKindMark, 1, {}, 1, ""});
  report::Report r;
  m.Finish(r);

  EXPECT_EQ(r.totals().sched_switches(), 6u);
  ASSERT_EQ(r.vcpus_size(), 2);
  const report::VcpuStats &a = r.vcpus(0);
  EXPECT_EQ(a.vm(), "vm-a");
  EXPECT_EQ(a.prev_mismatches(), 1u);
  EXPECT_EQ(a.observed_ns(), 300u);  // 100..400
  EXPECT_EQ(a.idle_ns(), 100u + 50u);
  // The slice in which it exec'd is the new name's (it left as "tool").
  ASSERT_NE(FindThread(a, 5, "sh"), nullptr);
  EXPECT_EQ(FindThread(a, 5, "sh")->ns(), 0u);
  ASSERT_NE(FindThread(a, 5, "tool"), nullptr);
  EXPECT_EQ(FindThread(a, 5, "tool")->ns(), 100u + 50u);
  const report::VcpuStats &b = r.vcpus(1);
  EXPECT_EQ(b.vm(), "vm-b");
  EXPECT_EQ(b.vcpu(), 0u);
  EXPECT_EQ(b.observed_ns(), 400u - 120u);  // runs to the trace's end
  EXPECT_EQ(b.busy_ns(), 400u - 120u);

  ASSERT_NE(FindProcess(r, 5, "sh"), nullptr);
  ASSERT_NE(FindProcess(r, 5, "tool"), nullptr);
  ASSERT_NE(FindProcess(r, 6, "other", "vm-b"), nullptr);
  EXPECT_EQ(FindProcess(r, 6, "other", "vm-b")->per_vcpu_size(), 1);
  EXPECT_EQ(FindProcess(r, 6, "other", "vm-a"), nullptr) << "other never ran in vm-a";

  const std::string w = Warnings(r);
  EXPECT_NE(w.find("1 sched_switch events named a prev task"), std::string::npos) << w;
  EXPECT_NE(w.find("vCPU index >= 4096"), std::string::npos) << w;
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("vm-b"), std::string::npos) << "several VMs: a vm column\n" << text;
}

TEST(CpuModel, NoSwitchesNoCpuSections) {
  Model m;
  m.OnMark(MarkEvent{5, 0, 1, 1, kKindMark, 9, {}, 1, ""});
  report::Report r;
  m.Finish(r);
  EXPECT_EQ(r.vcpus_size(), 0);
  EXPECT_EQ(r.processes_size(), 0);
  EXPECT_EQ(r.threads(0).comm(), "");
  const std::string text = FormatText(r);
  EXPECT_EQ(text.find("vCPUs"), std::string::npos) << text;
  EXPECT_EQ(text.find("sched switches"), std::string::npos) << text;
  EXPECT_EQ(text.find("comm"), std::string::npos) << text;
}

// ---- a real trace: trace-gen --system ------------------------------------------------

TEST(SystemTrace, TextReportMatchesWithTimesMasked) {
  auto r = Analyze({kSystemTrace});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  std::string text = FormatText(*r);
  for (size_t pos; (pos = text.find(kDataDir)) != std::string::npos;) {
    text.replace(pos, kDataDir.size(), "@DATA@");
  }
  text = MaskTimes(text);
  const fs::path golden = kDataDir + "/expected-system-summary.txt";
  if (std::getenv("BD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden, std::ios::binary | std::ios::trunc) << text;
    GTEST_SKIP() << "rewrote " << golden << "; review the diff";
  }
  EXPECT_EQ(ReadFile(golden), text)
      << "the text report changed; if that is intended, rerun with BD_UPDATE_GOLDEN=1";
}

TEST(SystemTrace, TimesFollowTraceGenTimeline) {
  auto r = Analyze({kSystemTrace});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->totals().sched_switches(), 10u);
  EXPECT_EQ(r->totals().marks(), 4u);
  ASSERT_EQ(r->sessions_size(), 1);
  EXPECT_EQ(r->sessions(0).mode(), "system");
  EXPECT_EQ(Warnings(*r), "");

  // Sleeps last at least what trace-gen asked, and not much more on a
  // machine that is not overloaded: each of the n intervals that make up a
  // time may overrun by up to 5 ms.
  const auto within = [](uint64_t ns, int64_t nominal_ms, int intervals) {
    return static_cast<int64_t>(ns) >= nominal_ms * kMs &&
           static_cast<int64_t>(ns) <= nominal_ms * kMs + intervals * 5 * kMs;
  };
  ASSERT_EQ(r->vcpus_size(), 2);
  const report::VcpuStats &v0 = r->vcpus(0), &v1 = r->vcpus(1);
  EXPECT_EQ(v0.vm(), "golden-vm");
  EXPECT_EQ(v0.switches(), 7u);
  EXPECT_EQ(v1.switches(), 3u);
  EXPECT_TRUE(within(v0.observed_ns(), 27, 8)) << v0.observed_ns();
  EXPECT_TRUE(within(v0.idle_ns(), 6, 3)) << v0.idle_ns();
  EXPECT_TRUE(within(v1.observed_ns(), 26, 7)) << v1.observed_ns();
  EXPECT_TRUE(within(v1.idle_ns(), 13, 4)) << v1.idle_ns();
  // Exact: the intervals tile the observed time.
  for (const report::VcpuStats *v : {&v0, &v1}) {
    EXPECT_EQ(v->busy_ns() + v->idle_ns(), v->observed_ns());
    EXPECT_EQ(static_cast<int64_t>(v->observed_ns()), v->end_timestamp_ns() - v->first_switch_timestamp_ns());
    EXPECT_EQ(v->end_timestamp_ns(), r->trace_end_ns());
    uint64_t sum = 0;
    for (const auto &t : v->threads()) sum += t.ns();
    EXPECT_EQ(sum, v->busy_ns());
  }

  const report::ProcessCpu *pingpong = FindProcess(*r, 100, "guest-pingpong");
  const report::ProcessCpu *workload = FindProcess(*r, 200, "bd-demo-workload");
  const report::ProcessCpu *bdmark = FindProcess(*r, 300, "bd-mark");
  const report::ProcessCpu *sh = FindProcess(*r, 300, "sh");
  ASSERT_TRUE(pingpong && workload && bdmark && sh);
  EXPECT_TRUE(within(NsOn(*pingpong, 0), 17, 2)) << NsOn(*pingpong, 0);
  EXPECT_TRUE(within(NsOn(*pingpong, 1), 3, 1)) << NsOn(*pingpong, 1);
  EXPECT_EQ(pingpong->threads(), 2u);
  EXPECT_EQ(pingpong->total_ns(), NsOn(*pingpong, 0) + NsOn(*pingpong, 1));
  EXPECT_TRUE(within(workload->total_ns(), 10, 1)) << workload->total_ns();
  EXPECT_EQ(NsOn(*workload, 0), 0u);
  EXPECT_TRUE(within(bdmark->total_ns(), 3, 1)) << bdmark->total_ns();
  EXPECT_TRUE(within(sh->total_ns(), 1, 1)) << sh->total_ns();
  EXPECT_EQ(r->processes(0).pid(), 100u) << "largest first";

  // Marks keep their guest pid/tid and are named after sched_switch.
  ASSERT_EQ(r->threads_size(), 4);
  EXPECT_EQ(r->threads(1).tid(), 101u);
  EXPECT_EQ(r->threads(1).comm(), "guest-pingpong");
  EXPECT_EQ(r->threads(2).comm(), "bd-mark") << "the name after exec";
  EXPECT_EQ(r->threads(3).comm(), "") << "no switch named tid 400";

  auto json = FormatJson(*r);
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  EXPECT_NE(json->find("\"sched_switches\": \"10\""), std::string::npos);
  auto parsed = ParseJson(*json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->vcpus_size(), 2);
  EXPECT_EQ(parsed->processes_size(), 4);
  EXPECT_EQ(parsed->vcpus(0).threads(0).comm(), "guest-pingpong");
}
