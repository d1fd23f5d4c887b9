/* SPDX-License-Identifier: MIT */
// A progress bar on a terminal while traces are read: an EventVisitor
// decorator that counts events and, at most 10 times a second, redraws one
// line: the share of the traces' time span read so far (when the span is
// known, see QueryTimeRange), events read and events per second. Clear()
// (or the destructor) erases the line. The caller decides whether to use
// it at all (bd-analyze: only when stderr is a terminal).
#ifndef BDTRACE_ANALYZER_PROGRESS_H
#define BDTRACE_ANALYZER_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/reader.h"

namespace bdtrace::analyzer {

class ProgressVisitor final : public EventVisitor {
 public:
  // Draws on fd; total_bytes (the stream files' size) is only shown.
  ProgressVisitor(EventVisitor &next, int fd, std::optional<TimeRange> range, uint64_t total_bytes);
  ~ProgressVisitor() override { Clear(); }
  ProgressVisitor(const ProgressVisitor &) = delete;
  ProgressVisitor &operator=(const ProgressVisitor &) = delete;

  void OnMark(const MarkEvent &e) override {
    Tick(e.ts_ns);
    next_.OnMark(e);
  }
  void OnRegion(const RegionEvent &e) override {
    Tick(e.ts_ns);
    next_.OnRegion(e);
  }
  void OnEventName(const EventNameEvent &e) override {
    Tick(e.ts_ns);
    next_.OnEventName(e);
  }
  void OnSession(const SessionEvent &e) override {
    Tick(e.ts_ns);
    next_.OnSession(e);
  }
  void OnRejected(const RejectedEvent &e) override {
    Tick(e.ts_ns);
    next_.OnRejected(e);
  }
  void OnRejectedTotal(const RejectedTotalEvent &e) override {
    Tick(e.ts_ns);
    next_.OnRejectedTotal(e);
  }
  void OnSchedSwitch(const SchedSwitchEvent &e) override {
    Tick(e.ts_ns);
    next_.OnSchedSwitch(e);
  }
  void OnTbExec(const TbExecEvent &e) override {
    Tick(e.ts_ns);
    next_.OnTbExec(e);
  }
  void OnRingDropped(const RingDroppedEvent &e) override {
    Tick(e.ts_ns);
    next_.OnRingDropped(e);
  }
  void OnBlob(const BlobEvent &e) override {
    Tick(e.ts_ns);
    next_.OnBlob(e);
  }
  void OnCall(const CallEvent &e) override {
    Tick(e.ts_ns);
    next_.OnCall(e);
  }
  void OnFilter(const FilterEvent &e) override {
    Tick(e.ts_ns);
    next_.OnFilter(e);
  }
  void OnFilterDropped(const FilterDroppedEvent &e) override {
    Tick(e.ts_ns);
    next_.OnFilterDropped(e);
  }
  void OnFilterStats(const FilterStatsEvent &e) override {
    Tick(e.ts_ns);
    next_.OnFilterStats(e);
  }
  void OnOtherEvent(int64_t ts_ns, std::string_view class_name) override {
    Tick(ts_ns);
    next_.OnOtherEvent(ts_ns, class_name);
  }
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override { next_.OnDiscardedEvents(d); }
  void OnWarning(std::string message) override { next_.OnWarning(std::move(message)); }
  bool WantsMarkDetails() const override { return next_.WantsMarkDetails(); }

  // Erases the bar (once something was drawn).
  void Clear();

 private:
  // Checks the clock only every 1024 events.
  void Tick(int64_t ts_ns) {
    last_ts_ = ts_ns;
    if ((++events_ & 1023) == 0) MaybeDraw();
  }
  void MaybeDraw();

  EventVisitor &next_;
  int fd_;
  std::optional<TimeRange> range_;
  uint64_t total_bytes_;
  uint64_t events_ = 0;
  int64_t last_ts_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_PROGRESS_H
