// Ground truth for region durations: guest-sleeps (tests/guest/sleeps.c)
// wraps fixed sleeps in regions named "sleep <ms>ms" and prints what its own
// CLOCK_MONOTONIC measured ("slept <id> <ns>"); bd-analyze must agree.
// Shared by the trap's and the ring's e2e tests, user and system mode.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bdtest {

// Region id -> (shortest, longest) sleep measured, from the lines that read
// "<prefix>slept <id> <ns>".
std::map<uint64_t, std::pair<double, double>> slept_ranges(const std::vector<std::string> &lines,
                                                           const std::string &prefix = "");

// bd-analyze (`analyze` is its path) on `trace`, --pid `pid`, JSON: every
// region is one of `slept`, named "sleep <id>ms", seen `repeat` times, its
// shortest and longest within 1 % of what the guest measured and never
// shorter than the sleep; and every sleep is there.
void expect_regions_last_the_sleeps(const std::string &analyze, const std::string &trace,
                                    const std::string &pid,
                                    const std::map<uint64_t, std::pair<double, double>> &slept,
                                    unsigned repeat);

}  // namespace bdtest
