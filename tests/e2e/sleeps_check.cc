#include "sleeps_check.h"

#include <gtest/gtest.h>

#include <regex>

#include <google/protobuf/util/json_util.h>

#include "report.pb.h"
#include "support.h"

namespace bdtest {

std::map<uint64_t, std::pair<double, double>> slept_ranges(const std::vector<std::string> &lines,
                                                           const std::string &prefix) {
  std::map<uint64_t, std::pair<double, double>> slept;
  const std::regex re("^" + prefix + R"(slept (\d+) (\d+)$)");
  for (const auto &l : lines) {
    std::smatch m;
    if (!std::regex_match(l, m, re)) continue;
    const double ns = std::stod(m[2]);
    auto [it, fresh] = slept.emplace(std::stoull(m[1]), std::make_pair(ns, ns));
    it->second.first = std::min(it->second.first, ns);
    it->second.second = std::max(it->second.second, ns);
  }
  return slept;
}

void expect_regions_last_the_sleeps(const std::string &analyze, const std::string &trace,
                                    const std::string &pid,
                                    const std::map<uint64_t, std::pair<double, double>> &slept,
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
    const auto [lo, hi] = it->second;
    ++seen;
    EXPECT_EQ(region.count(), repeat);
    EXPECT_EQ(region.name(), "sleep " + std::to_string(region.region_id()) + "ms");
    EXPECT_NEAR(static_cast<double>(region.min_ns()), lo, 0.01 * lo);
    EXPECT_NEAR(static_cast<double>(region.max_ns()), hi, 0.01 * hi);
    EXPECT_GE(static_cast<double>(region.min_ns()), region.region_id() * 1e6) << "a region shorter than its sleep";
  }
  EXPECT_EQ(seen, slept.size());
}

}  // namespace bdtest
