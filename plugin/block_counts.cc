// SPDX-License-Identifier: GPL-2.0-or-later
// Aggregated block counts (see block_counts.h).
#include "bdtrace/plugin/block_counts.h"

#include <cstdio>
#include <new>
#include <vector>

#include "bdtrace/bdtrace_tp.h"

namespace bdtrace::plugin {

BlockCounts g_block_counts;

namespace {}  // namespace

#if BDTRACE_QEMU_PLUGIN_API < 2
void BlockCounts::count(unsigned int vcpu, void *udata) noexcept {
  Entry &e = *static_cast<Entry *>(udata);
  if (__builtin_expect(vcpu < Entry::kVcpuCounters, 1))
    ++e.per_vcpu[vcpu];
  else
    e.beyond.fetch_add(1, std::memory_order_relaxed);
}
#endif

void BlockCounts::instrument(struct qemu_plugin_tb *tb) noexcept {
  const std::pair<uint64_t, uint32_t> key{qemu_plugin_tb_vaddr(tb),
                                          static_cast<uint32_t>(qemu_plugin_tb_n_insns(tb))};
  Entry *e = nullptr;
  pthread_mutex_lock(&lock_);
  try {
    std::unique_ptr<Entry> &slot = entries_[key];
    if (!slot) {
      slot = std::make_unique<Entry>();
#if BDTRACE_QEMU_PLUGIN_API >= 2
      slot->count = qemu_plugin_u64{qemu_plugin_scoreboard_new(sizeof(uint64_t)), 0};
#endif
    }
    e = slot.get();
  } catch (...) {
    e = nullptr;
  }
  pthread_mutex_unlock(&lock_);
  if (e == nullptr) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true))
      std::fprintf(stderr, "bdtrace: out of memory counting blocks: some are not counted\n");
    return;
  }
#if BDTRACE_QEMU_PLUGIN_API >= 2
  if (e->count.score == nullptr) return;
  qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, e->count, 1);
#else
  qemu_plugin_register_vcpu_tb_exec_cb(tb, count, QEMU_PLUGIN_CB_NO_REGS, e);
#endif
}

void BlockCounts::reset() noexcept {
  // The fork's child: the lock may have been held by another thread of
  // the parent; this thread is the only one now.
  pthread_mutex_init(&lock_, nullptr);
#if BDTRACE_QEMU_PLUGIN_API >= 2
  const int vcpus = qemu_plugin_num_vcpus();
#endif
  for (auto &[key, e] : entries_) {
#if BDTRACE_QEMU_PLUGIN_API >= 2
    if (e->count.score == nullptr) continue;
    for (int i = 0; i < vcpus; ++i) qemu_plugin_u64_set(e->count, static_cast<unsigned>(i), 0);
#else
    for (uint64_t &c : e->per_vcpu) c = 0;
    e->beyond.store(0, std::memory_order_relaxed);
#endif
  }
}

void BlockCounts::report(uint32_t pid) noexcept {
  constexpr size_t kPerEvent = 256;
  uint64_t pcs[kPerEvent], execs[kPerEvent];
  uint16_t insns[kPerEvent];
  uint32_t n = 0;
  const auto flush = [&] {
    if (n > 0) lttng_ust_tracepoint(bdtrace, tb_counts, pid, n, pcs, insns, execs);
    n = 0;
  };
  pthread_mutex_lock(&lock_);
  for (const auto &[key, e] : entries_) {
#if BDTRACE_QEMU_PLUGIN_API >= 2
    const uint64_t count = e->count.score != nullptr ? qemu_plugin_u64_sum(e->count) : 0;
#else
    uint64_t count = e->beyond.load(std::memory_order_relaxed);
    for (uint64_t c : e->per_vcpu) count += c;
#endif
    if (count == 0) continue;
    pcs[n] = key.first;
    insns[n] = static_cast<uint16_t>(key.second > 0xffff ? 0xffff : key.second);
    execs[n] = count;
    if (++n == kPerEvent) flush();
  }
  flush();
  pthread_mutex_unlock(&lock_);
}

}  // namespace bdtrace::plugin
