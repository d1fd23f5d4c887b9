// SPDX-License-Identifier: MIT
#include "event_decoder.h"

#include <cstring>
#include <string_view>

namespace bdtrace::analyzer {

namespace {

inline const bt_field *Member(const bt_field *payload, uint64_t index) {
  return bt_field_structure_borrow_member_field_by_index_const(payload, index);
}

// Where the member called name of a payload structure class is, and what
// kind of field it is.
Slot FindField(const bt_field_class *payload, const char *name) {
  Slot s;
  const uint64_t members = payload != nullptr ? bt_field_class_structure_get_member_count(payload) : 0;
  for (uint64_t i = 0; i < members; ++i) {
    const bt_field_class_structure_member *member =
        bt_field_class_structure_borrow_member_by_index_const(payload, i);
    if (std::strcmp(bt_field_class_structure_member_get_name(member), name) != 0) continue;
    const bt_field_class_type t =
        bt_field_class_get_type(bt_field_class_structure_member_borrow_field_class_const(member));
    s.index = i;
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
      s.kind = FieldKind::kUnsigned;
    } else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
      s.kind = FieldKind::kSigned;
    } else if (t == BT_FIELD_CLASS_TYPE_STRING) {
      s.kind = FieldKind::kString;
    } else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY)) {
      s.kind = FieldKind::kArray;
    }
    break;
  }
  return s;
}

// One event's payload as event_delivery.h reads it.
class BtFields {
 public:
  explicit BtFields(const bt_field *payload) : payload_(payload) {}

  uint64_t Value(const Slot &s) const {
    switch (s.kind) {
      case FieldKind::kUnsigned:
        return bt_field_integer_unsigned_get_value(Member(payload_, s.index));
      case FieldKind::kSigned:
        return static_cast<uint64_t>(bt_field_integer_signed_get_value(Member(payload_, s.index)));
      default:
        return 0;
    }
  }
  std::string_view Str(const Slot &s) const {
    if (s.kind != FieldKind::kString) return {};
    const bt_field *f = Member(payload_, s.index);
    return std::string_view(bt_field_string_get_value(f), bt_field_string_get_length(f));
  }
  uint64_t Length(const Slot &s) const {
    return s.kind == FieldKind::kArray ? bt_field_array_get_length(Member(payload_, s.index)) : 0;
  }
  uint64_t Element(const Slot &s, uint64_t i) const {
    const bt_field *e = bt_field_array_borrow_element_field_by_index_const(Member(payload_, s.index), i);
    return bt_field_class_type_is(bt_field_get_class_type(e), BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)
               ? bt_field_integer_unsigned_get_value(e)
               : 0;
  }

 private:
  const bt_field *payload_;
};

}  // namespace

// guest_ts counts host CLOCK_MONOTONIC ns, as LTTng-UST's clock does; an
// event time is the clock class's offset (from its origin, the Unix epoch
// for LTTng) plus its value. So the guest time in the same frame is that
// offset plus guest_ts: one offset per class, none of the work per event.
void EventDecoder::DescribeGuestTime(const bt_stream_class *stream_class, const bt_field_class *payload,
                                     ClassInfo &info) {
  const Slot slot = FindField(payload, "guest_ts");
  if (slot.kind != FieldKind::kUnsigned) return;  // an older trace: no ring events
  const bt_clock_class *clock = bt_stream_class_borrow_default_clock_class_const(stream_class);
  if (clock == nullptr || bt_clock_class_cycles_to_ns_from_origin(clock, 0, &info.guest_offset_ns) !=
                              BT_CLOCK_CLASS_CYCLES_TO_NS_FROM_ORIGIN_STATUS_OK) {
    return;  // no usable clock: event times read as 0 anyway (Timestamp warns)
  }
  info.guest_ts = slot;
  delivery_.CheckGuestClock(info.name, bt_clock_class_get_name(clock));
}

void EventDecoder::NumberTracesByName(const std::vector<std::string> &names) {
  for (size_t i = 0; i < names.size(); ++i) trace_numbers_.emplace(names[i], static_cast<uint32_t>(i));
  next_trace_ = static_cast<uint32_t>(names.size());
}

uint32_t EventDecoder::TraceNumber(const bt_stream *stream) {
  const bt_trace_class *trace_class =
      bt_stream_class_borrow_trace_class_const(bt_stream_borrow_class_const(stream));
  if (auto it = traces_.find(trace_class); it != traces_.end()) return it->second;
  // source.ctf.fs names it "<hostname>/<trace-name>" when the trace's
  // environment has a hostname, else "<trace-name>".
  const char *raw = bt_trace_get_name(bt_stream_borrow_trace_const(stream));
  const std::string name = raw != nullptr ? raw : "";
  auto named = trace_numbers_.find(name);
  if (const size_t slash = name.find('/'); named == trace_numbers_.end() && slash != std::string::npos) {
    named = trace_numbers_.find(name.substr(slash + 1));
  }
  const uint32_t number = named != trace_numbers_.end() ? named->second : next_trace_++;
  traces_.emplace(trace_class, number);
  return number;
}

ClassInfo EventDecoder::Describe(const bt_event_class *cls, const bt_stream *stream) {
  ClassInfo info;
  const char *name = bt_event_class_get_name(cls);
  info.name = name != nullptr ? name : "";
  const bt_stream_class *stream_class = bt_event_class_borrow_stream_class_const(cls);
  info.has_clock = bt_stream_class_borrow_default_clock_class_const(stream_class) != nullptr;
  info.trace = TraceNumber(stream);
  const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(cls);
  DescribeFields(
      info, [&](const char *field) { return FindField(payload, field); },
      [&](std::string warning) { delivery_.visitor().OnWarning(std::move(warning)); });
  if (info.type != EventType::kOther) DescribeGuestTime(stream_class, payload, info);
  return info;
}

const ClassInfo &EventDecoder::Lookup(const bt_event_class *cls, const bt_event *event) {
  if (cls == last_class_) return *last_info_;
  auto it = classes_.find(cls);
  if (it == classes_.end())
    it = classes_.emplace(cls, Describe(cls, bt_event_borrow_stream_const(event))).first;
  last_class_ = cls;
  last_info_ = &it->second;  // stable: unordered_map never moves its values
  return *last_info_;
}

void EventDecoder::OnMessage(const bt_message *msg) {
  switch (bt_message_get_type(msg)) {
    case BT_MESSAGE_TYPE_EVENT:
      OnEvent(msg);
      break;
    case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
      OnDiscarded(msg);
      break;
    default:
      break;
  }
}

void EventDecoder::OnDiscarded(const bt_message *msg) {
  DiscardedEventsMessage d;
  uint64_t count = 0;
  if (bt_message_discarded_events_get_count(msg, &count) == BT_PROPERTY_AVAILABILITY_AVAILABLE) {
    d.count = count;
  } else {
    d.count_known = false;
  }
  const bt_stream *stream = bt_message_discarded_events_borrow_stream_const(msg);
  d.trace = TraceNumber(stream);
  // source.ctf.fs names a stream by its file's path: keep the file name.
  const char *name = bt_stream_get_name(stream);
  std::string_view sv = name != nullptr ? name : "";
  if (const size_t slash = sv.rfind('/'); slash != std::string_view::npos) sv.remove_prefix(slash + 1);
  std::string fallback;
  if (sv.empty()) {
    fallback = "stream " + std::to_string(bt_stream_get_id(stream));
    sv = fallback;
  }
  d.stream = sv;
  delivery_.Discarded(d);
}

int64_t EventDecoder::Timestamp(const bt_message *msg, const ClassInfo &info) {
  int64_t ts = 0;
  if (info.has_clock) {
    const bt_clock_snapshot *snap = bt_message_event_borrow_default_clock_snapshot_const(msg);
    if (bt_clock_snapshot_get_ns_from_origin(snap, &ts) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK) {
      ts = 0;
      delivery_.WarnBadClock();
    }
  } else {
    delivery_.WarnNoClock(info.name);
  }
  return ts;
}

void EventDecoder::OnEvent(const bt_message *msg) {
  const bt_event *event = bt_message_event_borrow_event_const(msg);
  const ClassInfo &info = Lookup(bt_event_borrow_class_const(event), event);
  // When LTTng recorded it: the call itself (trap), or the consumer's
  // emission of it (ring, then guest_ts says when the call was).
  const int64_t emitted = Timestamp(msg, info);
  delivery_.Event(BtFields(bt_event_borrow_payload_field_const(event)), info, emitted);
}

}  // namespace bdtrace::analyzer
