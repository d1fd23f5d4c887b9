/* SPDX-License-Identifier: MIT */
/*
 * bdtrace ring channel, ABI version 1: marks without a trap.
 *
 * The guest writes records into single-producer rings in shared memory; a
 * host consumer (bd-ring-consumer, started by bd-run) drains them and emits
 * the same bdtrace:* LTTng-UST events as the trap channel. No plugin, no
 * trap, no exit: it works under any QEMU (with or without plugin support),
 * under KVM, and natively.
 *
 * Shared verbatim by libbdguest, bd_sched (kernel rings and the clock
 * agent of system mode) and the host consumer. C,
 * freestanding. Everything in the region is guest memory: untrusted input
 * to the host, which may change while the host reads it.
 *
 * THE REGION (one file, mapped shared by the guest and the consumer)
 *   user mode and native runs: a file bd-run creates in /dev/shm and names
 *   in the guest's environment (BD_RING_ENV); full-system mode (bd-run
 *   --system --channel ring): the same kind of file, padded with zeros to a
 *   power of two (ivshmem needs one), is the memory of an ivshmem-plain
 *   device (PCI 1af4:1110), and the guest finds it by PCI scan: the device
 *   whose BAR2 starts with BD_RING_MAGIC and a system-mode header (the trap
 *   channel's device starts with BD_CHANNEL_MAGIC). Mapping the BAR needs
 *   root in the guest (user space: sysfs resource2; the kernel: bd_sched).
 *
 *   0x0000            struct bd_ring_region (one page), written by the host
 *                     before the guest starts. The guest only reads it, but
 *                     for unowned_dropped (UNOWNED DROPS).
 *   claims_offset     ring_count struct bd_slot_claim (<bd/channel.h>): a
 *                     guest thread owns ring i while claims[i].tid is its
 *                     tid (64-bit compare-and-swap of {tid, pid}; released
 *                     at thread exit; entries of threads that no longer
 *                     exist are reclaimed when none is free).
 *   ctl_offset        ring_count struct bd_ring_ctl (BD_RING_CTL_SIZE each).
 *   data_offset       ring_count rings of ring_slots slots of
 *                     BD_RING_SLOT_SIZE bytes; ring i's slot k is at
 *                     data_offset + (i * ring_slots + (k % ring_slots)) *
 *                     BD_RING_SLOT_SIZE.
 *   region_size       the end.
 *   Rings [0, kernel_rings) are per-CPU kernel rings (system mode only:
 *   one per vCPU, ring = smp_processor_id(), written by bd_sched with
 *   preemption disabled; 0 in user mode); user rings follow and are
 *   claimed by guest threads exactly as in user mode.
 *
 * TRUST (system mode)
 *   The consumer accepts SCHED_SWITCH only from kernel rings, so guest user
 *   space cannot forge kernel events through its own ring. But a guest
 *   process running as root can map the BAR (as libbdguest does) and write
 *   into the kernel rings too: the ring channel trusts guest root for
 *   kernel events. The trap channel does not (the plugin checks that the
 *   trapping instruction ran in guest kernel mode); use it when guest root
 *   is not trusted. (A cheap fix would need the host to tell kernel from
 *   user writes to shared memory, which it cannot without a trap.)
 *
 * A RING (single producer: its owner thread; single consumer: the host)
 *   head (producer's cache line) counts slots written, tail (consumer's
 *   cache line) counts slots consumed; both only grow, modulo 2^64. Slot k
 *   is free for the producer while head - tail < ring_slots.
 *   Producer: check space (re-reading tail, acquire, only when its cached
 *   copy says full), fill the slot(s) at head, then store head + n with
 *   release semantics. A record never straddles the publication: both
 *   slots of a two-slot record are published by one head store.
 *   Ring full (or a call nested in another call of the same thread, e.g.
 *   from a signal handler): the record is not written, `dropped` is
 *   incremented (a single instruction: a signal handler cannot split it)
 *   and the call returns 0. The consumer reports every increase.
 *   Consumer: head (acquire) - tail slots are ready; it copies each record
 *   out before validating it, then stores tail (release).
 *
 * UNOWNED DROPS (loss is never silent)
 *   A guest thread that owns no ring (every user ring belongs to a live
 *   thread) has no `dropped` of its own: each record it cannot write adds
 *   1 to the header's unowned_dropped with an atomic add, unless the enable
 *   bitmap says the record would not be recorded anyway. The consumer
 *   reports its increases like a ring's drops, as ring BD_RING_NO_RING
 *   (owner pid and tid 0). A guest can raise it at will; it only ever
 *   counts loss.
 *
 * BYTE ORDER
 *   Every field of the region, the header included, is in the guest's byte
 *   order (big-endian for s390x guests, little-endian for the others), so
 *   the guest reads and writes it with plain loads and stores: the host
 *   writes the header (and later consumer_pid, the enable bitmap and
 *   generation) in the guest's order, reads claims, head, dropped and the
 *   records in it and writes tail in it. The host knows the order from the
 *   guest's architecture (bd-ring-consumer --arch); a header whose magic
 *   reads byte-swapped is a region of the other order and is refused.
 *   Texts are bytes. A claim's {tid, pid} pair is one 64-bit word to the
 *   guest's compare-and-swap, but its two halves are separate 32-bit fields
 *   to everyone, whatever the order.
 *
 * RECORDS
 *   A record is one slot (struct bd_ring_record), or two for kinds that
 *   carry text (MARK_TEXT, EVENT_NAME) or comms (SCHED_SWITCH): the second
 *   slot is struct bd_ring_text. Kinds and the meaning of event, args,
 *   text and SCHED_SWITCH's args/comms are those of <bd/abi.h> and
 *   <bd/channel.h>. HELLO, QUERY and CALL are never written into a ring.
 *
 * TIME
 *   ts is the guest's clock when the call was made, the one the region's
 *   clock field names: on x86_64 the TSC (rdtsc), on aarch64 cntvct_el0, on
 *   riscv64 rdtime, on s390x the TOD clock (stckf) (user mode: see enum
 *   bd_ring_clock for what qemu-user makes of them). For x86_64: In user mode and native runs it is the host TSC itself
 *   (measured: qemu-x86_64 returns the host TSC); the consumer maps it to
 *   host CLOCK_MONOTONIC by sampling (TSC, CLOCK_MONOTONIC) pairs while it
 *   drains. Under TCG system mode the guest TSC is host ticks plus a
 *   per-VM offset, under KVM host TSC x ratio + offset: the sync area
 *   below lets the host pair guest and host clock readings (see
 *   clock = BD_RING_CLOCK_*). The consumer emits the mapped time as the
 *   event's guest_ts field (host CLOCK_MONOTONIC ns).
 *
 * SYNC AREA (guest clock readings for the host; system mode)
 *   The host writes a fresh non-zero sync_request; a guest agent answers by
 *   writing its clock into sync_guest_ts and then sync_request into
 *   sync_ack (release). The host pairs sync_guest_ts with the window of
 *   its own clock readings around the exchange. Unused in user mode and
 *   native runs.
 *   The agent is bd_sched: its sched_switch probe (any vCPU) answers a
 *   pending request (sync_request != sync_ack) before writing its record;
 *   switches are frequent, so no timer or thread is needed, and a busy
 *   guest answers within microseconds. One vCPU answers each request (it
 *   claims the request first, and after reading its clock writes only if
 *   the request is still the host's): an answerer held up long enough
 *   could otherwise write its reading into the next exchange.
 *   The consumer (bdtrace::ring::ClockSync) reads its clock, writes the
 *   request, spins until the ack (at most 200 us: an idle guest may not
 *   switch; the request then stays pending, no new spin for 20 ms, and a
 *   late answer is kept only as a last-resort estimate) and reads its
 *   sync_guest_ts and its clock again: the guest read its TSC inside that
 *   window. A LinearClockMap fits the map: under TCG the guest TSC is the
 *   host TSC plus a per-VM constant, so the rate is the host TSC's and only
 *   the offset is fitted; under KVM (--accel kvm) the rate is fitted too
 *   (least squares over the last 64 exchanges whose round trip was short
 *   against the best seen). The offset is the middle of the intersection
 *   of the windows of every exchange (newest first, stopping at one that
 *   disagrees, so that a step of the guest's clock is followed; a newest
 *   window that alone disagrees waits for the next answer to confirm it):
 *   midpoints alone were 3-9 us early, because bd_sched answers
 *   late in a window (at the next switch after the request), while the
 *   intersection is as narrow as the tightest round trip in it. One exchange per 1 ms until the map is good
 *   (ready and one round trip <= 20 us seen, or 1 s after the first
 *   answer), then one per 10 ms. Nothing is drained before that (records
 *   wait in the rings); a run that ends without any answer uses the late
 *   estimate, or else the host TSC's map, and says so. The consumer's
 *   summary reports the bounds the windows put on the map's error
 *   (measured: see the README).
 *
 * ENABLE BITMAP
 *   enable[0..3]: the 256-bit map of <bd/channel.h> (ENABLE BITMAPS), one
 *   for every thread: a clear bit means the consumer would drop such a
 *   record for certain, so the guest does not write it (the call returns
 *   0, nothing is counted as dropped). All ones = no filter. The host
 *   writes the map, then bumps generation (release).
 */
#ifndef BD_RING_H
#define BD_RING_H

#include <bd/abi.h>
#include <bd/channel.h>

/* "bdrg" read as a big-endian word. */
#define BD_RING_MAGIC 0x62647267u
#define BD_RING_VERSION 1u

/* Environment variable naming the region file (user mode, native), or
 * "none" to ignore any ring and use the trap. */
#define BD_RING_ENV "BD_RING"

/* Environment variable naming a region file for processes the trap does
 * not reach. qemu-user does not follow execve: a program a guest under
 * qemu-x86_64 execs (a shell script's commands) runs natively, outside the
 * plugin, with the guest's environment. With the trap channel bd-run sets
 * this (not BD_RING): a process whose trap is answered keeps the trap, one
 * whose trap goes unheard writes into this ring. BD_RING takes precedence. */
#define BD_RING_EXEC_ENV "BD_RING_EXEC"

/* The ring index under which the consumer reports UNOWNED DROPS. */
#define BD_RING_NO_RING 0xffffffffu

#define BD_RING_SLOT_SIZE 64u
#define BD_RING_CTL_SIZE 256u
#define BD_RING_HEADER_SIZE 4096u

/* Defaults bd-run uses (the consumer accepts any region whose header
 * fields are powers of two within the limits below). */
#define BD_RING_DEFAULT_RINGS 64u
#define BD_RING_DEFAULT_SLOTS 16384u /* 1 MiB per ring */
#define BD_RING_MAX_RINGS 4096u
#define BD_RING_MIN_SLOTS 16u
#define BD_RING_MAX_SLOTS (1u << 24)

/* bd_ring_region.mode */
enum bd_ring_mode {
  BD_RING_MODE_USER = 1,  /* user-mode QEMU or native: guest TSC = host TSC */
  BD_RING_MODE_SYSTEM = 2 /* full-system guest: see the sync area           */
};

/* bd_ring_region.clock: what bd_ring_record.ts counts. The host sets it
 * for the guest's architecture; libbdguest uses a region only if it is its
 * own architecture's clock. Measured under Debian 12's qemu-user 7.2:
 * qemu-riscv64's rdtime is the host TSC; qemu-aarch64's cntvct_el0 counts
 * host CLOCK_REALTIME in units of 1/cntfrq_el0 (62.5 MHz: 16 ns).
 * s390x's TOD clock (stckf: bit 51 is 1 us, 4096 units per us, epoch
 * 1900-01-01 00:00 UTC) measured 2026-11-26 under Debian's qemu-s390x 7.2,
 * 10.0 (bookworm-backports) and 11.1 (sid): host CLOCK_REALTIME as TOD,
 * (realtime ns + 2208988800 s) * 4.096, no offset: of 10 000 reads per
 * version, every stckf lay between the host CLOCK_REALTIME readings taken
 * just before and just after it; back-to-back reads never repeat a value
 * (at least 81 units, 20 ns, apart). stck reads the same clock. */
enum bd_ring_clock {
  BD_RING_CLOCK_TSC = 1,        /* x86_64 rdtsc                          */
  BD_RING_CLOCK_CNTVCT = 2,     /* aarch64 cntvct_el0                    */
  BD_RING_CLOCK_RISCV_TIME = 3, /* riscv64 rdtime                        */
  BD_RING_CLOCK_S390X_TOD = 4   /* s390x stckf                           */
};

struct bd_ring_region {
  bd_u32 magic;           /*   0: BD_RING_MAGIC once the host is ready     */
  bd_u16 version;         /*   4: BD_RING_VERSION                          */
  bd_u16 slot_size;       /*   6: BD_RING_SLOT_SIZE                        */
  bd_u32 ring_count;      /*   8: rings in all (kernel + user)             */
  bd_u32 ring_slots;      /*  12: slots per ring, a power of two           */
  bd_u64 region_size;     /*  16: bytes of the whole region                */
  bd_u32 claims_offset;   /*  24 */
  bd_u32 ctl_offset;      /*  28 */
  bd_u64 data_offset;     /*  32 */
  bd_u32 mode;            /*  40: enum bd_ring_mode                        */
  bd_u32 clock;           /*  44: enum bd_ring_clock                       */
  bd_u32 kernel_rings;    /*  48: rings [0, kernel_rings) are per-CPU      */
  bd_u32 consumer_pid;    /*  52: host pid of the consumer (information)   */
  bd_u64 generation;      /*  56: bumped after each enable-map change      */
  bd_u64 enable[4];       /*  64: enable bitmap (see above)                */
  bd_u64 sync_request;    /*  96: host writes a fresh non-zero value       */
  bd_u64 sync_ack;        /* 104: guest echoes sync_request after ...      */
  bd_u64 sync_guest_ts;   /* 112: ... writing its clock here               */
  bd_u64 unowned_dropped; /* 120: guest-written, see UNOWNED DROPS         */
};

/* Per-ring control block: ownership, producer and consumer on separate
 * cache lines. */
struct bd_ring_ctl {
  /* line 0: producer (the owning thread) writes */
  bd_u64 head;    /* slots published                               */
  bd_u64 dropped; /* records not written: ring full or nested call */
  bd_u8 pad0[48];
  /* line 1: consumer writes */
  bd_u64 tail; /* slots consumed                                */
  bd_u8 pad1[56];
  bd_u8 reserved[128]; /* lines 2-3                                     */
};

/* One slot. */
struct bd_ring_record {
  bd_u64 ts;       /*   0: guest clock at the call (see TIME)       */
  bd_u16 kind;     /*   8: enum bd_kind                             */
  bd_u16 text_len; /*  10: bytes of text in the next slot (text     */
                   /*      kinds; <= BD_TEXT_MAX), else 0           */
  bd_u32 event;    /*  12: event or region id                       */
  bd_u64 args[4];  /*  16 */
  bd_u32 pid;      /*  48: guest process id                         */
  bd_u32 tid;      /*  52: guest thread id                          */
  bd_u64 seq;      /*  56: per-thread sequence number               */
};

/* The second slot of a two-slot record: text_len bytes then NUL
 * (MARK_TEXT, EVENT_NAME), or two BD_COMM_LEN comms (SCHED_SWITCH). */
struct bd_ring_text {
  char text[BD_RING_SLOT_SIZE];
};

/* BULK MARKS (bd_mark_blob through a ring; <bd/abi.h> CALLS has the trap
 * channel's way). A record of kind BD_RING_KIND_BLOB (a ring-only value,
 * never a valid kind of <bd/abi.h>: the trap channel rejects it): event,
 * args[0] = the byte count (at most BD_CALL_IO_MAX), ts, pid, tid and seq
 * as for any record, text_len 0; the bytes follow in the next
 * ceil(count / BD_RING_SLOT_SIZE) slots (wrapping like any slot), and one
 * head store publishes them all. The consumer emits bdtrace:blob with the
 * bytes; a count beyond BD_CALL_IO_MAX is rejected (ring_bad_blob) and
 * only the record's own slot is skipped. A blob that does not fit (the
 * ring is full, or smaller than the blob) is dropped and counted like any
 * record. */
#define BD_RING_KIND_BLOB 0x0b10u

/* Slots a bulk mark of `count` bytes takes, its record included. */
static inline bd_u64 bd_ring_blob_slots(bd_u64 count) {
  return 1u + (count + BD_RING_SLOT_SIZE - 1u) / BD_RING_SLOT_SIZE;
}

/* Slots a record of `kind` takes (a bulk mark: bd_ring_blob_slots). */
static inline unsigned bd_ring_record_slots(bd_u16 kind) {
  return (kind == BD_KIND_MARK_TEXT || kind == BD_KIND_EVENT_NAME || kind == BD_KIND_SCHED_SWITCH) ? 2u : 1u;
}

/* Layout of a region with `rings` rings of `slots` slots each (host side:
 * computes what it writes into the header; never from guest-written
 * values). */
static inline bd_u32 bd_ring_claims_offset(void) { return BD_RING_HEADER_SIZE; }
static inline bd_u32 bd_ring_ctl_offset(bd_u32 rings) {
  /* claims rounded up to a whole page */
  return BD_RING_HEADER_SIZE + ((rings * (bd_u32)sizeof(struct bd_slot_claim) + 4095u) & ~4095u);
}
static inline bd_u64 bd_ring_data_offset(bd_u32 rings) {
  return ((bd_u64)bd_ring_ctl_offset(rings) + (bd_u64)rings * BD_RING_CTL_SIZE + 4095u) & ~(bd_u64)4095u;
}
static inline bd_u64 bd_ring_region_size(bd_u32 rings, bd_u32 slots) {
  return bd_ring_data_offset(rings) + (bd_u64)rings * slots * BD_RING_SLOT_SIZE;
}

#ifndef __KERNEL__
BD_STATIC_ASSERT(ring_header, sizeof(struct bd_ring_region) <= BD_RING_HEADER_SIZE, "header fits its page");
BD_STATIC_ASSERT(ring_ctl, sizeof(struct bd_ring_ctl) == BD_RING_CTL_SIZE, "ctl size");
BD_STATIC_ASSERT(ring_record, sizeof(struct bd_ring_record) == BD_RING_SLOT_SIZE, "record is one slot");
BD_STATIC_ASSERT(ring_text, sizeof(struct bd_ring_text) == BD_RING_SLOT_SIZE, "text is one slot");
BD_STATIC_ASSERT(ring_text_max, BD_TEXT_MAX < BD_RING_SLOT_SIZE, "text and NUL fit a slot");
BD_STATIC_ASSERT(ring_comms, 2 * BD_COMM_LEN <= BD_RING_SLOT_SIZE, "both comms fit a slot");
#endif

#endif /* BD_RING_H */
