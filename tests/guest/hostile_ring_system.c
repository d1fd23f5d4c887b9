// SPDX-License-Identifier: MIT
/*
 * guest-hostile-ring-system N: guest user space (root) writing into the
 * full-system ring region's kernel rings and forging kernel events in its
 * own ring (<bd/ring.h>). Run it after `rmmod bd_sched`: the kernel rings
 * must be idle (their producer is bd_sched; two producers on one ring
 * would make the counts below inexact). It refuses while bd_sched is
 * loaded.
 *
 *   kernel rings  N garbage slots (PRNG bytes, kind forced out of range so
 *                 each is one slot) at the head of every kernel ring, then
 *                 head += N: the consumer rejects each (bad_kind).
 *   forged        10 well-formed SCHED_SWITCH records (two slots each,
 *                 comms "bd-forged"/"bd-forged-next") in a user ring it
 *                 claims: the consumer takes SCHED_SWITCH from kernel rings
 *                 only and rejects each (kernel_only_kind).
 * Then it waits (up to 20 s) until the consumer has drained every ring it
 * wrote (tail == head).
 *
 * Output (stdout): "kernel_rings K", "garbage G", "forged F",
 * "drained <0|1>", "expect_rejected G+F", "expect_kernel_only F".
 * Exit 0; 1 when no ring region is found, bd_sched is loaded or no user
 * ring is free; 2 on bad usage. A well-formed SCHED_SWITCH written into a
 * kernel ring would be accepted: the ring channel trusts guest root for
 * kernel events (<bd/ring.h>, TRUST), so this program does not try.
 */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prng.h"
#include "ring.h"
#include "system_common.h"

enum { FORGED = 10 };

static int bd_sched_loaded(void) {
  FILE *f = fopen("/proc/modules", "r");
  if (f == NULL) return 0;
  char line[256];
  int found = 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "bd_sched ", 9) == 0) found = 1;
  fclose(f);
  return found;
}

static uint64_t head_of(struct bd_ring_ctl *ctl) { return __atomic_load_n(&ctl->head, __ATOMIC_ACQUIRE); }

static unsigned char *slot_at(const struct bd_ring_map *m, unsigned ring, uint64_t k) {
  return bd_ring_data_of(m, ring) + (size_t)(k & (m->ring_slots - 1u)) * BD_RING_SLOT_SIZE;
}

/* Waits until the consumer has drained `ring` (tail == head). */
static int drained(struct bd_ring_ctl *ctl) {
  for (int i = 0; i < 2000; i++) {
    if (__atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE) == head_of(ctl)) return 1;
    const struct timespec ten_ms = {0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, NULL);
  }
  return 0;
}

int main(int argc, char **argv) {
  alarm(60);
  if (argc != 2) {
    fprintf(stderr, "usage: guest-hostile-ring-system N\n");
    return 2;
  }
  const unsigned n = (unsigned)strtoul(argv[1], NULL, 10);
  if (bd_sched_loaded()) {
    fprintf(stderr,
            "guest-hostile-ring-system: bd_sched is loaded and writes the kernel "
            "rings: rmmod bd_sched first\n");
    return 1;
  }
  struct bd_ring_map m;
  if (bd_ring_discover(&m) != 0) {
    fprintf(stderr,
            "guest-hostile-ring-system: no ring region (run as root in a VM "
            "booted with bd-run --channel ring)\n");
    return 1;
  }
  if (n + 2u * FORGED > m.ring_slots) {
    fprintf(stderr, "guest-hostile-ring-system: N must leave room in a ring of %u slots\n", m.ring_slots);
    return 2;
  }
  uint64_t state = 0x243f6a8885a308d3ULL ^ (uint64_t)getpid();
  unsigned garbage = 0;
  int all_drained = 1;
  for (unsigned ring = 0; ring < m.kernel_rings; ring++) {
    struct bd_ring_ctl *ctl = bd_ring_ctl_of(&m, ring);
    const uint64_t head = head_of(ctl);
    for (unsigned k = 0; k < n; k++) {
      struct bd_ring_record r;
      for (size_t i = 0; i < sizeof r; i += 8) {
        const uint64_t v = xorshift64(&state);
        memcpy((unsigned char *)&r + i, &v, 8);
      }
      r.kind = (uint16_t)(BD_KIND_MAX_ + r.kind % (0x10000u - BD_KIND_MAX_));
      memcpy(slot_at(&m, ring, head + k), &r, sizeof r);
    }
    __atomic_store_n(&ctl->head, head + n, __ATOMIC_RELEASE);
    garbage += n;
  }

  const uint32_t pid = (uint32_t)getpid(), tid = sys_gettid();
  const int mine = bd_ring_claim(&m, pid, tid);
  if (mine < 0) {
    fprintf(stderr, "guest-hostile-ring-system: no free user ring\n");
    return 1;
  }
  struct bd_ring_ctl *ctl = bd_ring_ctl_of(&m, (unsigned)mine);
  uint64_t head = head_of(ctl);
  for (unsigned f = 0; f < FORGED; f++) {
    struct bd_record forged;
    forge_switch(&forged, pid, tid, f + 1);
    struct bd_ring_record r;
    memset(&r, 0, sizeof r);
    r.ts = (uint64_t)time(NULL);
    r.kind = BD_KIND_SCHED_SWITCH;
    memcpy(r.args, forged.args, sizeof r.args);
    r.pid = pid;
    r.tid = tid;
    r.seq = f + 1;
    struct bd_ring_text comms;
    memset(&comms, 0, sizeof comms);
    memcpy(comms.text, forged.text, 2 * BD_COMM_LEN);
    memcpy(slot_at(&m, (unsigned)mine, head), &r, sizeof r);
    memcpy(slot_at(&m, (unsigned)mine, head + 1), &comms, sizeof comms);
    head += 2;
    __atomic_store_n(&ctl->head, head, __ATOMIC_RELEASE);
  }

  for (unsigned ring = 0; ring < m.kernel_rings; ring++) all_drained &= drained(bd_ring_ctl_of(&m, ring));
  all_drained &= drained(ctl);
  bd_ring_release(&m, (unsigned)mine, pid, tid);
  printf("kernel_rings %u\n", m.kernel_rings);
  printf("garbage %u\n", garbage);
  printf("forged %u\n", (unsigned)FORGED);
  printf("drained %d\n", all_drained);
  printf("expect_rejected %u\n", garbage + FORGED);
  printf("expect_kernel_only %u\n", (unsigned)FORGED);
  return 0;
}
