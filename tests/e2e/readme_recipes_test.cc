// SPDX-License-Identifier: MIT
// The README's user-mode recipes, run exactly as written
// (tests/readme/run-recipe.sh), then checked against the trace they made:
// real compiler, real bd-run and QEMU (the trap channel on Debian 12's
// qemu-x86_64), real LTTng, babeltrace2 as an independent reader.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "support.h"

namespace {

using bdtest::read_trace_with_babeltrace2;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

RunResult run_recipe(const std::string &name, const std::string &workdir) {
  return bdtest::run({RUN_RECIPE, SOURCE_DIR, BUILD_DIR, name, workdir});
}

size_t count(const std::vector<TraceEvent> &events, const std::string &name, uint64_t id,
             const char *id_field) {
  size_t n = 0;
  for (const TraceEvent &e : events)
    if (e.name == name && e.u(id_field) == id) ++n;
  return n;
}

// my-guest.c: two threads mark event 1 100 times each inside region 10,
// then main marks the text "done" (event 2) and names events 1 and 10.
void expect_my_guest(const std::vector<TraceEvent> &events) {
  EXPECT_EQ(count(events, "mark", 1, "event"), 200u);
  EXPECT_EQ(count(events, "mark", 2, "event"), 1u);
  EXPECT_EQ(count(events, "region_begin", 10, "region"), 2u);
  EXPECT_EQ(count(events, "region_end", 10, "region"), 2u);
  EXPECT_EQ(count(events, "event_name", 1, "event"), 1u);
  std::set<uint64_t> tids;
  for (const TraceEvent &e : events)
    if (e.name == "mark" && e.u("event") == 1) tids.insert(e.u("tid"));
  EXPECT_EQ(tids.size(), 2u) << "two worker threads";
}

TEST(ReadmeRecipes, OwnProgramInUserMode) {
  TempDir dir("recipe-user");
  RunResult r = run_recipe("own-program-user", dir.path());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bdtrace host: yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("200 marks"), std::string::npos) << "bd-analyze's report:\n" << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  expect_my_guest(read_trace_with_babeltrace2(dir.path() + "/my-trace"));
}

TEST(ReadmeRecipes, SharedLibrary) {
  TempDir dir("recipe-shared");
  RunResult r = run_recipe("shared-library", dir.path());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("cannot open shared object"), std::string::npos) << r.err;
  // Under bd-run a host answers; the rpath build run natively has none.
  const size_t yes = r.out.find("bdtrace host: yes"), no = r.out.find("bdtrace host: no");
  EXPECT_NE(yes, std::string::npos) << r.out;
  EXPECT_NE(no, std::string::npos) << r.out;
  EXPECT_LT(yes, no) << r.out;
  expect_my_guest(read_trace_with_babeltrace2(dir.path() + "/so-trace"));
}

// my-script.sh: names event 5, marks "step 1".."step 3", region 7 around a
// sleep; each bd-mark runs natively (exec'd by the shell QEMU runs) and
// marks as the script's shell.
TEST(ReadmeRecipes, ShellScript) {
  TempDir dir("recipe-script");
  RunResult r = run_recipe("shell-script", dir.path());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("is a script: running '/bin/sh ./my-script.sh'"), std::string::npos) << r.err;
  const std::vector<TraceEvent> events = read_trace_with_babeltrace2(dir.path() + "/script-trace");
  std::vector<std::string> texts;
  std::set<uint64_t> pids;
  for (const TraceEvent &e : events) {
    if (e.name == "mark" && e.u("event") == 5) texts.push_back(e.fields.at("text"));
    if (e.name == "mark" || e.name == "region_begin" || e.name == "region_end" || e.name == "event_name")
      pids.insert(e.u("pid"));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"step 1", "step 2", "step 3"}));
  EXPECT_EQ(count(events, "region_begin", 7, "region"), 1u);
  EXPECT_EQ(count(events, "region_end", 7, "region"), 1u);
  EXPECT_EQ(count(events, "event_name", 5, "event"), 1u);
  EXPECT_EQ(pids.size(), 1u) << "every bd-mark marks as the script's shell";
  // bd-analyze pairs the region (begin and end came from two bd-marks).
  EXPECT_EQ(r.out.find("region begins were never ended"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("region ends had no open begin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 text marks"), std::string::npos) << r.out;
}

// The same program cross-built for aarch64: a no-op under plain
// qemu-aarch64, every mark under bd-run (qemu-aarch64 with the plugin).
TEST(ReadmeRecipes, OtherArchitecture) {
  if (std::string(CROSS_ARCHES).find("aarch64") == std::string::npos)
    GTEST_SKIP() << "no aarch64 cross compiler: the build made no build/lib/aarch64";
  TempDir dir("recipe-arch");
  RunResult r = run_recipe("other-arch", dir.path());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const size_t no = r.out.find("bdtrace host: no"), yes = r.out.find("bdtrace host: yes");
  ASSERT_NE(no, std::string::npos) << r.out;
  ASSERT_NE(yes, std::string::npos) << r.out;
  EXPECT_LT(no, yes) << r.out;
  EXPECT_NE(r.out.find("arch=aarch64"), std::string::npos) << "bd-analyze names the architecture:\n" << r.out;
  expect_my_guest(read_trace_with_babeltrace2(dir.path() + "/arm-trace"));
}

}  // namespace
