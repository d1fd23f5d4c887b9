// SPDX-License-Identifier: MIT
#include "event_layouts.h"

#include <initializer_list>
#include <utility>

namespace bdtrace::analyzer {

namespace {

// Expected payload fields per event, in the order the decoders read them
// (not necessarily the trace's order), then fields added since the first
// release, which older traces lack (read as 0/empty, no warning). Names as
// babeltrace2 shows them. guest_ts is looked up for every class.
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
// data: a sequence; only its length and first bytes are read.
const Layout kBlobLayout{"bdtrace:blob", {"vcpu", "pid", "tid", "event", "data"}};
const Layout kCallLayout{"bdtrace:call",
                         {"vcpu", "pid", "tid", "event", "status", "in_len", "out_len", "duration_ns"}};
const Layout kRingDroppedLayout{"bdtrace:ring_dropped", {"ring", "pid", "tid", "count", "total", "final"}};

const Layout kFilterLayout{"bdtrace:filter", {"generation", "status", "digest", "path", "message", "rules"}};
const Layout kFilterDroppedLayout{"bdtrace:dropped",
                                  {"vcpu", "generation", "rule", "rule_name", "count", "total", "final"}};
const Layout kFilterStatsLayout{"bdtrace:filter_stats", {"vcpu", "recorded", "filtered", "rate_dropped"}};

const std::pair<const Layout *, EventType> kLayouts[] = {{&kMarkLayout, EventType::kMark},
                                                         {&kRegionBeginLayout, EventType::kRegionBegin},
                                                         {&kRegionEndLayout, EventType::kRegionEnd},
                                                         {&kEventNameLayout, EventType::kEventName},
                                                         {&kSessionLayout, EventType::kSession},
                                                         {&kRejectedLayout, EventType::kRejected},
                                                         {&kRejectedTotalLayout, EventType::kRejectedTotal},
                                                         {&kSchedSwitchLayout, EventType::kSchedSwitch},
                                                         {&kTbExecLayout, EventType::kTbExec},
                                                         {&kTbBatchLayout, EventType::kTbBatch},
                                                         {&kTbCountsLayout, EventType::kTbCounts},
                                                         {&kRingDroppedLayout, EventType::kRingDropped},
                                                         {&kFilterLayout, EventType::kFilter},
                                                         {&kFilterDroppedLayout, EventType::kFilterDropped},
                                                         {&kFilterStatsLayout, EventType::kFilterStats},
                                                         {&kBlobLayout, EventType::kBlob},
                                                         {&kCallLayout, EventType::kCall}};

static_assert(sizeof(kLayouts) / sizeof(kLayouts[0]) == static_cast<size_t>(EventType::kOther),
              "one layout per event type");

}  // namespace

void DescribeFields(ClassInfo &info, const std::function<Slot(const char *)> &find,
                    const std::function<void(std::string)> &warn) {
  const Layout *layout = nullptr;
  for (const auto &[candidate, type] : kLayouts) {
    if (info.name == candidate->event_name) {
      layout = candidate;
      info.type = type;
    }
  }
  if (layout == nullptr) return;
  size_t slot = 0;
  for (const char *wanted : layout->fields) {
    Slot &s = info.slots[slot++];
    s = find(wanted);
    if (s.kind == FieldKind::kMissing) {
      warn("event " + info.name + " has no usable field '" + wanted +
           "' (read as 0/empty); was the trace written by another bdtrace version?");
    }
  }
  for (const char *wanted : layout->optional) info.slots[slot++] = find(wanted);
}

}  // namespace bdtrace::analyzer
