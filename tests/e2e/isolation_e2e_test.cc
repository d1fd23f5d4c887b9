// SPDX-License-Identifier: MIT
// Session isolation (issue #12): bd-run's trace holds the events of the
// processes it started and their children, and nothing else, whatever else
// records or emits bdtrace:* events on the machine at the same time.
//
// Three bd-runs at once, each with a forking guest whose processes all mark
// while all three sessions are recording (each guest waits for a "go" file
// the test writes only once the three have forked): two over the trap
// (qemu-x86_64 with the plugin, so the forked QEMU must join too), one
// natively over the ring (the ring consumer emits). Before isolation each
// trace held the others' marks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support.h"

namespace {

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

struct Job {
  std::string name;
  std::vector<std::string> bd_run_options;  // before "--"
  uint64_t marks_per_process;
  std::string dir;
  std::string trace;
  RunResult result;
  uint64_t parent = 0, child = 0;
};

TEST(Isolation, ConcurrentRunsRecordOnlyTheirOwnProcesses) {
  TempDir tmp("e2e-isolation");
  std::vector<Job> jobs = {
      {"trap-a", {}, 3000, "", "", {}},
      {"trap-b", {}, 5000, "", "", {}},
      {"ring", {"--native"}, 7000, "", "", {}},
  };
  for (Job& j : jobs) {
    j.dir = tmp.path() + "/" + j.name;
    j.trace = j.dir + "/trace";
    ASSERT_EQ(::mkdir(j.dir.c_str(), 0755), 0);
  }
  std::vector<std::thread> threads;
  for (Job& j : jobs) {
    threads.emplace_back([&j] {
      std::vector<std::string> argv = {BD_RUN, "--trace", j.trace};
      argv.insert(argv.end(), j.bd_run_options.begin(), j.bd_run_options.end());
      for (const std::string& a : {std::string("--"), std::string(GUEST_FILTER), std::string("fork"), j.dir,
                                   std::to_string(j.marks_per_process)}) {
        argv.push_back(a);
      }
      j.result = run(argv);
    });
  }
  // All three guests have forked, so all three sessions record: now mark.
  for (Job& j : jobs) std::tie(j.parent, j.child) = bdtest::wait_for_fork_pids(j.dir);
  for (Job& j : jobs) bdtest::replace_file(j.dir + "/go", "go\n");
  for (std::thread& t : threads) t.join();

  for (const Job& j : jobs) {
    SCOPED_TRACE(j.name);
    ASSERT_NE(j.parent, 0u) << j.result.err;
    ASSERT_NE(j.child, 0u) << j.result.err;
    ASSERT_EQ(j.result.status, 0) << j.result.err;
    EXPECT_EQ(j.result.err.find("could not join"), std::string::npos) << j.result.err;
    const std::vector<TraceEvent> events = bdtest::read_trace_with_babeltrace2(j.trace);
    std::map<uint64_t, uint64_t> marks_of_pid;
    std::set<uint64_t> vpids;
    uint64_t sessions = 0;
    for (const TraceEvent& e : events) {
      vpids.insert(e.u("vpid"));
      if (e.name == "session") ++sessions;
      if (e.name == "mark" && e.u("event") == 1) ++marks_of_pid[e.u("pid")];
    }
    // Exact: another run's marks (same event, other pids, other counts)
    // would show here.
    const std::map<uint64_t, uint64_t> expected = {{j.parent, j.marks_per_process},
                                                   {j.child, j.marks_per_process}};
    EXPECT_EQ(marks_of_pid, expected);
    // Who emitted: over the trap the guest's two QEMU processes; over the
    // ring the one consumer, which announces itself once.
    if (j.bd_run_options.empty()) {
      EXPECT_EQ(vpids, (std::set<uint64_t>{j.parent, j.child}));
    } else {
      EXPECT_EQ(vpids.size(), 1u);
      EXPECT_EQ(sessions, 1u);
    }
  }
}

}  // namespace
