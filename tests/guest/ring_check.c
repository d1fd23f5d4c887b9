// SPDX-License-Identifier: MIT
/*
 * guest-ring-check: libbdguest's ring mode and its architecture-specific
 * parts (the ring clock kind, the timestamp, the signal-safe counters), in
 * C for any guest architecture: run natively on x86_64 and under plain
 * qemu-<arch> (no plugin) for the cross-built ones. ring_test.cc covers ring
 * mode in depth, but only on the host (GoogleTest is not cross-built).
 *
 * The process mode is decided once per process, at its first call, so each
 * scenario runs in a forked child with its own environment; the parent
 * creates the region file as a host would (<bd/ring.h>) and reads what the
 * child wrote. Nobody consumes the rings.
 *
 *   no_host       no BD_RING, BD_DEVICE=none: every call returns 0, misuse
 *                 a negative errno, the process is in user (trap) mode
 *   own_clock     a region of this architecture's clock kind: the records
 *                 land in the child's ring (kinds, events, args, text, ids,
 *                 seq 1..n) with non-decreasing timestamps that lie between
 *                 the test's own readings of the clock before and after
 *   full          a 16-slot ring filled without a consumer: the calls that
 *                 find no room return 0 and count in `dropped`, as does a
 *                 call nested in another (a signal handler's)
 *   threads       4 threads x 1000 marks: one ring each, seq 1..1000 and
 *                 non-decreasing timestamps in every ring
 *   other_clock   a region of each other clock kind: ignored (every call
 *                 returns 0, nothing written, nothing claimed)
 *
 * Prints "ok" and exits 0, else each failed check and exits 1.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bd/bd.h>
#include <bd/ring.h>

#include "internal.h"

/* What this architecture's ring clock is, stated here independently of
 * libbdguest's arch.h (the test checks the library against it). */
#if defined(__x86_64__)
#define EXPECTED_CLOCK BD_RING_CLOCK_TSC
static uint64_t read_clock(void) { return __builtin_ia32_rdtsc(); }
#elif defined(__aarch64__)
#define EXPECTED_CLOCK BD_RING_CLOCK_CNTVCT
static uint64_t read_clock(void) {
  uint64_t v;
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
  return v;
}
#elif defined(__riscv) && __riscv_xlen == 64
#define EXPECTED_CLOCK BD_RING_CLOCK_RISCV_TIME
static uint64_t read_clock(void) {
  uint64_t v;
  __asm__ volatile("rdtime %0" : "=r"(v));
  return v;
}
#elif defined(__s390x__)
#define EXPECTED_CLOCK BD_RING_CLOCK_S390X_TOD
static uint64_t read_clock(void) {
  uint64_t v;
  __asm__ volatile("stckf %0" : "=Q"(v) : : "cc");
  return v;
}
#else
#error "guest-ring-check: unknown guest architecture"
#endif

static const uint32_t all_clocks[] = {BD_RING_CLOCK_TSC, BD_RING_CLOCK_CNTVCT, BD_RING_CLOCK_RISCV_TIME,
                                      BD_RING_CLOCK_S390X_TOD};

static int failures; /* in the process that checks */

#define CHECK(cond)                                          \
  do {                                                       \
    if (!(cond)) {                                           \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      fflush(stdout);                                        \
      failures++;                                            \
    }                                                        \
  } while (0)

/* ---- a region file, as the host writes it -------------------------------- */

struct region {
  char dir[32];
  char path[64];
  uint32_t rings, slots;
  size_t size;
  unsigned char *base; /* the test's own shared mapping */
};

static int region_create(struct region *r, uint32_t rings, uint32_t slots, uint32_t clock) {
  memset(r, 0, sizeof *r);
  strcpy(r->dir, "/tmp/bdguest-ringchk-XXXXXX");
  if (mkdtemp(r->dir) == NULL) return -1;
  snprintf(r->path, sizeof r->path, "%s/region", r->dir);
  r->rings = rings;
  r->slots = slots;
  r->size = (size_t)bd_ring_region_size(rings, slots);
  int fd = open(r->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (ftruncate(fd, (off_t)r->size) != 0) {
    close(fd);
    return -1;
  }
  void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return -1;
  r->base = p;
  struct bd_ring_region *h = p;
  h->version = BD_RING_VERSION;
  h->slot_size = BD_RING_SLOT_SIZE;
  h->ring_count = rings;
  h->ring_slots = slots;
  h->region_size = r->size;
  h->claims_offset = bd_ring_claims_offset();
  h->ctl_offset = bd_ring_ctl_offset(rings);
  h->data_offset = bd_ring_data_offset(rings);
  h->mode = BD_RING_MODE_USER;
  h->clock = clock;
  h->kernel_rings = 0;
  for (int i = 0; i < 4; i++) h->enable[i] = ~(bd_u64)0;
  __atomic_store_n(&h->magic, BD_RING_MAGIC, __ATOMIC_RELEASE); /* last */
  return 0;
}

static void region_destroy(struct region *r) {
  if (r->base != NULL) munmap(r->base, r->size);
  unlink(r->path);
  rmdir(r->dir);
}

static const struct bd_ring_ctl *region_ctl(const struct region *r, unsigned i) {
  return (const struct bd_ring_ctl *)(const void *)(r->base + bd_ring_ctl_offset(r->rings)) + i;
}

static const void *region_slot(const struct region *r, unsigned ring, uint64_t k) {
  return r->base + bd_ring_data_offset(r->rings) +
         ((uint64_t)ring * r->slots + (k % r->slots)) * BD_RING_SLOT_SIZE;
}

static const struct bd_ring_record *region_record(const struct region *r, unsigned ring, uint64_t k) {
  return region_slot(r, ring, k);
}

static uint64_t region_claim_word(const struct region *r, unsigned i) {
  const uint64_t *w = (const uint64_t *)(const void *)(r->base + bd_ring_claims_offset());
  return __atomic_load_n(&w[i], __ATOMIC_ACQUIRE);
}

/* ---- children ------------------------------------------------------------ */

/* What a child hands back (anonymous shared memory). */
enum { MAX_THREADS = 4, THREAD_MARKS = 1000, OWN_MARKS = 10 };
struct shared {
  int ring[MAX_THREADS];
  uint32_t pid, tid[MAX_THREADS];
  uint64_t before, after; /* clock readings around the child's marks */
  int mode;
};

static struct shared *shared;

/* Run `body` in a child whose BD_RING is `ring` (NULL: unset). Returns the
 * number of failed checks in the child (its exit status), or 100. */
static int in_child(const char *ring, void (*body)(void)) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 100;
  if (pid == 0) {
    unsetenv(BD_RING_EXEC_ENV);
    setenv("BD_DEVICE", "none", 1);
    if (ring != NULL)
      setenv(BD_RING_ENV, ring, 1);
    else
      unsetenv(BD_RING_ENV);
    failures = 0;
    body();
    fflush(stdout);
    exit(failures > 99 ? 99 : failures);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 100;
  return WEXITSTATUS(status);
}

static void child_no_host(void) {
  CHECK(bd_present() == 0);
  CHECK(bd_mark(1) == 0);
  CHECK(bd_mark_args(1, 1, 2, 3, 4) == 0);
  CHECK(bd_mark_text(2, "text") == 0);
  CHECK(bd_region_begin(7) == 0);
  CHECK(bd_region_end(7) == 0);
  CHECK(bd_name_event(1, "tick") == 0);
  CHECK(bd_enabled(1) == 0);
  CHECK(bd_mark_text(2, NULL) == -EINVAL);
  CHECK(bd_name_event(1, "") == -EINVAL);
  CHECK(bd_internal_process_mode() == BD_INTERNAL_MODE_USER);
}

static void child_own_clock(void) {
  shared->before = read_clock();
  CHECK(bd_present() == 1);
  CHECK(bd_name_event(1, "tick") == 1);
  CHECK(bd_region_begin(7) == 1);
  for (uint64_t i = 0; i < OWN_MARKS; i++) CHECK(bd_mark_args(1, i, i * 2, i * 3, 0xfeed) == 1);
  CHECK(bd_mark_text(2, "hello ring") == 1);
  CHECK(bd_region_end(7) == 1);
  shared->after = read_clock();
  CHECK(bd_internal_process_mode() == BD_INTERNAL_MODE_RING);
  shared->ring[0] = bd_internal_ring_index();
  shared->pid = (uint32_t)getpid();
  shared->tid[0] = (uint32_t)syscall(SYS_gettid);
}

static int nested_mark(void *arg) {
  (void)arg;
  return bd_mark(5);
}

static void child_full(void) {
  /* 16 slots: 14 one-slot marks, then a text (2 slots) fills the ring;
     * 3 more marks find no room; one nested call is dropped too. */
  for (int i = 0; i < 14; i++) CHECK(bd_mark(3) == 1);
  CHECK(bd_mark_text(4, "last") == 1);
  for (int i = 0; i < 3; i++) CHECK(bd_mark(3) == 0);
  CHECK(bd_internal_nested(nested_mark, NULL) == 0);
  shared->ring[0] = bd_internal_ring_index();
}

static pthread_barrier_t threads_done;

static void *thread_marks(void *arg) {
  const unsigned k = (unsigned)(uintptr_t)arg;
  shared->tid[k] = (uint32_t)syscall(SYS_gettid);
  for (uint64_t i = 0; i < THREAD_MARKS; i++)
    if (bd_mark_args(10 + k, k, i, 0, 0) != 1) {
      CHECK(!"bd_mark_args returned other than 1");
      break;
    }
  shared->ring[k] = bd_internal_ring_index();
  /* Stay alive (owning the ring) until every thread has marked: a thread
     * that ended first would hand its ring to a later one. */
  pthread_barrier_wait(&threads_done);
  return NULL;
}

static void child_threads(void) {
  pthread_t t[MAX_THREADS];
  shared->pid = (uint32_t)getpid();
  CHECK(pthread_barrier_init(&threads_done, NULL, MAX_THREADS) == 0);
  for (unsigned k = 0; k < MAX_THREADS; k++)
    CHECK(pthread_create(&t[k], NULL, thread_marks, (void *)(uintptr_t)k) == 0);
  for (unsigned k = 0; k < MAX_THREADS; k++) CHECK(pthread_join(t[k], NULL) == 0);
  pthread_barrier_destroy(&threads_done);
}

static void child_other_clock(void) {
  CHECK(bd_mark(1) == 0);
  CHECK(bd_mark_text(2, "text") == 0);
  CHECK(bd_present() == 0);
  CHECK(bd_internal_process_mode() == BD_INTERNAL_MODE_USER);
  CHECK(bd_internal_ring_index() == -1);
}

/* ---- scenarios (in the parent) ------------------------------------------- */

static void expect_record(const struct region *r, unsigned ring, uint64_t k, uint16_t kind, uint32_t event,
                          uint64_t seq, uint64_t *last_ts) {
  const struct bd_ring_record *rec = region_record(r, ring, k);
  CHECK(rec->kind == kind);
  CHECK(rec->event == event);
  CHECK(rec->seq == seq);
  CHECK(rec->pid == shared->pid);
  CHECK(rec->ts >= *last_ts);
  CHECK(rec->ts >= shared->before && rec->ts <= shared->after);
  *last_ts = rec->ts;
}

static void scenario_no_host(void) { CHECK(in_child(NULL, child_no_host) == 0); }

static void scenario_own_clock(void) {
  struct region r;
  if (region_create(&r, 4, 64, EXPECTED_CLOCK) != 0) {
    CHECK(!"region_create");
    return;
  }
  memset(shared, 0, sizeof *shared);
  shared->ring[0] = -1;
  CHECK(in_child(r.path, child_own_clock) == 0);
  const int ring = shared->ring[0];
  CHECK(ring >= 0 && ring < 4);
  if (ring >= 0 && ring < 4) {
    /* name (2 slots), begin, marks, text (2 slots), end */
    const uint64_t slots = 2 + 1 + OWN_MARKS + 2 + 1;
    CHECK(__atomic_load_n(&region_ctl(&r, (unsigned)ring)->head, __ATOMIC_ACQUIRE) == slots);
    CHECK(region_ctl(&r, (unsigned)ring)->dropped == 0);
    CHECK(shared->before <= shared->after);
    uint64_t ts = 0, k = 0, seq = 1;
    expect_record(&r, (unsigned)ring, k, BD_KIND_EVENT_NAME, 1, seq++, &ts);
    CHECK(strcmp(((const struct bd_ring_text *)region_slot(&r, (unsigned)ring, k + 1))->text, "tick") == 0);
    k += 2;
    expect_record(&r, (unsigned)ring, k++, BD_KIND_REGION_BEGIN, 7, seq++, &ts);
    for (uint64_t i = 0; i < OWN_MARKS; i++, k++) {
      expect_record(&r, (unsigned)ring, k, BD_KIND_MARK, 1, seq++, &ts);
      const struct bd_ring_record *rec = region_record(&r, (unsigned)ring, k);
      CHECK(rec->args[0] == i && rec->args[1] == i * 2 && rec->args[2] == i * 3 && rec->args[3] == 0xfeed);
      CHECK(rec->tid == shared->tid[0]);
    }
    expect_record(&r, (unsigned)ring, k, BD_KIND_MARK_TEXT, 2, seq++, &ts);
    CHECK(region_record(&r, (unsigned)ring, k)->text_len == 10);
    CHECK(strcmp(((const struct bd_ring_text *)region_slot(&r, (unsigned)ring, k + 1))->text, "hello ring") ==
          0);
    k += 2;
    expect_record(&r, (unsigned)ring, k++, BD_KIND_REGION_END, 7, seq++, &ts);
  }
  region_destroy(&r);
}

static void scenario_full(void) {
  struct region r;
  if (region_create(&r, 2, BD_RING_MIN_SLOTS, EXPECTED_CLOCK) != 0) {
    CHECK(!"region_create");
    return;
  }
  memset(shared, 0, sizeof *shared);
  shared->ring[0] = -1;
  CHECK(in_child(r.path, child_full) == 0);
  const int ring = shared->ring[0];
  CHECK(ring >= 0 && ring < 2);
  if (ring >= 0 && ring < 2) {
    const struct bd_ring_ctl *ctl = region_ctl(&r, (unsigned)ring);
    CHECK(__atomic_load_n(&ctl->head, __ATOMIC_ACQUIRE) == BD_RING_MIN_SLOTS);
    CHECK(__atomic_load_n(&ctl->dropped, __ATOMIC_RELAXED) == 4);
    /* The written records took seq 1..15, the dropped ones none. */
    CHECK(region_record(&r, (unsigned)ring, 14)->seq == 15);
  }
  region_destroy(&r);
}

static void scenario_threads(void) {
  struct region r;
  if (region_create(&r, 8, 2048, EXPECTED_CLOCK) != 0) {
    CHECK(!"region_create");
    return;
  }
  memset(shared, 0, sizeof *shared);
  for (unsigned k = 0; k < MAX_THREADS; k++) shared->ring[k] = -1;
  CHECK(in_child(r.path, child_threads) == 0);
  for (unsigned k = 0; k < MAX_THREADS; k++) {
    const int ring = shared->ring[k];
    CHECK(ring >= 0 && ring < 8);
    for (unsigned j = 0; j < k; j++) CHECK(ring != shared->ring[j]);
    if (ring < 0 || ring >= 8) continue;
    CHECK(__atomic_load_n(&region_ctl(&r, (unsigned)ring)->head, __ATOMIC_ACQUIRE) == THREAD_MARKS);
    uint64_t ts = 0;
    int bad = 0;
    for (uint64_t i = 0; i < THREAD_MARKS && !bad; i++) {
      const struct bd_ring_record *rec = region_record(&r, (unsigned)ring, i);
      bad = rec->kind != BD_KIND_MARK || rec->event != 10 + k || rec->args[0] != k || rec->args[1] != i ||
            rec->seq != i + 1 || rec->tid != shared->tid[k] || rec->pid != shared->pid || rec->ts < ts ||
            rec->ts == 0;
      ts = rec->ts;
      if (bad)
        printf("thread %u record %llu: kind %u event %u seq %llu ts %llu\n", k, (unsigned long long)i,
               rec->kind, rec->event, (unsigned long long)rec->seq, (unsigned long long)rec->ts);
    }
    CHECK(!bad);
  }
  region_destroy(&r);
}

static void scenario_other_clock(void) {
  for (size_t c = 0; c < sizeof all_clocks / sizeof all_clocks[0]; c++) {
    if (all_clocks[c] == EXPECTED_CLOCK) continue;
    struct region r;
    if (region_create(&r, 2, 64, all_clocks[c]) != 0) {
      CHECK(!"region_create");
      return;
    }
    CHECK(in_child(r.path, child_other_clock) == 0);
    for (unsigned i = 0; i < 2; i++) {
      CHECK(__atomic_load_n(&region_ctl(&r, i)->head, __ATOMIC_ACQUIRE) == 0);
      CHECK(region_claim_word(&r, i) == 0);
    }
    region_destroy(&r);
  }
}

int main(void) {
  void *p = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("guest-ring-check: mmap");
    return 1;
  }
  shared = p;
  scenario_no_host();
  scenario_own_clock();
  scenario_full();
  scenario_threads();
  scenario_other_clock();
  if (failures != 0) return 1;
  printf("ok\n");
  return 0;
}
