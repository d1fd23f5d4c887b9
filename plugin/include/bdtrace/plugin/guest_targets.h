/* SPDX-License-Identifier: GPL-2.0-or-later */
// The guest architectures the plugin knows: one row per QEMU target name
// (qemu_info_t::target_name) with what differs between them, chosen once in
// qemu_plugin_install (QEMU contrib/plugins style) and never looked up again
// on the execution path.
//
// What differs today:
//   - the trap: its exact bytes as they lie in guest memory (<bd/abi.h>,
//     THE TRAP), matched at translation time;
//   - the guest's syscall numbers that can change its mappings (linux-user
//     reports guest numbers; aarch64 and riscv64 share the asm-generic
//     table, x86_64 and s390x have their own);
//   - the guest's clone() syscall and which argument holds its flags
//     (s390x passes the stack first), to see a thread being created;
//   - the guest's byte order (records and replies are in it, <bd/abi.h>):
//     s390x is big-endian, the others little-endian like the host; the
//     backend picks the swapping or the plain trap handler once, at install;
//   - whether the full-system backend (device/) supports the target, and
//     there where guest kernel space starts: a trap whose instruction lies
//     at or above it runs in the guest kernel (only that may send kernel
//     records such as SCHED_SWITCH), below it in user space.
#ifndef BDTRACE_PLUGIN_GUEST_TARGETS_H
#define BDTRACE_PLUGIN_GUEST_TARGETS_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "bdtrace/byte_order.h"
#include "bdtrace/status.h"

namespace bdtrace::plugin {

// Longest trap encoding of any target (x86_64, aarch64, riscv64: 4 bytes;
// s390x: 6).
constexpr std::size_t kMaxTrapLen = 6;
// Mapping-changing syscalls per target: mmap, mprotect, munmap, brk, mremap,
// madvise, shmat, shmdt, pkey_mprotect, ipc (the SysV IPC multiplexer,
// which glibc uses for shmat/shmdt where it exists, e.g. s390x; -1 where the
// architecture has none).
constexpr std::size_t kMappingSyscalls = 10;

struct GuestTarget {
  const char *name;                 // QEMU's target_name, e.g. "aarch64"
  unsigned char trap[kMaxTrapLen];  // the trap's bytes in guest memory
  std::size_t trap_len;             // how many of them
  const char *record_register;      // where the record's address is (for messages)
  int64_t mapping_syscalls[kMappingSyscalls];
  int64_t clone_syscall;        // clone(); linux-user has no clone3
  int clone_flags_arg;          // 1 or 2: the argument holding the flags
  ByteOrder byte_order;         // of records and replies in guest memory
  bool system_emulation;        // the full-system backend supports it
  uint64_t kernel_space_start;  // system emulation: lowest kernel pc (0: unused)
};

// Every known target, in the order messages list them.
const GuestTarget *guest_targets(std::size_t &count) noexcept;

// The row for QEMU's target_name in the given mode (never nullptr), or,
// when the target (or the mode for it) is not supported, an error that
// names the target and lists the supported ones for that mode.
Expected<const GuestTarget *> find_guest_target(const char *target_name, bool system_emulation);

// True when `bytes` (`len` of them, as qemu_plugin_insn_data/size return
// them) are exactly the target's trap instruction.
inline bool is_trap(const GuestTarget &t, const void *bytes, std::size_t len) noexcept {
  if (len != t.trap_len || bytes == nullptr) return false;
  const auto *b = static_cast<const unsigned char *>(bytes);
  for (std::size_t i = 0; i < len; ++i)
    if (b[i] != t.trap[i]) return false;
  return true;
}

// True for the target's syscall numbers that can change the guest's mappings.
inline bool changes_mappings(const GuestTarget &t, int64_t num) noexcept {
  for (int64_t s : t.mapping_syscalls)
    if (s == num) return true;
  return false;
}

// True for a guest clone() that QEMU runs as a new thread of this process,
// i.e. a new vCPU: CLONE_VM without CLONE_VFORK (linux-user runs a vfork
// as a fork). a1, a2: the syscall's first two arguments.
inline bool creates_thread(const GuestTarget &t, int64_t num, uint64_t a1, uint64_t a2) noexcept {
  constexpr uint64_t kCloneVm = 0x100, kCloneVfork = 0x4000;  // <linux/sched.h>
  if (num != t.clone_syscall) return false;
  const uint64_t flags = t.clone_flags_arg == 2 ? a2 : a1;
  return (flags & kCloneVm) != 0 && (flags & kCloneVfork) == 0;
}

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_GUEST_TARGETS_H
