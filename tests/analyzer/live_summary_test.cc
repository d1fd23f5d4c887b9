// SPDX-License-Identifier: MIT
// LiveSummary (bd-analyze --live's running summary): counts computed by
// hand from a handful of events.
#include "bdtrace/analyzer/live_summary.h"

#include <gtest/gtest.h>

#include <string>

namespace ba = bdtrace::analyzer;

namespace {

ba::MarkEvent Mark(uint32_t vcpu, uint32_t tid, uint32_t event) {
  return ba::MarkEvent{0, vcpu, 100, tid, ba::kKindMark, event, {}, 0, {}};
}

// Thread 100 runs on vCPU 0, thread 101 on vCPU 1.
ba::RegionEvent Region(uint32_t tid, uint32_t region, bool begin) {
  return ba::RegionEvent{0, tid - 100, 100, tid, region, 0, begin};
}

TEST(LiveSummary, RatesPerIntervalOpenRegionsVcpusAndLosses) {
  ba::LiveSummary s;
  s.OnEventName(ba::EventNameEvent{0, 0, 100, 100, 7, "tick"});
  for (int i = 0; i < 30; ++i) s.OnMark(Mark(0, 100, 7));
  for (int i = 0; i < 4; ++i) s.OnMark(Mark(1, 101, 9));
  s.OnRegion(Region(100, 5, true));
  s.OnRegion(Region(100, 5, true));  // nested: depth 2
  s.OnRegion(Region(101, 6, true));
  s.OnRegion(Region(101, 6, false));
  ba::DiscardedEventsMessage lost;
  lost.count = 12;
  s.OnDiscardedEvents(lost);
  s.Tick(2.0);
  EXPECT_EQ(s.Line(),
            "live: marks 34; rates tick (7) 15/s, event 9 2/s; open regions 2 (event 5 x2); vcpus 0: pid 100 "
            "tid 100, 1: pid 100 tid 101; lost discarded 12, ring-dropped 0, filter-dropped 0, rejected 0");
  // The next interval starts from zero; totals and open regions carry on.
  s.OnRegion(Region(100, 5, false));
  s.Tick(1.0);
  EXPECT_EQ(s.Lines()[0], "marks    34 total, regions 3 begun");
  EXPECT_EQ(s.Lines()[1], "rates    none");
  EXPECT_EQ(s.Lines()[2], "open     1 (event 5 x1)");
}

TEST(LiveSummary, ContextSwitchesSayWhatRunsOnEachVcpu) {
  ba::LiveSummary s;
  s.OnSchedSwitch(ba::SchedSwitchEvent{0, 1, 0, 0, "swapper/1", 0, 42, 43, "worker"});
  EXPECT_EQ(s.Lines()[3], "vcpus    1: worker pid 42 tid 43");
}

}  // namespace
