// SPDX-License-Identifier: MIT
// Record -> bdtrace:* event, and rejection accounting (see emitter.h).
#include "bdtrace/emitter.h"

#include "bdtrace/bdtrace_tp.h"

#include <cstdio>

namespace bdtrace {

void emit_record(const bd_record &r, const EmitContext &ctx) noexcept {
  switch (r.kind) {
    case BD_KIND_MARK:
      // Text is ignored for plain marks: never hand its bytes to LTTng.
      lttng_ust_tracepoint(bdtrace, mark, ctx.vcpu, ctx.pid, ctx.tid, r.kind, r.event, r.args, r.seq, "",
                           ctx.guest_ts);
      break;
    case BD_KIND_MARK_TEXT:
      lttng_ust_tracepoint(bdtrace, mark, ctx.vcpu, ctx.pid, ctx.tid, r.kind, r.event, r.args, r.seq, r.text,
                           ctx.guest_ts);
      break;
    case BD_KIND_REGION_BEGIN:
      lttng_ust_tracepoint(bdtrace, region_begin, ctx.vcpu, ctx.pid, ctx.tid, r.event, r.seq, ctx.guest_ts);
      break;
    case BD_KIND_REGION_END:
      lttng_ust_tracepoint(bdtrace, region_end, ctx.vcpu, ctx.pid, ctx.tid, r.event, r.seq, ctx.guest_ts);
      break;
    case BD_KIND_EVENT_NAME:
      lttng_ust_tracepoint(bdtrace, event_name, ctx.vcpu, ctx.pid, ctx.tid, r.event, r.text, ctx.guest_ts);
      break;
    case BD_KIND_SCHED_SWITCH: {
      // Layout in <bd/channel.h>; the validator proved both comms are
      // NUL-terminated within their BD_COMM_LEN bytes.
      const uint64_t tgids = r.args[3];
      lttng_ust_tracepoint(bdtrace, sched_switch, ctx.vcpu, static_cast<uint32_t>(tgids),
                           static_cast<uint32_t>(r.args[0]), r.text, r.args[2],
                           static_cast<uint32_t>(tgids >> 32), static_cast<uint32_t>(r.args[1]),
                           r.text + BD_COMM_LEN, ctx.guest_ts);
      break;
    }
    default:
      // HELLO and QUERY only ask for a reply; CALL steps are answered by
      // the backend (host handlers).
      break;
  }
}

void RejectStats::reject(RejectReason reason, uint32_t vcpu, uint32_t tid, uint64_t addr) noexcept {
  const auto i = static_cast<std::size_t>(reason);
  if (i >= counts_.size()) return;
  const uint64_t before = counts_[i].fetch_add(1, std::memory_order_relaxed);
  if (before < kEventsPerReason) {
    lttng_ust_tracepoint(bdtrace, rejected, vcpu, tid, static_cast<uint32_t>(reason),
                         reject_reason_name(reason), addr);
  }
}

uint64_t RejectStats::count(RejectReason reason) const noexcept {
  const auto i = static_cast<std::size_t>(reason);
  return i < counts_.size() ? counts_[i].load(std::memory_order_relaxed) : 0;
}

uint64_t RejectStats::total() const noexcept {
  uint64_t sum = 0;
  for (const auto &c : counts_) sum += c.load(std::memory_order_relaxed);
  return sum;
}

void RejectStats::emit_totals() const noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const uint64_t n = counts_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    const auto reason = static_cast<RejectReason>(i);
    lttng_ust_tracepoint(bdtrace, rejected_total, static_cast<uint32_t>(i), reject_reason_name(reason), n);
  }
}

void RejectStats::report_at_exit() const noexcept {
  emit_totals();
  try {
    const std::string line = summary();
    if (!line.empty()) std::fprintf(stderr, "bdtrace: %s (see bdtrace:rejected events)\n", line.c_str());
  } catch (...) {
    // Out of memory while formatting: the counts are in the trace anyway.
  }
}

std::string RejectStats::summary() const {
  const uint64_t sum = total();
  if (sum == 0) return {};
  std::string out = "rejected " + std::to_string(sum) + " guest record" + (sum == 1 ? "" : "s") + ":";
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const uint64_t n = counts_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out += ' ';
    out += reject_reason_name(static_cast<RejectReason>(i));
    out += '=';
    out += std::to_string(n);
  }
  return out;
}

void RejectStats::reset() noexcept {
  for (auto &c : counts_) c.store(0, std::memory_order_relaxed);
}

}  // namespace bdtrace
