// SPDX-License-Identifier: GPL-2.0-or-later
// The code-tracing gate's per-vCPU flag (see code_gate.h).
#include "bdtrace/plugin/code_gate.h"

#include <atomic>

namespace bdtrace::plugin {

CodeGate g_code_gate;

namespace {

// Locks and unlocks that cannot fail for a default mutex used correctly.
struct LockGuard {
  explicit LockGuard(pthread_mutex_t &m) noexcept : m_(m) { pthread_mutex_lock(&m_); }
  ~LockGuard() { pthread_mutex_unlock(&m_); }
  LockGuard(const LockGuard &) = delete;
  LockGuard &operator=(const LockGuard &) = delete;
  pthread_mutex_t &m_;
};

}  // namespace

Status CodeGate::init(unsigned initial_vcpus) {
#if BDTRACE_QEMU_PLUGIN_API >= 3
  struct qemu_plugin_scoreboard *board = qemu_plugin_scoreboard_new(sizeof(uint64_t));
  if (board == nullptr) {
    return make_error("QEMU could not allocate a scoreboard for the code-tracing gate");
  }
  flag_ = qemu_plugin_u64{board, 0};
  // vCPUs QEMU initialized before this plugin was installed need no wait.
  const int known = qemu_plugin_num_vcpus();
  in_flight_ = static_cast<long>(initial_vcpus) - (known > 0 ? known : 0);
  wake_pending_ = true;  // every vCPU evaluates its gate before its first block
  LockGuard hold(lock_);
  apply_locked();
  if (pthread_atfork(before_fork, after_fork_parent, after_fork_child) != 0) {
    return make_error("pthread_atfork failed; code tracing cannot follow forks");
  }
#else
  (void)initial_vcpus;
#endif
  return Status::Ok();
}

void CodeGate::register_block(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                              void *udata) const noexcept {
#if BDTRACE_QEMU_PLUGIN_API >= 3
  qemu_plugin_register_vcpu_tb_exec_cond_cb(tb, cb, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_NE, flag_, 0,
                                            udata);
#else
  qemu_plugin_register_vcpu_tb_exec_cb(tb, cb, QEMU_PLUGIN_CB_NO_REGS, udata);
#endif
}

void CodeGate::close_own(unsigned vcpu) const noexcept {
#if BDTRACE_QEMU_PLUGIN_API >= 3
  qemu_plugin_u64_set(flag_, vcpu, 0);
  // Pairs with wake_all(): the caller's re-read of the config comes after
  // this store.
  std::atomic_thread_fence(std::memory_order_seq_cst);
#else
  (void)vcpu;
#endif
}

void CodeGate::wake_own(unsigned vcpu) const noexcept {
#if BDTRACE_QEMU_PLUGIN_API >= 3
  qemu_plugin_u64_set(flag_, vcpu, 1);
#else
  (void)vcpu;
#endif
}

void CodeGate::wake_all() noexcept {
  if (!kConditional) return;
  // The new config was published before: set the flags after it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  LockGuard hold(lock_);
  wake_pending_ = true;
  apply_locked();
}

void CodeGate::vcpu_announced() noexcept {
  if (!kConditional) return;
  LockGuard hold(lock_);
  ++in_flight_;
}

void CodeGate::vcpu_announce_failed() noexcept {
  if (!kConditional) return;
  LockGuard hold(lock_);
  --in_flight_;
  apply_locked();
}

void CodeGate::vcpu_initialized() noexcept {
  if (!kConditional) return;
  LockGuard hold(lock_);
  --in_flight_;  // below 0 for a vCPU nobody announced (CPU hotplug)
  wake_pending_ = true;
  apply_locked();
}

// Sets every initialized vCPU's flag when a wake is due and no vCPU is
// being created (no scoreboard growth can run: see code_gate.h).
void CodeGate::apply_locked() noexcept {
#if BDTRACE_QEMU_PLUGIN_API >= 3
  if (!wake_pending_ || in_flight_ > 0) return;
  const int n = qemu_plugin_num_vcpus();
  for (int i = 0; i < n; ++i) qemu_plugin_u64_set(flag_, static_cast<unsigned>(i), 1);
  wake_pending_ = false;
#endif
}

// Fork (user mode: the guest forked): the child has one thread, so no
// vCPU is being created there; its identity changed, so every gate is
// evaluated again.
void CodeGate::before_fork() noexcept { pthread_mutex_lock(&g_code_gate.lock_); }

void CodeGate::after_fork_parent() noexcept { pthread_mutex_unlock(&g_code_gate.lock_); }

void CodeGate::after_fork_child() noexcept {
  CodeGate &g = g_code_gate;
  g.in_flight_ = 0;
  g.wake_pending_ = true;
  g.apply_locked();
  pthread_mutex_unlock(&g.lock_);
}

}  // namespace bdtrace::plugin
