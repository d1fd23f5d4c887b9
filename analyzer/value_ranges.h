/* SPDX-License-Identifier: MIT */
// Sets of ids written for people: "0, 2-5, 7". Private to the analyzer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace bdtrace::analyzer {

// Runs of consecutive values as "lo-hi" (two in a row as "lo, hi"), comma
// separated, at most `max_runs` runs; ", ..." follows when runs were left
// out or `more` says the set itself is incomplete.
std::string ValueRanges(const std::set<uint32_t> &values, size_t max_runs = SIZE_MAX, bool more = false);

}  // namespace bdtrace::analyzer
