// SPDX-License-Identifier: GPL-2.0-or-later
// The table of guest architectures (see guest_targets.h).
#include "bdtrace/plugin/guest_targets.h"

#include <bd/abi.h>

namespace bdtrace::plugin {
namespace {

static_assert(BD_TRAP_X86_64_LEN <= kMaxTrapLen, "x86_64 trap longer than kMaxTrapLen");
static_assert(BD_TRAP_AARCH64_LEN <= kMaxTrapLen, "aarch64 trap longer than kMaxTrapLen");
static_assert(BD_TRAP_RISCV64_LEN <= kMaxTrapLen, "riscv64 trap longer than kMaxTrapLen");
static_assert(BD_TRAP_S390X_LEN <= kMaxTrapLen, "s390x trap longer than kMaxTrapLen");

// Syscall numbers, in the order of kMappingSyscalls: mmap, mprotect, munmap,
// brk, mremap, madvise (keeps mappings, but MADV_DONTNEED & co: be safe),
// shmat, shmdt, pkey_mprotect, ipc. x86_64 from its own table; aarch64 and
// riscv64 from asm-generic/unistd.h (checked against SYS_* of Debian 12's
// aarch64-linux-gnu and riscv64-linux-gnu cross libc headers); s390x from
// Debian 12's /usr/s390x-linux-gnu/include/asm/unistd_64.h: it has both
// the ipc multiplexer (117), through which glibc 2.36 calls shmat/shmdt
// there, and the direct shmat/shmdt (397, 398) of newer kernels and libcs.
//
// clone: x86_64 56, asm-generic 220 (aarch64, riscv64), s390x 120 with the
// flags second (CONFIG_CLONE_BACKWARDS2), from the same headers.
//
// Where guest kernel space starts (system emulation), by what the CPU lets
// user space execute, so that no user program can pass for the kernel:
//   x86_64   the canonical upper half, 0xffff800000000000 and up (4-level
//            paging; a 5-level kernel's extra space lies above it too).
//   aarch64  addresses translated through TTBR1 (bit 55 set), which EL0
//            cannot execute: with Debian's 48-bit VA kernels (arm64
//            CONFIG_ARM64_VA_BITS=48) the kernel lives at
//            0xffff000000000000 and up. The bound is taken lower, at the
//            start of a 52-bit VA kernel's space: user space never
//            reaches above 2^52, so both kinds of kernel are told apart
//            from user space exactly.
// riscv64 and s390x run in user mode only: 0, unused.
constexpr GuestTarget kTargets[] = {
    {"x86_64",
     BD_TRAP_X86_64_BYTES,
     BD_TRAP_X86_64_LEN,
     "rdi",
     {9, 10, 11, 12, 25, 28, 30, 67, 329, -1},
     56,
     1,
     ByteOrder::Little,
     true,
     0xffff800000000000ull},
    {"aarch64",
     BD_TRAP_AARCH64_BYTES,
     BD_TRAP_AARCH64_LEN,
     "x0",
     {222, 226, 215, 214, 216, 233, 196, 197, 288, -1},
     220,
     1,
     ByteOrder::Little,
     true,
     0xfff0000000000000ull},
    {"riscv64",
     BD_TRAP_RISCV64_BYTES,
     BD_TRAP_RISCV64_LEN,
     "a0",
     {222, 226, 215, 214, 216, 233, 196, 197, 288, -1},
     220,
     1,
     ByteOrder::Little,
     false,
     0},
    {"s390x",
     BD_TRAP_S390X_BYTES,
     BD_TRAP_S390X_LEN,
     "r2",
     {90, 125, 91, 45, 163, 219, 397, 398, 384, 117},
     120,
     2,
     ByteOrder::Big,
     false,
     0},
};

// "x86_64 (qemu-x86_64), aarch64 (qemu-aarch64), ..." for one mode.
std::string supported_list(bool system_emulation) {
  std::string list;
  for (const auto &t : kTargets) {
    if (system_emulation && !t.system_emulation) continue;
    if (!list.empty()) list += ", ";
    list += t.name;
    list += system_emulation ? " (qemu-system-" : " (qemu-";
    list += t.name;
    list += ")";
  }
  return list;
}

}  // namespace

const GuestTarget *guest_targets(std::size_t &count) noexcept {
  count = sizeof kTargets / sizeof kTargets[0];
  return kTargets;
}

Expected<const GuestTarget *> find_guest_target(const char *target_name, bool system_emulation) {
  const std::string name = target_name ? target_name : "";
  const char *mode = system_emulation ? "system emulation" : "user mode";
  for (const auto &t : kTargets) {
    if (name != t.name) continue;
    if (system_emulation && !t.system_emulation) {
      return make_error("guest architecture '" + name + "' is supported in user mode (qemu-" + name +
                        ") but not yet in system emulation; supported there: " + supported_list(true));
    }
    return &t;
  }
  return make_error("guest architecture '" + (name.empty() ? std::string("(none given)") : name) +
                    "' is not supported in " + mode + "; supported: " + supported_list(system_emulation));
}

}  // namespace bdtrace::plugin
