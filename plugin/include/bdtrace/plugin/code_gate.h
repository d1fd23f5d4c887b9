/* SPDX-License-Identifier: GPL-2.0-or-later */
// The code-tracing gate's per-vCPU "call me" flag (process-gated code
// tracing, Rule.trace_code; both backends).
//
// With a trace_code rule every translated (user-space) block gets an exec
// callback that decides, per vCPU, whether the block is recorded. Plugin
// API 3 and later (QEMU 9.1+) make that call conditional: QEMU's generated
// code compares the executing vCPU's flag in a scoreboard with 0 and calls
// only when it is set, so a closed gate costs a load and a branch per
// block instead of a call (+65 % on a CPU-bound guest under QEMU 10 with
// the call, within noise with the flag). Builds for API 1 and 2 register
// the plain callback and every method below but register_block is a no-op.
//
// The flag's protocol: set (1) = "evaluate your gate at your next block";
// clear (0) = "closed and up to date". Only the exec callback clears it,
// on its own vCPU, when it finds the gate closed; it then re-reads the
// config, so a reload published meanwhile is never missed (the reload
// sets every flag after publishing, the callback clears before re-reading:
// one of the two sees the other). Flags are set for one vCPU after its
// task changed (system mode: SCHED_SWITCH, from that vCPU's trap) and for
// all after a reload, a new vCPU or a fork.
//
// Who may write a flag when: QEMU reallocates scoreboards when it
// initializes a vCPU index beyond their capacity (16, 32, ...), stopping
// only the vCPUs that run translated code. A write from a callback of
// translated code is therefore always safe; a write from any other thread
// (the filter watcher, a vCPU's init callback) is safe only while no vCPU
// is being created. So vCPU creations are counted: in system mode the
// vCPUs QEMU creates at start, in user mode each thread-creating clone()
// from its syscall entry to the new vCPU's init callback (or the clone's
// failure); writes from other threads wait (are deferred, under a lock
// that the clone entry also takes) until that count is zero. A new thread
// may thus run a few blocks before its first evaluation when another
// clone is in flight at its start.
#ifndef BDTRACE_PLUGIN_CODE_GATE_H
#define BDTRACE_PLUGIN_CODE_GATE_H

#include <bdtrace/qemu_plugin_api.h>

#include <pthread.h>

#include <cstdint>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::plugin {

class CodeGate {
 public:
  // True when blocks get a conditional callback (API 3 and later).
  static constexpr bool kConditional = BDTRACE_QEMU_PLUGIN_API >= 3;

  // At install, with a trace_code rule, before any block is translated.
  // initial_vcpus: the vCPUs QEMU will initialize without a guest
  // clone() announcing them (user mode 1, system mode smp_vcpus).
  // Registers the fork handlers (user mode: a guest fork is QEMU's).
  // An error when the scoreboard or the handlers fail.
  Status init(unsigned initial_vcpus);

  // At translation: cb(vcpu, udata) on every execution of tb, while the
  // executing vCPU's flag is set (API 3+), or always (API 1, 2).
  void register_block(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb, void *udata) const noexcept;

  // From vcpu's own exec callback, its gate closed: stop calling. The
  // caller then re-reads the config and calls wake_own() if it changed.
  void close_own(unsigned vcpu) const noexcept;
  // From a callback of translated code on vcpu's own thread (its exec
  // callback, its trap): evaluate the gate at the next block.
  void wake_own(unsigned vcpu) const noexcept;
  // From any thread (a reload): every vCPU evaluates its gate at its next
  // block. Deferred while a vCPU is being created.
  void wake_all() noexcept;

  // User mode, on the vCPU thread: a thread-creating clone() enters the
  // kernel / failed (no new vCPU comes).
  void vcpu_announced() noexcept;
  void vcpu_announce_failed() noexcept;
  // QEMU's vcpu_init callback (on the new vCPU's thread, after any
  // scoreboard growth): one expected vCPU arrived; it evaluates its gate
  // before it runs (with every other vCPU, when none is in flight).
  void vcpu_initialized() noexcept;

 private:
  void apply_locked() noexcept;
  static void before_fork() noexcept;
  static void after_fork_parent() noexcept;
  static void after_fork_child() noexcept;

#if BDTRACE_QEMU_PLUGIN_API >= 3
  qemu_plugin_u64 flag_{nullptr, 0};
#endif
  pthread_mutex_t lock_ = PTHREAD_MUTEX_INITIALIZER;
  // vCPUs announced (or expected at start) whose init callback has not
  // run yet; writes from other threads wait for 0. Under lock_.
  long in_flight_ = 0;
  // A wake_all() is waiting for in_flight_ to reach 0. Under lock_.
  bool wake_pending_ = false;
};

// The one instance (one backend per QEMU process).
extern CodeGate g_code_gate;

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_CODE_GATE_H
