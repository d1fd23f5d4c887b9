// SPDX-License-Identifier: MIT
/*
 * libbdguest: the public API of <bd/bd.h>.
 *
 * Hot path per call: take a record (a per-thread TLS slot in user mode, the
 * thread's BAR2 user slot in system mode), fill it, trap, read the reply;
 * in ring mode, fill the next slot(s) of the thread's ring and publish them
 * (no trap). No locks, no allocation, no stdio, no system calls. Slow
 * paths: the first call of a process finds the ring region (ring.c) or the
 * channel (channel.c); the first call of a thread reads pid/tid and, in
 * system and ring mode, claims a slot or a ring (claim.c).
 */
#define _GNU_SOURCE

#include <bd/bd.h>
#include <bd/record_fill.h>
#include <bd/trap.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "channel.h"
#include "internal.h"
#include "ring.h"

#define BD_HOT __attribute__((hot))
#define BD_INLINE static inline __attribute__((always_inline))

/* How a thread sends records (bd_thread_state.mode). */
enum bd_thread_mode {
  BD_T_UNINIT = 0, /* new thread, or the child after fork(): set up first */
  BD_T_USER = 1,   /* records in TLS (natively, qemu-user, no channel)   */
  BD_T_SYSTEM = 2, /* records in the thread's claimed BAR2 user slot     */
  BD_T_NOSLOT = 3, /* system or ring mode, but every slot / ring was taken */
  BD_T_RING = 4    /* records in the thread's claimed ring               */
};

/* The process's view of the channel (bd_proc_state). */
enum bd_proc_mode {
  BD_P_UNINIT = 0,
  BD_P_BUSY = 1,   /* one thread is discovering; the others wait        */
  BD_P_USER = 2,   /* no channel: user-mode records                     */
  BD_P_SYSTEM = 3, /* channel mapped (bd_channel)                       */
  BD_P_EACCES = 4, /* a channel device exists but we may not map it     */
  BD_P_RING = 5    /* ring region mapped (bd_region)                    */
};

/* Internal reply meaning "return -EACCES" (not a value of enum bd_reply). */
#define BD_REPLY_EACCES_ INT32_MIN
/* A thread without a slot (or ring) retries claiming once every this many
 * calls. */
#define BD_NOSLOT_RETRY 4096u

/* Per-thread state. The records come first so that each is 128-aligned
 * (struct bd_record carries that alignment) and never crosses a page. */
struct bd_thread_state {
  struct bd_record slot[BD_GUEST_SLOTS];
  uint64_t seq;               /* last sequence number used; the first record gets 1 */
  uint32_t pid;               /* valid when mode != UNINIT: the thread's own ids */
  uint32_t tid;               /* (claims are keyed by them)                      */
  uint32_t rec_pid;           /* the ids its records carry: pid, tid, or the     */
  uint32_t rec_tid;           /* parent's (bd_act_as_parent)                     */
  uint32_t depth;             /* slots in use: calls in progress on this thread */
  uint32_t mode;              /* enum bd_thread_mode */
  uint32_t claim_index;       /* BD_T_SYSTEM, BD_T_RING: our claim  */
  uint32_t noslot_wait;       /* BD_T_NOSLOT: calls until a retry   */
  struct bd_record *sys_slot; /* BD_T_SYSTEM: our user slot in BAR2 */
  /* BD_T_RING: our ring, from the process-private layout (bd_region).
     * The producer's head lives here; ctl->head is only its published
     * copy. */
  struct bd_ring_ctl *ring_ctl;
  unsigned char *ring_data; /* slot 0                             */
  uint64_t ring_mask;       /* ring_slots - 1                     */
  uint64_t ring_head;       /* slots written and published        */
  uint64_t ring_tail;       /* the consumer's tail, as last read  */
};

static _Thread_local struct bd_thread_state bd_tls;

static _Atomic unsigned bd_proc_state; /* enum bd_proc_mode */
static struct bd_chan bd_channel;      /* mapped when BD_P_SYSTEM */
static struct bd_ring_map bd_region;   /* mapped when BD_P_RING   */
/* Ring mode: records not written because their thread owns no ring (more
 * live threads than user rings). No ring to count them in, so only this
 * process knows (bd.h). */
static _Atomic uint64_t bd_ring_unowned_lost;
static _Atomic int bd_chan_present; /* the last handshake succeeded */
static _Atomic int bd_as_parent;    /* bd_act_as_parent() was called */
static _Atomic unsigned bd_handshake_gen;
static atomic_flag bd_handshake_lock = ATOMIC_FLAG_INIT;
static pthread_key_t bd_exit_key;
static _Atomic int bd_exit_key_ok;

/* The next sequence number. An increment a signal handler of the same
 * thread cannot split (arch.h: an unlocked xadd on x86_64), so nested calls
 * never share a number. */
BD_INLINE uint64_t bd_next_seq(struct bd_thread_state *t) { return bd_arch_inc_fetch(&t->seq); }

/* Replies other than OK, NONE and FILTERED: out of line, so that the common
 * replies cost what they cost before system mode existed. */
static __attribute__((noinline, cold)) int bd_map_error(int32_t reply) {
  /* BD_REPLY_REJECTED or a value this ABI does not define: -EPROTO. */
  return reply == BD_REPLY_EACCES_ ? -EACCES : -EPROTO;
}

BD_INLINE int bd_map_reply(int32_t reply) {
  if (reply == BD_REPLY_OK) return 1;
  if ((reply & ~BD_REPLY_FILTERED) == 0) /* BD_REPLY_NONE or _FILTERED */
    return 0;
  return bd_map_error(reply);
}

/* ---- slow paths (first call of a process or thread, lost replies) ------ */

static void bd_release_own_slot(void) {
  struct bd_thread_state *t = &bd_tls;
  const uint32_t mode = t->mode;
  if (mode != BD_T_SYSTEM && mode != BD_T_RING) return;
  /* Forget the slot (ring) before giving it away: a later call (a
     * destructor running after ours) claims a new one instead of writing
     * into one that may belong to someone else by then. */
  t->mode = BD_T_UNINIT;
  atomic_signal_fence(memory_order_seq_cst);
  if (mode == BD_T_RING)
    bd_ring_release(&bd_region, t->claim_index, t->pid, t->tid);
  else
    bd_chan_release(&bd_channel, t->claim_index, t->pid, t->tid);
}

/* pthread key destructor: the thread is exiting. */
static void bd_thread_exit(void *unused) {
  (void)unused;
  bd_release_own_slot();
}

/* atexit: the thread calling exit() (usually the main thread) gives its
 * slot (ring) back; key destructors do not run for it. */
static void bd_process_exit(void) { bd_release_own_slot(); }

/* Does a plugin answer this process's trap? One QUERY (answered, but
 * neither traced nor counted as a record) on a private record; natively (or
 * under a QEMU without the plugin) the trap is a plain load and the reply
 * stays NONE. */
static int bd_trap_heard(void) {
  struct bd_record r;
  bd_record_fill_header(&r, BD_KIND_QUERY, 0, 0, 0, 0, 0, (uint32_t)getpid(), (uint32_t)syscall(SYS_gettid),
                        0);
  bd_trap(&r);
  return *(volatile int32_t *)&r.reply != BD_REPLY_NONE;
}

/* Once per process: find the ring region (BD_RING, or in a full-system
 * guest the ring's ivshmem device), else the trap channel, unless nobody
 * hears the trap and BD_RING_EXEC names a region (a program exec'd outside
 * qemu-user's plugin, <bd/ring.h>). A region that is unusable for any
 * reason is ignored: the process then behaves as it would without it. */
static unsigned bd_discover(void) {
  unsigned mode = BD_P_RING;
  const int ring_rc = bd_ring_discover(&bd_region);
  if (ring_rc != 0) {
    int rc = bd_chan_discover(&bd_channel);
    if (rc == -EACCES || (rc != 0 && ring_rc == -EACCES)) return BD_P_EACCES;
    if (rc != 0) {
      if (getenv(BD_RING_EXEC_ENV) == NULL || bd_trap_heard() || bd_ring_open_exec(&bd_region) != 0)
        return BD_P_USER;
    } else {
      mode = BD_P_SYSTEM;
    }
  }
  if (pthread_key_create(&bd_exit_key, bd_thread_exit) == 0) atomic_store(&bd_exit_key_ok, 1);
  /* Cannot fail usefully (ENOMEM at start-up): without it the main
     * thread's slot (ring) is reclaimed once the process is gone. */
  (void)atexit(bd_process_exit);
  if (mode == BD_P_SYSTEM) atomic_store(&bd_chan_present, bd_chan_handshake(&bd_channel));
  return mode;
}

/* The process state, discovering on the first call. A nested call (depth
 * d > 0: a signal handler) never discovers or waits: it may have
 * interrupted the discovery of its own thread. Returns BD_P_UNINIT then. */
static unsigned bd_process_mode(uint32_t d) {
  unsigned s = atomic_load_explicit(&bd_proc_state, memory_order_acquire);
  if (s >= BD_P_USER) return s;
  if (d != 0) return BD_P_UNINIT;
  unsigned expected = BD_P_UNINIT;
  if (atomic_compare_exchange_strong(&bd_proc_state, &expected, BD_P_BUSY)) {
    s = bd_discover();
    atomic_store_explicit(&bd_proc_state, s, memory_order_release);
    return s;
  }
  while ((s = atomic_load_explicit(&bd_proc_state, memory_order_acquire)) == BD_P_BUSY) sched_yield();
  return s;
}

/* Read pid and tid. A signal handler may run this concurrently; both store
 * the same values. */
static void bd_read_ids(struct bd_thread_state *t) {
  t->pid = (uint32_t)getpid();
  t->tid = (uint32_t)syscall(SYS_gettid);
  const uint32_t parent = atomic_load_explicit(&bd_as_parent, memory_order_relaxed) ? (uint32_t)getppid() : 0;
  t->rec_pid = parent != 0 ? parent : t->pid;
  t->rec_tid = parent != 0 ? parent : t->tid;
  atomic_signal_fence(memory_order_seq_cst);
}

int bd_act_as_parent(void) {
  if (atomic_load(&bd_proc_state) != BD_P_UNINIT) return -EBUSY;
  atomic_store(&bd_as_parent, 1);
  return 0;
}

/* System and ring mode: claim an entry of the process's claim table (a
 * BAR2 user slot or a user ring) for the thread, or, when every entry
 * belongs to a live thread, enter BD_T_NOSLOT and retry only every
 * BD_NOSLOT_RETRY calls (a claim scans the table and may make a system call
 * per entry). Returns the entry's index or -1. */
static int bd_thread_claim(struct bd_thread_state *t, unsigned proc_mode) {
  if (t->mode == BD_T_NOSLOT && --t->noslot_wait != 0) return -1;
  bd_read_ids(t);
  int i = proc_mode == BD_P_RING ? bd_ring_claim(&bd_region, t->pid, t->tid)
                                 : bd_chan_claim(&bd_channel, t->pid, t->tid);
  if (i < 0) {
    t->mode = BD_T_NOSLOT;
    t->noslot_wait = BD_NOSLOT_RETRY;
    return -1;
  }
  t->claim_index = (uint32_t)i;
  /* Any non-NULL value makes the destructor run at thread exit. */
  if (atomic_load(&bd_exit_key_ok)) (void)pthread_setspecific(bd_exit_key, &bd_exit_key);
  return i;
}

/* Ring mode: make ring `i` (just claimed) the thread's. A ring outlives its
 * owners, so the new one continues from the published head; the consumer
 * may have drained any amount meanwhile. */
static void bd_ring_take(struct bd_thread_state *t, unsigned i) {
  struct bd_ring_ctl *ctl = bd_ring_ctl_of(&bd_region, i);
  t->ring_ctl = ctl;
  t->ring_data = bd_ring_data_of(&bd_region, i);
  t->ring_mask = (uint64_t)bd_region.ring_slots - 1;
  t->ring_head = __atomic_load_n(&ctl->head, __ATOMIC_ACQUIRE);
  t->ring_tail = __atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE);
  atomic_signal_fence(memory_order_seq_cst);
  t->mode = BD_T_RING;
}

/* A thread whose mode is not ready to emit: set it up. Returns the record
 * the call uses (the TLS slot `d` in user mode, the thread's BAR2 slot in
 * system mode), or NULL and the reply the call returns in *reply (also in
 * ring mode, where the thread's mode says whether it now owns a ring). */
static struct bd_record *bd_thread_setup(struct bd_thread_state *t, uint32_t d, int32_t *reply) {
  *reply = BD_REPLY_NONE;
  const unsigned proc_mode = bd_process_mode(d);
  switch (proc_mode) {
    case BD_P_USER:
      if (t->mode == BD_T_UNINIT) {
        bd_read_ids(t);
        t->mode = BD_T_USER;
      }
      return &t->slot[d];
    case BD_P_SYSTEM:
    case BD_P_RING:
      break;
    case BD_P_EACCES:
      *reply = BD_REPLY_EACCES_;
      return NULL;
    default: /* nested call during discovery */
      return NULL;
  }
  /* System and ring mode: a thread has one slot (ring), claimed and used
     * by calls at depth 0 only (a nested call may have interrupted the
     * claim). */
  if (d != 0) return NULL;
  if (t->mode == BD_T_SYSTEM) return t->sys_slot;
  const int i = bd_thread_claim(t, proc_mode);
  if (i < 0) return NULL;
  if (proc_mode == BD_P_RING) {
    bd_ring_take(t, (unsigned)i);
    return NULL;
  }
  t->sys_slot = bd_chan_user_slot(&bd_channel, (unsigned)i);
  atomic_signal_fence(memory_order_seq_cst);
  t->mode = BD_T_SYSTEM;
  return t->sys_slot;
}

/* System mode: the plugin did not answer a record although the handshake
 * had succeeded. The BAR may have moved or the plugin restarted: redo the
 * handshake (one thread at a time, once per lost generation) and retrap
 * once. Returns the reply of the retry, or NONE. */
static __attribute__((noinline, cold)) int32_t bd_sys_no_reply(struct bd_record *r) {
  if (!atomic_load(&bd_chan_present)) return BD_REPLY_NONE;
  const unsigned gen = atomic_load(&bd_handshake_gen);
  while (atomic_flag_test_and_set(&bd_handshake_lock)) sched_yield();
  if (atomic_load(&bd_handshake_gen) == gen) {
    atomic_store(&bd_chan_present, bd_chan_handshake(&bd_channel));
    atomic_fetch_add(&bd_handshake_gen, 1);
  }
  atomic_flag_clear(&bd_handshake_lock);
  if (!atomic_load(&bd_chan_present)) return BD_REPLY_NONE;
  *(volatile int32_t *)&r->reply = BD_REPLY_NONE;
  bd_trap(r);
  return *(volatile int32_t *)&r->reply;
}

/* ---- the hot path -------------------------------------------------------- */

/* Fill record `r` (everything but the reply), trap on it, read the reply. */
BD_INLINE int32_t bd_send(struct bd_thread_state *t, struct bd_record *r, uint16_t kind, uint32_t event,
                          uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, const char *text) {
  bd_record_fill_header(r, kind, event, a0, a1, a2, a3, t->rec_pid, t->rec_tid, bd_next_seq(t));
  if (text != NULL) bd_record_fill_text(r, text);
  bd_trap(r);
  return *(volatile int32_t *)&r->reply;
}

/* System mode: may a MARK/TEXT/REGION record of `event` be recorded? The
 * union of the vCPUs' enable bitmaps (<bd/channel.h>, ENABLE BITMAPS): one
 * load and a bit test, no getcpu (a thread may migrate anyway). */
BD_INLINE int bd_sys_enabled(uint32_t event) {
  return bd_enable_test(bd_chan_header(&bd_channel)->unions, bd_enable_bit(event));
}

/* Kinds the enable bitmaps cover (names and HELLO are never skipped). */
BD_INLINE int bd_kind_skippable(uint16_t kind) {
  return kind == BD_KIND_MARK || kind == BD_KIND_MARK_TEXT || kind == BD_KIND_REGION_BEGIN ||
         kind == BD_KIND_REGION_END;
}

/* Send in system mode: the thread's BAR2 slot, at depth 0. A record the
 * plugin would drop for certain is not sent: FILTERED without a trap. */
BD_INLINE int32_t bd_send_system(struct bd_thread_state *t, struct bd_record *r, uint16_t kind,
                                 uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                                 const char *text) {
  if (bd_kind_skippable(kind) && !bd_sys_enabled(event)) return BD_REPLY_FILTERED;
  int32_t reply = bd_send(t, r, kind, event, a0, a1, a2, a3, text);
  /* Without a plugin (the handshake failed) NONE is the normal answer:
     * no call then (a call and return cost ~11 ns under TCG). */
  if (__builtin_expect(reply == BD_REPLY_NONE, 0) &&
      atomic_load_explicit(&bd_chan_present, memory_order_relaxed))
    reply = bd_sys_no_reply(r);
  return reply;
}

/* Ring mode: may a MARK/TEXT/REGION record of `event` be written? The
 * region's enable bitmap (<bd/ring.h>, ENABLE BITMAP): one load and a bit
 * test. */
BD_INLINE int bd_ring_enabled(uint32_t event) {
  return bd_enable_test(bd_region.header->enable, bd_enable_bit(event));
}

/* Ring mode: count a record that is not written in the ring's `dropped`.
 * An increment a signal handler of the owner cannot split (arch.h, as
 * bd_next_seq's), and only the owner writes the field. */
BD_INLINE void bd_ring_count_drop(struct bd_ring_ctl *ctl) { bd_arch_inc(&ctl->dropped); }

/* Ring slot `k` (any count; reduced modulo ring_slots) of the thread's
 * ring. */
BD_INLINE void *bd_ring_slot(const struct bd_thread_state *t, uint64_t k) {
  return t->ring_data + (size_t)(k & t->ring_mask) * BD_RING_SLOT_SIZE;
}

/* Is there room for `n` slots at `head` by the tail last read? */
BD_INLINE int bd_ring_room(const struct bd_thread_state *t, uint64_t head, unsigned n) {
  return head - t->ring_tail + n <= t->ring_mask + 1;
}

/* Fill the `n` slots at `head` (room checked) and publish them: one
 * release store of head covers both slots of a two-slot record. The text
 * slot of a record in the ring's last slot is slot 0. */
BD_INLINE void bd_ring_write(struct bd_thread_state *t, uint64_t head, unsigned n, uint16_t kind,
                             uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                             const char *text) {
  struct bd_ring_record *r = bd_ring_slot(t, head);
  r->ts = bd_arch_clock(); /* <bd/ring.h> TIME, arch.h */
  r->kind = kind;
  r->text_len = 0;
  r->event = event;
  r->args[0] = a0;
  r->args[1] = a1;
  r->args[2] = a2;
  r->args[3] = a3;
  r->pid = t->rec_pid;
  r->tid = t->rec_tid;
  r->seq = bd_next_seq(t);
  if (n == 2) {
    struct bd_ring_text *x = bd_ring_slot(t, head + 1);
    r->text_len = (uint16_t)bd_text_copy(x->text, text);
  }
  t->ring_head = head + n;
  __atomic_store_n(&t->ring_ctl->head, head + n, __ATOMIC_RELEASE);
}

/* bd_send_ring's uncommon cases, one by one: the event is disabled
 * (FILTERED, not counted), or the cached tail says full: read the
 * consumer's tail again (acquire: it has finished reading the slots it
 * freed); still full: count the drop. */
static __attribute__((noinline)) int32_t bd_send_ring_slow(struct bd_thread_state *t, uint16_t kind,
                                                           uint32_t event, uint64_t a0, uint64_t a1,
                                                           uint64_t a2, uint64_t a3, const char *text) {
  if (bd_kind_skippable(kind) && !bd_ring_enabled(event)) return BD_REPLY_FILTERED;
  const unsigned n = bd_ring_record_slots(kind);
  const uint64_t head = t->ring_head;
  t->ring_tail = __atomic_load_n(&t->ring_ctl->tail, __ATOMIC_ACQUIRE);
  if (!bd_ring_room(t, head, n)) {
    bd_ring_count_drop(t->ring_ctl);
    return BD_REPLY_NONE;
  }
  bd_ring_write(t, head, n, kind, event, a0, a1, a2, a3, text);
  return BD_REPLY_OK;
}

/* Write one record into the thread's ring (<bd/ring.h>, A RING), at depth
 * 0 (a nested call may have interrupted this one between filling a slot
 * and publishing it: bd_emit_slow counts those as dropped). A record the
 * consumer would drop for certain is not written: FILTERED, not counted.
 * OK once written; the consumer may still filter or reject it.
 * The common case costs one branch (room by the cached tail, and the
 * event enabled, tested together): under TCG every branch ends a
 * translation block. */
BD_INLINE int32_t bd_send_ring(struct bd_thread_state *t, uint16_t kind, uint32_t event, uint64_t a0,
                               uint64_t a1, uint64_t a2, uint64_t a3, const char *text) {
  if (kind == BD_KIND_HELLO || kind == BD_KIND_QUERY)
    return BD_REPLY_OK; /* never written: bd_present / bd_enabled */
  const unsigned n = bd_ring_record_slots(kind);
  const uint64_t head = t->ring_head;
  int go = bd_ring_room(t, head, n);
  if (bd_kind_skippable(kind)) go &= bd_ring_enabled(event);
  if (__builtin_expect(!go, 0)) return bd_send_ring_slow(t, kind, event, a0, a1, a2, a3, text);
  bd_ring_write(t, head, n, kind, event, a0, a1, a2, a3, text);
  return BD_REPLY_OK;
}

/* Ring mode, a call nested in another call of the thread (a signal
 * handler), or nested deeper than BD_GUEST_SLOTS: not written, counted as
 * dropped in the thread's ring. */
static int32_t bd_ring_nested(struct bd_thread_state *t) {
  bd_ring_count_drop(t->ring_ctl);
  return BD_REPLY_NONE;
}

/* Ring mode, a call of a thread that owns no ring (every user ring belongs
 * to a live thread, or the call interrupted the thread's first call): count
 * it process-wide and in the region's unowned_dropped, which the consumer
 * reports (<bd/ring.h>, UNOWNED DROPS), unless the bitmap says it would not
 * have been written anyway. */
static int32_t bd_ring_unowned(uint32_t d, uint16_t kind, uint32_t event) {
  if (d == 0 && bd_kind_skippable(kind) && !bd_ring_enabled(event)) return BD_REPLY_FILTERED;
  atomic_fetch_add_explicit(&bd_ring_unowned_lost, 1, memory_order_relaxed);
  __atomic_fetch_add((uint64_t *)(uintptr_t)&bd_region.header->unowned_dropped, 1, __ATOMIC_RELAXED);
  return BD_REPLY_NONE;
}

/* System mode, a record that cannot be sent: the thread owns no slot
 * (d == 0: every user slot belongs to a live thread) or the call is nested
 * in another call of the thread (d > 0). Loss is never silent: trap on the
 * channel's lost-record offset for the reason (<bd/channel.h>, LOST
 * RECORDS), where the plugin counts it, unless the enable bitmaps say the
 * record would be filtered anyway. Probes (HELLO, QUERY) are not records. */
static int32_t bd_sys_lost(uint32_t d, uint16_t kind, uint32_t event) {
  if (!atomic_load_explicit(&bd_chan_present, memory_order_relaxed) || kind == BD_KIND_HELLO ||
      kind == BD_KIND_QUERY)
    return BD_REPLY_NONE;
  if (bd_kind_skippable(kind) && !bd_sys_enabled(event)) return BD_REPLY_FILTERED;
  bd_trap_at(bd_channel.base + (d == 0 ? BD_CHANNEL_LOST_NO_SLOT_OFFSET : BD_CHANNEL_LOST_NESTED_OFFSET));
  return BD_REPLY_NONE;
}

/* The first call of a thread (or after fork), nested calls in system and
 * ring mode, threads without a slot or ring, EACCES: set up, then send if
 * possible. */
static __attribute__((noinline, cold)) int32_t bd_emit_slow(struct bd_thread_state *t, uint32_t d,
                                                            uint16_t kind, uint32_t event, uint64_t a0,
                                                            uint64_t a1, uint64_t a2, uint64_t a3,
                                                            const char *text) {
  if (t->mode == BD_T_RING) /* the fast path takes depth 0 only */
    return bd_ring_nested(t);
  int32_t reply;
  struct bd_record *r = bd_thread_setup(t, d, &reply);
  if (t->mode == BD_T_RING) /* claimed a ring just now, at depth 0 */
    return bd_send_ring(t, kind, event, a0, a1, a2, a3, text);
  if (r == NULL) {
    const unsigned proc_mode = atomic_load_explicit(&bd_proc_state, memory_order_relaxed);
    if (proc_mode == BD_P_RING) return bd_ring_unowned(d, kind, event);
    if (proc_mode == BD_P_SYSTEM) return bd_sys_lost(d, kind, event);
    return reply;
  }
  if (t->mode == BD_T_SYSTEM) return bd_send_system(t, r, kind, event, a0, a1, a2, a3, text);
  return bd_send(t, r, kind, event, a0, a1, a2, a3, text);
}

/* A call nested deeper than BD_GUEST_SLOTS: nothing is sent. In ring mode
 * it still counts as lost, like any nested call. */
static __attribute__((noinline, cold)) int32_t bd_emit_too_deep(struct bd_thread_state *t, uint16_t kind,
                                                                uint32_t event) {
  if (t->mode == BD_T_RING) return bd_ring_nested(t);
  const unsigned proc_mode = atomic_load_explicit(&bd_proc_state, memory_order_relaxed);
  if (proc_mode == BD_P_RING) return bd_ring_unowned(BD_GUEST_SLOTS, kind, event);
  if (proc_mode == BD_P_SYSTEM) return bd_sys_lost(BD_GUEST_SLOTS, kind, event);
  return BD_REPLY_NONE;
}

/* Build one record and trap on it (or write it into the thread's ring).
 * Returns the raw reply, or BD_REPLY_NONE without trapping when the call
 * cannot send (nesting too deep; nested in system or ring mode; no slot or
 * ring; ring full).
 *
 * User mode: the record is TLS slot `depth`. Slot claiming is signal-safe
 * without atomics: a handler that interrupts between reading and bumping
 * `depth` sees the old depth, uses that slot and restores depth before
 * returning, so the interrupted call still owns its slot afterwards. The
 * signal fences keep the compiler from moving record accesses across the
 * depth updates.
 *
 * System mode: the record is the thread's BAR2 user slot, at depth 0 only.
 * Ring mode: the next slot(s) of the thread's ring, at depth 0 only.
 * All paths are inline and the user path comes first with no extra taken
 * branch: under TCG every taken branch ends a translation block. Ring mode
 * comes second: it exists to make marks cheap, system mode pays for a trap
 * anyway. */
BD_INLINE int32_t bd_emit(uint16_t kind, uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                          const char *text) {
  struct bd_thread_state *t = &bd_tls;
  /* Compute the TLS address once: in libbdguest.so each computation is a
     * __tls_get_addr call, and the barriers below would make GCC repeat it. */
  __asm__("" : "+r"(t));
  uint32_t d = t->depth;
  if (__builtin_expect(d >= BD_GUEST_SLOTS, 0)) return bd_emit_too_deep(t, kind, event);
  t->depth = d + 1;
  atomic_signal_fence(memory_order_seq_cst);

  int32_t reply;
  const uint32_t mode = t->mode;
  if (__builtin_expect(mode == BD_T_USER, 1))
    reply = bd_send(t, &t->slot[d], kind, event, a0, a1, a2, a3, text);
  else if (((mode ^ BD_T_RING) | d) == 0) /* ring, depth 0: one branch */
    reply = bd_send_ring(t, kind, event, a0, a1, a2, a3, text);
  else if (mode == BD_T_SYSTEM && d == 0)
    reply = bd_send_system(t, t->sys_slot, kind, event, a0, a1, a2, a3, text);
  else
    reply = bd_emit_slow(t, d, kind, event, a0, a1, a2, a3, text);

  atomic_signal_fence(memory_order_seq_cst);
  t->depth = d;
  return reply;
}

BD_HOT int bd_mark(uint32_t event) { return bd_map_reply(bd_emit(BD_KIND_MARK, event, 0, 0, 0, 0, NULL)); }

BD_HOT int bd_mark_args(uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
  return bd_map_reply(bd_emit(BD_KIND_MARK, event, a0, a1, a2, a3, NULL));
}

BD_HOT int bd_mark_text(uint32_t event, const char *text) {
  if (text == NULL) return -EINVAL;
  return bd_map_reply(bd_emit(BD_KIND_MARK_TEXT, event, 0, 0, 0, 0, text));
}

BD_HOT int bd_region_begin(uint32_t region) {
  return bd_map_reply(bd_emit(BD_KIND_REGION_BEGIN, region, 0, 0, 0, 0, NULL));
}

BD_HOT int bd_region_end(uint32_t region) {
  return bd_map_reply(bd_emit(BD_KIND_REGION_END, region, 0, 0, 0, 0, NULL));
}

int bd_name_event(uint32_t event, const char *name) {
  if (name == NULL || name[0] == '\0') return -EINVAL;
  return bd_map_reply(bd_emit(BD_KIND_EVENT_NAME, event, 0, 0, 0, 0, name));
}

int bd_present(void) {
  /* Ring mode: the region is there; nothing to ask (HELLO is never
     * written into a ring). */
  if (bd_process_mode(bd_tls.depth) == BD_P_RING) return 1;
  int32_t reply = bd_emit(BD_KIND_HELLO, 0, 0, 0, 0, 0, NULL);
  if (reply == BD_REPLY_FILTERED) return 1; /* a handler answered, even if it records nothing */
  return bd_map_reply(reply);
}

int bd_enabled(uint32_t event) {
  struct bd_thread_state *t = &bd_tls;
  switch (bd_process_mode(t->depth)) {
    case BD_P_SYSTEM:
      if (!atomic_load_explicit(&bd_chan_present, memory_order_relaxed)) return 0;
      return bd_sys_enabled(event);
    case BD_P_RING:
      return bd_ring_enabled(event);
    case BD_P_USER:
      break;
    case BD_P_EACCES:
      return -EACCES;
    default: /* nested call during discovery */
      return 0;
  }
  /* User mode: ask the host (one trap; NONE without a host). */
  return bd_map_reply(bd_emit(BD_KIND_QUERY, event, 0, 0, 0, 0, NULL));
}

/* ---- calls to host handlers (<bd/abi.h>, CALLS) -------------------------- */

/* The thread's call page: a page of its own, its record at offset 0 and
 * the call's bytes after it (the host touches nothing else), mapped at the
 * thread's first call and unmapped at its exit. */
static _Thread_local unsigned char *bd_call_page_tls;
static _Thread_local int bd_call_busy;
static pthread_key_t bd_call_key;
static pthread_once_t bd_call_key_once = PTHREAD_ONCE_INIT;
static _Atomic int bd_call_key_ok;

static void bd_call_page_free(void *page) { munmap(page, BD_PAGE_SIZE); }

static void bd_call_key_create(void) {
  if (pthread_key_create(&bd_call_key, bd_call_page_free) == 0) atomic_store(&bd_call_key_ok, 1);
}

static unsigned char *bd_call_page(void) {
  if (bd_call_page_tls != NULL) return bd_call_page_tls;
  void *p = mmap(NULL, BD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  pthread_once(&bd_call_key_once, bd_call_key_create);
  if (atomic_load(&bd_call_key_ok)) (void)pthread_setspecific(bd_call_key, p);
  bd_call_page_tls = p;
  return p;
}

/* User mode: the thread's own call page. 0 or -ENOMEM. */
static int bd_call_page_user(struct bd_thread_state *t, unsigned char **page) {
  if (t->mode == BD_T_UNINIT) {
    bd_read_ids(t);
    t->mode = BD_T_USER;
  }
  *page = bd_call_page();
  return *page != NULL ? 0 : -ENOMEM;
}

/* System mode: the data page of the thread's user slot (<bd/channel.h>,
 * CALLS), claiming a slot first if the thread has none (at depth 1, as
 * bd_emit would: a mark in a signal handler meanwhile does not claim). */
static int bd_call_page_system(struct bd_thread_state *t, unsigned char **page) {
  if (t->mode != BD_T_SYSTEM) {
    if (t->depth != 0) return -EBUSY; /* interrupting this thread's own mark */
    int32_t reply;
    t->depth = 1;
    atomic_signal_fence(memory_order_seq_cst);
    (void)bd_thread_setup(t, 0, &reply);
    atomic_signal_fence(memory_order_seq_cst);
    t->depth = 0;
    if (t->mode != BD_T_SYSTEM) return reply == BD_REPLY_EACCES_ ? -EACCES : -ENOSPC;
  }
  if (!atomic_load_explicit(&bd_chan_present, memory_order_relaxed))
    return -ENOSYS; /* no plugin answered the handshake */
  if (bd_chan_header(&bd_channel)->data_offset != BD_CHANNEL_DATA_OFFSET)
    return -ENOTSUP; /* a host that serves no calls */
  *page = bd_channel.base + BD_CHANNEL_DATA_OFFSET + (size_t)t->claim_index * BD_PAGE_SIZE;
  return 0;
}

/* One step: fill the page's record, trap, read the reply. */
static int32_t bd_call_step(struct bd_thread_state *t, struct bd_record *r, uint32_t event, uint64_t op,
                            uint64_t a1, uint64_t a2, uint64_t a3) {
  bd_record_fill_header(r, BD_KIND_CALL, event, op, a1, a2, a3, t->rec_pid, t->rec_tid, bd_next_seq(t));
  bd_trap(r);
  return *(volatile int32_t *)&r->reply;
}

/* The status of a step the host answered: 0, or what to return. */
static int bd_call_status(int32_t reply, const struct bd_record *r) {
  if (reply == BD_REPLY_NONE) return -ENOSYS; /* nobody answered: native run, plain QEMU */
  if (reply != BD_REPLY_OK) return -EPROTO;
  const int64_t status = (int64_t) * (const volatile uint64_t *)&r->args[2];
  return status < -4095 || status > 0 ? -EPROTO : (int)status;
}

/* The steps of a call (last_op BD_CALL_INVOKE) or of a bulk mark
 * (BD_CALL_BLOB: no output). */
static int bd_call_steps(struct bd_thread_state *t, unsigned char *page, uint64_t last_op, uint32_t event,
                         const unsigned char *in, uint32_t in_len, unsigned char *out, uint32_t out_cap,
                         uint32_t *out_len, uint64_t *result) {
  struct bd_record *r = (struct bd_record *)(void *)page;
  unsigned char *bytes = page + BD_RECORD_SIZE;
  /* All input but the last chunk in PUT steps; the last rides along
     * with INVOKE. */
  uint32_t last = in_len % BD_CALL_CHUNK;
  if (last == 0 && in_len != 0) last = BD_CALL_CHUNK;
  uint32_t sent = 0;
  int rc;
  while (in_len - sent > last) {
    memcpy(bytes, in + sent, BD_CALL_CHUNK);
    rc = bd_call_status(bd_call_step(t, r, event, BD_CALL_PUT, sent, BD_CALL_CHUNK, 0), r);
    if (rc != 0) return rc;
    sent += BD_CALL_CHUNK;
  }
  if (last != 0) memcpy(bytes, in + sent, last);
  rc = bd_call_status(bd_call_step(t, r, event, last_op, in_len, out_cap, last), r);
  if (rc != 0 || last_op == BD_CALL_BLOB) return rc;
  const uint64_t res = *(volatile uint64_t *)&r->args[0];
  const uint64_t total = *(volatile uint64_t *)&r->args[1];
  if (total > out_cap) return -EPROTO;
  uint32_t got = total < BD_CALL_CHUNK ? (uint32_t)total : BD_CALL_CHUNK;
  memcpy(out, bytes, got);
  while (got < total) {
    rc = bd_call_status(bd_call_step(t, r, event, BD_CALL_GET, got, 0, 0), r);
    if (rc != 0) return rc;
    const uint64_t n = *(volatile uint64_t *)&r->args[1];
    if (n == 0 || n > total - got || n > BD_CALL_CHUNK) return -EPROTO;
    memcpy(out + got, bytes, (size_t)n);
    got += (uint32_t)n;
  }
  if (out_len != NULL) *out_len = (uint32_t)total;
  if (result != NULL) *result = res;
  return 0;
}

/* bd_call and bd_mark_blob: checks, the mode, one call per thread. */
static int bd_call_as(uint64_t last_op, uint32_t event, const void *in, uint32_t in_len, void *out,
                      uint32_t out_cap, uint32_t *out_len, uint64_t *result) {
  if ((in == NULL && in_len != 0) || (out == NULL && out_cap != 0)) return -EINVAL;
  if (in_len > BD_CALL_IO_MAX || out_cap > BD_CALL_IO_MAX) return -E2BIG;
  struct bd_thread_state *t = &bd_tls;
  const unsigned proc_mode = bd_process_mode(t->depth);
  switch (proc_mode) {
    case BD_P_USER:
    case BD_P_SYSTEM:
      break;
    case BD_P_EACCES:
      return -EACCES;
    case BD_P_RING:
      return -ENOTSUP; /* calls need the trap channel */
    default:           /* nested in this thread's discovery */
      return -EBUSY;
  }
  if (bd_call_busy) return -EBUSY; /* a signal handler interrupting this thread's call */
  bd_call_busy = 1;
  atomic_signal_fence(memory_order_seq_cst);
  unsigned char *page;
  const int rc = proc_mode == BD_P_SYSTEM ? bd_call_page_system(t, &page) : bd_call_page_user(t, &page);
  const int status =
      rc != 0 ? rc : bd_call_steps(t, page, last_op, event, in, in_len, out, out_cap, out_len, result);
  atomic_signal_fence(memory_order_seq_cst);
  bd_call_busy = 0;
  return status;
}

int bd_call(uint32_t event, const void *in, uint32_t in_len, void *out, uint32_t out_cap, uint32_t *out_len,
            uint64_t *result) {
  return bd_call_as(BD_CALL_INVOKE, event, in, in_len, out, out_cap, out_len, result);
}

/* Ring mode: a bulk mark (<bd/ring.h>, BULK MARKS) into the thread's ring,
 * as the thread's emit path writes a record (depth 1 meanwhile: a mark in a
 * signal handler that interrupts it is nested, dropped and counted). 1 when
 * written, 0 when dropped (counted: ring full or smaller than the blob,
 * nested, or no ring for the thread). */
static int bd_ring_blob(struct bd_thread_state *t, uint32_t event, const unsigned char *data, uint32_t len) {
  const uint32_t d = t->depth;
  if (d != 0) {
    if (t->mode == BD_T_RING)
      (void)bd_ring_nested(t);
    else
      (void)bd_ring_unowned(d, BD_KIND_CALL, event);
    return 0;
  }
  t->depth = 1;
  atomic_signal_fence(memory_order_seq_cst);
  int written = 0;
  if (t->mode != BD_T_RING) {
    int32_t reply;
    (void)bd_thread_setup(t, 0, &reply);
  }
  if (t->mode != BD_T_RING) {
    /* Not a skippable kind: counted whatever the enable bitmap says. */
    (void)bd_ring_unowned(0, BD_KIND_CALL, event);
  } else {
    const uint64_t n = bd_ring_blob_slots(len);
    const uint64_t head = t->ring_head;
    if (head - t->ring_tail + n > t->ring_mask + 1)
      t->ring_tail = __atomic_load_n(&t->ring_ctl->tail, __ATOMIC_ACQUIRE);
    if (head - t->ring_tail + n > t->ring_mask + 1) {
      bd_ring_count_drop(t->ring_ctl);
    } else {
      for (uint64_t i = 0; i + 1 < n; i++) {
        const uint32_t at = (uint32_t)i * BD_RING_SLOT_SIZE;
        const uint32_t k = len - at < BD_RING_SLOT_SIZE ? len - at : BD_RING_SLOT_SIZE;
        memcpy(bd_ring_slot(t, head + 1 + i), data + at, k);
      }
      struct bd_ring_record *r = bd_ring_slot(t, head);
      r->ts = bd_arch_clock();
      r->kind = BD_RING_KIND_BLOB;
      r->text_len = 0;
      r->event = event;
      r->args[0] = len;
      r->args[1] = 0;
      r->args[2] = 0;
      r->args[3] = 0;
      r->pid = t->rec_pid;
      r->tid = t->rec_tid;
      r->seq = bd_next_seq(t);
      t->ring_head = head + n;
      __atomic_store_n(&t->ring_ctl->head, head + n, __ATOMIC_RELEASE);
      written = 1;
    }
  }
  atomic_signal_fence(memory_order_seq_cst);
  t->depth = 0;
  return written;
}

int bd_mark_blob(uint32_t event, const void *data, uint32_t len) {
  if (data == NULL && len != 0) return -EINVAL;
  if (len > BD_CALL_IO_MAX) return -E2BIG;
  struct bd_thread_state *t = &bd_tls;
  if (bd_process_mode(t->depth) == BD_P_RING) return bd_ring_blob(t, event, data, len);
  const int rc = bd_call_as(BD_CALL_BLOB, event, data, len, NULL, 0, NULL, NULL);
  return rc == 0 ? 1 : rc == -ENOSYS ? 0 : rc;
}

/* fork(): the child is a new process whose only thread is the one that
 * forked; give it a fresh pid, tid and sequence, and in system (ring) mode
 * its own slot (ring); the parent's stays the parent thread's. Other threads' TLS
 * does not exist in the child; state they held is reset. */
static void bd_after_fork_child(void) {
  bd_tls.mode = BD_T_UNINIT;
  bd_tls.tid = 0;
  bd_tls.pid = 0;
  bd_tls.seq = 0;
  atomic_flag_clear(&bd_handshake_lock);
  unsigned busy = BD_P_BUSY;
  /* Another thread was discovering: start over in the child. */
  atomic_compare_exchange_strong(&bd_proc_state, &busy, BD_P_UNINIT);
}

__attribute__((constructor)) static void bd_guest_init(void) {
  /* Cannot fail usefully here (ENOMEM at start-up); without the handler
     * only a forked child's pid would be stale. */
  (void)pthread_atfork(NULL, NULL, bd_after_fork_child);
}

const struct bd_record *bd_internal_slot(unsigned i) { return i < BD_GUEST_SLOTS ? &bd_tls.slot[i] : NULL; }

unsigned bd_internal_depth(void) { return bd_tls.depth; }

int bd_internal_process_mode(void) {
  switch (atomic_load(&bd_proc_state)) {
    case BD_P_USER:
      return BD_INTERNAL_MODE_USER;
    case BD_P_SYSTEM:
      return BD_INTERNAL_MODE_SYSTEM;
    case BD_P_EACCES:
      return BD_INTERNAL_MODE_EACCES;
    case BD_P_RING:
      return BD_INTERNAL_MODE_RING;
    default:
      return BD_INTERNAL_MODE_UNKNOWN;
  }
}

int bd_internal_sys_slot(void) { return bd_tls.mode == BD_T_SYSTEM ? (int)bd_tls.claim_index : -1; }

int bd_internal_ring_index(void) { return bd_tls.mode == BD_T_RING ? (int)bd_tls.claim_index : -1; }

uint64_t bd_internal_ring_unowned_lost(void) { return atomic_load(&bd_ring_unowned_lost); }

int bd_internal_nested(int (*fn)(void *), void *arg) {
  struct bd_thread_state *t = &bd_tls;
  const uint32_t d = t->depth;
  t->depth = d + 1;
  atomic_signal_fence(memory_order_seq_cst);
  const int rc = fn(arg);
  atomic_signal_fence(memory_order_seq_cst);
  t->depth = d;
  return rc;
}

int bd_internal_present(void) { return atomic_load(&bd_chan_present); }
