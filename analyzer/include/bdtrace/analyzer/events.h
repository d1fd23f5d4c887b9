/* SPDX-License-Identifier: MIT */
// The bdtrace:* events as the reader decodes them, and the visitor that
// receives them. See tracepoints/include/bdtrace/bdtrace_tp.h for the
// contract these mirror.
//
// string_view members point into babeltrace2's message and are valid only
// during the callback: copy what you keep.
#ifndef BDTRACE_ANALYZER_EVENTS_H
#define BDTRACE_ANALYZER_EVENTS_H

#include <cstdint>
#include <string>
#include <string_view>

namespace bdtrace::analyzer {

// Values of bdtrace:mark's `kind` (enum bd_kind in <bd/abi.h>).
inline constexpr uint32_t kKindMark = 1;
inline constexpr uint32_t kKindMarkText = 2;

// ts_ns: nanoseconds from the clock's origin (0 if the event has no clock):
// when the event happened. For the trap channel that is the LTTng event
// time. Ring-channel events (mark, region_begin/end, event_name,
// sched_switch with a non-zero guest_ts field) happened at guest_ts, some
// time before the consumer emitted them: ts_ns is then guest_ts brought
// into the same frame (see reader.h, "Guest time").
//
// trace: which of the traces being read the event came from (0, 1, ...;
// one per CTF trace directory: its index in the reader's list of them).
// A VM (or a user-mode QEMU with per-PID buffers) writes its own trace, so
// consumers use it to tell VMs apart; the VM's name comes from the trace's
// bdtrace:session event. Every event carries it, after the fields of the
// first release, with a default so that aggregate initializers written
// before it still compile; fields added later follow it, with defaults too.
struct MarkEvent {
  int64_t ts_ns;
  uint32_t vcpu, pid, tid, kind, event;
  uint64_t args[4];
  uint64_t seq;
  std::string_view text;
  uint32_t trace = 0;
};

struct RegionEvent {
  int64_t ts_ns;
  uint32_t vcpu, pid, tid, region;
  uint64_t seq;
  bool begin;  // region_begin (true) or region_end (false)
  uint32_t trace = 0;
};

struct EventNameEvent {
  int64_t ts_ns;
  uint32_t vcpu, pid, tid, event;
  std::string_view name;
  uint32_t trace = 0;
};

// One per emitting process (the QEMU plugin, or the ring consumer), its
// first event. Names the VM of its trace: the vm field, or (user mode, no
// vm given) the program. channel: "trap" or "ring"; empty in traces
// written before the field existed (they are all trap).
struct SessionEvent {
  int64_t ts_ns;
  std::string_view mode, arch, program;
  uint32_t abi_version, host_pid;
  std::string_view vm;
  uint32_t trace = 0;
  std::string_view channel = {};
  // Absent in traces written before these fields existed: "" and 0.
  std::string_view qemu_version = {};
  uint32_t plugin_api = 0, qemu_api = 0;
};

// The name a session gives its VM: vm, or in user mode without one the
// program. May be empty (a system-mode run started without a VM name).
inline std::string_view VmName(const SessionEvent &e) {
  if (!e.vm.empty() || e.mode == "system") return e.vm;
  return e.program;
}

// A guest context switch on one vCPU (system mode): prev stops running,
// next starts. pid = the guest's tgid, tid = its task id; tid 0 is the idle
// task ("swapper/N").
struct SchedSwitchEvent {
  int64_t ts_ns;
  uint32_t vcpu, prev_pid, prev_tid;
  std::string_view prev_comm;
  uint64_t prev_state;
  uint32_t next_pid, next_tid;
  std::string_view next_comm;
  uint32_t trace = 0;
};

// One translated block executed by a traced process (filter rule
// trace_code): pc = the block's guest address, n_insns its instructions.
// One executed block: a bdtrace:tb_exec event, or one block of a
// bdtrace:tb_batch (the decoder delivers a batch's blocks one by one, each
// at the batch's time plus its share of the batch's span by instructions).
struct TbExecEvent {
  int64_t ts_ns;
  uint32_t vcpu, pid, tid;
  uint64_t pc;
  uint32_t n_insns;
  uint32_t trace = 0;
  // Blocks the plugin dropped before this one (tb_batch.lost, on a batch's
  // first block). lost_only: no block, only that count (a batch that
  // carries nothing else).
  uint64_t lost_before = 0;
  bool lost_only = false;
  // The first block delivered for its trace event (every tb_exec; a
  // batch's first): counts the event once.
  bool first_of_event = true;
  // Its share of the batch's span (by instructions); 0 for tb_exec.
  int64_t dur_ns = 0;
  // bdtrace:tb_counts: the block executed `times` times over the run (an
  // aggregate at the event's time, not one execution).
  uint64_t times = 1;
  bool aggregated = false;
};

struct RejectedEvent {
  int64_t ts_ns;
  uint32_t vcpu, tid, reason;
  std::string_view reason_name;
  uint64_t addr;
  uint32_t trace = 0;
};

struct RejectedTotalEvent {
  int64_t ts_ns;
  uint32_t reason;
  std::string_view reason_name;
  uint64_t count;
  uint32_t trace = 0;
};

// A guest call to a host handler (bd_call), after it was answered.
struct CallEvent {
  int64_t ts_ns;
  uint32_t vcpu, pid, tid, event;
  int32_t status;
  uint32_t in_len, out_len;
  uint64_t duration_ns;
  uint32_t trace = 0;
};

// A bulk mark (bd_mark_blob): its size and its first bytes.
struct BlobEvent {
  static constexpr size_t kHead = 32;
  int64_t ts_ns;
  uint32_t vcpu, pid, tid, event;
  uint64_t bytes;
  uint32_t trace = 0;
  uint8_t head[kHead] = {};  // the first min(bytes, kHead) bytes
};

// Records a ring's producer could not write (ring full, or a call nested
// in another of the same thread): count is the drops since the previous
// ring_dropped of that ring, so the counts of a ring sum to its exact
// total; total repeats the running total; final is set on the consumer's
// last report of the ring. pid/tid: the ring's owner when the consumer saw
// the count grow.
struct RingDroppedEvent {
  int64_t ts_ns;
  uint32_t ring, pid, tid;
  uint64_t count, total;
  bool final;
  uint32_t trace = 0;
};

// The filter (filter/README.md), as the plugin or the ring consumer
// emits it. bdtrace:filter: a config load or reload attempt; status "ok"
// (this generation is in force from here on) or "error" (message says why;
// the previous generation stays). rules: its rule count.
struct FilterEvent {
  int64_t ts_ns;
  uint64_t generation;
  std::string_view status, digest, path, message;
  uint32_t rules;
  uint32_t trace = 0;
};

// bdtrace:dropped: records rule `rule` of config `generation` dropped on
// `vcpu` over its rate limit since the previous report of that (generation,
// rule, vcpu); the counts sum to the exact total. vcpu 64 stands for every
// index >= 64.
struct FilterDroppedEvent {
  int64_t ts_ns;
  uint32_t vcpu;
  uint64_t generation;
  uint32_t rule;
  std::string_view rule_name;
  uint64_t count, total;
  bool final;
  uint32_t trace = 0;
};

// bdtrace:filter_stats, at the emitting process's exit: what the filter
// decided for the records one vCPU sent over the whole run (all
// generations). recorded: let through; filtered: dropped by a DROP rule or
// the DROP default; rate_dropped: over a rate limit. One per vCPU and
// emitting process (a forked user-mode guest reports its own).
struct FilterStatsEvent {
  int64_t ts_ns;
  uint32_t vcpu;
  uint64_t recorded, filtered, rate_dropped;
  uint32_t trace = 0;
};

// A discarded-events message: LTTng lost `count` events of one stream of
// trace `trace` (with per-UID buffers a stream is one host CPU's buffer;
// LTTng does not know which vCPU or thread the lost events came from).
struct DiscardedEventsMessage {
  uint64_t count = 1;
  bool count_known = true;  // false: the trace did not say; count is then 1
  uint32_t trace = 0;
  std::string_view stream;  // the stream's file name in the trace (e.g. "bdtrace_1")
};

// Receives the events of a trace in time order (ring events by guest
// time, as far as the reader's reorder window allows). Methods may throw (e.g.
// std::bad_alloc); the reader catches at the babeltrace2 boundary and turns
// it into an error.
//
// Every method has a default, so a visitor overrides only what it uses:
// OnTbExec, OnBlob, OnCall, OnRingDropped and the filter's events hand the
// event to OnOtherEvent (visitors that do not know them see them as other
// events, e.g. to advance a clock); everything else does nothing.
// Decorators (visitors that pass events on: SelectingVisitor, TeeVisitor,
// ProgressVisitor) must override every method, or events would stop at them
// silently: they check it with static_assert(ForwardsEveryEvent<T>()).
class EventVisitor {
 public:
  virtual ~EventVisitor() = default;
  virtual void OnMark(const MarkEvent &) {}
  virtual void OnRegion(const RegionEvent &) {}
  virtual void OnEventName(const EventNameEvent &) {}
  virtual void OnSession(const SessionEvent &) {}
  virtual void OnRejected(const RejectedEvent &) {}
  virtual void OnRejectedTotal(const RejectedTotalEvent &) {}
  virtual void OnSchedSwitch(const SchedSwitchEvent &) {}
  virtual void OnTbExec(const TbExecEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:tb_exec"); }
  virtual void OnBlob(const BlobEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:blob"); }
  virtual void OnCall(const CallEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:call"); }
  virtual void OnRingDropped(const RingDroppedEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:ring_dropped"); }
  virtual void OnFilter(const FilterEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:filter"); }
  virtual void OnFilterDropped(const FilterDroppedEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:dropped"); }
  virtual void OnFilterStats(const FilterStatsEvent &e) { OnOtherEvent(e.ts_ns, "bdtrace:filter_stats"); }
  // An event of another provider or an unknown bdtrace event.
  virtual void OnOtherEvent(int64_t /*ts_ns*/, std::string_view /*class_name*/) {}
  // A discarded-events message (see DiscardedEventsMessage).
  virtual void OnDiscardedEvents(const DiscardedEventsMessage &) {}
  // Something odd about the trace's shape (e.g. a missing field).
  virtual void OnWarning(std::string /*message*/) {}

  // Whether OnMark needs MarkEvent's args, seq and text. When false the
  // reader may leave them zero/empty: it saves 6 of a mark's 11 field reads,
  // a third of the decoding per mark. Decorators answer for what they wrap.
  virtual bool WantsMarkDetails() const { return true; }
};

namespace detail {
// Whether class V itself declares method M of EventVisitor: &V::On... then
// names a member of V, not one it inherited from EventVisitor.
template <typename V, typename Member>
constexpr bool DeclaredIn(Member V::*) {
  return true;
}
template <typename V, typename Member>
constexpr bool DeclaredIn(Member EventVisitor::*) {
  return false;
}
}  // namespace detail

// True when V overrides every method of EventVisitor: what a decorator must
// do (see above). Add each new method here too.
template <typename V>
constexpr bool ForwardsEveryEvent() {
  using detail::DeclaredIn;
  return DeclaredIn<V>(&V::OnMark) && DeclaredIn<V>(&V::OnRegion) && DeclaredIn<V>(&V::OnEventName) &&
         DeclaredIn<V>(&V::OnSession) && DeclaredIn<V>(&V::OnRejected) &&
         DeclaredIn<V>(&V::OnRejectedTotal) && DeclaredIn<V>(&V::OnSchedSwitch) &&
         DeclaredIn<V>(&V::OnTbExec) && DeclaredIn<V>(&V::OnBlob) && DeclaredIn<V>(&V::OnCall) &&
         DeclaredIn<V>(&V::OnRingDropped) && DeclaredIn<V>(&V::OnFilter) &&
         DeclaredIn<V>(&V::OnFilterDropped) && DeclaredIn<V>(&V::OnFilterStats) &&
         DeclaredIn<V>(&V::OnOtherEvent) && DeclaredIn<V>(&V::OnDiscardedEvents) &&
         DeclaredIn<V>(&V::OnWarning) && DeclaredIn<V>(&V::WantsMarkDetails);
}

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_EVENTS_H
