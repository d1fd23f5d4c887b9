// Host handlers' hold on the code-tracing gate (<bd/handler.h>,
// set_code_tracing): a region of interest, like gem5's `m5 roi`.
//
// Until a handler calls set_code_tracing, the gate follows the filter
// config's trace_code rules alone. From its first call on, a thread's gate
// is open only while the rules select the thread AND the last call said
// "on": code is traced between a handler's "on" and its "off", for the
// processes the rules select. Scope: a QEMU process, which in user mode
// is one guest process (its threads share the region; a forked child
// starts with its parent's state).
//
// Thread safety: set() from any vCPU thread (inside a guest call), allows()
// from every vCPU thread's gate decision; one atomic word. A change takes
// effect at each thread's next block once the backend made every gate
// decide again (BlockBatches::redecide_gates, CodeGate::wake_all).
#ifndef BDTRACE_PLUGIN_CODE_REGIONS_H
#define BDTRACE_PLUGIN_CODE_REGIONS_H

#include <atomic>

namespace bdtrace::plugin {

class CodeRegions {
public:
    // Whether the handlers let a selected thread's gate open.
    bool allows() const noexcept { return state_.load(std::memory_order_acquire) != kClosed; }
    void set(bool on) noexcept { state_.store(on ? kOpen : kClosed, std::memory_order_release); }
    // Whether a handler took the gate (for reports and tests).
    bool held() const noexcept { return state_.load(std::memory_order_acquire) != kFree; }

private:
    static constexpr int kFree = -1, kClosed = 0, kOpen = 1;
    std::atomic<int> state_{kFree};
};

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_CODE_REGIONS_H
