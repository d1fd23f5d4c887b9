// SPDX-License-Identifier: MIT
#include "event_decoder.h"

#include <cstring>
#include <initializer_list>
#include <string_view>

namespace bdtrace::analyzer {

namespace {

// Expected payload fields per event, in the order the decoder reads them
// (not necessarily the trace's order), then fields added since the first
// release, which older traces lack (read as 0/empty, no warning). Names as
// babeltrace2 shows them. guest_ts is looked up for every class (see
// DescribeGuestTime).
struct Layout {
  const char *event_name;
  std::initializer_list<const char *> fields;
  std::initializer_list<const char *> optional = {};
};

const Layout kMarkLayout{"bdtrace:mark",
                         {"vcpu", "pid", "tid", "kind", "event", "a0", "a1", "a2", "a3", "seq", "text"}};
const Layout kRegionBeginLayout{"bdtrace:region_begin", {"vcpu", "pid", "tid", "region", "seq"}};
const Layout kRegionEndLayout{"bdtrace:region_end", {"vcpu", "pid", "tid", "region", "seq"}};
const Layout kEventNameLayout{"bdtrace:event_name", {"vcpu", "pid", "tid", "event", "name"}};
const Layout kSessionLayout{"bdtrace:session",
                            {"mode", "arch", "program", "abi_version", "host_pid", "vm"},
                            {"channel", "qemu_version", "plugin_api", "qemu_api"}};
const Layout kRejectedLayout{"bdtrace:rejected", {"vcpu", "tid", "reason", "reason_name", "addr"}};
const Layout kRejectedTotalLayout{"bdtrace:rejected_total", {"reason", "reason_name", "count"}};
const Layout kSchedSwitchLayout{
    "bdtrace:sched_switch",
    {"vcpu", "prev_pid", "prev_tid", "prev_comm", "prev_state", "next_pid", "next_tid", "next_comm"}};

const Layout kTbExecLayout{"bdtrace:tb_exec", {"vcpu", "pid", "tid", "pc", "n_insns"}};
// pc and n_insns: sequences of one element per block. guest_ts is read as
// for ring events (the first block's time).
const Layout kTbBatchLayout{"bdtrace:tb_batch", {"vcpu", "pid", "tid", "span_ns", "lost", "pc", "n_insns"}};
const Layout kTbCountsLayout{"bdtrace:tb_counts", {"pid", "pc", "n_insns", "executions"}};
// data: a sequence; only its length is read.
const Layout kBlobLayout{"bdtrace:blob", {"vcpu", "pid", "tid", "event", "data"}};
const Layout kCallLayout{"bdtrace:call",
                         {"vcpu", "pid", "tid", "event", "status", "in_len", "out_len", "duration_ns"}};
const Layout kRingDroppedLayout{"bdtrace:ring_dropped", {"ring", "pid", "tid", "count", "total", "final"}};

const Layout kFilterLayout{"bdtrace:filter", {"generation", "status", "digest", "path", "message", "rules"}};
const Layout kFilterDroppedLayout{"bdtrace:dropped",
                                  {"vcpu", "generation", "rule", "rule_name", "count", "total", "final"}};
const Layout kFilterStatsLayout{"bdtrace:filter_stats", {"vcpu", "recorded", "filtered", "rate_dropped"}};

// LTTng-UST's default clock: CLOCK_MONOTONIC, the clock guest_ts counts.
constexpr const char *kMonotonicClockName = "monotonic";

inline const bt_field *Member(const bt_field *payload, uint64_t index) {
  return bt_field_structure_borrow_member_field_by_index_const(payload, index);
}

}  // namespace

EventDecoder::Slot EventDecoder::FindField(const bt_field_class *payload, const char *name) {
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
  const char *clock_name = bt_clock_class_get_name(clock);
  if ((clock_name == nullptr || std::strcmp(clock_name, kMonotonicClockName) != 0) && !warned_guest_clock_) {
    warned_guest_clock_ = true;
    visitor_.OnWarning("the trace clock of " + info.name + " is '" +
                       (clock_name != nullptr ? clock_name : "") +
                       "', not LTTng's monotonic clock: its guest_ts times (CLOCK_MONOTONIC) "
                       "may be placed wrongly");
  }
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

EventDecoder::ClassInfo EventDecoder::Describe(const bt_event_class *cls, const bt_stream *stream) {
  ClassInfo info;
  const char *name = bt_event_class_get_name(cls);
  info.name = name != nullptr ? name : "";
  const bt_stream_class *stream_class = bt_event_class_borrow_stream_class_const(cls);
  info.has_clock = bt_stream_class_borrow_default_clock_class_const(stream_class) != nullptr;
  info.trace = TraceNumber(stream);

  static const std::pair<const Layout *, Type> kLayouts[] = {{&kMarkLayout, Type::kMark},
                                                             {&kRegionBeginLayout, Type::kRegionBegin},
                                                             {&kRegionEndLayout, Type::kRegionEnd},
                                                             {&kEventNameLayout, Type::kEventName},
                                                             {&kSessionLayout, Type::kSession},
                                                             {&kRejectedLayout, Type::kRejected},
                                                             {&kRejectedTotalLayout, Type::kRejectedTotal},
                                                             {&kSchedSwitchLayout, Type::kSchedSwitch},
                                                             {&kTbExecLayout, Type::kTbExec},
                                                             {&kTbBatchLayout, Type::kTbBatch},
                                                             {&kTbCountsLayout, Type::kTbCounts},
                                                             {&kRingDroppedLayout, Type::kRingDropped},
                                                             {&kFilterLayout, Type::kFilter},
                                                             {&kFilterDroppedLayout, Type::kFilterDropped},
                                                             {&kFilterStatsLayout, Type::kFilterStats},
                                                             {&kBlobLayout, Type::kBlob},
                                                             {&kCallLayout, Type::kCall}};
  const Layout *layout = nullptr;
  for (const auto &[candidate, type] : kLayouts) {
    if (info.name == candidate->event_name) {
      layout = candidate;
      info.type = type;
    }
  }
  if (layout == nullptr) return info;

  const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(cls);
  size_t slot = 0;
  for (const char *wanted : layout->fields) {
    Slot &s = info.slots[slot++];
    s = FindField(payload, wanted);
    if (s.kind == FieldKind::kMissing) {
      visitor_.OnWarning("event " + info.name + " has no usable field '" + wanted +
                         "' (read as 0/empty); was the trace written by another bdtrace version?");
    }
  }
  for (const char *wanted : layout->optional) info.slots[slot++] = FindField(payload, wanted);
  DescribeGuestTime(stream_class, payload, info);
  return info;
}

const EventDecoder::ClassInfo &EventDecoder::Lookup(const bt_event_class *cls, const bt_event *event) {
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
  visitor_.OnDiscardedEvents(d);
}

int64_t EventDecoder::Timestamp(const bt_message *msg, const ClassInfo &info) {
  int64_t ts = 0;
  if (info.has_clock) {
    const bt_clock_snapshot *snap = bt_message_event_borrow_default_clock_snapshot_const(msg);
    if (bt_clock_snapshot_get_ns_from_origin(snap, &ts) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK) {
      ts = 0;
      if (!warned_bad_clock_) {
        warned_bad_clock_ = true;
        visitor_.OnWarning("an event time overflows 64-bit nanoseconds; such times read as 0");
      }
    }
  } else if (!warned_no_clock_) {
    warned_no_clock_ = true;
    visitor_.OnWarning("events of " + info.name + " have no clock; their times read as 0");
  }
  return ts;
}

int64_t EventDecoder::GuestTime(uint64_t guest_ts, const ClassInfo &info, int64_t ts) {
  int64_t placed = 0;
  if (guest_ts <= static_cast<uint64_t>(INT64_MAX) &&
      !__builtin_add_overflow(info.guest_offset_ns, static_cast<int64_t>(guest_ts), &placed)) {
    return placed;
  }
  if (!warned_bad_guest_ts_) {
    warned_bad_guest_ts_ = true;
    visitor_.OnWarning(
        "a guest_ts overflows 64-bit nanoseconds; such events are placed at their "
        "emission time");
  }
  return ts;
}

// One event's payload, read through the slots its class's lookup found.
class EventDecoder::Fields {
 public:
  Fields(const bt_field *payload, const ClassInfo &info) : payload_(payload), info_(info) {}

  const bt_field *payload() const { return payload_; }
  // An integer field; 0 when the class lacks it.
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
  uint64_t U64(size_t slot) const { return Value(info_.slots[slot]); }
  uint32_t U32(size_t slot) const { return static_cast<uint32_t>(U64(slot)); }
  // A string field; empty when the class lacks it.
  std::string_view Str(size_t slot) const {
    const Slot &s = info_.slots[slot];
    if (s.kind != FieldKind::kString) return {};
    const bt_field *f = Member(payload_, s.index);
    return std::string_view(bt_field_string_get_value(f), bt_field_string_get_length(f));
  }

 private:
  const bt_field *payload_;
  const ClassInfo &info_;
};

void EventDecoder::OnEvent(const bt_message *msg) {
  const bt_event *event = bt_message_event_borrow_event_const(msg);
  const ClassInfo &info = Lookup(bt_event_borrow_class_const(event), event);
  // When LTTng recorded it: the call itself (trap), or the consumer's
  // emission of it (ring, then guest_ts says when the call was).
  const int64_t emitted = Timestamp(msg, info);

  if (info.type == Type::kOther) {
    order_.Add(OtherEvent{emitted, info.name}, emitted, false);
    return;
  }
  const Fields f(bt_event_borrow_payload_field_const(event), info);
  // guest_ts 0: a trap event (or a class without the field).
  const uint64_t guest_ts = f.Value(info.guest_ts);
  const bool guest = guest_ts != 0;
  const int64_t ts = guest ? GuestTime(guest_ts, info, emitted) : emitted;
  Deliver(f, info, ts, emitted, guest);
}

void EventDecoder::Deliver(const Fields &f, const ClassInfo &info, int64_t ts, int64_t emitted, bool guest) {
  const auto deliver = [&](const auto &e) { order_.Add(e, emitted, guest); };
  const uint32_t trace = info.trace;
  switch (info.type) {
    case Type::kMark:
      deliver(ReadMark(f, ts, trace));
      break;
    case Type::kRegionBegin:
    case Type::kRegionEnd:
      deliver(RegionEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.U32(3), f.U64(4),
                          info.type == Type::kRegionBegin, trace});
      break;
    case Type::kEventName:
      deliver(EventNameEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.U32(3), f.Str(4), trace});
      break;
    case Type::kSession: {
      SessionEvent e{ts,       f.Str(0), f.Str(1), f.Str(2), f.U32(3), f.U32(4),
                     f.Str(5), trace,    f.Str(6), f.Str(7), f.U32(8), f.U32(9)};
      // The ring consumer's events follow: hold from here, so that the
      // first of them is not already behind events passed on.
      if (e.channel == "ring") order_.Hold();
      deliver(e);
      break;
    }
    case Type::kRejected:
      deliver(RejectedEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.Str(3), f.U64(4), trace});
      break;
    case Type::kRejectedTotal:
      deliver(RejectedTotalEvent{ts, f.U32(0), f.Str(1), f.U64(2), trace});
      break;
    case Type::kSchedSwitch:
      deliver(SchedSwitchEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.Str(3), f.U64(4), f.U32(5), f.U32(6),
                               f.Str(7), trace});
      break;
    case Type::kTbExec:
      deliver(TbExecEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.U64(3), f.U32(4), trace});
      break;
    case Type::kTbBatch:
      DeliverBatch(f.payload(), info, ts, emitted);
      break;
    case Type::kTbCounts:
      DeliverCounts(f.payload(), info, ts);
      break;
    case Type::kRingDropped:
      deliver(RingDroppedEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.U64(3), f.U64(4), f.U64(5) != 0, trace});
      break;
    case Type::kFilter:
      deliver(FilterEvent{ts, f.U64(0), f.Str(1), f.Str(2), f.Str(3), f.Str(4), f.U32(5), trace});
      break;
    case Type::kFilterDropped:
      deliver(FilterDroppedEvent{ts, f.U32(0), f.U64(1), f.U32(2), f.Str(3), f.U64(4), f.U64(5),
                                 f.U64(6) != 0, trace});
      break;
    case Type::kFilterStats:
      deliver(FilterStatsEvent{ts, f.U32(0), f.U64(1), f.U64(2), f.U64(3), trace});
      break;
    case Type::kBlob:
      deliver(ReadBlob(f, info, ts));
      break;
    case Type::kCall:
      deliver(CallEvent{ts, f.U32(0), f.U32(1), f.U32(2), f.U32(3), static_cast<int32_t>(f.U64(4)), f.U32(5),
                        f.U32(6), f.U64(7), trace});
      break;
    case Type::kOther:
      break;
  }
}

MarkEvent EventDecoder::ReadMark(const Fields &f, int64_t ts, uint32_t trace) const {
  MarkEvent e{ts, f.U32(0), f.U32(1), f.U32(2), f.U32(3), f.U32(4), {0, 0, 0, 0}, 0, {}, trace};
  if (mark_details_) {
    e.args[0] = f.U64(5);
    e.args[1] = f.U64(6);
    e.args[2] = f.U64(7);
    e.args[3] = f.U64(8);
    e.seq = f.U64(9);
    e.text = f.Str(10);
  }
  return e;
}

// data (slot 4) is a sequence of bytes: its length, and its first kHead.
BlobEvent EventDecoder::ReadBlob(const Fields &f, const ClassInfo &info, int64_t ts) {
  const Slot &data = info.slots[4];
  const bt_field *array = data.kind == FieldKind::kArray ? Member(f.payload(), data.index) : nullptr;
  const uint64_t bytes = array != nullptr ? bt_field_array_get_length(array) : 0;
  BlobEvent e{ts, f.U32(0), f.U32(1), f.U32(2), f.U32(3), bytes, info.trace};
  for (uint64_t i = 0; i < bytes && i < BlobEvent::kHead; ++i) {
    const bt_field *b = bt_field_array_borrow_element_field_by_index_const(array, i);
    if (bt_field_get_class_type(b) == BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)
      e.head[i] = static_cast<uint8_t>(bt_field_integer_unsigned_get_value(b));
  }
  return e;
}

// Slots as kTbBatchLayout lists them. Each block is placed at the batch's
// time plus its share of span_ns by the instructions before it; the blocks
// go straight on (not reordered: they are many, and only counted by the
// reports so far).
void EventDecoder::DeliverBatch(const bt_field *payload, const ClassInfo &info, int64_t placed,
                                int64_t emitted) {
  const auto u64 = [&](size_t slot) -> uint64_t {
    const Slot &s = info.slots[slot];
    if (s.kind == FieldKind::kUnsigned) return bt_field_integer_unsigned_get_value(Member(payload, s.index));
    return 0;
  };
  const Slot &pcs_slot = info.slots[5], &insns_slot = info.slots[6];
  const bt_field *pcs = pcs_slot.kind == FieldKind::kArray ? Member(payload, pcs_slot.index) : nullptr;
  const bt_field *insns = insns_slot.kind == FieldKind::kArray ? Member(payload, insns_slot.index) : nullptr;
  uint64_t count = pcs != nullptr ? bt_field_array_get_length(pcs) : 0;
  if (insns == nullptr || bt_field_array_get_length(insns) != count) {
    if (!warned_bad_batch_) {
      warned_bad_batch_ = true;
      visitor_.OnWarning(
          "a bdtrace:tb_batch event whose pc and n_insns differ in length (or lack "
          "one): its blocks are not counted");
    }
    count = 0;
  }
  const auto element = [](const bt_field *array, uint64_t i) {
    return bt_field_integer_unsigned_get_value(bt_field_array_borrow_element_field_by_index_const(array, i));
  };
  TbExecEvent e{placed,
                static_cast<uint32_t>(u64(0)),
                static_cast<uint32_t>(u64(1)),
                static_cast<uint32_t>(u64(2)),
                0,
                0,
                info.trace};
  e.lost_before = u64(4);
  if (count == 0) {
    e.lost_only = true;
    order_.Add(e, emitted, false);
    return;
  }
  uint64_t total_insns = 0;
  for (uint64_t i = 0; i < count; ++i) total_insns += element(insns, i);
  const uint64_t span = u64(3);
  // Offset of the first `insns` instructions within the span.
  const auto at = [&](uint64_t insns_before) -> int64_t {
    return total_insns > 0
               ? static_cast<int64_t>(static_cast<unsigned __int128>(span) * insns_before / total_insns)
               : 0;
  };
  uint64_t before = 0;
  for (uint64_t i = 0; i < count; ++i) {
    e.pc = element(pcs, i);
    e.n_insns = static_cast<uint32_t>(element(insns, i));
    e.ts_ns = placed + at(before);
    e.dur_ns = at(before + e.n_insns) - at(before);
    order_.Add(e, emitted, false);
    before += e.n_insns;
    e.lost_before = 0;
    e.first_of_event = false;
  }
}

void EventDecoder::DeliverCounts(const bt_field *payload, const ClassInfo &info, int64_t ts) {
  const Slot &pid_slot = info.slots[0];
  const uint32_t pid =
      pid_slot.kind == FieldKind::kUnsigned
          ? static_cast<uint32_t>(bt_field_integer_unsigned_get_value(Member(payload, pid_slot.index)))
          : 0;
  const bt_field *arrays[3] = {};
  for (size_t i = 0; i < 3; ++i)
    if (info.slots[1 + i].kind == FieldKind::kArray) arrays[i] = Member(payload, info.slots[1 + i].index);
  uint64_t count = arrays[0] != nullptr ? bt_field_array_get_length(arrays[0]) : 0;
  if (arrays[1] == nullptr || arrays[2] == nullptr || bt_field_array_get_length(arrays[1]) != count ||
      bt_field_array_get_length(arrays[2]) != count) {
    if (!warned_bad_batch_) {
      warned_bad_batch_ = true;
      visitor_.OnWarning(
          "a bdtrace:tb_counts event whose pc, n_insns and executions differ in "
          "length (or lack one): its blocks are not counted");
    }
    return;
  }
  const auto element = [](const bt_field *array, uint64_t i) {
    return bt_field_integer_unsigned_get_value(bt_field_array_borrow_element_field_by_index_const(array, i));
  };
  TbExecEvent e{ts, 0, pid, pid, 0, 0, info.trace};
  e.aggregated = true;
  for (uint64_t i = 0; i < count; ++i) {
    e.pc = element(arrays[0], i);
    e.n_insns = static_cast<uint32_t>(element(arrays[1], i));
    e.times = element(arrays[2], i);
    order_.Add(e, ts, false);
    e.first_of_event = false;
  }
}

}  // namespace bdtrace::analyzer
