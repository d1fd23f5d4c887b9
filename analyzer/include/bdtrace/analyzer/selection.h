/* SPDX-License-Identifier: MIT */
// Which events a report looks at (bd-analyze --vm/--vcpu/--pid/--tid/
// --event/--since/--until), as an EventVisitor decorator: every consumer
// (the model, the timeline, the exporters) sits behind the same
// SelectingVisitor and so sees exactly the same events.
//
// What each selector keeps (selectors combine with AND; the values given
// to one selector combine with OR; an empty selector keeps everything):
//
//   vm     marks, regions and sched_switch events of the traces whose VM
//          (SessionEvent: vm, or in user mode without a vm the program) is
//          one of the names. A trace's events before its session event (it
//          normally comes first) belong to no VM and are dropped.
//   vcpu   marks, regions and sched_switch events on one of those vCPUs.
//   pid    marks and regions of those guest pids; sched_switch events whose
//          prev or next task has one of those pids.
//   tid    the same with guest tids.
//   event  marks whose event id, and regions whose region id, is one of the
//          ids (marks and regions share the id space). sched_switch events
//          have no id and are not affected.
//   since/until  marks, regions, sched_switch and other events whose time,
//          in seconds after the trace start (the first event of all traces
//          read, whatever the selection), t satisfies since <= t < until.
//
// Always kept, whatever the selection: bdtrace:session (they name the VMs),
// bdtrace:event_name (names may come after the events they name),
// bdtrace:rejected, bdtrace:rejected_total, bdtrace:ring_dropped and the
// filter's bdtrace:filter, bdtrace:dropped and bdtrace:filter_stats,
// discarded-events messages and warnings, so the losses of the traces are
// in every report.
// Events of other providers have no VM, vCPU, pid, tid or id: they are kept
// only when none of those selectors is given (and inside the time window).
//
// Consequences for CPU time: with a time window, a vCPU's timeline starts
// at its first switch inside the window and its last task runs until the
// last kept event; with --pid/--tid, the selected tasks' own run time is
// exact but the time of the tasks switched to in between (and idle time)
// is not, because the switches between two other tasks were dropped.
//
// Memory: one flag per trace; no per-event allocation or string compare
// (VM names are compared once per session event).
#ifndef BDTRACE_ANALYZER_SELECTION_H
#define BDTRACE_ANALYZER_SELECTION_H

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer {

struct Selection {
  std::vector<std::string> vms;
  std::vector<uint32_t> vcpus, pids, tids, events;
  std::optional<double> since_s, until_s;  // seconds after the trace start

  // True when nothing is filtered.
  bool empty() const;
  // Checks the values (since/until finite, >= 0, since < until); the error
  // says which option is wrong.
  Status Validate() const;
  // "vm=a,b pid=5 since=1.5s" (empty when nothing is selected).
  std::string ToString() const;
};

// What a trace holds, as far as a selection can name it: gathered by the
// SelectingVisitor while its selection has kept no mark, region, context
// switch or block, so that a selection matching nothing can say what the
// trace does contain. Each set stops growing at kMaxValues (then
// `more_*` is set).
struct TraceContents {
  static constexpr size_t kMaxValues = 4096;
  bool any_time = false;
  int64_t first_ns = 0, last_ns = 0;          // the first and last event of all traces
  std::set<std::string> vms;                  // names the sessions gave
  std::set<uint32_t> vcpus, pids, tids, ids;  // ids: mark event and region ids
  bool more_vcpus = false, more_pids = false, more_tids = false, more_ids = false;

  // "0.027 s of events (--since/--until range 0 to 0.027); VMs: a, b;
  // vCPUs 0-1; pids 100, 200; tids ...; mark/region ids 1-3".
  std::string ToString() const;
  // Any mark, region or context switch at all (something to select)?
  bool HoldsSelectable() const { return !(vcpus.empty() && pids.empty() && tids.empty() && ids.empty()); }
};

class SelectingVisitor final : public EventVisitor {
 public:
  // next must outlive this visitor.
  SelectingVisitor(const Selection &selection, EventVisitor &next);

  void OnMark(const MarkEvent &e) override;
  void OnRegion(const RegionEvent &e) override;
  void OnEventName(const EventNameEvent &e) override;
  void OnSession(const SessionEvent &e) override;
  void OnRejected(const RejectedEvent &e) override;
  void OnRejectedTotal(const RejectedTotalEvent &e) override;
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnTbExec(const TbExecEvent &e) override;
  void OnRingDropped(const RingDroppedEvent &e) override;
  void OnBlob(const BlobEvent &e) override;
  void OnCall(const CallEvent &e) override;
  void OnFilter(const FilterEvent &e) override;
  void OnFilterDropped(const FilterDroppedEvent &e) override;
  void OnFilterStats(const FilterStatsEvent &e) override;
  void OnOtherEvent(int64_t ts_ns, std::string_view class_name) override;
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override;
  void OnWarning(std::string message) override;
  bool WantsMarkDetails() const override { return next_.WantsMarkDetails(); }

  // Events seen (before selection) and passed on.
  uint64_t seen() const { return seen_; }
  uint64_t kept() const { return kept_; }
  // Marks, regions, switches and blocks passed on.
  uint64_t kept_activity() const { return kept_activity_; }
  // Whether the selection matched what it names: with --event, a mark or
  // region; otherwise a mark, region, switch or block.
  bool matched() const { return events_.any() ? kept_ids_ > 0 : kept_activity_ > 0; }
  // What the trace holds (complete while matched() is false).
  const TraceContents &contents() const { return contents_; }
  // --vm also keeps these traces (a run's VM named by its directory,
  // runs.h): call before reading.
  void KeepVmTraces(const std::vector<uint32_t> &traces);
  // Time of the first event seen (the origin of since/until), if any.
  std::optional<int64_t> origin_ns() const {
    return has_origin_ ? std::optional<int64_t>(origin_ns_) : std::nullopt;
  }

 private:
  // A small sorted set of ids: binary search, no allocation per lookup.
  class IdSet {
   public:
    explicit IdSet(std::vector<uint32_t> ids);
    bool any() const { return !ids_.empty(); }
    bool contains(uint32_t id) const;

   private:
    std::vector<uint32_t> ids_;
  };

  // The time window; also fixes the origin at the first event.
  bool InWindow(int64_t ts_ns);
  bool VmKept(uint32_t trace) const;
  // vm, vcpu, window: what marks, regions and switches share.
  bool Common(int64_t ts_ns, uint32_t trace, uint32_t vcpu);
  void Keep() { ++kept_; }
  void KeepActivity() {
    ++kept_;
    ++kept_activity_;
  }
  void KeepId() {
    KeepActivity();
    ++kept_ids_;
  }
  // Notes a mark, region, switch or block in contents_ until matched().
  void Note(uint32_t vcpu, uint32_t pid, uint32_t tid, const uint32_t *id);
  // A mark or a bulk mark (event `id` of a thread): noted, and kept when
  // every selector matches.
  bool SelectsMark(int64_t ts_ns, uint32_t trace, uint32_t vcpu, uint32_t pid, uint32_t tid, uint32_t id);

  EventVisitor &next_;
  std::vector<std::string> vms_;
  IdSet vcpus_, pids_, tids_, events_;
  bool has_since_, has_until_;
  int64_t since_ns_ = 0, until_ns_ = 0;  // offsets from the origin
  bool has_origin_ = false;
  int64_t origin_ns_ = 0;
  std::vector<char> vm_kept_;  // by trace: 1 when its session (or KeepVmTraces) named a selected VM
  uint64_t seen_ = 0, kept_ = 0, kept_activity_ = 0, kept_ids_ = 0;
  TraceContents contents_;
};

// Hands every event to several visitors, in order.
class TeeVisitor final : public EventVisitor {
 public:
  explicit TeeVisitor(std::vector<EventVisitor *> targets) : targets_(std::move(targets)) {}

  void OnMark(const MarkEvent &e) override;
  void OnRegion(const RegionEvent &e) override;
  void OnEventName(const EventNameEvent &e) override;
  void OnSession(const SessionEvent &e) override;
  void OnRejected(const RejectedEvent &e) override;
  void OnRejectedTotal(const RejectedTotalEvent &e) override;
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnTbExec(const TbExecEvent &e) override;
  void OnRingDropped(const RingDroppedEvent &e) override;
  void OnBlob(const BlobEvent &e) override;
  void OnCall(const CallEvent &e) override;
  void OnFilter(const FilterEvent &e) override;
  void OnFilterDropped(const FilterDroppedEvent &e) override;
  void OnFilterStats(const FilterStatsEvent &e) override;
  void OnOtherEvent(int64_t ts_ns, std::string_view class_name) override;
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override;
  void OnWarning(std::string message) override;
  bool WantsMarkDetails() const override;

 private:
  std::vector<EventVisitor *> targets_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_SELECTION_H
