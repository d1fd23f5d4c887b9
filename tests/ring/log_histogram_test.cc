// SPDX-License-Identifier: MIT
// The emission-delay histogram: bucket bounds, percentiles, exact maximum.
#include "bdtrace/ring/log_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace bdtrace::ring {
namespace {

TEST(LogHistogram, BucketsAreContiguousAndWithinASixteenth) {
  const uint64_t values[] = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 123456789, 1ull << 40, UINT64_MAX};
  for (const uint64_t v : values) {
    const std::size_t i = LogHistogram::index(v);
    ASSERT_LT(i, LogHistogram::kBuckets) << v;
    const uint64_t lo = LogHistogram::lower_bound(i);
    EXPECT_LE(lo, v);
    EXPECT_LE(static_cast<double>(v - lo), static_cast<double>(lo) / 16.0 + 1) << v;
    if (i + 1 < LogHistogram::kBuckets) {
      EXPECT_GT(LogHistogram::lower_bound(i + 1), v) << v;
    }
  }
  EXPECT_EQ(LogHistogram::index(UINT64_MAX), LogHistogram::kBuckets - 1);
}

TEST(LogHistogram, Percentiles) {
  LogHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 1000; ++v) h.add(v * 1000);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), 1'000'000u);
  const double p50 = static_cast<double>(h.percentile(0.5));
  const double p99 = static_cast<double>(h.percentile(0.99));
  EXPECT_NEAR(p50, 500'000, 500'000 / 16.0);
  EXPECT_NEAR(p99, 990'000, 990'000 / 16.0);
  EXPECT_EQ(h.percentile(1.0) <= h.max(), true);
  h.add(UINT64_MAX);
  EXPECT_EQ(h.max(), UINT64_MAX);
}

}  // namespace
}  // namespace bdtrace::ring
