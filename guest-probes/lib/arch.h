/* SPDX-License-Identifier: MIT */
/*
 * Private to libbdguest: what differs between guest architectures, apart
 * from the trap instruction itself (trap.h). One block per architecture;
 * everything else in lib/ is architecture-neutral C.
 *
 *   BD_ARCH_NAME        the name bd-run and the build use ("x86_64", ...)
 *   BD_ARCH_BAR_MAPPING (optional) the sysfs file that maps an ivshmem BAR2
 *                       in system mode where plain "resource2" does not
 *                       serve (ivshmem.c falls back to resource2)
 *   BD_ARCH_RING_CLOCK  the enum bd_ring_clock a ring region must carry for
 *                       this library to write into it (<bd/ring.h>, TIME)
 *   bd_arch_clock()     that clock, read at a mark (bd_ring_record.ts)
 *   bd_arch_inc_fetch() increment a 64-bit counter that only the calling
 *   bd_arch_inc()       thread and its signal handlers write (a record's
 *                       seq, a ring's dropped), safe against a handler of
 *                       the same thread interrupting it: the increment is
 *                       one indivisible step, so a nested call never loses
 *                       a count or shares a sequence number. Other threads
 *                       (the host consumer) only read the counter.
 *
 * The counters need no ordering: the ring's head store (release) publishes
 * them. They need only indivisibility against a signal handler, which on
 * x86_64 an unlocked read-modify-write instruction gives (QEMU, like the
 * CPU, delivers guest signals between instructions). aarch64 and riscv64
 * have no non-atomic add to memory (s390x's agsi would do, but GCC's
 * atomic builtin says what is meant); a relaxed atomic fetch-add is
 * indivisible by definition, against the same thread's handlers too:
 *   riscv64  amoadd.d, one instruction (the A extension is in Debian's
 *            rv64gc baseline).
 *   aarch64  GCC's outline atomics: ldadd (one instruction, ARMv8.1 LSE)
 *            where the CPU has it (qemu-aarch64's default CPU does), else a
 *            ldxr/stxr loop. A signal delivered between ldxr and stxr makes
 *            the stxr fail (an exception return clears the exclusive
 *            monitor; QEMU's stxr compares against the value ldxr read,
 *            which the handler's increment changed), so the loop retries
 *            with the handler's increment included.
 *   s390x    laag (load and add, interlocked; z196, Debian's s390x
 *            baseline and GCC's default -march=arch9), one instruction.
 *            Built for an older CPU, GCC would emit a csg loop instead,
 *            which a handler's increment between the load and the csg
 *            makes fail and retry, so that is indivisible too.
 */
#ifndef BD_GUEST_ARCH_H
#define BD_GUEST_ARCH_H

#include <stdint.h>

#include <bd/ring.h>

#define BD_ARCH_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__)

#define BD_ARCH_NAME "x86_64"
#define BD_ARCH_RING_CLOCK BD_RING_CLOCK_TSC

BD_ARCH_INLINE uint64_t bd_arch_clock(void) { return __builtin_ia32_rdtsc(); }

/* One unlocked xadd: no lock prefix (nobody else writes the counter). */
BD_ARCH_INLINE uint64_t bd_arch_inc_fetch(uint64_t *p) {
  uint64_t v = 1;
  __asm__ volatile("xaddq %0, %1" : "+r"(v), "+m"(*p));
  return v + 1;
}

BD_ARCH_INLINE void bd_arch_inc(uint64_t *p) { __asm__ volatile("addq $1, %0" : "+m"(*p)); }

#elif defined(__aarch64__)

#define BD_ARCH_NAME "aarch64"
#define BD_ARCH_RING_CLOCK BD_RING_CLOCK_CNTVCT
/* sysfs "resource2" maps a BAR as Device memory on arm64, where an
 * unaligned access faults; libc's memcpy and memset make them, and QEMU 10
 * (unlike 7.2) raises the alignment fault: SIGBUS in bd_mark. The
 * write-combining file maps it Normal non-cacheable: any access works.
 * (x86_64 keeps resource2: a WC mapping there would let stores reorder
 * under KVM, against the ring's release ordering.) */
#define BD_ARCH_BAR_MAPPING "resource2_wc"

/* The virtual counter; the isb keeps the read from being taken early
 * (before the instructions that precede the mark). */
BD_ARCH_INLINE uint64_t bd_arch_clock(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
  return v;
}

#elif defined(__riscv) && __riscv_xlen == 64

#define BD_ARCH_NAME "riscv64"
#define BD_ARCH_RING_CLOCK BD_RING_CLOCK_RISCV_TIME

BD_ARCH_INLINE uint64_t bd_arch_clock(void) {
  uint64_t v;
  __asm__ volatile("rdtime %0" : "=r"(v));
  return v;
}

#elif defined(__s390x__)

#define BD_ARCH_NAME "s390x"
#define BD_ARCH_RING_CLOCK BD_RING_CLOCK_S390X_TOD

/* The TOD clock with stckf (store clock fast: no wait for a unique value,
 * which the ring does not need; stckf sets the condition code). */
BD_ARCH_INLINE uint64_t bd_arch_clock(void) {
  uint64_t v;
  __asm__ volatile("stckf %0" : "=Q"(v) : : "cc");
  return v;
}

#else
#error \
    "libbdguest: no bdtrace support for this guest architecture (x86_64, aarch64, riscv64 and s390x have it)"
#endif

#if !defined(__x86_64__)
/* aarch64, riscv64, s390x: a relaxed atomic add (see the top of this
 * file). */
BD_ARCH_INLINE uint64_t bd_arch_inc_fetch(uint64_t *p) { return __atomic_add_fetch(p, 1, __ATOMIC_RELAXED); }

BD_ARCH_INLINE void bd_arch_inc(uint64_t *p) { (void)__atomic_add_fetch(p, 1, __ATOMIC_RELAXED); }
#endif

#endif /* BD_GUEST_ARCH_H */
