#include "event_decoder.h"

#include <cstring>
#include <initializer_list>
#include <string_view>

namespace bdtrace::analyzer {

namespace {

// Expected payload fields per event, in the order the decoder reads them
// (not necessarily the trace's order). Names as babeltrace2 shows them.
struct Layout {
  const char *event_name;
  std::initializer_list<const char *> fields;
};

const Layout kMarkLayout{"bdtrace:mark", {"vcpu", "pid", "tid", "kind", "event", "a0", "a1",
                                          "a2", "a3", "seq", "text"}};
const Layout kRegionBeginLayout{"bdtrace:region_begin", {"vcpu", "pid", "tid", "region", "seq"}};
const Layout kRegionEndLayout{"bdtrace:region_end", {"vcpu", "pid", "tid", "region", "seq"}};
const Layout kEventNameLayout{"bdtrace:event_name", {"vcpu", "pid", "tid", "event", "name"}};
const Layout kSessionLayout{"bdtrace:session",
                            {"mode", "arch", "program", "abi_version", "host_pid", "vm"}};
const Layout kRejectedLayout{"bdtrace:rejected", {"vcpu", "tid", "reason", "reason_name", "addr"}};
const Layout kRejectedTotalLayout{"bdtrace:rejected_total", {"reason", "reason_name", "count"}};
const Layout kSchedSwitchLayout{"bdtrace:sched_switch",
                                {"vcpu", "prev_pid", "prev_tid", "prev_comm", "prev_state",
                                 "next_pid", "next_tid", "next_comm"}};

const Layout kTbExecLayout{"bdtrace:tb_exec", {"vcpu", "pid", "tid", "pc", "n_insns"}};

inline const bt_field *Member(const bt_field *payload, uint64_t index) {
  return bt_field_structure_borrow_member_field_by_index_const(payload, index);
}

}  // namespace

EventDecoder::ClassInfo EventDecoder::Describe(const bt_event_class *cls) {
  ClassInfo info;
  const char *name = bt_event_class_get_name(cls);
  info.name = name != nullptr ? name : "";
  const bt_stream_class *stream_class = bt_event_class_borrow_stream_class_const(cls);
  info.has_clock = bt_stream_class_borrow_default_clock_class_const(stream_class) != nullptr;
  const bt_trace_class *trace_class = bt_stream_class_borrow_trace_class_const(stream_class);
  info.trace = traces_.emplace(trace_class, static_cast<uint32_t>(traces_.size())).first->second;

  static const std::pair<const Layout *, Type> kLayouts[] = {
      {&kMarkLayout, Type::kMark},           {&kRegionBeginLayout, Type::kRegionBegin},
      {&kRegionEndLayout, Type::kRegionEnd}, {&kEventNameLayout, Type::kEventName},
      {&kSessionLayout, Type::kSession},     {&kRejectedLayout, Type::kRejected},
      {&kRejectedTotalLayout, Type::kRejectedTotal}, {&kSchedSwitchLayout, Type::kSchedSwitch},
      {&kTbExecLayout, Type::kTbExec}};
  const Layout *layout = nullptr;
  for (const auto &[candidate, type] : kLayouts) {
    if (info.name == candidate->event_name) {
      layout = candidate;
      info.type = type;
    }
  }
  if (layout == nullptr) return info;

  const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(cls);
  const uint64_t members =
      payload != nullptr ? bt_field_class_structure_get_member_count(payload) : 0;
  size_t slot = 0;
  for (const char *wanted : layout->fields) {
    Slot &s = info.slots[slot++];
    for (uint64_t i = 0; i < members; ++i) {
      const bt_field_class_structure_member *member =
          bt_field_class_structure_borrow_member_by_index_const(payload, i);
      if (std::strcmp(bt_field_class_structure_member_get_name(member), wanted) != 0) continue;
      const bt_field_class_type t =
          bt_field_class_get_type(bt_field_class_structure_member_borrow_field_class_const(member));
      s.index = i;
      if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
        s.kind = FieldKind::kUnsigned;
      } else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
        s.kind = FieldKind::kSigned;
      } else if (t == BT_FIELD_CLASS_TYPE_STRING) {
        s.kind = FieldKind::kString;
      }
      break;
    }
    if (s.kind == FieldKind::kMissing) {
      visitor_.OnWarning("event " + info.name + " has no usable field '" + wanted +
                         "' (read as 0/empty); was the trace written by another bdtrace version?");
    }
  }
  return info;
}

const EventDecoder::ClassInfo &EventDecoder::Lookup(const bt_event_class *cls) {
  if (cls == last_class_) return *last_info_;
  auto it = classes_.find(cls);
  if (it == classes_.end()) it = classes_.emplace(cls, Describe(cls)).first;
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
  uint64_t count = 0;
  if (bt_message_discarded_events_get_count(msg, &count) == BT_PROPERTY_AVAILABILITY_AVAILABLE) {
    visitor_.OnDiscardedEvents(count, true);
  } else {
    visitor_.OnDiscardedEvents(1, false);
  }
}

void EventDecoder::OnEvent(const bt_message *msg) {
  const bt_event *event = bt_message_event_borrow_event_const(msg);
  const ClassInfo &info = Lookup(bt_event_borrow_class_const(event));

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

  if (info.type == Type::kOther) {
    visitor_.OnOtherEvent(ts, info.name);
    return;
  }
  const bt_field *payload = bt_event_borrow_payload_field_const(event);
  const auto u64 = [&](size_t slot) -> uint64_t {
    const Slot &s = info.slots[slot];
    switch (s.kind) {
      case FieldKind::kUnsigned:
        return bt_field_integer_unsigned_get_value(Member(payload, s.index));
      case FieldKind::kSigned:
        return static_cast<uint64_t>(bt_field_integer_signed_get_value(Member(payload, s.index)));
      default:
        return 0;
    }
  };
  const auto u32 = [&](size_t slot) { return static_cast<uint32_t>(u64(slot)); };
  const auto str = [&](size_t slot) -> std::string_view {
    const Slot &s = info.slots[slot];
    if (s.kind != FieldKind::kString) return {};
    const bt_field *f = Member(payload, s.index);
    return std::string_view(bt_field_string_get_value(f), bt_field_string_get_length(f));
  };

  switch (info.type) {
    case Type::kMark: {
      MarkEvent e{ts, u32(0), u32(1), u32(2), u32(3), u32(4), {0, 0, 0, 0}, 0, {}, info.trace};
      if (mark_details_) {
        e.args[0] = u64(5);
        e.args[1] = u64(6);
        e.args[2] = u64(7);
        e.args[3] = u64(8);
        e.seq = u64(9);
        e.text = str(10);
      }
      visitor_.OnMark(e);
      break;
    }
    case Type::kRegionBegin:
    case Type::kRegionEnd: {
      RegionEvent e{ts,     u32(0), u32(1), u32(2), u32(3),
                    u64(4), info.type == Type::kRegionBegin, info.trace};
      visitor_.OnRegion(e);
      break;
    }
    case Type::kEventName: {
      EventNameEvent e{ts, u32(0), u32(1), u32(2), u32(3), str(4), info.trace};
      visitor_.OnEventName(e);
      break;
    }
    case Type::kSession: {
      SessionEvent e{ts, str(0), str(1), str(2), u32(3), u32(4), str(5), info.trace};
      visitor_.OnSession(e);
      break;
    }
    case Type::kRejected: {
      RejectedEvent e{ts, u32(0), u32(1), u32(2), str(3), u64(4), info.trace};
      visitor_.OnRejected(e);
      break;
    }
    case Type::kRejectedTotal: {
      RejectedTotalEvent e{ts, u32(0), str(1), u64(2), info.trace};
      visitor_.OnRejectedTotal(e);
      break;
    }
    case Type::kSchedSwitch: {
      SchedSwitchEvent e{ts,     u32(0), u32(1), u32(2), str(3), u64(4),
                         u32(5), u32(6), str(7), info.trace};
      visitor_.OnSchedSwitch(e);
      break;
    }
    case Type::kTbExec: {
      TbExecEvent e{ts, u32(0), u32(1), u32(2), u64(3), u32(4), info.trace};
      visitor_.OnTbExec(e);
      break;
    }
    case Type::kOther:
      break;
  }
}

}  // namespace bdtrace::analyzer
