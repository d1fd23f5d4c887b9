/* SPDX-License-Identifier: MIT */
// LiveSummary: what bd-analyze --live shows while a session runs. Counts
// since the last tick (marks per event id, hence marks/s), the regions
// open now, what runs on each vCPU (the last context switch in system
// mode; the thread of the last mark or region in user mode) and what was
// lost so far (discarded by the tracer, dropped by rings or the filter,
// rejected by the plugin).
#ifndef BDTRACE_ANALYZER_LIVE_SUMMARY_H
#define BDTRACE_ANALYZER_LIVE_SUMMARY_H

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bdtrace/analyzer/events.h"

namespace bdtrace::analyzer {

class LiveSummary final : public EventVisitor {
 public:
  void OnMark(const MarkEvent &e) override;
  void OnRegion(const RegionEvent &e) override;
  void OnEventName(const EventNameEvent &e) override;
  void OnRejected(const RejectedEvent &e) override;
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnRingDropped(const RingDroppedEvent &e) override;
  void OnFilterDropped(const FilterDroppedEvent &e) override;
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override;
  bool WantsMarkDetails() const override { return false; }

  // Ends the interval that began at the previous tick (or the start),
  // `seconds` long: what Lines()/Line() report as rates until the next.
  void Tick(double seconds);

  // For a terminal: one line each for the totals, the rates per event, the
  // open regions, the vCPUs and the losses.
  std::vector<std::string> Lines() const;
  // For a pipe or a file: the same in one line.
  std::string Line() const;

  uint64_t marks() const { return marks_; }

 private:
  struct Running {
    uint32_t pid = 0, tid = 0;
    std::string comm;  // system mode: the task's name
  };
  std::string EventLabel(uint32_t event) const;
  std::string RatesText() const;
  std::string RegionsText() const;
  std::string VcpusText() const;
  std::string LossesText() const;

  uint64_t marks_ = 0, regions_ = 0;
  std::map<uint32_t, uint64_t> interval_marks_;  // event id -> marks in the running interval
  std::map<uint32_t, uint64_t> last_marks_;      // the same for the last whole interval
  double last_seconds_ = 0;
  std::map<uint32_t, std::string> names_;                              // event id -> bd_event_name
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint64_t> open_;  // (pid, tid, region) -> depth
  std::map<uint32_t, Running> vcpus_;
  uint64_t discarded_ = 0, ring_dropped_ = 0, filter_dropped_ = 0, rejected_ = 0;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_LIVE_SUMMARY_H
