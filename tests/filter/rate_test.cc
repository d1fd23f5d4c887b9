// SPDX-License-Identifier: MIT
// Rate limits with an injected clock: exact, deterministic counts.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bdtrace/filter/compiled.h"

using namespace bdtrace::filter;
using bdtrace::Expected;

namespace {

uint64_t g_now = 0;
uint64_t fake_now() noexcept { return g_now; }

std::unique_ptr<CompiledFilter> compile(const std::string &text) {
  const Expected<FilterConfig> c = parse_config(text, "t.txtpb");
  EXPECT_TRUE(c) << c.error();
  g_now = 1000000000000ull;  // epoch
  return CompiledFilter::compile(c ? *c : FilterConfig(), "", fake_now);
}

Decision mark(const CompiledFilter &f, uint32_t vcpu = 0) {
  return f.decide(Subject{vcpu, {1, 1, f.comm_mask("a")}}, BD_KIND_MARK, 1);
}

TEST(RateLimit, BurstThenSteadyRate) {
  auto f = compile("rule { rate_limit { events_per_second: 1000 burst: 10 } action: RECORD }");
  int recorded = 0, dropped = 0;
  for (int i = 0; i < 100; ++i) (mark(*f).verdict == Verdict::Record ? recorded : dropped)++;
  EXPECT_EQ(recorded, 10);  // the burst, all at the same instant
  EXPECT_EQ(dropped, 90);
  // One event per millisecond afterwards.
  recorded = 0;
  for (int ms = 1; ms <= 500; ++ms) {
    g_now += 1000000;
    for (int k = 0; k < 5; ++k) recorded += mark(*f).verdict == Verdict::Record;
  }
  EXPECT_EQ(recorded, 500);
}

TEST(RateLimit, DefaultBurstIsOneSecondsWorth) {
  auto f = compile("rule { rate_limit { events_per_second: 50 } action: RECORD }");
  int recorded = 0;
  for (int i = 0; i < 1000; ++i) recorded += mark(*f).verdict == Verdict::Record;
  EXPECT_EQ(recorded, 50);
}

TEST(RateLimit, PerVcpuBuckets) {
  auto f = compile("rule { rate_limit { events_per_second: 1 burst: 3 } action: RECORD }");
  for (uint32_t v : {0u, 1u, 63u, 64u, 100u}) {
    int recorded = 0;
    for (int i = 0; i < 10; ++i) recorded += mark(*f, v).verdict == Verdict::Record;
    // vCPUs >= 64 share one bucket.
    EXPECT_EQ(recorded, v == 100 ? 0 : 3) << "vcpu " << v;
  }
}

TEST(RateLimit, DropReportsAtMostOncePerSecondAndCountsSumToTotal) {
  auto f = compile("rule { name: \"lim\" rate_limit { events_per_second: 10 burst: 1 } action: RECORD }");
  uint64_t dropped = 0, reported = 0;
  int reports = 0;
  // 3.5 s of 1000 marks per second.
  for (int ms = 0; ms < 3500; ++ms) {
    const Decision d = mark(*f);
    if (d.verdict == Verdict::RateDrop) {
      ++dropped;
      EXPECT_EQ(d.rule, 0);
      if (d.report_due) {
        ++reports;
        const DropReport r = f->take_drop_report(d.rule, 0);
        reported += r.count;
        EXPECT_EQ(r.total, dropped);
      }
    }
    g_now += 1000000;
  }
  EXPECT_EQ(dropped, 3500u - 35u);  // 10 per second let through
  EXPECT_EQ(reports, 4);            // at the first drop, then at 1 s, 2 s, 3 s
  uint64_t pending = 0, total = 0;
  f->drain_drops([&](int rule, unsigned slot, uint64_t p, uint64_t t) {
    EXPECT_EQ(rule, 0);
    EXPECT_EQ(slot, 0u);
    pending += p;
    total = t;
  });
  EXPECT_EQ(reported + pending, dropped);
  EXPECT_EQ(total, dropped);
  // Drained: a second drain reports no pending drops.
  f->drain_drops([&](int, unsigned, uint64_t p, uint64_t) { EXPECT_EQ(p, 0u); });
}

TEST(RateLimit, OnlyTheDecidingRuleLimits) {
  auto f = compile(R"(
rule { events { id: 2 } action: RECORD }
rule { rate_limit { events_per_second: 1 burst: 1 } action: RECORD })");
  int recorded = 0;
  for (int i = 0; i < 10; ++i)
    recorded += f->decide(Subject{0, {1, 1, ~0ull}}, BD_KIND_MARK, 2).verdict == Verdict::Record;
  EXPECT_EQ(recorded, 10);
  EXPECT_EQ(mark(*f).verdict, Verdict::Record);
  EXPECT_EQ(mark(*f).verdict, Verdict::RateDrop);
}

}  // namespace
