/* SPDX-License-Identifier: GPL-2.0-or-later */
// The one place the plugin reads an instruction's bytes, whatever the API
// generation it is built for (see <bdtrace/qemu_plugin_api.h>).
#ifndef BDTRACE_QEMU_PLUGIN_INSN_H
#define BDTRACE_QEMU_PLUGIN_INSN_H

#include <bdtrace/qemu_plugin_api.h>

#include <cstddef>
#include <cstring>

namespace bdtrace::qemu_api {

// Copies the bytes of `insn` (during the translation callback) into `buf`
// and returns how many the instruction has; 0 when it does not fit `cap`
// (no trap is longer than the buffers callers pass) or QEMU gives none.
inline std::size_t insn_bytes(const struct qemu_plugin_insn *insn, unsigned char *buf,
                              std::size_t cap) noexcept {
  const std::size_t size = qemu_plugin_insn_size(insn);
  if (size == 0 || size > cap) return 0;
#if BDTRACE_QEMU_PLUGIN_API <= 2
  const void *data = qemu_plugin_insn_data(insn);
  if (data == nullptr) return 0;
  std::memcpy(buf, data, size);
  return size;
#else
  return qemu_plugin_insn_data(insn, buf, size) == size ? size : 0;
#endif
}

}  // namespace bdtrace::qemu_api

#endif  // BDTRACE_QEMU_PLUGIN_INSN_H
