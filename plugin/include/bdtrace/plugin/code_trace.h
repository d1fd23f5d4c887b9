/* SPDX-License-Identifier: GPL-2.0-or-later */
// Process-gated code tracing as both backends run it on the vCPU thread: a
// thread's (user mode) or vCPU's (system mode) gate state and the body of
// the per-block exec callback. What differs is only who the task is (the
// backend passes pid/tid and decides whether a rule selects it).
#ifndef BDTRACE_PLUGIN_CODE_TRACE_H
#define BDTRACE_PLUGIN_CODE_TRACE_H

#include <cstdint>

#include "bdtrace/bdtrace_tp.h"
#include "bdtrace/filter/plugin_filter.h"
#include "bdtrace/plugin/block_batches.h"
#include "bdtrace/plugin/block_udata.h"
#include "bdtrace/plugin/code_gate.h"

namespace bdtrace::plugin {

struct CodeTraceState {
  // The gate was decided for this config and recording epoch
  // (BlockBatches::recording_epoch()); open: blocks are recorded.
  const filter::CompiledFilter *gate_for = nullptr;
  uint32_t gate_epoch = 0;
  bool gate_open = false;
  bool each_block = false;          // the config wants tb_exec per block (Rule.code_events)
  BlockProducer *blocks = nullptr;  // taken at the first recorded block

  // After the backend decided whether a trace_code rule selects the task
  // (`selected`) for config f: open only while a session records, with a
  // buffer for batches.
  void settle(const filter::CompiledFilter *f, uint32_t epoch, bool selected) noexcept {
    gate_for = f;
    gate_epoch = epoch;
    gate_open = selected && g_block_batches.recording();
    each_block = f != nullptr && f->each_block_events();
    if (each_block) {
      if (blocks != nullptr) blocks->end_batch();  // batches end here
      return;
    }
    if (gate_open && blocks == nullptr) blocks = g_block_batches.acquire();
    if (blocks == nullptr) gate_open = false;  // out of buffers: said on stderr
  }
};

// The exec callback of a block (udata: pack_block) for task pid/tid on
// vcpu. refresh(f, epoch): the backend's decision, called when the config
// or the recording state changed since the last one; it ends in settle()
// and may fill in pid/tid (user mode: at a thread's first block), hence the
// references.
// A closed gate clears the vCPU's flag (code_gate.h), re-reading both after
// the store so that a change published meanwhile is never missed.
template <class Refresh>
inline void on_block(CodeTraceState &c, unsigned vcpu, const uint32_t &pid, const uint32_t &tid, void *udata,
                     Refresh &&refresh) noexcept {
  const filter::CompiledFilter *f = filter::g_plugin_filter.active();
  const uint32_t epoch = g_block_batches.recording_epoch();
  if (__builtin_expect(f != c.gate_for || epoch != c.gate_epoch, 0)) refresh(f, epoch);
  if (!c.gate_open) {
    if (CodeGate::kConditional) {
      g_code_gate.close_own(vcpu);
      if (filter::g_plugin_filter.active() != c.gate_for || g_block_batches.recording_epoch() != c.gate_epoch)
        g_code_gate.wake_own(vcpu);
    }
    return;
  }
  if (__builtin_expect(c.each_block, 0)) {
    // Rule.code_events EACH_BLOCK: the first release's one event per block.
    lttng_ust_tracepoint(bdtrace, tb_exec, vcpu, pid, tid, block_pc(udata), block_insns(udata));
    return;
  }
  c.blocks->add(vcpu, pid, tid, block_pc(udata), block_insns(udata));
}

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_CODE_TRACE_H
