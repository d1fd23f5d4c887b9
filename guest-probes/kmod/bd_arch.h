/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bd_sched: what differs between the guest kernels' architectures. One block
 * per architecture; bd_sched.c itself is architecture-neutral.
 *
 *   bd_trap(addr)        the bdtrace trap (<bd/abi.h>, THE TRAP) on the
 *                        record at addr: its exact bytes, the record
 *                        address in the register the ABI names
 *   bd_clock()           the counter a ring record is stamped with
 *   bd_clock_ordered()   the same, not taken before earlier instructions
 *                        (the clock agent's answer to a sync request)
 *   BD_KMOD_RING_CLOCK   the enum bd_ring_clock that counter is
 *   BD_KMOD_CLOCK_NAME   its name, for messages
 *
 * The trap is emitted as its instruction word, never as a mnemonic: the
 * plugin matches the bytes exactly and an assembler is free to pick another
 * encoding of the same mnemonic.
 */
#ifndef BD_SCHED_ARCH_H
#define BD_SCHED_ARCH_H

#include <linux/compiler.h>
#include <linux/types.h>

#include <bd/ring.h>

#if defined(CONFIG_X86_64)

#include <asm/msr.h>

#define BD_KMOD_RING_CLOCK BD_RING_CLOCK_TSC
#define BD_KMOD_CLOCK_NAME "TSC"

/* DS-prefixed mov (%rdi),%rax: 3e 48 8b 07 (BD_TRAP_X86_64_BYTES). */
static __always_inline void bd_trap(const void *addr)
{
	unsigned long dummy;

	asm volatile(".byte 0x3e,0x48,0x8b,0x07"
		     : "=a"(dummy)
		     : "D"(addr)
		     : "memory");
	(void)dummy;
}

static __always_inline u64 bd_clock(void)
{
	return rdtsc();
}

static __always_inline u64 bd_clock_ordered(void)
{
	return rdtsc_ordered();
}

#elif defined(CONFIG_ARM64)

#include <asm/arch_timer.h>

#define BD_KMOD_RING_CLOCK BD_RING_CLOCK_CNTVCT
#define BD_KMOD_CLOCK_NAME "CNTVCT"

/* ldr xzr, [x0]: 0xf940001f (BD_TRAP_AARCH64_BYTES). */
static __always_inline void bd_trap(const void *addr)
{
	register const void *x0 asm("x0") = addr;

	asm volatile(".inst 0xf940001f" : : "r"(x0) : "memory");
}

/* The virtual counter, what libbdguest stamps user ring records with
 * (cntvct_el0). The kernel's accessor puts an isb before the read, so it
 * is ordered already. */
static __always_inline u64 bd_clock(void)
{
	return __arch_counter_get_cntvct();
}

static __always_inline u64 bd_clock_ordered(void)
{
	return __arch_counter_get_cntvct();
}

#else
#error "bd_sched: no bdtrace trap for this architecture (x86_64 and arm64 have one)"
#endif

#endif /* BD_SCHED_ARCH_H */
