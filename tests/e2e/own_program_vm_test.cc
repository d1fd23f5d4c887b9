// SPDX-License-Identifier: MIT
// The README's "Run your own program in a VM" recipe, run exactly as
// written (tests/readme/run-recipe.sh): a small C program compiled with
// -static against libbdguest.a, put into a VM image by
// `bd-run --system --program ... --run ...` (built on the fly, or taken
// from the image cache), one boot of Debian's kernel under
// qemu-system-x86_64 with the plugin, then bd-analyze. The checks read the
// trace with babeltrace2: the program's marks, with the values the recipe's
// source computes, the text marks and the context switches of bd_sched.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support.h"

namespace {

using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ReadmeRecipe, OwnProgramInAVm) {
  TempDir work("recipe-own-program-vm");
  // Generous: the first run builds the image (Debian's kernel download,
  // bd_sched, the initramfs), then boots it under TCG on a busy host.
  const RunResult r = bdtest::run({"timeout", "2400", "bash", BD_SOURCE_DIR "/tests/readme/run-recipe.sh",
                                   BD_SOURCE_DIR, BD_BUILD_DIR, "own-program-vm", work.path()});
  ASSERT_EQ(r.status, 0) << "the recipe failed\nstdout:\n" << r.out << "\nstderr:\n" << r.err;

  // What the README says the console shows, and bd-run's progress line.
  EXPECT_TRUE(contains(r.out, "hello-vm: 5 marks, bdtrace host present")) << r.out;
  EXPECT_TRUE(contains(r.out, "bd-init: bd_sched loaded")) << r.out;
  EXPECT_TRUE(contains(r.out, "bd-init: run-status 0 (bd.cmd)")) << r.out;
  EXPECT_TRUE(contains(r.err, "bd-run: building a VM image with hello-vm, bd-mark in") ||
              contains(r.err, "bd-run: VM image with hello-vm, bd-mark: "))
      << r.err;

  const std::vector<TraceEvent> events =
      bdtest::events_of_vm(bdtest::read_trace_with_babeltrace2(work.path() + "/vm-trace"), "hello");
  std::map<uint64_t, uint64_t> step_a1;  // a0 -> a1 of the "step" marks
  size_t steps = 0, begins = 0, ends = 0, switches = 0;
  std::vector<std::string> texts;
  std::string step_name;
  for (const TraceEvent &ev : events) {
    if (ev.name == "mark" && ev.u("event") == 1 && ev.u("kind") == 1) {
      ++steps;
      step_a1[ev.u("a0")] = ev.u("a1");
    } else if (ev.name == "mark" && ev.u("kind") == 2) {
      texts.push_back(std::to_string(ev.u("event")) + ":" + ev.fields.at("text"));
    } else if (ev.name == "region_begin" && ev.u("region") == 10) {
      ++begins;
    } else if (ev.name == "region_end" && ev.u("region") == 10) {
      ++ends;
    } else if (ev.name == "event_name" && ev.u("event") == 1) {
      step_name = ev.fields.at("name");
    } else if (ev.name == "sched_switch") {
      ++switches;
    }
  }
  EXPECT_EQ(steps, 5u);
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(step_a1[i], i * i) << "mark " << i;
  EXPECT_EQ(step_name, "step");
  EXPECT_EQ(begins, 1u);
  EXPECT_EQ(ends, 1u);
  // The program's text mark, then bd-mark's from the --run command.
  EXPECT_EQ(texts, (std::vector<std::string>{"2:hello from the VM", "3:bye"}));
  EXPECT_GT(switches, 0u) << "bd.kmod=1: bd_sched records context switches";

  // bd-analyze's report (the recipe's last command) names the marks.
  EXPECT_TRUE(contains(r.out, "step")) << r.out;
}

}  // namespace
