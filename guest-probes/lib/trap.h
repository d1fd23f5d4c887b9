/*
 * Private to libbdguest: the bdtrace trap instruction (see <bd/abi.h>).
 */
#ifndef BD_GUEST_TRAP_H
#define BD_GUEST_TRAP_H

#include <bd/abi.h>

#if !defined(__x86_64__)
#error "libbdguest: the bdtrace trap is defined for x86_64 guests only"
#endif

/* Execute the trap on `r`: the DS-prefixed `mov (%rdi),%rax` (3e 48 8b 07).
 * Natively it only loads the record's first word. The plugin's callback runs
 * after the load, so the reply must be read afterwards with a separate load
 * (the "memory" clobber plus a volatile read in the caller). */
static inline __attribute__((always_inline)) void
bd_trap(struct bd_record *r)
{
    unsigned long discarded;
    __asm__ volatile(".byte 0x3e,0x48,0x8b,0x07"
                     : "=a"(discarded)
                     : "D"(r)
                     : "memory");
    (void)discarded;
}

/* The same trap with %rdi = any address (system mode: the handshake traps
 * on BAR2 offset 0; test programs trap on hostile addresses). */
static inline __attribute__((always_inline)) void
bd_trap_at(const volatile void *addr)
{
    unsigned long discarded;
    __asm__ volatile(".byte 0x3e,0x48,0x8b,0x07"
                     : "=a"(discarded)
                     : "D"(addr)
                     : "memory");
    (void)discarded;
}

#endif /* BD_GUEST_TRAP_H */
