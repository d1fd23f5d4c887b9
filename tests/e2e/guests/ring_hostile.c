// SPDX-License-Identifier: MIT
/*
 * guest-ring-hostile: a guest that scribbles over its own ring region
 * (<bd/ring.h>), for the consumer's robustness test.
 *
 * Usage: guest-ring-hostile [--writes N]   (default 200000)
 *
 * 1. Honest: names event 1 and makes 100 marks of event 1 with a0 = the
 *    cookie 0x6f6e657374 ("onest") through libbdguest, then waits (up to
 *    20 s) until the consumer has drained its ring (tail == head), so that
 *    none of them can be lost to what follows.
 * 2. Hostile: N random 8-byte writes anywhere in the region (header,
 *    claims, ring indices, records), in bursts, with records rewritten
 *    while the consumer may be reading them; every 64th write sets a
 *    ring's head to a random value and every 64th (offset 32) writes a
 *    plausible record with a huge text_len or a bad kind.
 *
 * Output: "honest <marks taken>", "drained <0|1>", "scribbled <N>".
 * Exit 0; 1 when BD_RING names no usable region; 2 on usage errors.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bd/bd.h>
#include <bd/ring.h>

#define COOKIE 0x6f6e657374ull

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void) {
  /* xorshift64*: deterministic, so a failure can be replayed. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  unsigned long writes = 200000;
  if (argc == 3 && strcmp(argv[1], "--writes") == 0) {
    writes = strtoul(argv[2], NULL, 10);
  } else if (argc != 1) {
    fprintf(stderr, "usage: guest-ring-hostile [--writes N]\n");
    return 2;
  }
  const char *path = getenv(BD_RING_ENV);
  if (path == NULL) {
    fprintf(stderr, "guest-ring-hostile: %s is not set (run it with bd-run --channel ring)\n", BD_RING_ENV);
    return 1;
  }
  int fd = open(path, O_RDWR);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)BD_RING_HEADER_SIZE) {
    perror(path);
    return 1;
  }
  const size_t size = (size_t)st.st_size;
  unsigned char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  const struct bd_ring_region *hdr = (const struct bd_ring_region *)(void *)base;
  const uint32_t rings = hdr->ring_count;
  const uint32_t slots = hdr->ring_slots;
  const uint64_t ctl_offset = hdr->ctl_offset;
  const uint64_t data_offset = hdr->data_offset;

  /* 1. Honest marks, through the library (it claims ring 0 or another). */
  unsigned long taken = 0;
  bd_name_event(1, "honest");
  for (int i = 0; i < 100; i++) taken += bd_mark_args(1, COOKIE, (uint64_t)i, 0, 0) == 1;
  printf("honest %lu\n", taken);
  fflush(stdout);

  int drained = 0;
  const double deadline = now_s() + 20.0;
  while (!drained && now_s() < deadline) {
    drained = 1;
    for (uint32_t r = 0; r < rings; r++) {
      volatile struct bd_ring_ctl *ctl =
          (volatile struct bd_ring_ctl *)(void *)(base + ctl_offset + (uint64_t)r * BD_RING_CTL_SIZE);
      if (ctl->head != ctl->tail) drained = 0;
    }
    if (!drained) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  printf("drained %d\n", drained);
  fflush(stdout);

  /* 2. Scribble. */
  for (unsigned long n = 0; n < writes; n++) {
    const uint64_t r = next_random();
    if (n % 64 == 0) {
      volatile struct bd_ring_ctl *ctl =
          (volatile struct bd_ring_ctl *)(void *)(base + ctl_offset + (r % rings) * BD_RING_CTL_SIZE);
      ctl->head = next_random() >> (r % 64);
    } else if (n % 64 == 32) {
      const uint64_t ring = r % rings, slot = next_random() % slots;
      struct bd_ring_record *rec =
          (struct bd_ring_record *)(void *)(base + data_offset + (ring * slots + slot) * BD_RING_SLOT_SIZE);
      rec->kind = (uint16_t)(next_random() % 12);
      rec->text_len = (uint16_t)next_random();
      rec->event = 1;
    } else {
      const uint64_t off = (r % (size / 8)) * 8;
      *(volatile uint64_t *)(void *)(base + off) = next_random();
    }
    if (n % 4096 == 4095) sched_yield(); /* let the consumer read what we wrote */
  }
  printf("scribbled %lu\n", writes);
  return 0;
}
