/* SPDX-License-Identifier: MIT */
/*
 * Private to libbdguest (and its unit tests): claim tables, the one
 * implementation of "each guest thread owns one entry" that both the
 * full-system channel (user slots, <bd/channel.h>) and the ring channel
 * (user rings, <bd/ring.h>) use.
 *
 * A table is `count` struct bd_slot_claim in shared memory; entries
 * [first, count) are claimable (the ring channel keeps [0, kernel_rings)
 * for the guest kernel). Indices taken and returned are absolute: entry i
 * is claims[i].
 *
 * Protocol: an entry {tid, pid} is one 64-bit word, changed only by
 * compare-and-swap, so tid and pid always change together. Free is tid == 0
 * (whatever the pid half holds). A thread claims a free entry, releases it
 * at exit; a claimer that finds none free reclaims entries whose thread no
 * longer exists (tgkill(pid, tid, 0) fails with ESRCH), and only if the
 * entry still holds the dead thread's word, so a fresh claim is never freed.
 *
 * These functions may make system calls (reclaiming) and are meant for slow
 * paths (the first call of a thread); none allocates memory.
 */
#ifndef BD_GUEST_CLAIM_H
#define BD_GUEST_CLAIM_H

#include <stdint.h>

#include <bd/channel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Claim a free entry in [first, count) for thread (pid, tid): entries are
 * tried from first + tid % (count - first) on, so that threads spread over
 * the table. Returns the entry's index, or -1 when none is free. */
int bd_claim_free(struct bd_slot_claim *claims, unsigned count, unsigned first, uint32_t pid, uint32_t tid);

/* Free every entry in [first, count) whose thread no longer exists.
 * Returns how many. */
unsigned bd_claim_reclaim(struct bd_slot_claim *claims, unsigned count, unsigned first);

/* bd_claim_free, and when nothing is free, bd_claim_reclaim then one more
 * bd_claim_free. Returns the index, or -1 when every entry belongs to a
 * live thread. */
int bd_claim(struct bd_slot_claim *claims, unsigned count, unsigned first, uint32_t pid, uint32_t tid);

/* Release entry `i` if it is in [first, count) and (pid, tid) still owns
 * it. Returns 1 if released. */
int bd_claim_release(struct bd_slot_claim *claims, unsigned count, unsigned first, unsigned i, uint32_t pid,
                     uint32_t tid);

/* Does thread `tid` of process `pid` exist? Only "no such thread" (ESRCH)
 * counts as gone; anything else (e.g. EPERM) is treated as alive. pid 0
 * (an entry mid-claim by an implementation that writes tid first) is
 * checked by tid alone. */
int bd_claim_thread_alive(uint32_t pid, uint32_t tid);

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_CLAIM_H */
