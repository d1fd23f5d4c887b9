// SPDX-License-Identifier: MIT
// The plugin's table of guest architectures (usermode/guest_targets.h).
#include "bdtrace/plugin/guest_targets.h"

#include <bd/abi.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace bdtrace::plugin {
namespace {

const GuestTarget &find_ok(const char *name, bool system) {
  Expected<const GuestTarget *> t = find_guest_target(name, system);
  if (!t) {
    ADD_FAILURE() << name << ": " << t.error();
    static const GuestTarget kNone{};
    return kNone;
  }
  return **t;
}

// The message find_guest_target refuses `name` with ("" and a failure if
// it accepts it).
std::string refusal(const char *name, bool system) {
  Expected<const GuestTarget *> t = find_guest_target(name, system);
  EXPECT_FALSE(t) << name;
  return t ? std::string() : t.error().message;
}

std::vector<unsigned char> trap_of(const GuestTarget &t) { return {t.trap, t.trap + t.trap_len}; }

TEST(GuestTargets, EachTargetHasItsAbiTrap) {
  const std::vector<unsigned char> x86 = BD_TRAP_X86_64_BYTES;
  const std::vector<unsigned char> a64 = BD_TRAP_AARCH64_BYTES;
  const std::vector<unsigned char> rv64 = BD_TRAP_RISCV64_BYTES;
  const std::vector<unsigned char> s390x = BD_TRAP_S390X_BYTES;
  EXPECT_EQ(trap_of(find_ok("x86_64", false)), x86);
  EXPECT_EQ(trap_of(find_ok("aarch64", false)), a64);
  EXPECT_EQ(trap_of(find_ok("riscv64", false)), rv64);
  EXPECT_EQ(trap_of(find_ok("s390x", false)), s390x);
  // Spelled out once more by hand, from THE TRAP in <bd/abi.h>.
  EXPECT_EQ(trap_of(find_ok("x86_64", false)),
            (std::vector<unsigned char>{0x3e, 0x48, 0x8b, 0x07}));  // mov (%rdi),%rax + DS
  EXPECT_EQ(trap_of(find_ok("aarch64", false)),
            (std::vector<unsigned char>{0x1f, 0x00, 0x40, 0xf9}));  // ldr xzr, [x0]
  EXPECT_EQ(trap_of(find_ok("riscv64", false)),
            (std::vector<unsigned char>{0x03, 0x30, 0x05, 0x00}));  // ld zero, 0(a0)
  EXPECT_EQ(trap_of(find_ok("s390x", false)),
            (std::vector<unsigned char>{0xe3, 0x02, 0x00, 0x00, 0x00, 0x04}));  // lg %r0,0(%r2,0)
  EXPECT_STREQ(find_ok("x86_64", false).record_register, "rdi");
  EXPECT_STREQ(find_ok("aarch64", false).record_register, "x0");
  EXPECT_STREQ(find_ok("riscv64", false).record_register, "a0");
  EXPECT_STREQ(find_ok("s390x", false).record_register, "r2");
}

TEST(GuestTargets, TableIsTheFourTargets) {
  std::size_t n = 0;
  const GuestTarget *all = guest_targets(n);
  ASSERT_EQ(n, 4u);
  EXPECT_STREQ(all[0].name, "x86_64");
  EXPECT_STREQ(all[1].name, "aarch64");
  EXPECT_STREQ(all[2].name, "riscv64");
  EXPECT_STREQ(all[3].name, "s390x");
  // The row found is the table's own (its address is kept for the run).
  EXPECT_EQ(&find_ok("riscv64", false), &all[2]);
  EXPECT_EQ(&find_ok("s390x", false), &all[3]);
}

TEST(GuestTargets, ByteOrderPerTarget) {
  EXPECT_EQ(find_ok("x86_64", false).byte_order, ByteOrder::Little);
  EXPECT_EQ(find_ok("aarch64", false).byte_order, ByteOrder::Little);
  EXPECT_EQ(find_ok("riscv64", false).byte_order, ByteOrder::Little);
  EXPECT_EQ(find_ok("s390x", false).byte_order, ByteOrder::Big);
}

TEST(GuestTargets, UnknownTargetRefusedNamingTheSupportedOnes) {
  for (const char *name : {"s390", "mips64el", "arm", "x86-64", "AARCH64", "S390X", ""}) {
    EXPECT_EQ(refusal(name, false), std::string("guest architecture '") + (*name ? name : "(none given)") +
                                        "' is not supported in user mode; supported: x86_64 (qemu-x86_64), "
                                        "aarch64 (qemu-aarch64), riscv64 (qemu-riscv64), s390x (qemu-s390x)");
  }
  const std::string none = refusal(nullptr, false);
  EXPECT_NE(none.find("'(none given)'"), std::string::npos) << none;
}

TEST(GuestTargets, SystemEmulationIsX86AndAarch64) {
  EXPECT_STREQ(find_ok("x86_64", true).name, "x86_64");
  EXPECT_STREQ(find_ok("aarch64", true).name, "aarch64");
  for (const char *name : {"riscv64", "s390x"}) {
    EXPECT_EQ(refusal(name, true), std::string("guest architecture '") + name +
                                       "' is supported in user mode (qemu-" + name +
                                       ") but not yet in system emulation; supported there: x86_64 "
                                       "(qemu-system-x86_64), aarch64 (qemu-system-aarch64)");
  }
  EXPECT_EQ(refusal("ppc64", true),
            "guest architecture 'ppc64' is not supported in system emulation; "
            "supported: x86_64 (qemu-system-x86_64), aarch64 (qemu-system-aarch64)");
}

// Kernel records (SCHED_SWITCH) are accepted only from traps at or above
// kernel_space_start: every kernel address must be above it, every address
// user space can execute below it.
TEST(GuestTargets, KernelSpaceSplitPerArchitecture) {
  const GuestTarget &x86 = find_ok("x86_64", true);
  EXPECT_EQ(x86.kernel_space_start, 0xffff800000000000ull);
  EXPECT_LT(0x00007fffffffffffull, x86.kernel_space_start);  // top of x86_64 user space
  EXPECT_GE(0xffffffff81000000ull, x86.kernel_space_start);  // kernel text
  EXPECT_GE(0xffffffffc0000000ull, x86.kernel_space_start);  // modules

  const GuestTarget &a64 = find_ok("aarch64", true);
  // User space (TTBR0) ends below 2^48 with a 48-bit VA kernel (Debian's),
  // below 2^52 with a 52-bit one; the kernel (TTBR1) starts at
  // 0xffff000000000000 (48-bit VA) or 0xfff0000000000000 (52-bit).
  EXPECT_LT(0x0000ffffffffffffull, a64.kernel_space_start);
  EXPECT_LT(0x000fffffffffffffull, a64.kernel_space_start);
  EXPECT_GE(0xffff000000000000ull, a64.kernel_space_start);
  EXPECT_GE(0xfff0000000000000ull, a64.kernel_space_start);
  EXPECT_GE(0xffff800008000000ull, a64.kernel_space_start);  // 48-bit: modules, kernel image
}

TEST(GuestTargets, IsTrapMatchesExactBytesOnly) {
  const GuestTarget &a64 = find_ok("aarch64", false);
  const GuestTarget &rv = find_ok("riscv64", false);
  const GuestTarget &x86 = find_ok("x86_64", false);
  const unsigned char ldr_xzr[] = {0x1f, 0x00, 0x40, 0xf9};
  const unsigned char ldr_x1[] = {0x01, 0x00, 0x40, 0xf9};  // ldr x1, [x0]
  const unsigned char ld_zero[] = {0x03, 0x30, 0x05, 0x00};
  const unsigned char ld_a1[] = {0x83, 0x35, 0x05, 0x00};  // ld a1, 0(a0)
  const unsigned char mov_ds[] = {0x3e, 0x48, 0x8b, 0x07, 0x90};
  const GuestTarget &s390x = find_ok("s390x", false);
  const unsigned char lg_index[] = {0xe3, 0x02, 0x00, 0x00, 0x00, 0x04};  // lg %r0,0(%r2,0)
  const unsigned char lg_base[] = {0xe3, 0x00, 0x20, 0x00, 0x00, 0x04};   // lg %r0,0(%r2)
  const unsigned char lg_r1[] = {0xe3, 0x12, 0x00, 0x00, 0x00, 0x04};     // lg %r1,0(%r2,0)
  EXPECT_TRUE(is_trap(s390x, lg_index, 6));
  EXPECT_FALSE(is_trap(s390x, lg_base, 6));
  EXPECT_FALSE(is_trap(s390x, lg_r1, 6));
  EXPECT_FALSE(is_trap(s390x, lg_index, 4));  // a 4-byte prefix is not the instruction
  EXPECT_FALSE(is_trap(s390x, mov_ds, 4));
  EXPECT_FALSE(is_trap(x86, lg_index, 6));
  EXPECT_TRUE(is_trap(a64, ldr_xzr, 4));
  EXPECT_FALSE(is_trap(a64, ldr_x1, 4));
  EXPECT_FALSE(is_trap(a64, ldr_xzr, 2));  // a prefix is not the instruction
  EXPECT_FALSE(is_trap(a64, ld_zero, 4));
  EXPECT_FALSE(is_trap(a64, nullptr, 4));
  EXPECT_TRUE(is_trap(rv, ld_zero, 4));
  EXPECT_FALSE(is_trap(rv, ld_a1, 4));
  EXPECT_FALSE(is_trap(rv, ld_zero, 2));  // a compressed-size instruction
  EXPECT_FALSE(is_trap(rv, ldr_xzr, 4));
  EXPECT_TRUE(is_trap(x86, mov_ds, 4));
  EXPECT_FALSE(is_trap(x86, mov_ds, 5));  // longer instruction with the same start
  EXPECT_FALSE(is_trap(x86, mov_ds + 1, 3));
}

TEST(GuestTargets, MappingSyscallsPerArchitecture) {
  const GuestTarget &x86 = find_ok("x86_64", false);
  const GuestTarget &a64 = find_ok("aarch64", false);
  const GuestTarget &rv = find_ok("riscv64", false);
  // x86_64: mmap 9, mprotect 10, munmap 11, brk 12, mremap 25, madvise 28,
  // shmat 30, shmdt 67, pkey_mprotect 329.
  for (int64_t n : {9, 10, 11, 12, 25, 28, 30, 67, 329}) EXPECT_TRUE(changes_mappings(x86, n)) << n;
  // asm-generic (aarch64, riscv64): mmap 222, mprotect 226, munmap 215,
  // brk 214, mremap 216, madvise 233, shmat 196, shmdt 197, pkey_mprotect 288.
  for (int64_t n : {222, 226, 215, 214, 216, 233, 196, 197, 288}) {
    EXPECT_TRUE(changes_mappings(a64, n)) << n;
    EXPECT_TRUE(changes_mappings(rv, n)) << n;
    EXPECT_FALSE(changes_mappings(x86, n)) << n;
  }
  // x86_64's numbers mean other calls there (10 fremovexattr, 25 fcntl...).
  for (int64_t n : {0, 1, 9, 10, 11, 12, 25, 28, 30, 64, 67, 329}) {
    EXPECT_FALSE(changes_mappings(a64, n)) << n;
    EXPECT_FALSE(changes_mappings(rv, n)) << n;
  }
  // s390x (asm/unistd_64.h): mmap 90, mprotect 125, munmap 91, brk 45,
  // mremap 163, madvise 219, shmat 397, shmdt 398, pkey_mprotect 384, and
  // ipc 117 (glibc's shmat/shmdt there).
  const GuestTarget &s390x = find_ok("s390x", false);
  for (int64_t n : {90, 125, 91, 45, 163, 219, 397, 398, 384, 117})
    EXPECT_TRUE(changes_mappings(s390x, n)) << n;
  for (int64_t n : {9, 10, 11, 12, 222, 226, 215, 214, 1, 2, 3, 4})
    EXPECT_FALSE(changes_mappings(s390x, n)) << n;
  // No other target has an ipc multiplexer entry: the -1 filler matches
  // no real call.
  for (const GuestTarget *t : {&x86, &a64, &rv}) {
    EXPECT_FALSE(changes_mappings(*t, 117)) << t->name;
    EXPECT_FALSE(changes_mappings(*t, 0)) << t->name;
  }
}

}  // namespace
}  // namespace bdtrace::plugin
