// SPDX-License-Identifier: GPL-2.0-or-later
// Batched code-tracing events (see block_batches.h).
#include "bdtrace/plugin/block_batches.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <new>

#include "bdtrace/bdtrace_tp.h"

namespace bdtrace::plugin {

BlockBatches g_block_batches;

namespace {

uint64_t monotonic_ns() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

long futex(std::atomic<uint32_t> *word, int op, uint32_t value, const struct timespec *timeout) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), op, value, timeout, nullptr, 0);
}

}  // namespace

// --- producer (vCPU thread) ---------------------------------------------------

BlockProducer::Chunk *BlockProducer::begin(uint32_t vcpu, uint32_t pid, uint32_t tid) noexcept {
  if (filling_ != nullptr) publish();  // identity changed
  const uint32_t head = head_local_;
  if (head - tail_.load(std::memory_order_acquire) >= kChunks && !wait_for_room(head)) {
    ++lost_;
    return nullptr;
  }
  Chunk *c = &chunks_[head % kChunks];
  c->start_ns = monotonic_ns();
  c->lost = lost_;
  lost_ = 0;
  c->vcpu = last_vcpu_ = vcpu;
  c->pid = last_pid_ = pid;
  c->tid = last_tid_ = tid;
  c->count = 0;
  filling_ = c;
  return c;
}

// The ring is full: the guest waits for the drain thread (every block is
// recorded, the guest slows down) up to kMaxWait per batch; beyond that
// (the drain thread starved or stuck) blocks are dropped and counted until
// it catches up, so QEMU never hangs on it.
bool BlockProducer::wait_for_room(uint32_t head) noexcept {
  if (waited_out_) {
    // Dropping: resume recording once half the ring is free.
    if (head - tail_.load(std::memory_order_acquire) > kChunks / 2) return false;
    waited_out_ = false;
    return true;
  }
  g_block_batches.wake();
  const uint64_t deadline = monotonic_ns() + kMaxWaitNs;
  while (head - tail_.load(std::memory_order_acquire) >= kChunks) {
    if (monotonic_ns() > deadline) {
      waited_out_ = true;
      return false;
    }
    sched_yield();
  }
  return true;
}

void BlockProducer::publish() noexcept {
  Chunk *c = filling_;
  filling_ = nullptr;
  c->end_ns = monotonic_ns();
  const uint32_t head = ++head_local_;
  head_.store(head, std::memory_order_release);
  // Half full: the drain thread may be asleep for its whole period.
  if (head - tail_.load(std::memory_order_relaxed) == kChunks / 2) g_block_batches.wake();
}

// --- drain thread ----------------------------------------------------------------

bool BlockProducer::drain() noexcept {
  const uint32_t head = head_.load(std::memory_order_acquire);
  uint32_t tail = tail_.load(std::memory_order_relaxed);
  if (tail == head) return false;
  for (; tail != head; ++tail) {
    const Chunk &c = chunks_[tail % kChunks];
    // span: the first block's start to the last one's (the end clock is
    // read after the last block's store, close enough at this scale).
    lttng_ust_tracepoint(bdtrace, tb_batch, c.vcpu, c.pid, c.tid, c.start_ns, c.end_ns - c.start_ns, c.lost,
                         c.count, c.pcs, c.n_insns);
    tail_.store(tail + 1, std::memory_order_release);
  }
  return true;
}

Status BlockBatches::start() {
  if (started_) return Status::Ok();
  stop_.store(false, std::memory_order_relaxed);
  // LTTng-UST registered with the session daemon before the plugin was
  // installed: a session that records from the start counts from the
  // first block, not from the drain thread's first look.
  poll_recording();
  sigset_t all, old;
  sigfillset(&all);
  // No guest signal may land on the drain thread (QEMU linux-user routes
  // host signals to guest threads).
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const int rc = pthread_create(&thread_, nullptr, drain_main, this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    return make_error("cannot start the code-tracing drain thread");
  }
  started_ = true;
  return Status::Ok();
}

void *BlockBatches::drain_main(void *arg) noexcept {
  auto *self = static_cast<BlockBatches *>(arg);
  pthread_setname_np(pthread_self(), "bdtrace-blocks");
  const long period_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(kDrainPeriod).count();
  while (!self->stop_.load(std::memory_order_acquire)) {
    const uint32_t seen = self->wake_word_.load(std::memory_order_acquire);
    self->poll_recording();
    self->drain_all();
    const struct timespec timeout { 0, period_ns };
    futex(&self->wake_word_, FUTEX_WAIT_PRIVATE, seen, &timeout);
  }
  return nullptr;
}

void BlockBatches::poll_recording() noexcept {
  const bool now =
      lttng_ust_tracepoint_enabled(bdtrace, tb_batch) || lttng_ust_tracepoint_enabled(bdtrace, tb_exec);
  if (now == recording_.load(std::memory_order_relaxed)) return;
  recording_.store(now, std::memory_order_release);
  recording_epoch_.fetch_add(1, std::memory_order_acq_rel);
  if (recording_hook_ != nullptr) recording_hook_();
}

void BlockBatches::drain_all() noexcept {
  const unsigned n = slots_in_use();
  for (unsigned i = 0; i < n; ++i) {
    BlockProducer *p = producers_[i].load(std::memory_order_acquire);
    if (p != nullptr) p->drain();
  }
}

void BlockBatches::wake() noexcept {
  wake_word_.fetch_add(1, std::memory_order_release);
  futex(&wake_word_, FUTEX_WAKE_PRIVATE, 1, nullptr);
}

BlockProducer *BlockBatches::acquire() noexcept {
  // A retired producer whose ring the drain thread emptied.
  const unsigned n = slots_in_use();
  for (unsigned i = 0; i < n; ++i) {
    BlockProducer *p = producers_[i].load(std::memory_order_acquire);
    if (p == nullptr || !p->retired.load(std::memory_order_acquire)) continue;
    if (p->head_.load(std::memory_order_acquire) != p->tail_.load(std::memory_order_acquire)) continue;
    bool expected = true;
    if (p->retired.compare_exchange_strong(expected, false, std::memory_order_acq_rel)) return p;
  }
  auto *p = new (std::nothrow) BlockProducer;
  const unsigned slot = count_.fetch_add(1, std::memory_order_acq_rel);
  if (p == nullptr || slot >= kMaxProducers) {
    delete p;
    static std::atomic<bool> said{false};
    if (!said.exchange(true))
      std::fprintf(stderr,
                   "bdtrace: out of code-tracing buffers (%u threads or vCPUs, or "
                   "out of memory): blocks of further threads are not recorded\n",
                   kMaxProducers);
    return nullptr;
  }
  producers_[slot].store(p, std::memory_order_release);
  return p;
}

void BlockBatches::flush_all() noexcept {
  if (started_) {
    stop_.store(true, std::memory_order_release);
    wake();
    pthread_join(thread_, nullptr);  // one consumer per ring, always
    started_ = false;
  }
  const unsigned n = slots_in_use();
  for (unsigned i = 0; i < n; ++i) {
    BlockProducer *p = producers_[i].load(std::memory_order_acquire);
    if (p == nullptr) continue;
    p->end_batch();
    // A full ring: drain, then end again (the last batch carries the
    // remaining lost count).
    p->drain();
    if (p->lost_ > 0 && p->begin(p->last_vcpu_, p->last_pid_, p->last_tid_) != nullptr) p->publish();
    p->drain();
  }
}

void BlockBatches::forked_child(BlockProducer *mine) noexcept {
  const unsigned n = slots_in_use();
  for (unsigned i = 0; i < n; ++i) {
    BlockProducer *p = producers_[i].load(std::memory_order_acquire);
    if (p == nullptr) continue;
    // The parent emits what was buffered before the fork.
    p->filling_ = nullptr;
    p->lost_ = 0;
    p->head_local_ = 0;
    p->head_.store(0, std::memory_order_relaxed);
    p->tail_.store(0, std::memory_order_relaxed);
    p->retired.store(p != mine, std::memory_order_release);
  }
  started_ = false;  // the parent's drain thread does not exist here
  if (const Status started = start(); !started)
    std::fprintf(stderr, "bdtrace: pid %d: %s; blocks of this process are not recorded\n",
                 static_cast<int>(getpid()), started.error().ToString().c_str());
}

}  // namespace bdtrace::plugin
