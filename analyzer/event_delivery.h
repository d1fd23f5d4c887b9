/* SPDX-License-Identifier: MIT */
// From one decoded bdtrace event to the EventVisitor, whichever reader
// decoded it: the event struct of its class (events.h) built from its
// payload, placed at its guest time when it has one, through the
// Reorderer.
//
// Fields (a template parameter, so that neither reader pays a virtual call
// per field) is the reader's view of one event's payload:
//   uint64_t Value(const Slot &)    an integer field (signed ones as their
//                                   two's complement); 0 when missing
//   std::string_view Str(const Slot &)  a string field; empty when missing
//   uint64_t Length(const Slot &)   an array's or sequence's element count
//   uint64_t Element(const Slot &, uint64_t i)  its unsigned element i
#ifndef BDTRACE_ANALYZER_EVENT_DELIVERY_H
#define BDTRACE_ANALYZER_EVENT_DELIVERY_H

#include <cstdint>
#include <string>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/reorder.h"
#include "event_layouts.h"

namespace bdtrace::analyzer {

class EventDelivery {
 public:
  EventDelivery(EventVisitor &visitor, ReorderOptions reorder)
      : visitor_(visitor), mark_details_(visitor.WantsMarkDetails()), order_(visitor, reorder) {}

  EventVisitor &visitor() { return visitor_; }

  // One event of class info, recorded by LTTng at `emitted` (ns from the
  // clock's origin).
  template <class Fields>
  void Event(const Fields &f, const ClassInfo &info, int64_t emitted) {
    if (info.type == EventType::kOther) {
      order_.Add(OtherEvent{emitted, info.name}, emitted, false);
      return;
    }
    // guest_ts 0: a trap event (or a class without the field).
    const uint64_t guest_ts = f.Value(info.guest_ts);
    const bool guest = guest_ts != 0;
    const int64_t ts = guest ? GuestTime(guest_ts, info, emitted) : emitted;
    Deliver(f, info, ts, emitted, guest);
  }

  void Discarded(const DiscardedEventsMessage &d) { visitor_.OnDiscardedEvents(d); }

  // The end of the input: passes on the events still held. May throw.
  void Finish() { order_.Flush(); }
  const ReorderStats &order_stats() const { return order_.stats(); }

  // An event time that does not fit 64-bit ns: read as 0, said once.
  void WarnBadClock() {
    if (warned_bad_clock_) return;
    warned_bad_clock_ = true;
    visitor_.OnWarning("an event time overflows 64-bit nanoseconds; such times read as 0");
  }
  void WarnNoClock(const std::string &class_name) {
    if (warned_no_clock_) return;
    warned_no_clock_ = true;
    visitor_.OnWarning("events of " + class_name + " have no clock; their times read as 0");
  }
  // guest_ts counts CLOCK_MONOTONIC, LTTng-UST's default clock "monotonic".
  void CheckGuestClock(const std::string &class_name, const char *clock_name);

 private:
  template <class Fields>
  void Deliver(const Fields &f, const ClassInfo &info, int64_t ts, int64_t emitted, bool guest);
  template <class Fields>
  MarkEvent ReadMark(const Fields &f, const ClassInfo &info, int64_t ts) const;
  template <class Fields>
  static BlobEvent ReadBlob(const Fields &f, const ClassInfo &info, int64_t ts);
  // A bdtrace:tb_batch: its blocks, one TbExecEvent each.
  template <class Fields>
  void DeliverBatch(const Fields &f, const ClassInfo &info, int64_t placed, int64_t emitted);
  // A bdtrace:tb_counts: one aggregated TbExecEvent per block.
  template <class Fields>
  void DeliverCounts(const Fields &f, const ClassInfo &info, int64_t ts);
  // When the event happened: its guest time when it fits, else ts.
  int64_t GuestTime(uint64_t guest_ts, const ClassInfo &info, int64_t ts);
  void WarnBadBatch(const char *what);

  EventVisitor &visitor_;
  // Read a mark's args, seq and text (asked once: the visitors are fixed).
  const bool mark_details_;
  bool warned_no_clock_ = false;
  bool warned_bad_clock_ = false;
  bool warned_bad_guest_ts_ = false;
  bool warned_guest_clock_ = false;
  bool warned_bad_batch_ = false;
  // Every event goes through it, to the visitor.
  Reorderer order_;
};

template <class Fields>
void EventDelivery::Deliver(const Fields &f, const ClassInfo &info, int64_t ts, int64_t emitted, bool guest) {
  const auto deliver = [&](const auto &e) { order_.Add(e, emitted, guest); };
  const auto u64 = [&](size_t slot) { return f.Value(info.slots[slot]); };
  const auto u32 = [&](size_t slot) { return static_cast<uint32_t>(f.Value(info.slots[slot])); };
  const auto str = [&](size_t slot) { return f.Str(info.slots[slot]); };
  const uint32_t trace = info.trace;
  switch (info.type) {
    case EventType::kMark:
      deliver(ReadMark(f, info, ts));
      break;
    case EventType::kRegionBegin:
    case EventType::kRegionEnd:
      deliver(RegionEvent{ts, u32(0), u32(1), u32(2), u32(3), u64(4), info.type == EventType::kRegionBegin,
                          trace});
      break;
    case EventType::kEventName:
      deliver(EventNameEvent{ts, u32(0), u32(1), u32(2), u32(3), str(4), trace});
      break;
    case EventType::kSession: {
      SessionEvent e{ts,     str(0), str(1), str(2), u32(3), u32(4),
                     str(5), trace,  str(6), str(7), u32(8), u32(9)};
      // The ring consumer's events follow: hold from here, so that the
      // first of them is not already behind events passed on.
      if (e.channel == "ring") order_.Hold();
      deliver(e);
      break;
    }
    case EventType::kRejected:
      deliver(RejectedEvent{ts, u32(0), u32(1), u32(2), str(3), u64(4), trace});
      break;
    case EventType::kRejectedTotal:
      deliver(RejectedTotalEvent{ts, u32(0), str(1), u64(2), trace});
      break;
    case EventType::kSchedSwitch:
      deliver(SchedSwitchEvent{ts, u32(0), u32(1), u32(2), str(3), u64(4), u32(5), u32(6), str(7), trace});
      break;
    case EventType::kTbExec:
      deliver(TbExecEvent{ts, u32(0), u32(1), u32(2), u64(3), u32(4), trace});
      break;
    case EventType::kTbBatch:
      DeliverBatch(f, info, ts, emitted);
      break;
    case EventType::kTbCounts:
      DeliverCounts(f, info, ts);
      break;
    case EventType::kRingDropped:
      deliver(RingDroppedEvent{ts, u32(0), u32(1), u32(2), u64(3), u64(4), u64(5) != 0, trace});
      break;
    case EventType::kFilter:
      deliver(FilterEvent{ts, u64(0), str(1), str(2), str(3), str(4), u32(5), trace});
      break;
    case EventType::kFilterDropped:
      deliver(FilterDroppedEvent{ts, u32(0), u64(1), u32(2), str(3), u64(4), u64(5), u64(6) != 0, trace});
      break;
    case EventType::kFilterStats:
      deliver(FilterStatsEvent{ts, u32(0), u64(1), u64(2), u64(3), trace});
      break;
    case EventType::kBlob:
      deliver(ReadBlob(f, info, ts));
      break;
    case EventType::kCall:
      deliver(CallEvent{ts, u32(0), u32(1), u32(2), u32(3), static_cast<int32_t>(u64(4)), u32(5), u32(6),
                        u64(7), trace});
      break;
    case EventType::kOther:
      break;
  }
}

template <class Fields>
MarkEvent EventDelivery::ReadMark(const Fields &f, const ClassInfo &info, int64_t ts) const {
  const auto u32 = [&](size_t slot) { return static_cast<uint32_t>(f.Value(info.slots[slot])); };
  MarkEvent e{ts, u32(0), u32(1), u32(2), u32(3), u32(4), {0, 0, 0, 0}, 0, {}, info.trace};
  if (mark_details_) {
    for (size_t i = 0; i < 4; ++i) e.args[i] = f.Value(info.slots[5 + i]);
    e.seq = f.Value(info.slots[9]);
    e.text = f.Str(info.slots[10]);
  }
  return e;
}

// data (slot 4) is a sequence of bytes: its length, and its first kHead.
template <class Fields>
BlobEvent EventDelivery::ReadBlob(const Fields &f, const ClassInfo &info, int64_t ts) {
  const Slot &data = info.slots[4];
  const uint64_t bytes = data.kind == FieldKind::kArray ? f.Length(data) : 0;
  const auto u32 = [&](size_t slot) { return static_cast<uint32_t>(f.Value(info.slots[slot])); };
  BlobEvent e{ts, u32(0), u32(1), u32(2), u32(3), bytes, info.trace};
  for (uint64_t i = 0; i < bytes && i < BlobEvent::kHead; ++i)
    e.head[i] = static_cast<uint8_t>(f.Element(data, i));
  return e;
}

// Slots as the tb_batch layout lists them. Each block is placed at the
// batch's time plus its share of span_ns by the instructions before it; the
// blocks go straight on (not reordered: they are many, and only counted by
// the reports so far).
template <class Fields>
void EventDelivery::DeliverBatch(const Fields &f, const ClassInfo &info, int64_t placed, int64_t emitted) {
  const Slot &pcs = info.slots[5], &insns = info.slots[6];
  uint64_t count = pcs.kind == FieldKind::kArray ? f.Length(pcs) : 0;
  if (insns.kind != FieldKind::kArray || f.Length(insns) != count) {
    WarnBadBatch(
        "a bdtrace:tb_batch event whose pc and n_insns differ in length (or lack one): its blocks are not "
        "counted");
    count = 0;
  }
  const auto u32 = [&](size_t slot) { return static_cast<uint32_t>(f.Value(info.slots[slot])); };
  TbExecEvent e{placed, u32(0), u32(1), u32(2), 0, 0, info.trace};
  e.lost_before = f.Value(info.slots[4]);
  if (count == 0) {
    e.lost_only = true;
    order_.Add(e, emitted, false);
    return;
  }
  uint64_t total_insns = 0;
  for (uint64_t i = 0; i < count; ++i) total_insns += f.Element(insns, i);
  const uint64_t span = f.Value(info.slots[3]);
  // Offset of the first `insns` instructions within the span.
  const auto at = [&](uint64_t insns_before) -> int64_t {
    return total_insns > 0
               ? static_cast<int64_t>(static_cast<unsigned __int128>(span) * insns_before / total_insns)
               : 0;
  };
  uint64_t before = 0;
  for (uint64_t i = 0; i < count; ++i) {
    e.pc = f.Element(pcs, i);
    e.n_insns = static_cast<uint32_t>(f.Element(insns, i));
    e.ts_ns = placed + at(before);
    e.dur_ns = at(before + e.n_insns) - at(before);
    order_.Add(e, emitted, false);
    before += e.n_insns;
    e.lost_before = 0;
    e.first_of_event = false;
  }
}

template <class Fields>
void EventDelivery::DeliverCounts(const Fields &f, const ClassInfo &info, int64_t ts) {
  const uint32_t pid = static_cast<uint32_t>(f.Value(info.slots[0]));
  const Slot &pcs = info.slots[1], &insns = info.slots[2], &times = info.slots[3];
  const uint64_t count = pcs.kind == FieldKind::kArray ? f.Length(pcs) : 0;
  if (insns.kind != FieldKind::kArray || times.kind != FieldKind::kArray || f.Length(insns) != count ||
      f.Length(times) != count) {
    WarnBadBatch(
        "a bdtrace:tb_counts event whose pc, n_insns and executions differ in length (or lack one): its "
        "blocks are not counted");
    return;
  }
  TbExecEvent e{ts, 0, pid, pid, 0, 0, info.trace};
  e.aggregated = true;
  for (uint64_t i = 0; i < count; ++i) {
    e.pc = f.Element(pcs, i);
    e.n_insns = static_cast<uint32_t>(f.Element(insns, i));
    e.times = f.Element(times, i);
    order_.Add(e, ts, false);
    e.first_of_event = false;
  }
}

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_EVENT_DELIVERY_H
