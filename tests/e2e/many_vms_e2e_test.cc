// SPDX-License-Identifier: MIT
// Many VMs, the analysis half: two real user-mode runs (bd-run --trace, real
// qemu-x86_64 with the plugin, real lttng-sessiond) of the same guest with
// different mark counts, merged by bd-analyze into one report with one VM
// per run and exact counts per VM; the Chrome export has one process group
// per VM.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "report.pb.h"
#include "support.h"

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;

namespace {

// guest-threads --threads N --marks M: per worker M + 1 marks (kind MARK)
// and 3 text marks (tests/guest/threads.c).
struct Guest {
  const char *run_dir;  // the run's --trace directory under the test's dir
  int threads, marks;
  uint64_t plain_marks() const { return static_cast<uint64_t>(threads) * (marks + 1); }
  uint64_t text_marks() const { return static_cast<uint64_t>(threads) * 3; }
};
constexpr Guest kRunA{"vm-a", 1, 100};
constexpr Guest kRunB{"vm-b", 2, 250};

// Both runs, recorded one after the other, shared by the checks below.
class TwoRuns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("e2e-many-vms");
    for (const Guest &g : {kRunA, kRunB}) {
      const std::string trace = dir_->path() + "/" + g.run_dir;
      RunResult r = run({BD_RUN, "--trace", trace, "--", GUEST_THREADS, "--threads",
                         std::to_string(g.threads), "--marks", std::to_string(g.marks)});
      if (r.status != 0) failure_ += std::string(g.run_dir) + ": " + r.err;
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Trace(const Guest &g) { return dir_->path() + "/" + g.run_dir; }
  static RunResult Analyze(std::vector<std::string> args) {
    std::vector<std::string> argv = {BD_ANALYZE, Trace(kRunA), Trace(kRunB)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  static TempDir *dir_;
  static std::string failure_;
};
TempDir *TwoRuns::dir_;
std::string TwoRuns::failure_;

TEST_F(TwoRuns, JsonHasBothVmsWithExactCountsPerVm) {
  ASSERT_EQ(failure_, "");
  RunResult r = Analyze({"--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  bdtrace::report::Report report;
  const auto st = google::protobuf::util::JsonStringToMessage(r.out, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // Both runs are of guest-threads: their session names collide, so each
  // VM is named by its run's directory.
  ASSERT_EQ(report.vms_size(), 2);
  EXPECT_EQ(report.vms(0).name(), "vm-a");
  EXPECT_EQ(report.vms(0).run(), Trace(kRunA));
  EXPECT_EQ(report.vms(1).name(), "vm-b");
  EXPECT_EQ(report.vms(1).run(), Trace(kRunB));
  EXPECT_EQ(report.totals().marks(), kRunA.plain_marks() + kRunB.plain_marks());
  EXPECT_EQ(report.totals().text_marks(), kRunA.text_marks() + kRunB.text_marks());
  std::map<std::string, uint64_t> marks, text, workers;
  for (const auto &t : report.threads()) {
    marks[t.vm()] += t.marks();
    text[t.vm()] += t.text_marks();
    if (t.marks() > 0) ++workers[t.vm()];
  }
  EXPECT_EQ(marks,
            (std::map<std::string, uint64_t>{{"vm-a", kRunA.plain_marks()}, {"vm-b", kRunB.plain_marks()}}));
  EXPECT_EQ(text,
            (std::map<std::string, uint64_t>{{"vm-a", kRunA.text_marks()}, {"vm-b", kRunB.text_marks()}}));
  EXPECT_EQ(workers, (std::map<std::string, uint64_t>{{"vm-a", 1}, {"vm-b", 2}}));
  // Per process too: one guest process per VM.
  std::map<std::string, uint64_t> by_process;
  for (const auto &p : report.process_activity()) by_process[p.vm()] += p.marks();
  EXPECT_EQ(by_process,
            (std::map<std::string, uint64_t>{{"vm-a", kRunA.plain_marks()}, {"vm-b", kRunB.plain_marks()}}));
}

TEST_F(TwoRuns, TextHasAVmColumn) {
  ASSERT_EQ(failure_, "");
  RunResult r = Analyze({});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("per thread (vm/tid:count)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" vm-a/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" vm-b/"), std::string::npos) << r.out;
}

TEST_F(TwoRuns, ChromeExportHasOneProcessGroupPerVm) {
  ASSERT_EQ(failure_, "");
  RunResult r = Analyze({"--format", "chrome"});
  ASSERT_EQ(r.status, 0) << r.err;
  size_t groups = 0;
  for (size_t pos = r.out.find("\"process_name\""); pos != std::string::npos;
       pos = r.out.find("\"process_name\"", pos + 1)) {
    ++groups;
  }
  EXPECT_EQ(groups, 2u) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("\"pid\":1,\"tid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"vm-a (user: "),
            std::string::npos)
      << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("\"pid\":2,\"tid\":2,\"name\":\"process_name\",\"args\":{\"name\":\"vm-b (user: "),
            std::string::npos)
      << r.out.substr(0, 2000);
}

}  // namespace
