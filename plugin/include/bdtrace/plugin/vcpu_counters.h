/* SPDX-License-Identifier: GPL-2.0-or-later */
// Counts of accepted records per vCPU (both backends): one cache line per
// slot, written only by the vCPU thread that owns it (a load and a store,
// no lock, no atomic read-modify-write), summed at exit. In user mode vCPU
// indexes are threads and beyond kSlots concurrent threads two share a
// slot; the count then may lose increments, which only the exit summary and
// bd-run's "did any mark arrive" check read.
#ifndef BDTRACE_PLUGIN_VCPU_COUNTERS_H
#define BDTRACE_PLUGIN_VCPU_COUNTERS_H

#include <atomic>
#include <cstdint>

namespace bdtrace::plugin {

class VcpuCounters {
 public:
  void count(unsigned int vcpu) noexcept {
    auto &c = slots_[vcpu % kSlots].value;
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint64_t total() const noexcept {
    uint64_t sum = 0;
    for (const auto &s : slots_) sum += s.value.load(std::memory_order_relaxed);
    return sum;
  }
  void reset() noexcept {
    for (auto &s : slots_) s.value.store(0, std::memory_order_relaxed);
  }

 private:
  static constexpr unsigned kSlots = 64;
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  Slot slots_[kSlots];
};

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_VCPU_COUNTERS_H
