/*
 * libbdguest: the public API of <bd/bd.h>.
 *
 * Hot path per call: claim a per-thread record slot, fill it, trap, read the
 * reply, release the slot. No locks, no allocation, no stdio; the only
 * system calls are getpid/gettid, once per process/thread.
 */
#define _GNU_SOURCE

#include <bd/bd.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "record_fill.h"
#include "trap.h"

#define BD_HOT __attribute__((hot))
#define BD_INLINE static inline __attribute__((always_inline))

/* Per-thread state. The records come first so that each is 128-aligned
 * (struct bd_record carries that alignment) and never crosses a page. */
struct bd_thread_state {
    struct bd_record slot[BD_GUEST_SLOTS];
    uint64_t seq;   /* last sequence number used; the first record gets 1 */
    uint32_t pid;   /* valid when tid != 0 */
    uint32_t tid;   /* 0 = not read yet (new thread, or child after fork) */
    uint32_t depth; /* slots in use: calls in progress on this thread */
};

static _Thread_local struct bd_thread_state bd_tls;

/* First call in a thread (or in a forked child): read pid and tid. Out of
 * line to keep the hot path short. A signal handler may run this
 * concurrently; both store the same values, pid before tid so that a
 * non-zero tid always comes with a valid pid. */
static __attribute__((noinline, cold)) void
bd_read_ids(struct bd_thread_state *t)
{
    t->pid = (uint32_t)getpid();
    atomic_signal_fence(memory_order_seq_cst);
    t->tid = (uint32_t)syscall(SYS_gettid);
}

/* The next sequence number. One unlocked xadd: a single instruction cannot
 * be split by a signal handler of the same thread (natively, and under QEMU
 * which delivers guest signals between instructions), so nested calls never
 * share a number, without paying for a locked instruction. */
BD_INLINE uint64_t bd_next_seq(struct bd_thread_state *t)
{
    uint64_t v = 1;
    __asm__ volatile("xaddq %0, %1" : "+r"(v), "+m"(t->seq));
    return v + 1;
}

BD_INLINE int bd_map_reply(int32_t reply)
{
    switch (reply) {
    case BD_REPLY_OK:
        return 1;
    case BD_REPLY_NONE:
    case BD_REPLY_FILTERED:
        return 0;
    default: /* BD_REPLY_REJECTED or a value this ABI does not define */
        return -EPROTO;
    }
}

/* Build one record in a free slot and trap on it. Returns the raw reply, or
 * BD_REPLY_NONE without trapping when every slot is in use.
 *
 * Slot claiming is signal-safe without atomics: a handler that interrupts
 * between reading and bumping `depth` sees the old depth, uses that slot and
 * restores depth before returning, so the interrupted call still owns its
 * slot afterwards. The signal fences keep the compiler from moving record
 * accesses across the depth updates. */
BD_INLINE int32_t bd_emit(uint16_t kind, uint32_t event, uint64_t a0,
                          uint64_t a1, uint64_t a2, uint64_t a3,
                          const char *text)
{
    struct bd_thread_state *t = &bd_tls;
    /* Compute the TLS address once: in libbdguest.so each computation is a
     * __tls_get_addr call, and the barriers below would make GCC repeat it. */
    __asm__("" : "+r"(t));
    uint32_t d = t->depth;
    if (__builtin_expect(d >= BD_GUEST_SLOTS, 0))
        return BD_REPLY_NONE;
    t->depth = d + 1;
    atomic_signal_fence(memory_order_seq_cst);

    struct bd_record *r = &t->slot[d];
    if (__builtin_expect(t->tid == 0, 0))
        bd_read_ids(t);
    bd_record_fill_header(r, kind, event, a0, a1, a2, a3, t->pid, t->tid,
                          bd_next_seq(t));
    if (text != NULL)
        bd_record_fill_text(r, text);
    bd_trap(r);
    int32_t reply = *(volatile int32_t *)&r->reply;

    atomic_signal_fence(memory_order_seq_cst);
    t->depth = d;
    return reply;
}

BD_HOT int bd_mark(uint32_t event)
{
    return bd_map_reply(bd_emit(BD_KIND_MARK, event, 0, 0, 0, 0, NULL));
}

BD_HOT int bd_mark_args(uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2,
                        uint64_t a3)
{
    return bd_map_reply(bd_emit(BD_KIND_MARK, event, a0, a1, a2, a3, NULL));
}

BD_HOT int bd_mark_text(uint32_t event, const char *text)
{
    if (text == NULL)
        return -EINVAL;
    return bd_map_reply(bd_emit(BD_KIND_MARK_TEXT, event, 0, 0, 0, 0, text));
}

BD_HOT int bd_region_begin(uint32_t region)
{
    return bd_map_reply(
        bd_emit(BD_KIND_REGION_BEGIN, region, 0, 0, 0, 0, NULL));
}

BD_HOT int bd_region_end(uint32_t region)
{
    return bd_map_reply(bd_emit(BD_KIND_REGION_END, region, 0, 0, 0, 0, NULL));
}

int bd_name_event(uint32_t event, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return -EINVAL;
    return bd_map_reply(bd_emit(BD_KIND_EVENT_NAME, event, 0, 0, 0, 0, name));
}

int bd_present(void)
{
    int32_t reply = bd_emit(BD_KIND_HELLO, 0, 0, 0, 0, 0, NULL);
    if (reply == BD_REPLY_FILTERED)
        return 1; /* a handler answered, even if it records nothing */
    return bd_map_reply(reply);
}

/* fork(): the child is a new process whose only thread is the one that
 * forked; give it a fresh pid, tid and sequence. Other threads' TLS does
 * not exist in the child. */
static void bd_after_fork_child(void)
{
    bd_tls.tid = 0;
    bd_tls.pid = 0;
    bd_tls.seq = 0;
}

__attribute__((constructor)) static void bd_guest_init(void)
{
    /* Cannot fail usefully here (ENOMEM at start-up); without the handler
     * only a forked child's pid would be stale. */
    (void)pthread_atfork(NULL, NULL, bd_after_fork_child);
}

const struct bd_record *bd_internal_slot(unsigned i)
{
    return i < BD_GUEST_SLOTS ? &bd_tls.slot[i] : NULL;
}

unsigned bd_internal_depth(void)
{
    return bd_tls.depth;
}
