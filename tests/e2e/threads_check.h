/* SPDX-License-Identifier: MIT */
// What guest-threads (tests/guest/threads.c) records, checked event by
// event: shared by the trap's and the ring's end-to-end tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support.h"

namespace bdtest {

// The number after "KEY " on the first line of `out` that starts with it,
// or -1.
long value_after(const std::string &out, const std::string &key);

// The "thread <k> tid <tid>" lines guest-threads prints: k -> tid.
std::map<int, uint64_t> thread_tids(const std::string &out);

// Every worker's region, marks (in order, with their arguments), text marks
// and closing mark, exactly once, and the event names; sequence numbers
// grow per thread. With `ring_times`, every event also carries a guest_ts
// that never goes back within its thread (one ring per thread).
// `events` are the guest's own; `out` is guest-threads' stdout.
void expect_guest_threads_events(const std::vector<TraceEvent> &events, const std::string &out, int threads,
                                 int marks, bool ring_times);

}  // namespace bdtest
