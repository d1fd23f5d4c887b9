// SPDX-License-Identifier: MIT
// bd-run's own session around a run, end to end without QEMU: --native
// runs bd-mark on the host with the ring, so bd-run's join server thread
// (with its periodic space check on the session), bd-ring-consumer's drain
// loop and the session all work together. In the executable of the
// session-join tests, which ./bdtrace test --sanitize=thread runs under
// ThreadSanitizer (label tsan): there bd-run and bd-ring-consumer are
// instrumented, and a report in either fails the run (exit status 66).
#include <gtest/gtest.h>
#include <lttng/lttng.h>

#include <cstdio>
#include <string>

#include "bd_run_harness.h"
#include "temp_dir.h"

#ifndef BD_MARK_PATH
#error "BD_MARK_PATH must name the bd-mark binary"
#endif

namespace bdtrace::testing {
namespace {

// Lines of babeltrace2's text output of `dir` that contain `what`.
int count_events(const std::string& dir, const std::string& what) {
  const std::string cmd = "babeltrace2 '" + dir + "' 2>/dev/null";
  FILE* in = ::popen(cmd.c_str(), "r");
  if (in == nullptr) return -1;
  int n = 0;
  char line[4096];
  while (std::fgets(line, sizeof line, in) != nullptr) n += std::string(line).find(what) != std::string::npos;
  ::pclose(in);
  return n;
}

TEST(BdRunSession, NativeRunWithTheRingIsTracedWhole) {
  ASSERT_EQ(lttng_session_daemon_alive(), 1)
      << "no lttng-sessiond is running: start one with `lttng-sessiond --daemonize` "
         "or run the tests through ./bdtrace test, which starts it";
  TempDir tmp;
  const std::string trace = tmp / "trace";
  for (int run = 0; run < 3; ++run) {
    const std::string dir = trace + std::to_string(run);
    RunResult r = run_bd_run(tmp, "--native --trace '" + dir + "' -- '" BD_MARK_PATH "' 7");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.err.find("bd-run: trace written to " + dir), std::string::npos) << r.err;
    EXPECT_EQ(count_events(dir, "bdtrace:mark:"), 1) << r.err;
  }
}

}  // namespace
}  // namespace bdtrace::testing
