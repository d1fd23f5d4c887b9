/* SPDX-License-Identifier: GPL-2.0-or-later */
// Process-gated code tracing at scale: executed blocks are buffered per
// producer (a guest thread in user mode, a vCPU in system mode) on the vCPU
// thread and emitted by one drain thread as bdtrace:tb_batch events of up
// to kBlocks blocks (both backends).
//
// The vCPU thread's cost per block is two stores into its current chunk;
// per chunk, a clock read at each end and a release store. Each producer
// owns a ring of kChunks chunks (single producer, single consumer: the
// drain thread). When the ring is full the vCPU waits for the drain thread
// (every block recorded, the guest slowed down), at most kMaxWaitNs; past
// that it drops blocks and counts them until half the ring is free again;
// the count rides on its next batch (tb_batch.lost), so loss shows in the
// trace. The drain thread sleeps at most kDrainPeriod and is woken early
// when a ring is half full.
//
// Lifetime: producers are never freed while QEMU runs (a vCPU thread may
// trap at any time; memory is ~650 KB per producer, reused by the next
// thread in user mode once its thread exited and its ring was drained).
// At exit (QEMU's atexit callback, vCPUs stopped) flush_all() emits every
// partial chunk. Fork (user mode): the child keeps only the forking
// thread's producer, restarts the drain thread and starts with empty rings.
#ifndef BDTRACE_PLUGIN_BLOCK_BATCHES_H
#define BDTRACE_PLUGIN_BLOCK_BATCHES_H

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::plugin {

class BlockProducer {
 public:
  static constexpr uint32_t kBlocks = 256;   // per batch event
  static constexpr uint32_t kChunks = 1024;  // per producer ring (~2.6 MB)

  // vCPU thread: one executed block. pid/tid/vcpu: who ran it; a change
  // of identity ends the current batch.
  inline void add(uint32_t vcpu, uint32_t pid, uint32_t tid, uint64_t pc, uint32_t n_insns) noexcept {
    Chunk *c = filling_;
    if (__builtin_expect(c == nullptr || c->tid != tid || c->vcpu != vcpu, 0)) {
      c = begin(vcpu, pid, tid);
      if (c == nullptr) return;  // ring full: counted in lost_
    }
    c->pcs[c->count] = pc;
    c->n_insns[c->count] = static_cast<uint16_t>(n_insns > 0xffff ? 0xffff : n_insns);
    if (++c->count == kBlocks) publish();
  }
  // vCPU thread (or any thread while the vCPU is stopped): emit the
  // partial batch now (identity about to change, thread exit, exit).
  void end_batch() noexcept {
    if (filling_ != nullptr) publish();
  }

  // Drain thread: emits the published batches; true when it emitted any.
  bool drain() noexcept;
  // Any thread: every published batch was emitted.
  bool drained() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

  // The producer is free for another thread (user mode, its thread
  // exited; the drain thread empties it first).
  std::atomic<bool> retired{false};

 private:
  friend class BlockBatches;
  struct Chunk {
    uint64_t start_ns, end_ns, lost;
    uint32_t vcpu, pid, tid, count;
    uint64_t pcs[kBlocks];
    uint16_t n_insns[kBlocks];
  };
  Chunk *begin(uint32_t vcpu, uint32_t pid, uint32_t tid) noexcept;
  bool wait_for_room(uint32_t head) noexcept;
  static constexpr uint64_t kMaxWaitNs = 50'000'000;  // 50 ms per batch
  void publish() noexcept;

  Chunk chunks_[kChunks];
  // Producer side.
  Chunk *filling_ = nullptr;
  uint64_t lost_ = 0;                                     // dropped since the last chunk begun
  bool waited_out_ = false;                               // waited kMaxWaitNs in vain: dropping
  uint32_t last_vcpu_ = 0, last_pid_ = 0, last_tid_ = 0;  // of the last chunk begun
  uint32_t head_local_ = 0;
  alignas(64) std::atomic<uint32_t> head_{0};  // chunks published
  alignas(64) std::atomic<uint32_t> tail_{0};  // chunks drained
};

class BlockBatches {
 public:
  // Starts the drain thread (at install, when code tracing can record).
  Status start();
  // User mode, in the child of a fork (on the forking thread): keeps only
  // `mine` (the forking thread's producer, may be nullptr) with an empty
  // ring, retires every other producer, restarts the drain thread.
  void forked_child(BlockProducer *mine) noexcept;
  // A producer for the calling thread / vCPU (allocated on first use, or
  // a retired one reused). nullptr when out of memory (blocks not
  // recorded, said once on stderr).
  BlockProducer *acquire() noexcept;
  // Wake the drain thread (a ring is half full).
  void wake() noexcept;

  // Whether a session records tb_batch or tb_exec now (the config's
  // code_events says which is emitted), as the drain thread last saw
  // it (it polls LTTng every kDrainPeriod), and a counter that changes
  // with it: a gate decided for an older value is decided again. `hook`
  // runs on the drain thread after each change (the backend wakes every
  // vCPU's gate: recording started or stopped).
  bool recording() const noexcept { return recording_.load(std::memory_order_acquire); }
  uint32_t recording_epoch() const noexcept { return recording_epoch_.load(std::memory_order_acquire); }
  void set_recording_hook(void (*hook)()) noexcept { recording_hook_ = hook; }
  // Something else a gate depends on changed (a host handler opened or
  // closed it, code_regions.h): every gate is decided again at its
  // vCPU's next block, as after a change of recording. The caller wakes
  // the gates (code_gate.h).
  void redecide_gates() noexcept { recording_epoch_.fetch_add(1, std::memory_order_acq_rel); }
  // QEMU's exit (vCPUs stopped): stop the drain thread, end and emit every
  // batch.
  void flush_all() noexcept;

  static constexpr std::chrono::milliseconds kDrainPeriod{2};

 private:
  static void *drain_main(void *) noexcept;
  void drain_all() noexcept;
  // Slots of producers_ handed out: count_ counts every acquire() attempt,
  // also those past the table (which get no producer), so it is clamped.
  unsigned slots_in_use() const noexcept {
    const unsigned n = count_.load(std::memory_order_acquire);
    return n < kMaxProducers ? n : kMaxProducers;
  }
  void poll_recording() noexcept;

  static constexpr unsigned kMaxProducers = 4096;
  std::atomic<BlockProducer *> producers_[kMaxProducers] = {};
  std::atomic<unsigned> count_{0};
  std::atomic<uint32_t> wake_word_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> recording_{false};
  std::atomic<uint32_t> recording_epoch_{0};
  void (*recording_hook_)() = nullptr;
  bool started_ = false;
  pthread_t thread_{};
};

extern BlockBatches g_block_batches;

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_BLOCK_BATCHES_H
