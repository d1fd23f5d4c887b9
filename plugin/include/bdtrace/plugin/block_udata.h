/* SPDX-License-Identifier: GPL-2.0-or-later */
// The userdata of a code-tracing block callback (both backends): the
// block's pc and instruction count packed into the pointer QEMU hands back,
// so the execution path needs no lookup. pc << 16 | n: a TB has at most 512
// instructions (n is capped at 0xffff anyway); user-space pcs fit in 48 bits
// (the backends instrument user-space blocks only), and an arithmetic shift
// restores a sign-extended upper-half pc.
#ifndef BDTRACE_PLUGIN_BLOCK_UDATA_H
#define BDTRACE_PLUGIN_BLOCK_UDATA_H

#include <cstddef>
#include <cstdint>

namespace bdtrace::plugin {

inline void *pack_block(uint64_t pc, std::size_t n_insns) noexcept {
  const uint64_t n = n_insns > 0xffff ? 0xffff : n_insns;
  return reinterpret_cast<void *>(static_cast<uintptr_t>(pc << 16 | n));
}

inline uint64_t block_pc(const void *udata) noexcept {
  const auto packed = reinterpret_cast<uintptr_t>(udata);
  return static_cast<uint64_t>(static_cast<int64_t>(packed) >> 16);
}

inline uint32_t block_insns(const void *udata) noexcept {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(udata) & 0xffff);
}

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_BLOCK_UDATA_H
