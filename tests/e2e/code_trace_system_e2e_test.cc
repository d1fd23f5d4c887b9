// SPDX-License-Identifier: MIT
// End to end for process-gated code tracing in system mode: Debian's kernel
// boots under qemu-system-x86_64 with bd_sched and runs several processes
// (tests/e2e/vm/code-trace-test.sh); a trace_code rule selects comm "guest-spin", so
// bdtrace:tb_batch blocks come only from tasks the switch timeline names
// guest-spin, and all of them are user-space blocks. A second boot loads
// the roi example handler: guest-roi's code is traced only between its two
// calls (tests/e2e/vm/roi-test.sh).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support.h"
#include "vm_console.h"

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;

namespace {

const std::string kVmDir = BD_VM_DIR;

// Boots the test VM running tests/e2e/vm/SCRIPT under bd-run --system with
// a filter of one trace_code rule for comm `comm` (and `extra` bd-run
// arguments), recording into DIR/trace as VM `vm`.
RunResult boot(const TempDir &dir, const std::string &comm, const std::string &script, const std::string &vm,
               const std::vector<std::string> &extra = {}) {
  struct stat st;
  if (stat((kVmDir + "/vmlinuz").c_str(), &st) != 0 ||
      stat((kVmDir + "/initramfs.cpio.gz").c_str(), &st) != 0) {
    ADD_FAILURE() << "no test VM image in " << kVmDir << ": run ./bdtrace build";
    return RunResult{1, "", ""};
  }
  const std::string filter = dir.path() + "/filter.txtpb";
  std::ofstream(filter) << "rule { process { comm: \"" << comm << "\" } action: RECORD trace_code: true }\n";
  std::vector<std::string> argv = {
      "timeout", "900", BD_RUN, "--system", "--filter", filter, "--trace", dir.path() + "/trace", "--vm", vm};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--kernel", kVmDir + "/vmlinuz", "--initrd", kVmDir + "/initramfs.cpio.gz",
                           "--append", "bd.kmod=1 bd.run=/etc/bd/" + script});
  return run(argv);
}

TEST(CodeTraceSystem, RecordsBlocksOfTheChosenProcessOnly) {
  TempDir dir("e2e-code-trace-system");
  const std::string trace = dir.path() + "/trace";
  const std::string vm = "e2e-code-" + std::to_string(getpid());
  RunResult r = boot(dir, "guest-spin", "code-trace-test.sh", vm);
  ASSERT_EQ(r.status, 0) << r.err << "\n--- console:\n" << r.out;

  const auto events = bdtest::events_of_vm(bdtest::read_trace_with_babeltrace2(trace), vm);
  std::set<uint64_t> spin_tids, other_tids;
  for (const auto &e : events) {
    if (e.name != "sched_switch") continue;
    (e.fields.at("next_comm") == "guest-spin" ? spin_tids : other_tids).insert(e.u("next_tid"));
  }
  ASSERT_FALSE(spin_tids.empty()) << "guest-spin never ran";
  ASSERT_FALSE(other_tids.empty());
  std::map<uint64_t, uint64_t> blocks_of_tid;
  uint64_t lost = 0;
  for (const auto &e : events) {
    if (e.name != "tb_batch") continue;
    blocks_of_tid[e.u("tid")] += e.pcs.size();
    lost += e.u("lost");
    for (uint64_t pc : e.pcs) EXPECT_LT(pc, 0xffff800000000000ull);
  }
  // 40 ms of guest-spin: hundreds of thousands of blocks at least.
  uint64_t spin_blocks = 0;
  for (const auto &[tid, n] : blocks_of_tid) spin_blocks += n;
  EXPECT_GT(spin_blocks + lost, 100000u);
  ASSERT_FALSE(blocks_of_tid.empty());
  for (const auto &[tid, n] : blocks_of_tid)
    EXPECT_TRUE(spin_tids.count(tid)) << "blocks of tid " << tid << " (" << n << ") which is not guest-spin";
}

TEST(CodeTraceSystem, RegionOfInterestHandlerTracesOnlyBetweenItsCalls) {
  TempDir dir("e2e-roi-system");
  const std::string trace = dir.path() + "/trace";
  const std::string vm = "e2e-roi-" + std::to_string(getpid());
  RunResult r = boot(dir, "guest-roi", "roi-test.sh", vm, {"--handler", HANDLER_ROI});
  ASSERT_EQ(r.status, 0) << r.err << "\n--- console:\n" << r.out;
  std::string guest_out;  // the guest's "bd-test:" lines
  for (const auto &l : bdtest::guest_lines(r.out)) guest_out += l + "\n";
  EXPECT_EQ(bdtest::text_after(guest_out, "roi begin"), "0 1");
  EXPECT_EQ(bdtest::text_after(guest_out, "roi end"), "0 1");
  const uint64_t inside = std::stoull(bdtest::text_after(guest_out, "roi inside"), nullptr, 16);
  const uint64_t outside = std::stoull(bdtest::text_after(guest_out, "roi outside"), nullptr, 16);
  uint64_t inside_blocks = 0, outside_blocks = 0, blocks = 0;
  for (const auto &e : bdtest::events_of_vm(bdtest::read_trace_with_babeltrace2(trace), vm)) {
    if (e.name != "tb_batch") continue;
    EXPECT_EQ(e.u("lost"), 0u);
    for (uint64_t pc : e.pcs) {
      ++blocks;
      inside_blocks += pc == inside;
      outside_blocks += pc == outside;
    }
  }
  EXPECT_EQ(inside_blocks, 1000u) << blocks << " blocks recorded";
  EXPECT_EQ(outside_blocks, 0u);
}

}  // namespace
