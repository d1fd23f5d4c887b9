// SPDX-License-Identifier: MIT
/*
 * libbdguest: claim tables shared by the system channel and the ring
 * channel (see claim.h).
 */
#define _GNU_SOURCE

#include "claim.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A claim entry as one 64-bit word, so that tid and pid change together:
 * struct bd_slot_claim is {u32 tid; u32 pid} at an 8-aligned offset. The
 * word is built and taken apart through the struct itself (memcpy), so the
 * fields land where the struct puts them in either byte order (the tid is
 * the word's low half on little-endian guests, its high half on s390x):
 * the host reads the two 32-bit fields, never the word. */
static inline uint64_t claim_word(uint32_t pid, uint32_t tid) {
  const struct bd_slot_claim c = {tid, pid};
  uint64_t w;
  memcpy(&w, &c, sizeof w);
  return w;
}
static inline struct bd_slot_claim word_claim(uint64_t w) {
  struct bd_slot_claim c;
  memcpy(&c, &w, sizeof c);
  return c;
}
static inline uint32_t word_tid(uint64_t w) { return word_claim(w).tid; }
static inline uint32_t word_pid(uint64_t w) { return word_claim(w).pid; }

static inline uint64_t *claim_at(struct bd_slot_claim *claims, unsigned i) {
  return (uint64_t *)(void *)&claims[i];
}

int bd_claim_free(struct bd_slot_claim *claims, unsigned count, unsigned first, uint32_t pid, uint32_t tid) {
  if (first >= count) return -1;
  const unsigned n = count - first;
  const uint64_t mine = claim_word(pid, tid);
  const unsigned start = tid % n;
  for (unsigned k = 0; k < n; k++) {
    const unsigned i = first + (start + k) % n;
    uint64_t *entry = claim_at(claims, i);
    uint64_t w = __atomic_load_n(entry, __ATOMIC_RELAXED);
    /* Free is tid == 0, whatever the pid half holds. */
    if (word_tid(w) == 0 &&
        __atomic_compare_exchange_n(entry, &w, mine, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
      return (int)i;
  }
  return -1;
}

int bd_claim_thread_alive(uint32_t pid, uint32_t tid) {
  /* pid 0 with a tid: an entry mid-claim by another implementation that
     * writes the tid first; kill() accepts any thread id. */
  long rc = pid != 0 ? syscall(SYS_tgkill, (pid_t)pid, (pid_t)tid, 0) : kill((pid_t)tid, 0);
  return !(rc == -1 && errno == ESRCH);
}

unsigned bd_claim_reclaim(struct bd_slot_claim *claims, unsigned count, unsigned first) {
  unsigned freed = 0;
  for (unsigned i = first; i < count; i++) {
    uint64_t *entry = claim_at(claims, i);
    uint64_t w = __atomic_load_n(entry, __ATOMIC_RELAXED);
    if (word_tid(w) == 0 || bd_claim_thread_alive(word_pid(w), word_tid(w))) continue;
    /* Only if still the dead thread's: never free a fresh claim. */
    if (__atomic_compare_exchange_n(entry, &w, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) freed++;
  }
  return freed;
}

int bd_claim(struct bd_slot_claim *claims, unsigned count, unsigned first, uint32_t pid, uint32_t tid) {
  int i = bd_claim_free(claims, count, first, pid, tid);
  if (i >= 0) return i;
  if (bd_claim_reclaim(claims, count, first) == 0) return -1;
  return bd_claim_free(claims, count, first, pid, tid);
}

int bd_claim_release(struct bd_slot_claim *claims, unsigned count, unsigned first, unsigned i, uint32_t pid,
                     uint32_t tid) {
  if (i < first || i >= count) return 0;
  uint64_t w = claim_word(pid, tid);
  return __atomic_compare_exchange_n(claim_at(claims, i), &w, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}
