/* SPDX-License-Identifier: GPL-2.0-or-later */
// Process-gated code tracing, aggregated (Rule.code_events BLOCK_COUNTS,
// user mode): how often each translated block executes, counted without a
// call per block, reported at exit as bdtrace:tb_counts.
//
// Plugin API 2+ (QEMU 9.0+): one scoreboard per distinct block (pc, size)
// and an inline "add 1" QEMU generates into the block (QEMU contrib
// plugins' hotblocks does the same); the per-vCPU counts are summed at exit.
// API 1: an exec callback per block adds to the vCPU's own counter of the
// block (a call per block: QEMU 7.2 - 8.2 have no per-vCPU inline
// operations; a vCPU index is one thread at a time, so no atomic add
// below kVcpuCounters vCPUs, an atomic one above).
//
// Every thread of the process counts; the caller decides at exit whether
// the process is selected. A fork's child starts from zero.
#ifndef BDTRACE_PLUGIN_BLOCK_COUNTS_H
#define BDTRACE_PLUGIN_BLOCK_COUNTS_H

#include <bdtrace/qemu_plugin_api.h>

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

namespace bdtrace::plugin {

class BlockCounts {
 public:
  // At translation: count every execution of tb. Allocates on the first
  // translation of a block (not on the execution path).
  void instrument(struct qemu_plugin_tb *tb) noexcept;
  // In a fork's child (one thread): every count back to zero.
  void reset() noexcept;
  // At exit (QEMU's atexit callback: no block runs any more): emits the
  // blocks that executed, as bdtrace:tb_counts of process pid.
  void report(uint32_t pid) noexcept;

 private:
#if BDTRACE_QEMU_PLUGIN_API < 2
  static void count(unsigned int vcpu, void *udata) noexcept;  // the exec callback
#endif
  struct Entry {
#if BDTRACE_QEMU_PLUGIN_API >= 2
    qemu_plugin_u64 count{nullptr, 0};
#else
    static constexpr unsigned kVcpuCounters = 64;
    uint64_t per_vcpu[kVcpuCounters] = {};
    std::atomic<uint64_t> beyond{0};  // vCPU indexes >= kVcpuCounters
#endif
  };
  pthread_mutex_t lock_ = PTHREAD_MUTEX_INITIALIZER;  // guards entries_
  // (pc, guest instructions) -> its counter; never erased while QEMU runs.
  std::map<std::pair<uint64_t, uint32_t>, std::unique_ptr<Entry>> entries_;
};

extern BlockCounts g_block_counts;

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_BLOCK_COUNTS_H
