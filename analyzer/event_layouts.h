/* SPDX-License-Identifier: MIT */
// What the analyzer knows of each bdtrace event class, whoever decodes the
// trace (babeltrace2 in event_decoder.cc, the fast reader in
// fast_reader.cc): its type, and where each field it reads sits in the
// payload (a Slot, found once per class by name).
#ifndef BDTRACE_ANALYZER_EVENT_LAYOUTS_H
#define BDTRACE_ANALYZER_EVENT_LAYOUTS_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace bdtrace::analyzer {

enum class EventType {
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

// A payload field: its index among the payload's top-level members.
struct Slot {
  uint64_t index = 0;
  FieldKind kind = FieldKind::kMissing;
};

inline constexpr size_t kMaxFields = 11;

struct ClassInfo {
  EventType type = EventType::kOther;
  bool has_clock = false;
  uint32_t trace = 0;  // the index of the trace's directory (reader.h)
  std::string name;
  // The fields the analyzer reads, in the order of the class's layout
  // (event_layouts.cc), then its optional fields.
  std::array<Slot, kMaxFields> slots;
  // guest_ts (ring events; absent from traces older than the ring).
  Slot guest_ts;
  // guest_ts + this = the guest time as ns from the clock's origin.
  int64_t guest_offset_ns = 0;
};

// Fills info.type and info.slots for an event class called info.name, with
// find(field name) saying where a payload field is. A required field the
// class lacks is reported through warn (and reads as 0/empty).
void DescribeFields(ClassInfo &info, const std::function<Slot(const char *)> &find,
                    const std::function<void(std::string)> &warn);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_EVENT_LAYOUTS_H
