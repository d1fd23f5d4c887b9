/* SPDX-License-Identifier: GPL-2.0-or-later */
// The translation-time scan both backends run on every translated block:
// which of its instructions is the guest's trap (<bd/abi.h>, THE TRAP).
// Everything is decided here, at translation (QEMU contrib/plugins style):
// only the exact trap bytes get a memory callback, nothing else pays.
// Header-only: it calls the QEMU plugin API, whose declarations depend on
// the API generation the including translation unit is built for.
#ifndef BDTRACE_PLUGIN_TRAP_SCAN_H
#define BDTRACE_PLUGIN_TRAP_SCAN_H

#include <bdtrace/qemu_plugin_api.h>
#include <bdtrace/qemu_plugin_insn.h>

#include <cstddef>

#include "bdtrace/plugin/guest_targets.h"

namespace bdtrace::plugin {

// Calls on_trap(insn) for every instruction of `tb` whose bytes are exactly
// `target`'s trap. Only the exact encoding counts: on x86_64 other
// DS-prefixed movs exist in real binaries (libcrypto). The bytes are as they
// lie in guest memory (on riscv64 both halfwords of a 32-bit instruction),
// the form <bd/abi.h> gives the traps in. Re-translating the same
// instruction registers a callback on the new translation only, so repeats
// are harmless.
template <class OnTrap>
void for_each_trap(struct qemu_plugin_tb *tb, const GuestTarget &target, OnTrap &&on_trap) {
  const std::size_t n = qemu_plugin_tb_n_insns(tb);
  for (std::size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if (qemu_plugin_insn_size(insn) != target.trap_len) continue;
    unsigned char bytes[kMaxTrapLen];
    if (!is_trap(target, bytes, qemu_api::insn_bytes(insn, bytes, sizeof bytes))) continue;
    on_trap(insn);
  }
}

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_TRAP_SCAN_H
