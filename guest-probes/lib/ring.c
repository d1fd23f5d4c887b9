// SPDX-License-Identifier: MIT
/*
 * libbdguest, ring mode: discovery, mapping and ring claims on the ring
 * channel (see ring.h and <bd/ring.h>): a region file named by BD_RING
 * (user mode, native) or an ivshmem BAR (full-system mode).
 */
#define _GNU_SOURCE

#include "ring.h"

#include "arch.h"
#include "ivshmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* bd-run greps a (static) guest binary for this string to tell whether its
 * libbdguest can write into a ring; bump it with BD_RING_VERSION. `used`
 * keeps it in the object file; the reference in bd_ring_open_path keeps
 * it in the program even when the linker garbage-collects sections (that
 * function is reachable from every API call). */
__attribute__((used)) static const char bd_ring_abi_marker[] = "bdguest-ring-abi-1";

static int is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

int bd_ring_check_header_mode(const struct bd_ring_region *h, uint32_t mode) {
  if (h->magic != BD_RING_MAGIC || h->version != BD_RING_VERSION || h->slot_size != BD_RING_SLOT_SIZE ||
      h->mode != mode || h->clock != BD_ARCH_RING_CLOCK)
    return -ENODEV;
  /* User mode has no kernel rings, system mode one per guest CPU
     * (<bd/ring.h>); claims skip [0, kernel_rings). */
  const uint32_t rings = h->ring_count, slots = h->ring_slots;
  if (rings == 0 || rings > BD_RING_MAX_RINGS || h->kernel_rings > rings) return -ENODEV;
  if ((mode == BD_RING_MODE_USER) != (h->kernel_rings == 0)) return -ENODEV;
  if (!is_power_of_two(slots) || slots < BD_RING_MIN_SLOTS || slots > BD_RING_MAX_SLOTS) return -ENODEV;
  /* The layout is ours to compute; the header must agree with it. */
  if (h->claims_offset != bd_ring_claims_offset() || h->ctl_offset != bd_ring_ctl_offset(rings) ||
      h->data_offset != bd_ring_data_offset(rings) || h->region_size != bd_ring_region_size(rings, slots))
    return -ENODEV;
  return 0;
}

int bd_ring_check_header(const struct bd_ring_region *h) {
  return bd_ring_check_header_mode(h, BD_RING_MODE_USER);
}

/* A private copy of the header at the start of `fd`, or -errno. The magic
 * is read first (acquire): the host writes it last, once the rest is in
 * place. */
static int read_header(int fd, struct bd_ring_region *out) {
  void *p = mmap(NULL, BD_RING_HEADER_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -errno;
  const struct bd_ring_region *h = p;
  const uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
  memcpy(out, h, sizeof *out);
  out->magic = magic;
  munmap(p, BD_RING_HEADER_SIZE);
  return 0;
}

/* Fill `m` for a region of `h`'s shape mapped at `base`. */
static void set_layout(struct bd_ring_map *m, unsigned char *base, const struct bd_ring_region *h) {
  const uint32_t rings = h->ring_count;
  m->base = base;
  m->size = (size_t)bd_ring_region_size(rings, h->ring_slots);
  m->ring_count = rings;
  m->ring_slots = h->ring_slots;
  m->kernel_rings = h->kernel_rings;
  m->header = (const volatile struct bd_ring_region *)(void *)base;
  m->claims = (struct bd_slot_claim *)(void *)(base + bd_ring_claims_offset());
  m->ctl = (struct bd_ring_ctl *)(void *)(base + bd_ring_ctl_offset(rings));
  m->data = base + bd_ring_data_offset(rings);
}

/* Check the region in `fd`, a region of `mode`, and map it. */
static int map_region(struct bd_ring_map *m, int fd, uint32_t mode) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < (off_t)BD_RING_HEADER_SIZE) return -ENODEV;
  struct bd_ring_region h;
  int rc = read_header(fd, &h);
  if (rc != 0) return rc;
  rc = bd_ring_check_header_mode(&h, mode);
  if (rc != 0) return rc;
  if ((uint64_t)st.st_size < h.region_size) return -ENODEV;
  void *p = mmap(NULL, (size_t)h.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return (errno == EACCES || errno == EPERM) ? -EACCES : -errno;
  set_layout(m, p, &h);
  return 0;
}

int bd_ring_open_path(struct bd_ring_map *m, const char *path) {
  memset(m, 0, sizeof *m);
  __asm__ volatile("" : : "r"(bd_ring_abi_marker)); /* see the marker */
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  const int rc = map_region(m, fd, BD_RING_MODE_USER);
  close(fd); /* the mapping keeps the file */
  return rc;
}

int bd_ring_open_device(struct bd_ring_map *m, const char *resource2) {
  memset(m, 0, sizeof *m);
  /* O_SYNC as for the trap channel's BAR (no difference under TCG). */
  int fd = open(resource2, O_RDWR | O_SYNC | O_CLOEXEC);
  if (fd < 0) return (errno == EACCES || errno == EPERM) ? -EACCES : -errno;
  const int rc = map_region(m, fd, BD_RING_MODE_SYSTEM);
  close(fd);
  return rc;
}

static int try_ring_device(const char *resource2, void *ctx) { return bd_ring_open_device(ctx, resource2); }

int bd_ring_discover(struct bd_ring_map *m) {
  memset(m, 0, sizeof *m);
  const char *env = getenv(BD_RING_ENV);
  if (env != NULL && strcmp(env, "none") == 0) return -ENODEV;
  if (env != NULL && env[0] != '\0') return bd_ring_open_path(m, env);
  /* No BD_RING: a full-system guest finds the ring behind an ivshmem
     * device (a trap-channel device fails the magic check: -ENODEV). */
  return bd_ivshmem_scan(try_ring_device, m);
}

int bd_ring_open_exec(struct bd_ring_map *m) {
  memset(m, 0, sizeof *m);
  const char *env = getenv(BD_RING_EXEC_ENV);
  if (env == NULL || env[0] == '\0' || strcmp(env, "none") == 0) return -ENODEV;
  return bd_ring_open_path(m, env);
}

void bd_ring_close(struct bd_ring_map *m) {
  if (m->base != NULL) munmap(m->base, m->size);
  memset(m, 0, sizeof *m);
}

int bd_ring_claim(const struct bd_ring_map *m, uint32_t pid, uint32_t tid) {
  return bd_claim(m->claims, m->ring_count, m->kernel_rings, pid, tid);
}

int bd_ring_release(const struct bd_ring_map *m, unsigned i, uint32_t pid, uint32_t tid) {
  return bd_claim_release(m->claims, m->ring_count, m->kernel_rings, i, pid, tid);
}
