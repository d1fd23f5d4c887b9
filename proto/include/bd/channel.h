/* SPDX-License-Identifier: MIT */
/*
 * bdtrace full-system channel, ABI version 1: the layout of the ivshmem-plain
 * device's BAR2 (a host file mapped shared by QEMU, the plugin and bd-run).
 *
 * Shared verbatim by the plugin's device backend, libbdguest (system mode)
 * and the bd_sched kernel module. Records in it are struct bd_record
 * (<bd/abi.h>) and the trap is the same instruction as in user mode.
 *
 * LAYOUT (offsets from the start of BAR2; BD_CHANNEL_SIZE bytes in all)
 *   0x0000  struct bd_channel_header (one page). Written by the host; the
 *           guest only writes handshake_nonce. The plugin keeps its own copy
 *           of the layout and never trusts header bytes the guest can change.
 *   0x2000  kernel slots: BD_CHANNEL_KERNEL_SLOTS records, one per guest CPU
 *           (slot = smp_processor_id()), written by bd_sched only, with
 *           preemption disabled.
 *   0x4000  claim table: BD_CHANNEL_USER_SLOTS struct bd_slot_claim, one per
 *           user slot. A guest thread owns user slot i while claims[i].tid is
 *           its tid: it claims a free entry (tid == 0) with an atomic
 *           compare-and-swap, releases it at thread exit, and a claimer that
 *           finds none free reclaims entries whose thread no longer exists.
 *   0x8000  user slots: BD_CHANNEL_USER_SLOTS records, one per claim entry.
 *   0x400000 data pages: BD_CHANNEL_USER_SLOTS pages of BD_PAGE_SIZE bytes,
 *           page i belonging to the owner of user slot i: the page of its
 *           calls to host handlers and bulk marks (CALLS below).
 *
 * HANDSHAKE (the plugin learns where the guest put BAR2)
 *   The plugin sees guest-physical addresses only. A guest that opens the
 *   channel writes a fresh non-zero nonce into handshake_nonce, then traps
 *   with %rdi = the address of BAR2 offset 0. The plugin accepts a trap as a
 *   handshake when the physical address is aligned to BD_CHANNEL_SIZE (BARs
 *   are naturally aligned) and the nonce is non-zero; it then takes that
 *   address as BAR2's base, copies the nonce into handshake_ack and clears
 *   handshake_nonce. The guest is present when handshake_ack equals its
 *   nonce. If the guest moves the BAR, the next handshake re-learns it.
 *   Several handshakes (processes, the kernel module) share the field: a
 *   writer puts its nonce in with a compare-and-swap from 0 and waits while
 *   another nonce is there (that handshake's trap is coming; overwriting it
 *   makes that trap find no nonce, a rejected record), overwriting only a
 *   nonce that stays 0.5 to 1 s; it withdraws an unanswered nonce with a
 *   compare-and-swap back to 0 (libbdguest's channel.c, bd_sched.c).
 *
 * TRAPS ON RECORDS
 *   offset = physical address - base. The plugin accepts a record only at a
 *   BD_RECORD_SIZE-aligned offset inside the kernel-slot or user-slot area,
 *   reads and writes it only through its own mapping of the backing file,
 *   and writes bd_record.reply there. Kind BD_KIND_SCHED_SWITCH is accepted
 *   only when the trapping instruction runs in guest kernel mode (its
 *   virtual address is in the upper half); one from user space is rejected
 *   and counted.
 *
 * CALLS (bd_call, bd_mark_blob; <bd/abi.h>, CALLS)
 *   A thread that owns user slot i writes a BD_KIND_CALL record at offset 0
 *   of data page i, the step's bytes after it, and traps on that record.
 *   The plugin accepts a trap on a data page only at a page's first byte,
 *   with a valid BD_KIND_CALL record there; it reads the step's bytes and
 *   writes the answer (args, output bytes) only inside that page, through
 *   its own mapping, and keeps one call's bytes per data page between the
 *   steps. A CALL record in a slot is rejected (call_not_served). Calls
 *   from the guest kernel are not served (a kernel trap on a data page is
 *   rejected). header.data_offset is 0 when the host serves no calls
 *   (then libbdguest answers -ENOTSUP without trapping).
 *
 * LOST RECORDS (loss is never silent)
 *   A guest thread that cannot send a record traps on one of two fixed
 *   offsets in the unused end of the claim-table area instead, with no
 *   record: BD_CHANNEL_LOST_NO_SLOT_OFFSET when every user slot belongs
 *   to a live thread (the thread owns none), BD_CHANNEL_LOST_NESTED_OFFSET
 *   when the call is nested in another call of the same thread (a signal
 *   handler interrupting a libbdguest call). The plugin reads nothing
 *   there and counts each such trap as a rejection with reason
 *   no_free_slot or nested_call, so the trace and bd-analyze's report
 *   count the lost records. (A guest can inflate these counts; they never
 *   become events.) Records the enable bitmaps say would be filtered are
 *   not counted.
 *
 * ENABLE BITMAPS (guest-side skipping of filtered records)
 *   enable[v][0..3] is a 256-bit map for vCPU v (bit b = word b / 64, bit
 *   b % 64): bit e (e < BD_ENABLE_EVENT_BITS = 192) set = a MARK, MARK_TEXT,
 *   REGION_BEGIN or REGION_END record with event id e from vCPU v may be
 *   recorded (the kinds share one bit, set when any of them may be);
 *   BD_ENABLE_BIT_HIGH_IDS (255) = the same for every id >= 192 (one bit
 *   for all of them); BD_ENABLE_BIT_SCHED (254) = SCHED_SWITCH records may
 *   be recorded; bits 192..253 are reserved (set). The answers are
 *   conservative ("may": process selectors and rate limits count as
 *   recordable), so a clear bit means the plugin would drop the record for
 *   certain and the guest may skip the trap. EVENT_NAME and HELLO are never
 *   skipped. unions[0..3] (formerly reserved0) is the OR of the maps of
 *   vCPUs 0..nr_vcpus-1: a guest thread that does not know its CPU tests it.
 *   All ones (every map and the union) = everything enabled: no filter, and
 *   the state after init. At each filter publication the plugin writes
 *   every map and the union first, then bumps `generation` (release): a
 *   guest that sees a generation sees at least that config's maps.
 *   Between two stores of one word a guest may see a mix of the old and
 *   the new config for a few nanoseconds (as with a trap racing a reload).
 *
 * SCHED_SWITCH RECORD (kind 7, written by bd_sched)
 *   event = 0, args[0] = prev tid, args[1] = next tid, args[2] = prev state,
 *   args[3] = prev tgid | (next tgid << 32); text[0..15] = prev comm and
 *   text[16..31] = next comm, each NUL-terminated within its 16 bytes;
 *   text_len = 0; pid/tid = the guest's current task (prev).
 */
#ifndef BD_CHANNEL_H
#define BD_CHANNEL_H

#include <bd/abi.h>

/* "bdch" read as a big-endian word. */
#define BD_CHANNEL_MAGIC 0x62646368u
#define BD_CHANNEL_VERSION 1u

/* BAR2 size. A power of two (ivshmem requires it); records use 160 KiB,
 * the data pages 4 MiB. */
#define BD_CHANNEL_SIZE (8u * 1024u * 1024u)

#define BD_CHANNEL_KERNEL_OFFSET 0x2000u
#define BD_CHANNEL_KERNEL_SLOTS 64u /* guest CPUs supported */
#define BD_CHANNEL_CLAIMS_OFFSET 0x4000u
#define BD_CHANNEL_USER_OFFSET 0x8000u
#define BD_CHANNEL_USER_SLOTS 1024u      /* guest threads marking at once */
#define BD_CHANNEL_DATA_OFFSET 0x400000u /* data page i: user slot i's */
/* LOST RECORDS: after the claim table, before the user slots. */
#define BD_CHANNEL_LOST_NO_SLOT_OFFSET 0x6000u
#define BD_CHANNEL_LOST_NESTED_OFFSET 0x6040u

/* PCI identity of ivshmem (Red Hat, Inc.: ivshmem). */
#define BD_IVSHMEM_VENDOR 0x1af4u
#define BD_IVSHMEM_DEVICE 0x1110u

/* Length of each comm in a SCHED_SWITCH record's text. */
#define BD_COMM_LEN 16u

struct bd_channel_header {
  bd_u32 magic;           /* BD_CHANNEL_MAGIC once the host is ready       */
  bd_u16 version;         /* BD_CHANNEL_VERSION                            */
  bd_u16 record_size;     /* BD_RECORD_SIZE                                */
  bd_u32 channel_size;    /* BD_CHANNEL_SIZE                               */
  bd_u32 nr_vcpus;        /* vCPUs of the VM (kernel slots in use)         */
  bd_u32 kernel_offset;   /* BD_CHANNEL_KERNEL_OFFSET                      */
  bd_u32 kernel_slots;    /* BD_CHANNEL_KERNEL_SLOTS                       */
  bd_u32 claims_offset;   /* BD_CHANNEL_CLAIMS_OFFSET                      */
  bd_u32 user_offset;     /* BD_CHANNEL_USER_OFFSET                        */
  bd_u32 user_slots;      /* BD_CHANNEL_USER_SLOTS                         */
  bd_u32 data_offset;     /* BD_CHANNEL_DATA_OFFSET; 0 = calls not served  */
  bd_u64 generation;      /* bumped when the filter config changes         */
  bd_u64 handshake_nonce; /* guest writes; the plugin clears               */
  bd_u64 handshake_ack;   /* plugin writes the nonce it accepted           */
  bd_u64 unions[4];       /* OR of enable[0..nr_vcpus-1] (see above)     */
  /* Per-vCPU enable bitmaps (see ENABLE BITMAPS); all ones = everything
     * enabled. */
  bd_u64 enable[BD_CHANNEL_KERNEL_SLOTS][4];
};

/* Enable-bitmap layout (see ENABLE BITMAPS above). */
#define BD_ENABLE_EVENT_BITS 192u
#define BD_ENABLE_BIT_SCHED 254u
#define BD_ENABLE_BIT_HIGH_IDS 255u

/* The bit of a 256-bit enable map that covers event id `event`. */
static inline unsigned bd_enable_bit(bd_u32 event) {
  return event < BD_ENABLE_EVENT_BITS ? (unsigned)event : BD_ENABLE_BIT_HIGH_IDS;
}

/* Is bit `bit` set in the 4-word map at `map` (guest memory: volatile,
 * one 8-byte load)? */
static inline int bd_enable_test(const volatile bd_u64 *map, unsigned bit) {
  return (int)((map[bit >> 6] >> (bit & 63u)) & 1u);
}

struct bd_slot_claim {
  bd_u32 tid; /* owning guest thread, 0 = free */
  bd_u32 pid; /* its process                   */
};

#ifndef __KERNEL__
BD_STATIC_ASSERT(channel_header, sizeof(struct bd_channel_header) <= 0x1000, "header fits its page");
BD_STATIC_ASSERT(channel_kernel_slots,
                 BD_CHANNEL_KERNEL_OFFSET + BD_CHANNEL_KERNEL_SLOTS * BD_RECORD_SIZE <=
                     BD_CHANNEL_CLAIMS_OFFSET,
                 "kernel slots fit");
BD_STATIC_ASSERT(channel_claims,
                 BD_CHANNEL_CLAIMS_OFFSET + BD_CHANNEL_USER_SLOTS * sizeof(struct bd_slot_claim) <=
                     BD_CHANNEL_USER_OFFSET,
                 "claims fit");
BD_STATIC_ASSERT(channel_lost,
                 BD_CHANNEL_CLAIMS_OFFSET + BD_CHANNEL_USER_SLOTS * sizeof(struct bd_slot_claim) <=
                         BD_CHANNEL_LOST_NO_SLOT_OFFSET &&
                     BD_CHANNEL_LOST_NESTED_OFFSET < BD_CHANNEL_USER_OFFSET,
                 "lost-record offsets lie between the claims and the user slots");
BD_STATIC_ASSERT(channel_user_slots,
                 BD_CHANNEL_USER_OFFSET + BD_CHANNEL_USER_SLOTS * BD_RECORD_SIZE <= BD_CHANNEL_DATA_OFFSET,
                 "user slots fit before the data pages");
BD_STATIC_ASSERT(channel_data_pages,
                 BD_CHANNEL_DATA_OFFSET % BD_PAGE_SIZE == 0 &&
                     BD_CHANNEL_DATA_OFFSET + BD_CHANNEL_USER_SLOTS * BD_PAGE_SIZE <= BD_CHANNEL_SIZE,
                 "data pages fit, page-aligned");
#endif

#endif /* BD_CHANNEL_H */
