// SPDX-License-Identifier: MIT
#include "sleeps_check.h"

#include <gtest/gtest.h>

#include <regex>

#include <google/protobuf/util/json_util.h>

#include "report.pb.h"
#include "support.h"

namespace bdtest {

std::map<uint64_t, SleptRange> slept_ranges(const std::vector<std::string> &lines,
                                            const std::string &prefix) {
  std::map<uint64_t, SleptRange> slept;
  const std::regex re("^" + prefix + R"(slept (\d+) (\d+) (\d+)$)");
  for (const auto &l : lines) {
    std::smatch m;
    if (!std::regex_match(l, m, re)) continue;
    const double outer = std::stod(m[2]), inner = std::stod(m[3]);
    auto [it, fresh] = slept.emplace(std::stoull(m[1]), SleptRange{inner, inner, outer, outer});
    SleptRange &r = it->second;
    r.inner_min = std::min(r.inner_min, inner);
    r.inner_max = std::max(r.inner_max, inner);
    r.outer_min = std::min(r.outer_min, outer);
    r.outer_max = std::max(r.outer_max, outer);
  }
  return slept;
}

void expect_regions_last_the_sleeps(const std::string &analyze, const std::string &trace,
                                    const std::string &pid, const std::map<uint64_t, SleptRange> &slept,
                                    unsigned repeat) {
  RunResult a = run({analyze, trace, "--format", "json", "--pid", pid});
  ASSERT_EQ(a.status, 0) << a.err;
  bdtrace::report::Report report;
  const auto st = google::protobuf::util::JsonStringToMessage(a.out, &report);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << a.out.substr(0, 500);
  size_t seen = 0;
  for (const auto &region : report.regions()) {
    SCOPED_TRACE("region " + std::to_string(region.region_id()));
    const auto it = slept.find(region.region_id());
    ASSERT_NE(it, slept.end());
    const SleptRange &g = it->second;
    ++seen;
    EXPECT_EQ(region.count(), repeat);
    EXPECT_EQ(region.name(), "sleep " + std::to_string(region.region_id()) + "ms");
    // Each region lies between its inner and outer span, so the shortest
    // between the shortest of each and the longest between the longest.
    const double shortest = static_cast<double>(region.min_ns()),
                 longest = static_cast<double>(region.max_ns());
    EXPECT_GE(shortest, 0.99 * g.inner_min);
    EXPECT_LE(shortest, 1.01 * g.outer_min);
    EXPECT_GE(longest, 0.99 * g.inner_max);
    EXPECT_LE(longest, 1.01 * g.outer_max);
    EXPECT_GE(static_cast<double>(region.min_ns()), region.region_id() * 1e6)
        << "a region shorter than its sleep";
  }
  EXPECT_EQ(seen, slept.size());
}

}  // namespace bdtest
