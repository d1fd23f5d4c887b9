// End to end for process-gated code tracing (filter rule trace_code), user
// mode, every part real: a guest forks two processes that run the same
// code; a trace_code rule selects the child by pid (a reload once its pid
// is known), so bdtrace:tb_exec events come from the child only, and
// bd-analyze names the child's spin loop as its hottest block.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support.h"

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;

namespace {

void write_file(const std::string &path, const std::string &text) {
  bdtest::replace_file(path, text);
}

std::string value_after(const std::string &out, const std::string &key) {
  const std::string v = bdtest::text_after(out, key);
  return v.empty() ? "0" : v;
}

TEST(CodeTrace, RecordsBlocksOfTheChosenProcessOnly) {
  TempDir dir("e2e-code-trace");
  const std::string filter = dir.path() + "/filter.txtpb";
  const std::string trace = dir.path() + "/trace";
  // trace_code on from the start (exec callbacks exist only for blocks
  // translated while it is on), gate closed: no process has pid 0.
  write_file(filter, "rule { process { pid: 0 } action: RECORD trace_code: true }\n");
  RunResult result;
  std::thread guest([&] {
    result = run({BD_RUN, "--trace", trace, "--filter", filter, "--", GUEST_FILTER, "forkspin",
                  dir.path(), "200000"});
  });
  const auto [parent, child] = bdtest::wait_for_fork_pids(dir.path());
  write_file(filter, "rule { name: \"child-code\" process { pid: " + std::to_string(child) +
                         " } action: RECORD trace_code: true }\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // > 100 ms polling
  write_file(dir.path() + "/go", "");
  guest.join();
  ASSERT_GT(parent, 0u);
  ASSERT_GT(child, 0u);
  ASSERT_EQ(result.status, 0) << result.err;
  const uint64_t spin_fn = std::stoull(value_after(result.out, "child spin_fn"), nullptr, 0);
  ASSERT_GT(spin_fn, 0u);

  std::map<uint64_t, uint64_t> blocks_of_pid, spin_blocks_of_pid;
  for (const bdtest::TraceEvent &e : bdtest::read_trace_with_babeltrace2(trace)) {
    if (e.name != "tb_exec") continue;
    const uint64_t vpid = e.u("vpid");
    if (vpid != parent && vpid != child) continue;  // another run on the machine
    const uint64_t pid = e.u("pid");
    EXPECT_EQ(pid, vpid);
    EXPECT_EQ(e.u("tid"), pid);  // one thread each
    ++blocks_of_pid[pid];
    const uint64_t pc = std::stoull(e.fields.at("pc"), nullptr, 0);
    if (pc >= spin_fn && pc < spin_fn + 128) ++spin_blocks_of_pid[pid];
    EXPECT_GT(e.u("n_insns"), 0u);
  }
  EXPECT_EQ(blocks_of_pid.count(parent), 0u) << "the parent's blocks were traced";
  EXPECT_GT(blocks_of_pid[child], 0u);
  // The loop runs 200000 times (events may be discarded by a full buffer,
  // not invented).
  EXPECT_GT(spin_blocks_of_pid[child], 1000u);

  // bd-analyze: the child's hottest block by executions lies in spin().
  RunResult report = run({BD_ANALYZE, trace});
  ASSERT_EQ(report.status, 0) << report.err;
  const auto lines = bdtest::lines(report.out);
  bool section = false, found = false;
  for (size_t i = 0; i + 2 < lines.size(); ++i) {
    if (lines[i].rfind("hottest blocks per process", 0) == 0) section = true;
    if (!section) continue;
    if (lines[i].find("[" + std::to_string(child) + "]: ") == std::string::npos) continue;
    ASSERT_NE(lines[i + 1].find("by executions:"), std::string::npos) << report.out;
    const uint64_t top = std::stoull(lines[i + 2].substr(lines[i + 2].find("0x")), nullptr, 16);
    EXPECT_GE(top, spin_fn) << report.out;
    EXPECT_LT(top, spin_fn + 128) << report.out;
    found = true;
    break;
  }
  EXPECT_TRUE(section) << report.out;
  EXPECT_TRUE(found) << report.out;
  EXPECT_EQ(report.out.find("[" + std::to_string(parent) + "]: "), std::string::npos)
      << "the parent has no traced blocks:\n" << report.out;
}

}  // namespace
