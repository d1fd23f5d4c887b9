/* SPDX-License-Identifier: MIT */
/*
 * Private to libbdguest and the system-mode guest test programs
 * (tests/guest: guest-forge, guest-hostile-system) and its unit tests:
 * finding, mapping and using the full-system channel (<bd/channel.h>) from
 * guest user space.
 *
 *   discovery   env BD_DEVICE (a resource2 path, or "none"), else the first
 *               ivshmem PCI device (vendor 0x1af4, device 0x1110) whose BAR2
 *               carries a bdtrace header with the right magic and version.
 *   handshake   tells the plugin where the guest put BAR2 (see channel.h).
 *   claims      one user slot per guest thread, claimed and released with
 *               64-bit compare-and-swap on the {tid, pid} claim entry; entries
 *               of threads that no longer exist are reclaimed (claim.h: the
 *               same code claims rings, ring.h).
 *
 * Functions here may make system calls and are meant for slow paths (the
 * first call of a process or thread); none allocates memory.
 */
#ifndef BD_GUEST_CHANNEL_H
#define BD_GUEST_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <bd/channel.h>

#include "claim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Environment variable overriding discovery: a path to a resource2 file (or
 * any file of at least BD_CHANNEL_SIZE bytes holding a channel header), or
 * "none" to disable system mode. */
#define BD_DEVICE_ENV "BD_DEVICE"

/* A mapped channel: BD_CHANNEL_SIZE bytes of BAR2, mapped shared. */
struct bd_chan {
  unsigned char *base; /* NULL when not mapped */
};

/* Map `path` O_RDWR|O_SYNC and check the header. Returns 0 and fills `c`;
 * -EACCES when the file (or its mapping) needs privileges we do not have;
 * -ENODEV when it is too small or holds no bdtrace header of this version;
 * another negative errno when open or mmap failed otherwise. */
int bd_chan_open_path(struct bd_chan *c, const char *path);

/* Discovery as described above. Returns 0 (mapped), -ENODEV (no channel:
 * BD_DEVICE=none, no such device, or no device with a bdtrace header),
 * -EACCES (a bdtrace-capable device exists but could not be opened: in the
 * guest, mapping BAR2 needs root), or another negative errno when BD_DEVICE
 * names a file that cannot be used. */
int bd_chan_discover(struct bd_chan *c);

void bd_chan_close(struct bd_chan *c);

/* Layout accessors (offsets from <bd/channel.h>; `c` must be mapped). */
static inline volatile struct bd_channel_header *bd_chan_header(const struct bd_chan *c) {
  return (volatile struct bd_channel_header *)(void *)c->base;
}

static inline struct bd_slot_claim *bd_chan_claims(const struct bd_chan *c) {
  return (struct bd_slot_claim *)(void *)(c->base + BD_CHANNEL_CLAIMS_OFFSET);
}

static inline struct bd_record *bd_chan_user_slot(const struct bd_chan *c, unsigned i) {
  return (struct bd_record *)(void *)(c->base + BD_CHANNEL_USER_OFFSET + (size_t)i * BD_RECORD_SIZE);
}

static inline struct bd_record *bd_chan_kernel_slot(const struct bd_chan *c, unsigned i) {
  return (struct bd_record *)(void *)(c->base + BD_CHANNEL_KERNEL_OFFSET + (size_t)i * BD_RECORD_SIZE);
}

/* A fresh non-zero handshake nonce (pid, tid, clocks and a counter). */
uint64_t bd_chan_fresh_nonce(void);

/* How the handshake traps: the real trap (bd_chan_handshake), or a stand-in
 * in unit tests that plays the plugin. */
typedef void (*bd_chan_trap_fn)(volatile void *addr, void *ctx);

/* The handshake of <bd/channel.h>: 1 when the plugin acknowledged our nonce,
 * 0 when nobody answered. Handshakes of other threads or processes may
 * overlap: a nonce is only written into a free (zero) handshake_nonce, and
 * a handshake that lost a race is retried with a short back-off. A nonce
 * that nobody consumed is withdrawn, so a guest without a plugin leaves the
 * header as it found it. 0.5 to 1 s when another handshake's nonce is
 * stuck in the header (then ours overwrites it: channel.c says why it
 * waits that long). */
int bd_chan_handshake(const struct bd_chan *c);
int bd_chan_handshake_with(const struct bd_chan *c, bd_chan_trap_fn trap, void *ctx);

/* User-slot claims: the claim table of <bd/channel.h> (all
 * BD_CHANNEL_USER_SLOTS entries claimable) through claim.h. */

/* Claim a free user slot for thread (pid, tid): entries are tried from
 * tid % BD_CHANNEL_USER_SLOTS on; when none is free, entries of threads
 * that no longer exist are reclaimed first (bd_chan_reclaim). Returns the
 * slot index, or -1 when every entry belongs to a live thread. */
static inline int bd_chan_claim(const struct bd_chan *c, uint32_t pid, uint32_t tid) {
  return bd_claim(bd_chan_claims(c), BD_CHANNEL_USER_SLOTS, 0, pid, tid);
}

/* Claim without reclaiming: -1 when no entry is free. */
static inline int bd_chan_claim_free(const struct bd_chan *c, uint32_t pid, uint32_t tid) {
  return bd_claim_free(bd_chan_claims(c), BD_CHANNEL_USER_SLOTS, 0, pid, tid);
}

/* Free every entry whose thread no longer exists. Returns how many. */
static inline unsigned bd_chan_reclaim(const struct bd_chan *c) {
  return bd_claim_reclaim(bd_chan_claims(c), BD_CHANNEL_USER_SLOTS, 0);
}

/* Release slot `i` if (pid, tid) still owns it. Returns 1 if released. */
static inline int bd_chan_release(const struct bd_chan *c, unsigned i, uint32_t pid, uint32_t tid) {
  return bd_claim_release(bd_chan_claims(c), BD_CHANNEL_USER_SLOTS, 0, i, pid, tid);
}

/* Does thread `tid` of process `pid` exist? (bd_claim_thread_alive) */
static inline int bd_chan_thread_alive(uint32_t pid, uint32_t tid) { return bd_claim_thread_alive(pid, tid); }

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_CHANNEL_H */
