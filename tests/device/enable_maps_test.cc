// SPDX-License-Identifier: MIT
// The channel header's enable bitmaps computed from filter configs
// (device/enable_maps.h, <bd/channel.h> ENABLE BITMAPS), and their
// publication in the header before the generation.
#include <gtest/gtest.h>

#include <bd/channel.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bdtrace/device/channel.h"
#include "bdtrace/device/enable_maps.h"
#include "bdtrace/filter/compiled.h"

using namespace bdtrace;
using device::compute_enable_maps;
using device::EnableMaps;

namespace {

std::unique_ptr<filter::CompiledFilter> compile(const std::string &text) {
  const Expected<filter::FilterConfig> c = filter::parse_config(text, "t.txtpb");
  EXPECT_TRUE(c) << c.error();
  return filter::CompiledFilter::compile(c ? *c : filter::FilterConfig(), "");
}

bool bit(const uint64_t (&map)[4], unsigned b) { return bd_enable_test(map, b) != 0; }

TEST(EnableMaps, NoFilterIsAllOnes) {
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(nullptr, 2));
  for (const auto &v : m->vcpu)
    for (uint64_t w : v) EXPECT_EQ(w, ~uint64_t{0});
  for (uint64_t w : m->unions) EXPECT_EQ(w, ~uint64_t{0});
}

TEST(EnableMaps, EmptyConfigEnablesEverything) {
  auto f = compile("");
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(f.get(), 2));
  for (const auto &v : m->vcpu)
    for (uint64_t w : v) EXPECT_EQ(w, ~uint64_t{0});
}

TEST(EnableMaps, DroppedIdsPerVcpuAndTheUnion) {
  auto f = compile(R"(
rule { vcpus { id: 0 } events { id: 5 } action: DROP }
rule { vcpus { id: 1 } events { range { lo: 5 hi: 6 } } action: DROP }
rule { events { range { lo: 100 hi: 300 } } action: DROP }
rule { kind: [SCHED_SWITCH] vcpus { id: 1 } action: DROP }
)");
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(f.get(), 2));
  EXPECT_FALSE(bit(m->vcpu[0], 5));
  EXPECT_TRUE(bit(m->vcpu[0], 6));
  EXPECT_FALSE(bit(m->vcpu[1], 5));
  EXPECT_FALSE(bit(m->vcpu[1], 6));
  EXPECT_TRUE(bit(m->vcpu[2], 5)) << "vCPU 2 drops nothing of that";
  for (unsigned e = 100; e < BD_ENABLE_EVENT_BITS; ++e) EXPECT_FALSE(bit(m->vcpu[0], e)) << e;
  EXPECT_TRUE(bit(m->vcpu[0], 99));
  // Ids >= 192: some (301 and up) may be recorded.
  EXPECT_TRUE(bit(m->vcpu[0], BD_ENABLE_BIT_HIGH_IDS));
  EXPECT_TRUE(bit(m->vcpu[0], BD_ENABLE_BIT_SCHED));
  EXPECT_FALSE(bit(m->vcpu[1], BD_ENABLE_BIT_SCHED));
  // Union over vCPUs 0 and 1 only (nr_vcpus = 2).
  EXPECT_FALSE(bit(m->unions, 5));
  EXPECT_TRUE(bit(m->unions, 6));
  EXPECT_FALSE(bit(m->unions, 150));
  EXPECT_TRUE(bit(m->unions, BD_ENABLE_BIT_SCHED));
  // Reserved bits stay set.
  for (unsigned b = BD_ENABLE_EVENT_BITS; b < BD_ENABLE_BIT_SCHED; ++b) EXPECT_TRUE(bit(m->vcpu[1], b)) << b;
}

TEST(EnableMaps, DefaultDropKeepsOnlyRecordedIdsAndKinds) {
  auto f = compile(R"(
rule { events { range { lo: 10 hi: 11 } } kind: [TEXT] action: RECORD }
rule { events { id: 12 } kind: [REGION] action: RECORD }
default_action: DROP
)");
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(f.get(), 1));
  for (unsigned e = 0; e < BD_ENABLE_EVENT_BITS; ++e) EXPECT_EQ(bit(m->unions, e), e >= 10 && e <= 12) << e;
  EXPECT_FALSE(bit(m->unions, BD_ENABLE_BIT_HIGH_IDS));
  EXPECT_FALSE(bit(m->unions, BD_ENABLE_BIT_SCHED));
  EXPECT_TRUE(device::query_enabled(*f, 0, 11));
  EXPECT_TRUE(device::query_enabled(*f, 0, 12));
  EXPECT_FALSE(device::query_enabled(*f, 0, 13));
  EXPECT_FALSE(device::query_enabled(*f, 0, 100000));
}

TEST(EnableMaps, ProcessGatedRulesAreConservative) {
  auto f = compile(R"(
rule { process { comm: "srv*" } events { id: 3 } action: RECORD }
rule { process { pid: 7 } events { id: 4 } action: DROP }
default_action: DROP
)");
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(f.get(), 1));
  EXPECT_TRUE(bit(m->unions, 3)) << "some process may record 3";
  EXPECT_FALSE(bit(m->unions, 4)) << "4 is dropped for pid 7 and by the default";
  EXPECT_FALSE(bit(m->unions, 5));
}

TEST(EnableMaps, HighIdsBitForASpanCrossing192) {
  auto f = compile(R"(
rule { events { range { lo: 190 hi: 200 } } action: RECORD }
default_action: DROP
)");
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(f.get(), 1));
  EXPECT_TRUE(bit(m->unions, 190));
  EXPECT_TRUE(bit(m->unions, 191));
  EXPECT_FALSE(bit(m->unions, 189));
  EXPECT_TRUE(bit(m->unions, BD_ENABLE_BIT_HIGH_IDS));
  EXPECT_EQ(bd_enable_bit(191), 191u);
  EXPECT_EQ(bd_enable_bit(192), BD_ENABLE_BIT_HIGH_IDS);
  EXPECT_EQ(bd_enable_bit(0xffffffffu), BD_ENABLE_BIT_HIGH_IDS);
}

TEST(EnableMaps, ChannelPublishesMapsThenGeneration) {
  std::vector<unsigned char> mem(BD_CHANNEL_SIZE + 4096);
  auto *base =
      reinterpret_cast<unsigned char *>((reinterpret_cast<uintptr_t>(mem.data()) + 4095) & ~uintptr_t{4095});
  device::Channel ch(base);
  ch.init_header(2);
  const auto *h = reinterpret_cast<const bd_channel_header *>(base);
  for (uint64_t w : h->unions) EXPECT_EQ(w, ~uint64_t{0}) << "init: everything enabled";
  auto f = compile("rule { events { id: 1 } action: DROP }");
  const auto m = std::make_unique<EnableMaps>(compute_enable_maps(f.get(), 2));
  ch.set_enable_maps(m->vcpu, m->unions);
  ch.set_generation(1);
  EXPECT_EQ(ch.generation(), 1u);
  EXPECT_EQ(std::memcmp(h->enable, m->vcpu, sizeof h->enable), 0);
  EXPECT_EQ(std::memcmp(h->unions, m->unions, sizeof h->unions), 0);
  EXPECT_EQ(bd_enable_test(h->unions, 1), 0);
  EXPECT_EQ(bd_enable_test(h->unions, 2), 1);
}

}  // namespace
