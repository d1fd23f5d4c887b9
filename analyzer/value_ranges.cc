// SPDX-License-Identifier: MIT
#include "value_ranges.h"

namespace bdtrace::analyzer {

std::string ValueRanges(const std::set<uint32_t> &values, size_t max_runs, bool more) {
  std::string out;
  size_t runs = 0;
  auto it = values.begin();
  while (it != values.end() && runs < max_runs) {
    const uint32_t lo = *it;
    uint32_t hi = lo;
    for (++it; it != values.end() && *it == hi + 1; ++it) hi = *it;
    if (!out.empty()) out += ", ";
    out += std::to_string(lo);
    if (hi > lo) out += (hi == lo + 1 ? ", " : "-") + std::to_string(hi);
    ++runs;
  }
  if (it != values.end() || more) out += ", ...";
  return out;
}

}  // namespace bdtrace::analyzer
