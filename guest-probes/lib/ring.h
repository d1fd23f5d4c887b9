/* SPDX-License-Identifier: MIT */
/*
 * Private to libbdguest (and its unit tests): finding, mapping and claiming
 * the ring channel (<bd/ring.h>) from guest user space. The hot path that
 * writes records is bd.c's.
 *
 *   discovery   env BD_RING (BD_RING_ENV) names the region file, whose
 *               header must be a ready user-mode region; "none": no ring.
 *               Unset or empty: the first ivshmem PCI device (ivshmem.h)
 *               whose BAR2 holds a ready system-mode region (a full-system
 *               guest; mapping a BAR needs root, as for the trap channel).
 *               Either way of this ABI version and with the layout
 *               <bd/ring.h> computes from ring_count and ring_slots.
 *   layout      computed here from ring_count and ring_slots when mapping
 *               and kept in process-private memory (struct bd_ring_map):
 *               the guest never indexes with a value it re-reads from the
 *               shared region, which another guest process may change.
 *   claims      one user ring per guest thread (rings [kernel_rings,
 *               ring_count)), with the claim tables of claim.h.
 *
 * Functions here may make system calls and are meant for slow paths (the
 * first call of a process or thread); none allocates memory.
 */
#ifndef BD_GUEST_RING_H
#define BD_GUEST_RING_H

#include <stddef.h>
#include <stdint.h>

#include <bd/ring.h>

#include "claim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A mapped region and the layout computed when it was mapped. */
struct bd_ring_map {
  unsigned char *base; /* NULL when not mapped                        */
  size_t size;         /* bytes mapped: region_size                   */
  uint32_t ring_count; /* copies of the validated header fields       */
  uint32_t ring_slots;
  uint32_t kernel_rings;
  const volatile struct bd_ring_region *header;
  struct bd_slot_claim *claims; /* ring_count entries                  */
  struct bd_ring_ctl *ctl;      /* ring_count control blocks           */
  unsigned char *data;          /* ring 0's slot 0                     */
};

/* Is `h` (a private copy of a header) a ready region this library can
 * write into: magic, version, slot size, user mode (no kernel rings), the
 * running architecture's clock (arch.h: BD_ARCH_RING_CLOCK), ring_count in [1, BD_RING_MAX_RINGS], ring_slots a power of two in
 * [BD_RING_MIN_SLOTS, BD_RING_MAX_SLOTS], and offsets and size as
 * <bd/ring.h> computes them? Returns 0 or -ENODEV. */
int bd_ring_check_header(const struct bd_ring_region *h);

/* The same for a region of `mode` (enum bd_ring_mode): system mode has
 * kernel rings (1 to ring_count), user mode none. */
int bd_ring_check_header_mode(const struct bd_ring_region *h, uint32_t mode);

/* Open `path` O_RDWR, check its header (bd_ring_check_header) and that the
 * file holds region_size bytes, map the whole region shared. Returns 0 and
 * fills `m`, or a negative errno (-ENODEV: not a usable region). */
int bd_ring_open_path(struct bd_ring_map *m, const char *path);

/* Open a PCI BAR file (resource2) O_RDWR|O_SYNC and map the system-mode
 * region in it (bd_ring_check_header_mode; the BAR may be larger than the
 * region: bd-run pads the file to a power of two). 0, -EACCES (not root),
 * -ENODEV (not a ring region: e.g. the trap channel's device). */
int bd_ring_open_device(struct bd_ring_map *m, const char *resource2);

/* Discovery as described above: 0 (mapped), -ENODEV (BD_RING=none, or no
 * ring device), -EACCES (an ivshmem device we may not open), or the open's
 * error. */
int bd_ring_discover(struct bd_ring_map *m);

/* The region BD_RING_EXEC names (for a process the trap does not reach):
 * 0 (mapped), -ENODEV (unset, empty or "none"), or the open's error. */
int bd_ring_open_exec(struct bd_ring_map *m);

void bd_ring_close(struct bd_ring_map *m);

/* Claim a user ring for thread (pid, tid) (bd_claim on [kernel_rings,
 * ring_count)). Returns the ring index, or -1 when every user ring belongs
 * to a live thread. */
int bd_ring_claim(const struct bd_ring_map *m, uint32_t pid, uint32_t tid);

/* Release ring `i` if (pid, tid) still owns it. Returns 1 if released. */
int bd_ring_release(const struct bd_ring_map *m, unsigned i, uint32_t pid, uint32_t tid);

/* Ring i's control block and first slot (`m` mapped, i < ring_count). */
static inline struct bd_ring_ctl *bd_ring_ctl_of(const struct bd_ring_map *m, unsigned i) {
  return &m->ctl[i];
}

static inline unsigned char *bd_ring_data_of(const struct bd_ring_map *m, unsigned i) {
  return m->data + (size_t)i * m->ring_slots * BD_RING_SLOT_SIZE;
}

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_RING_H */
