/* SPDX-License-Identifier: MIT */
// Puts events back into the order they happened in when some were emitted
// late: what the reader does for ring-channel events.
//
// A ring event happened at its guest_ts, but the ring consumer emits it
// some time later (typically < 1 ms; more when it falls behind), and
// babeltrace2's muxer delivers events in emission order. Within one guest
// thread ring events keep their order; across threads one may arrive a few
// ms after events that happened later. The consumers (model, selection,
// timeline, exporters) want time order: a taskless mark belongs to the task
// running on its vCPU *at its time*, a CPU interval ends at the next switch
// *in time*.
//
// How: every event comes with two times, when it happened (its ts_ns) and
// when it was emitted (its LTTng time); emission times never decrease. An
// event emitted at E happened no earlier than E - window (the lag this
// accepts), so once an event emitted at E has arrived, every held event
// that happened at or before E - window can go: nothing still to come can
// precede it. They go in (time, arrival) order.
//
// Held events are kept as sorted runs, not in one heap: each ring's events
// arrive in their own order, so an event almost always extends the run
// whose last event is the latest before it (the runs are about as many as
// the rings the consumer interleaves), and releasing takes the earliest
// run head. Appending and releasing walk memory in order; a binary heap of
// the window's tens of thousands of events missed the cache at every level
// and doubled the cost of reading a ring trace.
//
// Cost: until the first event placed at a guest time (or Hold(), for a ring
// session), events pass straight through: trap-only traces pay a compare
// per event. From then on every event is copied (strings into its slot's
// reused buffer: no allocation once warm) and held.
// Memory: at most max_held events; beyond that the earliest are released
// before their window passed (counted), which narrows the window.
//
// Late events: one that happened before an event already released (its lag
// exceeded the window, or max_held released early) is passed on at once,
// with its own time, out of order, and counted. The consumers never count
// time backwards (they clamp), but such an event may be misplaced: e.g. a
// taskless mark given to the task running when it arrived, or drawn by the
// exporters at the latest time seen. stats() says how many and by how
// much, so reports can say so instead of hiding it.
#ifndef BDTRACE_ANALYZER_REORDER_H
#define BDTRACE_ANALYZER_REORDER_H

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bdtrace/analyzer/events.h"

namespace bdtrace::analyzer {

// An event of another provider (EventVisitor::OnOtherEvent's arguments).
struct OtherEvent {
  int64_t ts_ns;
  std::string_view class_name;
};

struct ReorderOptions {
  // The largest emission lag kept in order: 50 ms is 50x the consumer's
  // usual lag and still small next to what a report resolves.
  int64_t window_ns = 50'000'000;
  // Events held at most (~150 bytes each): 65536 is ~10 MB, and at 1 M
  // events/s of trace time still a 65 ms window.
  size_t max_held = 65536;
};

struct ReorderStats {
  uint64_t guest_events = 0;  // events placed at their guest time
  uint64_t max_lag_ns = 0;    // largest emission time - guest time
  // Guest times after the emission time (a clock mapping error): placed at
  // the emission time, since the call cannot have come after it.
  uint64_t after_emission = 0;
  uint64_t max_after_emission_ns = 0;
  uint64_t late_events = 0;     // came after a later event was released
  uint64_t max_late_ns = 0;     // how much earlier than that event, at most
  uint64_t early_releases = 0;  // released before the window passed (max_held)
};

class Reorderer {
 public:
  // next must outlive this.
  explicit Reorderer(EventVisitor &next, ReorderOptions options = {}) : next_(next), options_(options) {}

  // Start holding events now (a ring session arrived: its events follow).
  void Hold() { holding_ = true; }
  bool holding() const { return holding_; }

  // e.ts_ns: when it happened; emitted_ns: its LTTng time; guest: ts_ns is
  // a guest time (a ring event). The event's strings are copied when held.
  // May call next (and throw what it throws).
  template <typename E>
  void Add(const E &e, int64_t emitted_ns, bool guest) {
    if (!holding_) {
      if (!guest) {
        if (e.ts_ns > released_ns_) released_ns_ = e.ts_ns;
        Deliver(e);
        return;
      }
      holding_ = true;
    }
    const uint32_t slot = Acquire();
    Held &h = held_[slot];
    E &copy = h.event.template emplace<E>(e);
    Own(copy, h.store);
    Push(slot, copy.ts_ns, emitted_ns, guest);
  }

  // Passes on everything still held, in time order (the end of the input).
  void Flush();

  const ReorderStats &stats() const { return stats_; }
  const ReorderOptions &options() const { return options_; }

 private:
  using AnyEvent =
      std::variant<MarkEvent, RegionEvent, EventNameEvent, SessionEvent, RejectedEvent, RejectedTotalEvent,
                   SchedSwitchEvent, TbExecEvent, RingDroppedEvent, FilterEvent, FilterDroppedEvent,
                   FilterStatsEvent, BlobEvent, CallEvent, OtherEvent>;
  // A held event. Slots never move (a deque grows at the end only), so the
  // event's string_views may point into its own store.
  struct Held {
    AnyEvent event;
    std::string store;
  };
  struct Key {
    int64_t ts_ns;
    uint64_t arrival;
    uint32_t slot;
  };
  static bool Earlier(const Key &a, const Key &b) {
    return a.ts_ns != b.ts_ns ? a.ts_ns < b.ts_ns : a.arrival < b.arrival;
  }
  // Keys in (time, arrival) order. Runs emptied by releases are reused.
  using Run = std::deque<Key>;
  // Beyond this many runs (events out of order in more ways than rings
  // exist), an event is inserted in place into the run ending closest.
  static constexpr size_t kMaxRuns = 256;

  // Copies e's strings into store and points e at the copies.
  static void Own(MarkEvent &e, std::string &store);
  static void Own(EventNameEvent &e, std::string &store);
  static void Own(SessionEvent &e, std::string &store);
  static void Own(RejectedEvent &e, std::string &store);
  static void Own(RejectedTotalEvent &e, std::string &store);
  static void Own(SchedSwitchEvent &e, std::string &store);
  static void Own(FilterEvent &e, std::string &store);
  static void Own(FilterDroppedEvent &e, std::string &store);
  static void Own(OtherEvent &e, std::string &store);
  template <typename E>
  static void Own(E &, std::string &) {}  // no strings

  void Deliver(const MarkEvent &e) { next_.OnMark(e); }
  void Deliver(const RegionEvent &e) { next_.OnRegion(e); }
  void Deliver(const EventNameEvent &e) { next_.OnEventName(e); }
  void Deliver(const SessionEvent &e) { next_.OnSession(e); }
  void Deliver(const RejectedEvent &e) { next_.OnRejected(e); }
  void Deliver(const RejectedTotalEvent &e) { next_.OnRejectedTotal(e); }
  void Deliver(const SchedSwitchEvent &e) { next_.OnSchedSwitch(e); }
  void Deliver(const TbExecEvent &e) { next_.OnTbExec(e); }
  void Deliver(const RingDroppedEvent &e) { next_.OnRingDropped(e); }
  void Deliver(const BlobEvent &e) { next_.OnBlob(e); }
  void Deliver(const CallEvent &e) { next_.OnCall(e); }
  void Deliver(const FilterEvent &e) { next_.OnFilter(e); }
  void Deliver(const FilterDroppedEvent &e) { next_.OnFilterDropped(e); }
  void Deliver(const FilterStatsEvent &e) { next_.OnFilterStats(e); }
  void Deliver(const OtherEvent &e) { next_.OnOtherEvent(e.ts_ns, e.class_name); }

  uint32_t Acquire();
  // Accounts for the event in slot, holds it (or passes it on when late)
  // and releases what the emission time says is safe.
  void Push(uint32_t slot, int64_t &ts_ns, int64_t emitted_ns, bool guest);
  void Insert(const Key &key);
  // The run holding the earliest key (held_count_ > 0).
  Run &EarliestRun();
  void ReleaseOldest();
  void DeliverSlot(uint32_t slot);

  EventVisitor &next_;
  const ReorderOptions options_;
  bool holding_ = false;
  // The latest time passed on so far (INT64_MIN: none).
  int64_t released_ns_ = INT64_MIN;
  uint64_t arrivals_ = 0;
  std::deque<Held> held_;
  std::vector<uint32_t> free_;
  std::vector<Run> runs_;
  size_t held_count_ = 0;
  ReorderStats stats_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_REORDER_H
