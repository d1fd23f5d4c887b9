/* SPDX-License-Identifier: GPL-2.0-or-later */
// Host handlers' hold on the code-tracing gate (<bd/handler.h>,
// set_code_tracing): a region of interest, like gem5's `m5 roi`.
//
// Until a handler calls set_code_tracing for a process, the gate of its
// threads follows the filter config's trace_code rules alone. From then
// on a thread's gate is open only while the rules select it AND the last
// call for its process said "on". A call without a process (pid 0: a
// handler's init) sets every process, and forgets what was set for single
// ones. Processes are the guest's pids (tgids): in user mode a forked
// child is a process of its own, whose threads follow what was set for
// every process.
//
// Thread safety: set() from any vCPU thread (inside a guest call),
// allows() from every vCPU thread's gate decision; lock-free, one atomic
// word per process. A change takes effect at each vCPU's next block once
// the backend made every gate decide again (BlockBatches::redecide_gates,
// CodeGate::wake_all). Capacity: kProcesses processes with a state of
// their own; set() refuses more (-ENOSPC).
#ifndef BDTRACE_PLUGIN_CODE_REGIONS_H
#define BDTRACE_PLUGIN_CODE_REGIONS_H

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace bdtrace::plugin {

class CodeRegions {
 public:
  static constexpr unsigned kProcesses = 256;

  // Whether the handlers let a selected thread of process `pid` trace.
  bool allows(uint32_t pid) const noexcept {
    if (pid != 0) {
      for (unsigned i = 0, k = hash(pid); i < kProcesses; ++i, k = (k + 1) % kProcesses) {
        const uint64_t v = slots_[k].load(std::memory_order_acquire);
        if (v == 0) break;
        if (static_cast<uint32_t>(v >> 32) == pid) return (v & 1) != 0;
      }
    }
    return all_.load(std::memory_order_acquire) != kClosed;
  }

  // Opens (on) or closes the region of process `pid`, or of every
  // process (pid 0). 0, or -ENOSPC when kProcesses processes have one.
  int set(uint32_t pid, bool on) noexcept {
    if (pid == 0) {
      all_.store(on ? kOpen : kClosed, std::memory_order_release);
      for (auto &s : slots_) s.store(0, std::memory_order_release);
      return 0;
    }
    const uint64_t want = (uint64_t{pid} << 32) | 2u | (on ? 1u : 0u);
    for (unsigned i = 0, k = hash(pid); i < kProcesses; ++i, k = (k + 1) % kProcesses) {
      uint64_t v = slots_[k].load(std::memory_order_acquire);
      if (v == 0 && slots_[k].compare_exchange_strong(v, want, std::memory_order_acq_rel)) return 0;
      if (static_cast<uint32_t>(v >> 32) == pid) {
        slots_[k].store(want, std::memory_order_release);
        return 0;
      }
    }
    return -ENOSPC;
  }

 private:
  static unsigned hash(uint32_t pid) noexcept { return (pid * 2654435761u) % kProcesses; }
  static constexpr int kFree = -1, kClosed = 0, kOpen = 1;
  std::atomic<int> all_{kFree};
  // Per process: pid << 32 | 2 (in use) | 1 (open); 0 = empty.
  std::atomic<uint64_t> slots_[kProcesses] = {};
};

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_CODE_REGIONS_H
