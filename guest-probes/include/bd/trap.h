/* SPDX-License-Identifier: MIT */
/*
 * bdtrace guest SDK: the bdtrace trap instruction of each guest
 * architecture, as <bd/abi.h> (THE TRAP) fixes it: its exact bytes, the
 * record's address in the register the ABI names.
 *
 * For code that fills a struct bd_record itself (<bd/record_fill.h>) and
 * hands it over: the bd_sched kernel module, test programs, benchmarks.
 * Programs normally mark through <bd/bd.h>, which does all of this. This is
 * the one place the trap is written: libbdguest, the kernel module, the
 * tests and the benchmarks all include it. It compiles as C (C99 and later)
 * and C++, in user space and in a Linux kernel module (__KERNEL__).
 *
 * Each trap is emitted as its exact instruction bytes (.byte, .inst, .insn),
 * never as a mnemonic: the plugin matches the bytes exactly, and an
 * assembler free to choose (a compressed riscv form, another x86 prefix
 * order) could emit something else. riscv64 uses `.insn 4, WORD` rather
 * than `.4byte`: the same four bytes, but marked as an instruction, so that
 * disassemblers (and the build's check of where the trap occurs) decode it
 * instead of showing data; s390x has no mapping symbols, so .byte in .text
 * decodes as the instruction.
 *
 * Natively and under QEMU without the plugin each trap is a plain load
 * whose result is discarded (x86_64: it lands in rax, s390x: in r0, both
 * declared clobbered). The plugin's callback runs after the load, so the
 * reply must be read afterwards with a separate load: the "memory" clobber
 * orders the record's stores before the trap and forces that later read to
 * be a real one; read the reply through a volatile access
 * (`*(volatile int32_t *)&r->reply`, READ_ONCE in the kernel).
 */
#ifndef BD_TRAP_H
#define BD_TRAP_H

#include <bd/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Execute the trap with the record-pointer register = `addr`. Any address:
 * a record, the system channel's handshake at BAR2 offset 0, or (in tests)
 * a hostile one; the plugin validates what it finds there. */
static inline __attribute__((always_inline)) void bd_trap_at(const volatile void *addr) {
#if defined(__x86_64__)
  /* DS-prefixed mov (%rdi),%rax: 3e 48 8b 07 (BD_TRAP_X86_64_BYTES). */
  unsigned long discarded;
  __asm__ volatile(".byte 0x3e,0x48,0x8b,0x07" : "=a"(discarded) : "D"(addr) : "memory");
  (void)discarded;
#elif defined(__aarch64__)
  /* ldr xzr, [x0]: 0xf940001f (BD_TRAP_AARCH64_BYTES). */
  register const volatile void *x0 __asm__("x0") = addr;
  __asm__ volatile(".inst 0xf940001f" : : "r"(x0) : "memory");
#elif defined(__riscv) && __riscv_xlen == 64
  /* ld zero, 0(a0): 0x00053003, never compressed
     * (BD_TRAP_RISCV64_BYTES). */
  register const volatile void *a0 __asm__("a0") = addr;
  __asm__ volatile(".insn 4, 0x00053003" : : "r"(a0) : "memory");
#elif defined(__s390x__)
  /* lg %r0,0(%r2,0): e3 02 00 00 00 04 (BD_TRAP_S390X_BYTES), the record
     * in the index register and no base. The load lands in r0 (s390x has
     * no zero register): r0 is clobbered. */
  register const volatile void *r2 __asm__("r2") = addr;
  __asm__ volatile(".byte 0xe3,0x02,0x00,0x00,0x00,0x04" : : "r"(r2) : "r0", "memory");
#else
#error \
    "<bd/trap.h>: <bd/abi.h> defines no bdtrace trap for this architecture (x86_64, aarch64, riscv64, s390x have one)"
#endif
}

/* The trap on record `r` (a user-mode TLS slot, a system-mode BAR2 slot,
 * a kernel slot). */
static inline __attribute__((always_inline)) void bd_trap(struct bd_record *r) { bd_trap_at(r); }

#ifdef __cplusplus
}
#endif

#endif /* BD_TRAP_H */
