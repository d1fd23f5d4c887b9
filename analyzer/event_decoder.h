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

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/reorder.h"
#include "event_delivery.h"
#include "event_layouts.h"

namespace bdtrace::analyzer {

class EventDecoder {
 public:
  explicit EventDecoder(EventVisitor &visitor, ReorderOptions reorder = {}) : delivery_(visitor, reorder) {}

  // Numbers each trace by the index of its name in names (the reader names
  // each source's trace after its directory): trace i is trace_dirs[i].
  // Traces with other names, or all without this call, are numbered in the
  // order met, after those.
  void NumberTracesByName(const std::vector<std::string> &names);

  // Handles one message (events and discarded-events; others are ignored).
  // Does not take the message's reference. May throw.
  void OnMessage(const bt_message *msg);
  // The end of the input: passes on the events still held. May throw.
  void Finish() { delivery_.Finish(); }

  const ReorderStats &order_stats() const { return delivery_.order_stats(); }

 private:
  const ClassInfo &Lookup(const bt_event_class *cls, const bt_event *event);
  ClassInfo Describe(const bt_event_class *cls, const bt_stream *stream);
  // The number of the trace stream is from (see NumberTracesByName).
  uint32_t TraceNumber(const bt_stream *stream);
  void DescribeGuestTime(const bt_stream_class *stream_class, const bt_field_class *payload, ClassInfo &info);
  void OnEvent(const bt_message *msg);
  void OnDiscarded(const bt_message *msg);
  int64_t Timestamp(const bt_message *msg, const ClassInfo &info);

  EventDelivery delivery_;
  std::unordered_map<const bt_event_class *, ClassInfo> classes_;
  // Each source.ctf.fs component (one per trace directory) makes its own
  // trace class, so event classes say which trace an event is from.
  std::unordered_map<const bt_trace_class *, uint32_t> traces_;
  std::unordered_map<std::string, uint32_t> trace_numbers_;  // by trace name
  uint32_t next_trace_ = 0;                                  // the number of the next unnamed trace
  // Consecutive events are often of the same class: skip the hash lookup.
  const bt_event_class *last_class_ = nullptr;
  const ClassInfo *last_info_ = nullptr;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_EVENT_DECODER_H
