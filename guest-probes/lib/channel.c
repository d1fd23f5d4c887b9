// SPDX-License-Identifier: MIT
/*
 * libbdguest, system mode: discovery, mapping and handshake on the
 * full-system channel (see channel.h and <bd/channel.h>). The PCI scan is
 * ivshmem.c's, slot claims are claim.c's, through channel.h's wrappers.
 */
#define _GNU_SOURCE

#include "channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bd/trap.h>

#include "ivshmem.h"

/* ---- discovery and mapping ---------------------------------------------- */

static int errno_to_result(int e) { return (e == EACCES || e == EPERM) ? -EACCES : -e; }

int bd_chan_open_path(struct bd_chan *c, const char *path) {
  c->base = NULL;
  int fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
  if (fd < 0) return errno_to_result(errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < (off_t)BD_CHANNEL_SIZE) {
    close(fd);
    return -ENODEV;
  }
  void *p = mmap(NULL, BD_CHANNEL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd); /* the mapping keeps the file */
  if (p == MAP_FAILED) return errno_to_result(e);
  const volatile struct bd_channel_header *h = p;
  if (h->magic != BD_CHANNEL_MAGIC || h->version != BD_CHANNEL_VERSION) {
    munmap(p, BD_CHANNEL_SIZE);
    return -ENODEV;
  }
  c->base = p;
  return 0;
}

void bd_chan_close(struct bd_chan *c) {
  if (c->base != NULL) munmap(c->base, BD_CHANNEL_SIZE);
  c->base = NULL;
}

static int try_channel(const char *resource2, void *ctx) { return bd_chan_open_path(ctx, resource2); }

int bd_chan_discover(struct bd_chan *c) {
  c->base = NULL;
  const char *env = getenv(BD_DEVICE_ENV);
  if (env != NULL && env[0] != '\0') {
    if (strcmp(env, "none") == 0) return -ENODEV;
    return bd_chan_open_path(c, env);
  }
  return bd_ivshmem_scan(try_channel, c);
}

/* ---- handshake ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t bd_chan_fresh_nonce(void) {
  static uint64_t counter;
  struct timespec mono = {0, 0}, real = {0, 0};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  uint64_t x = ((uint64_t)(uint32_t)getpid() << 32) ^ (uint64_t)(uint32_t)syscall(SYS_gettid);
  x = mix64(x ^ ((uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec));
  x = mix64(x ^ ((uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec));
  x = mix64(x ^ __atomic_add_fetch(&counter, 0x9e3779b97f4a7c15ULL, __ATOMIC_RELAXED));
  return x != 0 ? x : 1;
}

static void real_trap(volatile void *addr, void *ctx) {
  (void)ctx;
  bd_trap_at(addr);
}

/* Back-off steps grow to this many times 0.5 .. 1 ms, then stay. */
enum { BACK_OFF_MAX_STEPS = 16 };

static void back_off(unsigned attempt, uint64_t jitter) {
  /* 0.5 .. 1 ms times the attempt number (at most BACK_OFF_MAX_STEPS):
     * another handshake in flight takes microseconds, unless its process
     * was preempted mid-way. */
  const unsigned steps = attempt + 1 < BACK_OFF_MAX_STEPS ? attempt + 1 : BACK_OFF_MAX_STEPS;
  long ns = (long)steps * (500000L + (long)(jitter % 500000u));
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  nanosleep(&ts, NULL);
}

/* CAS attempts on a busy handshake_nonce before overwriting it: 0.5 to 1 s
 * in all. Overwriting the nonce of a handshake still in flight makes that
 * handshake's trap find no nonce, which the plugin counts as a rejected
 * record (bad_slot) before the handshake is retried; a guest process
 * preempted between writing its nonce and trapping is common under load
 * (tens of ms with a few busy processes per vCPU), a process that died
 * there is rare, so the wait before overwriting is long. */
enum { HANDSHAKE_POLITE_TRIES = 70, HANDSHAKE_TRIES = 74 };

int bd_chan_handshake_with(const struct bd_chan *c, bd_chan_trap_fn trap, void *ctx) {
  volatile struct bd_channel_header *h = bd_chan_header(c);
  uint64_t *nonce_field = (uint64_t *)&h->handshake_nonce;
  uint64_t *ack_field = (uint64_t *)&h->handshake_ack;

  for (unsigned attempt = 0; attempt < HANDSHAKE_TRIES; attempt++) {
    const uint64_t nonce = bd_chan_fresh_nonce();
    uint64_t expected = 0;
    if (!__atomic_compare_exchange_n(nonce_field, &expected, nonce, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
      /* Someone else's handshake is in flight. Wait for the plugin to
             * consume it; overwrite a nonce that stays (its owner died
             * between writing and trapping, or there is no plugin). */
      if (attempt < HANDSHAKE_POLITE_TRIES) {
        back_off(attempt, nonce);
        continue;
      }
      __atomic_store_n(nonce_field, nonce, __ATOMIC_SEQ_CST);
    }
    trap((volatile void *)h, ctx);
    if (__atomic_load_n(ack_field, __ATOMIC_SEQ_CST) == nonce) return 1;
    /* Our nonce still there: nobody answered the trap. Withdraw it. */
    expected = nonce;
    if (__atomic_compare_exchange_n(nonce_field, &expected, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return 0;
    /* It was consumed (or overwritten) by another guest's handshake
         * racing with ours: the plugin is there; try again. */
    back_off(attempt, nonce);
  }
  return 0;
}

int bd_chan_handshake(const struct bd_chan *c) { return bd_chan_handshake_with(c, real_trap, NULL); }
