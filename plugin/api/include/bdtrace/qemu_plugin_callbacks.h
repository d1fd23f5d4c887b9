/* SPDX-License-Identifier: GPL-2.0-or-later */
// The one place the plugin registers the callbacks whose signatures differ
// between QEMU plugin API generations (generation 7 dropped the plugin id
// and added a userdata pointer; see <bdtrace/qemu_plugin_api.h>). Both
// backends write their callbacks in one generation-neutral shape and
// register them here; each function makes, at compile time, the adapter
// with the signature the targeted generation calls (an inlined forwarding
// call, nothing decided at run time).
#ifndef BDTRACE_QEMU_PLUGIN_CALLBACKS_H
#define BDTRACE_QEMU_PLUGIN_CALLBACKS_H

#include <bdtrace/qemu_plugin_api.h>

#include <cstdint>

namespace bdtrace::qemu_api {

// The callbacks' generation-neutral shapes.
using VcpuFn = void (*)(unsigned int vcpu_index) noexcept;
using TbTransFn = void (*)(struct qemu_plugin_tb *tb) noexcept;
// The syscall's number and its first two arguments (all bdtrace reads).
using SyscallFn = void (*)(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2) noexcept;
using SyscallRetFn = void (*)(unsigned int vcpu_index, int64_t num, int64_t ret) noexcept;
using ExitFn = void (*)() noexcept;

#if BDTRACE_QEMU_PLUGIN_API <= 6

template <VcpuFn F>
void register_vcpu_init(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_init_cb(id, [](qemu_plugin_id_t, unsigned int vcpu) { F(vcpu); });
}
template <VcpuFn F>
void register_vcpu_exit(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_exit_cb(id, [](qemu_plugin_id_t, unsigned int vcpu) { F(vcpu); });
}
template <TbTransFn F>
void register_tb_trans(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_tb_trans_cb(id, [](qemu_plugin_id_t, struct qemu_plugin_tb *tb) { F(tb); });
}
template <SyscallFn F>
void register_syscall(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_syscall_cb(
      id, [](qemu_plugin_id_t, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2, uint64_t, uint64_t,
             uint64_t, uint64_t, uint64_t, uint64_t) { F(vcpu, num, a1, a2); });
}
template <SyscallRetFn F>
void register_syscall_ret(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_syscall_ret_cb(
      id, [](qemu_plugin_id_t, unsigned int vcpu, int64_t num, int64_t ret) { F(vcpu, num, ret); });
}
template <ExitFn F>
void register_atexit(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_atexit_cb(
      id, [](qemu_plugin_id_t, void *) { F(); }, nullptr);
}

#else  // generation 7: no id, a userdata pointer last (unused: nullptr)

template <VcpuFn F>
void register_vcpu_init(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_init_cb(
      id, [](unsigned int vcpu, void *) { F(vcpu); }, nullptr);
}
template <VcpuFn F>
void register_vcpu_exit(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_exit_cb(
      id, [](unsigned int vcpu, void *) { F(vcpu); }, nullptr);
}
template <TbTransFn F>
void register_tb_trans(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_tb_trans_cb(
      id, [](struct qemu_plugin_tb *tb, void *) { F(tb); }, nullptr);
}
template <SyscallFn F>
void register_syscall(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_syscall_cb(
      id,
      [](unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2, uint64_t, uint64_t, uint64_t, uint64_t,
         uint64_t, uint64_t, void *) { F(vcpu, num, a1, a2); },
      nullptr);
}
template <SyscallRetFn F>
void register_syscall_ret(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_vcpu_syscall_ret_cb(
      id, [](unsigned int vcpu, int64_t num, int64_t ret, void *) { F(vcpu, num, ret); }, nullptr);
}
template <ExitFn F>
void register_atexit(qemu_plugin_id_t id) noexcept {
  qemu_plugin_register_atexit_cb(
      id, [](void *) { F(); }, nullptr);
}

#endif

}  // namespace bdtrace::qemu_api

#endif  // BDTRACE_QEMU_PLUGIN_CALLBACKS_H
