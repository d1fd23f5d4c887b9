/* SPDX-License-Identifier: MIT */
// Turns validated guest records into bdtrace:* LTTng-UST events, and counts
// rejected ones. Shared by every backend; callable from QEMU callbacks (no
// locks, no allocation, no stdio, nothing throws on the per-record path).
#ifndef BDTRACE_EMITTER_H
#define BDTRACE_EMITTER_H

#include <bd/abi.h>

#include "bdtrace/bdtrace_tp.h"
#include "bdtrace/record.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace bdtrace {

// Who produced a record, as the backend knows it (not as the guest claims).
struct EmitContext {
  uint32_t vcpu;  // QEMU vCPU index
  uint32_t pid;   // guest process id
  uint32_t tid;   // guest thread id
  // Ring channel: when the guest made the call, host CLOCK_MONOTONIC ns
  // (the event's guest_ts field). 0 for the trap channel, whose events
  // are stamped by LTTng at the call itself.
  uint64_t guest_ts = 0;
};

// True when some session records an event a guest record can become. One
// load per event: the plugin checks it before copying a record, so a trap
// with no session recording costs no copy and no call.
inline bool any_record_event_enabled() noexcept {
  return lttng_ust_tracepoint_enabled(bdtrace, mark) || lttng_ust_tracepoint_enabled(bdtrace, region_begin) ||
         lttng_ust_tracepoint_enabled(bdtrace, region_end) ||
         lttng_ust_tracepoint_enabled(bdtrace, event_name);
}

// The same for the full-system backend, whose guests also send SCHED_SWITCH.
// Kept apart so the user-mode hot path does not pay for one more load.
inline bool any_system_record_event_enabled() noexcept {
  return any_record_event_enabled() || lttng_ust_tracepoint_enabled(bdtrace, sched_switch);
}

// Emits the event for a record that check_record() accepted:
// MARK / MARK_TEXT -> bdtrace:mark, REGION_BEGIN/END -> bdtrace:region_*,
// EVENT_NAME -> bdtrace:event_name, SCHED_SWITCH -> bdtrace:sched_switch
// (its pids, tids, state and comms come from args and text, see
// <bd/channel.h>; ctx.pid/tid are not used); HELLO (a presence probe) emits
// nothing.
// `r` must be the validated private copy (its text is NUL-terminated).
void emit_record(const bd_record &r, const EmitContext &ctx) noexcept;

// Per-reason rejection counters. Counts are exact; the bdtrace:rejected
// event is rate-limited to the first kEventsPerReason of each reason so a
// hostile or broken guest cannot flood the trace. One instance per process.
class RejectStats {
 public:
  static constexpr uint64_t kEventsPerReason = 100;

  // Counts one rejection and emits bdtrace:rejected while under the limit.
  // addr: the guest address of the record.
  void reject(RejectReason reason, uint32_t vcpu, uint32_t tid, uint64_t addr) noexcept;

  uint64_t count(RejectReason reason) const noexcept;
  uint64_t total() const noexcept;

  // One bdtrace:rejected_total per reason with a non-zero count.
  void emit_totals() const noexcept;

  // At QEMU exit, in every backend: the totals into the trace, and the
  // summary() line on stderr when anything was rejected.
  void report_at_exit() const noexcept;

  // "rejected 3 guest records: bad_magic=2 not_writable=1", or "" if none.
  std::string summary() const;

  // Zeroes every counter: a forked child must not report its parent's
  // rejections a second time.
  void reset() noexcept;

 private:
  std::array<std::atomic<uint64_t>, kRejectReasonCount> counts_{};
};

}  // namespace bdtrace

#endif  // BDTRACE_EMITTER_H
