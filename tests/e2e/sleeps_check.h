/* SPDX-License-Identifier: MIT */
// Ground truth for region durations: guest-sleeps (tests/guest/sleeps.c)
// wraps fixed sleeps in regions named "sleep <ms>ms" and prints what its own
// CLOCK_MONOTONIC measured around them; bd-analyze must agree.
// Shared by the trap's and the ring's e2e tests, user and system mode.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bdtest {

// What the guest measured around one region id's regions: the shortest
// and longest inner span (after begin to before end) and outer span (before
// begin to after end). Each region lies between its inner and outer span.
struct SleptRange {
  double inner_min = 0, inner_max = 0, outer_min = 0, outer_max = 0;
};

// Region id -> its SleptRange, from the lines that read
// "<prefix>slept <id> <outer_ns> <inner_ns>".
std::map<uint64_t, SleptRange> slept_ranges(const std::vector<std::string> &lines,
                                            const std::string &prefix = "");

// bd-analyze (`analyze` is its path) on `trace`, --pid `pid`, JSON: every
// region is one of `slept`, named "sleep <id>ms", seen `repeat` times, its
// shortest and longest between what the guest measured around them (within
// 1 %: the clocks read differ) and never shorter than the sleep; and every
// sleep is there.
void expect_regions_last_the_sleeps(const std::string &analyze, const std::string &trace,
                                    const std::string &pid, const std::map<uint64_t, SleptRange> &slept,
                                    unsigned repeat);

}  // namespace bdtest
