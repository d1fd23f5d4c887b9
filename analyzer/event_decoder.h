/* SPDX-License-Identifier: MIT */
// Decodes babeltrace2 messages into bdtrace events for an EventVisitor.
//
// Field positions are looked up once per event class (by name, then cached
// by class pointer); per event only indexes are used.
//
// Ring events (a non-zero guest_ts field) are placed at their guest time
// and put back into time order by a Reorderer (see reorder.h and reader.h,
// "Guest time").
#ifndef BDTRACE_ANALYZER_EVENT_DECODER_H
#define BDTRACE_ANALYZER_EVENT_DECODER_H

#include <babeltrace2/babeltrace.h>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/reorder.h"

namespace bdtrace::analyzer {

class EventDecoder {
 public:
  explicit EventDecoder(EventVisitor &visitor, ReorderOptions reorder = {})
      : visitor_(visitor), mark_details_(visitor.WantsMarkDetails()), order_(visitor, reorder) {}

  // Numbers each trace by the index of its name in names (the reader names
  // each source's trace after its directory): trace i is trace_dirs[i].
  // Traces with other names, or all without this call, are numbered in the
  // order met, after those.
  void NumberTracesByName(const std::vector<std::string> &names);

  // Handles one message (events and discarded-events; others are ignored).
  // Does not take the message's reference. May throw.
  void OnMessage(const bt_message *msg);
  // The end of the input: passes on the events still held. May throw.
  void Finish() { order_.Flush(); }

  const ReorderStats &order_stats() const { return order_.stats(); }
  const ReorderOptions &order_options() const { return order_.options(); }

 private:
  enum class Type {
    kMark,
    kRegionBegin,
    kRegionEnd,
    kEventName,
    kSession,
    kRejected,
    kRejectedTotal,
    kSchedSwitch,
    kTbExec,
    kTbBatch,
    kTbCounts,
    kRingDropped,
    kFilter,
    kFilterDropped,
    kFilterStats,
    kBlob,
    kCall,
    kOther
  };
  enum class FieldKind { kMissing, kUnsigned, kSigned, kString, kArray };
  struct Slot {
    uint64_t index = 0;
    FieldKind kind = FieldKind::kMissing;
  };
  static constexpr size_t kMaxFields = 11;
  struct ClassInfo {
    Type type = Type::kOther;
    bool has_clock = false;
    uint32_t trace = 0;  // numbers the trace class: one per trace read
    std::string name;
    std::array<Slot, kMaxFields> slots;
    // guest_ts (ring events; absent from traces older than the ring).
    Slot guest_ts;
    // guest_ts + this = the guest time as ns from the clock's origin.
    int64_t guest_offset_ns = 0;
  };

  const ClassInfo &Lookup(const bt_event_class *cls, const bt_event *event);
  ClassInfo Describe(const bt_event_class *cls, const bt_stream *stream);
  // The number of the trace stream is from (see NumberTracesByName).
  uint32_t TraceNumber(const bt_stream *stream);
  static Slot FindField(const bt_field_class *payload, const char *name);
  void DescribeGuestTime(const bt_stream_class *stream_class, const bt_field_class *payload, ClassInfo &info);
  void OnEvent(const bt_message *msg);
  class Fields;  // event_decoder.cc: one event's payload, by slot
  // The event of info's type that the payload holds, to the reorderer.
  void Deliver(const Fields &f, const ClassInfo &info, int64_t ts, int64_t emitted, bool guest);
  // Args, seq and text only when the visitor wants them (mark_details_).
  MarkEvent ReadMark(const Fields &f, int64_t ts, uint32_t trace) const;
  static BlobEvent ReadBlob(const Fields &f, const ClassInfo &info, int64_t ts);
  void OnDiscarded(const bt_message *msg);
  // A bdtrace:tb_batch: its blocks, one TbExecEvent each.
  void DeliverBatch(const bt_field *payload, const ClassInfo &info, int64_t placed, int64_t emitted);
  // A bdtrace:tb_counts: one aggregated TbExecEvent per block.
  void DeliverCounts(const bt_field *payload, const ClassInfo &info, int64_t ts);
  int64_t Timestamp(const bt_message *msg, const ClassInfo &info);
  // When the event happened: its guest time when it has one, else ts.
  int64_t GuestTime(uint64_t guest_ts, const ClassInfo &info, int64_t ts);

  EventVisitor &visitor_;
  // Read a mark's args, seq and text (asked once: the visitors are fixed).
  const bool mark_details_;
  std::unordered_map<const bt_event_class *, ClassInfo> classes_;
  // Each source.ctf.fs component (one per trace directory) makes its own
  // trace class, so event classes say which trace an event is from.
  std::unordered_map<const bt_trace_class *, uint32_t> traces_;
  std::unordered_map<std::string, uint32_t> trace_numbers_;  // by trace name
  uint32_t next_trace_ = 0;                                  // the number of the next unnamed trace
  // Consecutive events are often of the same class: skip the hash lookup.
  const bt_event_class *last_class_ = nullptr;
  const ClassInfo *last_info_ = nullptr;
  bool warned_no_clock_ = false;
  bool warned_bad_clock_ = false;
  bool warned_bad_guest_ts_ = false;
  bool warned_guest_clock_ = false;
  bool warned_bad_batch_ = false;
  // Every event goes through it, to the visitor.
  Reorderer order_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_EVENT_DECODER_H
