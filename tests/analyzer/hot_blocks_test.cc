// SPDX-License-Identifier: MIT
// HotBlocks: per-process block counts, top-K order and bounded memory.
#include <gtest/gtest.h>

#include "bdtrace/analyzer/hot_blocks.h"

using bdtrace::analyzer::HotBlocks;

namespace {

TEST(HotBlocks, CountsPerProcessAndOrdersByExecutionsAndInstructions) {
  HotBlocks h;
  for (int i = 0; i < 10; ++i) h.Add(0, 1, 0x1000, 2);  // 10 execs, 20 insns
  for (int i = 0; i < 3; ++i) h.Add(0, 1, 0x2000, 50);  // 3 execs, 150 insns
  h.Add(0, 2, 0x1000, 2);                               // another process
  h.Add(1, 1, 0x1000, 2);                               // same pid, another trace
  ASSERT_EQ(h.processes().size(), 3u);
  const HotBlocks::Process &p = h.processes().at({0, 1});
  EXPECT_EQ(p.executions, 13u);
  EXPECT_EQ(p.instructions, 170u);
  const auto by_execs = HotBlocks::Top(p, 5, false);
  ASSERT_EQ(by_execs.size(), 2u);
  EXPECT_EQ(by_execs[0].pc, 0x1000u);
  EXPECT_EQ(by_execs[0].executions, 10u);
  const auto by_insns = HotBlocks::Top(p, 1, true);
  ASSERT_EQ(by_insns.size(), 1u);
  EXPECT_EQ(by_insns[0].pc, 0x2000u);
  EXPECT_EQ(by_insns[0].instructions, 150u);
}

TEST(HotBlocks, BoundedByEvictingTheColdestHalf) {
  HotBlocks h(8);
  for (int i = 0; i < 100; ++i) h.Add(0, 1, 0xa000, 1);  // hot
  for (uint64_t pc = 0; pc < 1000; ++pc) h.Add(0, 1, pc, 1);
  const HotBlocks::Process &p = h.processes().at({0, 1});
  EXPECT_LE(p.blocks.size(), 8u);
  EXPECT_EQ(p.executions, 1100u);
  EXPECT_GT(p.evicted_blocks, 0u);
  EXPECT_EQ(p.evicted_blocks + p.blocks.size(), 1001u);
  const auto top = HotBlocks::Top(p, 1, false);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].pc, 0xa000u);
  EXPECT_EQ(top[0].executions, 100u);
}

}  // namespace
