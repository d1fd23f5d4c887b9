/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bd_sched: what differs between the guest kernels' architectures. One block
 * per architecture; bd_sched.c itself is architecture-neutral.
 *
 *   bd_clock()           the counter a ring record is stamped with
 *   bd_clock_ordered()   the same, not taken before earlier instructions
 *                        (the clock agent's answer to a sync request)
 *   BD_KMOD_RING_CLOCK   the enum bd_ring_clock that counter is
 *   BD_KMOD_CLOCK_NAME   its name, for messages
 *
 * The trap and the record fill are not here: they are the same on every
 * architecture's kernel and in user space (<bd/trap.h>, <bd/record_fill.h>).
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
#error "bd_sched: no ring clock for this architecture (x86_64 and arm64 have one)"
#endif

#endif /* BD_SCHED_ARCH_H */
