// SPDX-License-Identifier: MIT
/*
 * guest-calls: calls to host handlers (bd_call) from a user-mode guest,
 * for tests/e2e/handlers_e2e_test.cc. Expects bd-run --handler with the
 * key-value example at base 7000, the host-facts example at 7010 and the
 * echo test handler (event 9500).
 *
 *   kv       put color=blue (result 1: new), get color (blue, result 4),
 *            count (1): "kv_put RC RESULT", "kv_get RC VALUE RESULT",
 *            "kv_count RC RESULT"
 *   facts    the host-facts example at base 7010: host time (in user mode
 *            between two readings of the guest's own CLOCK_MONOTONIC,
 *            which qemu-user takes from the host), trace state, and who
 *            the host says called: "facts_time RC OK", "facts_recording RC
 *            RESULT", "facts_who RC TEXT" and "facts_expect TEXT" (what
 *            facts_who should say but for the vCPU)
 *   threads  4 threads x 200 rounds of put tK-kI=V / get tK-kI, each
 *            checking its value: "threads_ok N" (threads that saw every
 *            value they put), "threads_calls C"
 *   echo     inputs of 0, 1, 3968, 3969, 20000 and 65536 bytes reversed
 *            by the echo handler into a buffer of the same size, and one
 *            of 10000 bytes into a 100-byte buffer: "echo LEN RC OUT_LEN
 *            OK" per call (OK: output reversed and result = byte sum)
 *   blobs    bulk marks (bd_mark_blob) of event 77 with 0, 1, 3969 and
 *            65536 bytes, byte i of the blob of length L = (i * 13 + L) %
 *            256: "blob LEN RC" (RC 1: taken). With the argument "blobs"
 *            only this part (the ring channel has no calls).
 *   errors   an id nobody registered: "unknown RC" (-ENOSYS); 65537
 *            bytes: "too_long RC" (-E2BIG, refused in the guest)
 *   hostile  raw CALL records (the trap, no libbdguest): one not at a
 *            page start (rejected: call_bad_page), an INVOKE claiming
 *            65537 bytes of input and a PUT at offset 100 of nothing (each
 *            answered with a status: call_bad_step): "hostile_page REPLY",
 *            "hostile_big STATUS", "hostile_order STATUS",
 *            "expect_call_bad_page 1", "expect_call_bad_step 2"; with the argument
 *            "system" (a full-system guest, root: it maps the channel
 *            itself) in the last data page of the channel, plus
 *            "expect_rejected 3" (tests/e2e/system_checks.cc sums those).
 * Exit 0; 1 when a thread cannot start or the pages cannot be had.
 */
#define _GNU_SOURCE

#include <bd/bd.h>
#include <bd/record_fill.h>
#include <bd/trap.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"

enum { THREADS = 4, ROUNDS = 200 };

static int kv_call(uint32_t event, const char *in, char *out, uint32_t cap, uint32_t *out_len,
                   uint64_t *result) {
  return bd_call(event, in, (uint32_t)strlen(in), out, cap, out_len, result);
}

static void *thread_main(void *arg) {
  const int k = (int)(intptr_t)arg;
  int ok = 1;
  for (int i = 0; i < ROUNDS; i++) {
    char put[64], key[32], value[32], got[32];
    snprintf(key, sizeof key, "t%d-k%d", k, i % 8);
    snprintf(value, sizeof value, "%d", i);
    snprintf(put, sizeof put, "%s=%s", key, value);
    uint32_t n = 0;
    uint64_t r = 0;
    if (kv_call(7000, put, NULL, 0, &n, &r) != 0) ok = 0;
    if (kv_call(7001, key, got, sizeof got - 1, &n, &r) != 0) ok = 0;
    got[n < sizeof got ? n : sizeof got - 1] = '\0';
    if (strcmp(got, value) != 0) ok = 0;
  }
  return (void *)(intptr_t)ok;
}

static void echo(uint32_t len, uint32_t cap) {
  unsigned char *in = malloc(len + 1), *out = malloc(cap + 1);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < len; i++) {
    in[i] = (unsigned char)(i * 7 + len);
    sum += in[i];
  }
  uint32_t n = 0;
  uint64_t result = 0;
  const int rc = bd_call(9500, len ? in : NULL, len, cap ? out : NULL, cap, &n, &result);
  int ok = rc == 0 && result == sum && n == (len < cap ? len : cap);
  for (uint32_t i = 0; ok && i < n; i++) ok = out[i] == in[len - 1 - i];
  printf("echo %u %d %u %d\n", len, rc, n, ok);
  free(in);
  free(out);
}

/* A raw CALL step on `r` (which the caller placed), as a hostile guest
 * would make it. */
static void raw_step(struct bd_record *r, uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3) {
  memset(r, 0, sizeof *r);
  bd_record_fill_header(r, BD_KIND_CALL, 9500, op, a1, a2, a3, (uint32_t)getpid(),
                        (uint32_t)syscall(SYS_gettid), 0);
  bd_trap(r);
}

static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void facts(int system) {
  uint64_t r = 0;
  const uint64_t t0 = monotonic_ns();
  int rc = bd_call(7010, NULL, 0, NULL, 0, NULL, &r);
  const uint64_t t1 = monotonic_ns();
  /* A full-system guest's clock is not the host's: only "a time". */
  printf("facts_time %d %d\n", rc, system ? r != 0 : (t0 <= r && r <= t1));
  rc = bd_call(7011, NULL, 0, NULL, 0, NULL, &r);
  printf("facts_recording %d %llu\n", rc, (unsigned long long)r);
  char who[128];
  uint32_t n = 0;
  rc = bd_call(7012, NULL, 0, who, sizeof who - 1, &n, &r);
  who[n < sizeof who ? n : sizeof who - 1] = '\0';
  const char *vcpu_end = strchr(who, ' '); /* "vcpu=V " varies */
  printf("facts_who %d %s\n", rc, vcpu_end != NULL ? vcpu_end + 1 : who);
  printf("facts_expect pid=%d tid=%ld mode=%s arch=x86_64\n", (int)getpid(), (long)syscall(SYS_gettid),
         system ? "system" : "user");
}

/* The hostile steps on `page`, a page the plugin serves calls from. */
static void hostile(unsigned char *page) {
  struct bd_record *off_page = (struct bd_record *)(void *)(page + BD_RECORD_SIZE);
  raw_step(off_page, BD_CALL_INVOKE, 0, 0, 0);
  printf("hostile_page %d\n", (int)*(volatile int32_t *)&off_page->reply);
  struct bd_record *at_page = (struct bd_record *)(void *)page;
  raw_step(at_page, BD_CALL_INVOKE, BD_CALL_IO_MAX + 1, 0, 0);
  printf("hostile_big %lld\n", (long long)(int64_t)at_page->args[2]);
  raw_step(at_page, BD_CALL_PUT, 100, 0, 0);
  printf("hostile_order %lld\n", (long long)(int64_t)at_page->args[2]);
  printf("expect_call_bad_page 1\n");
  printf("expect_call_bad_step 2\n");
}

static void blobs(void) {
  static unsigned char blob[BD_CALL_IO_MAX];
  const uint32_t blob_lens[] = {0, 1, BD_CALL_CHUNK + 1, BD_CALL_IO_MAX};
  for (size_t k = 0; k < sizeof blob_lens / sizeof blob_lens[0]; k++) {
    const uint32_t len = blob_lens[k];
    for (uint32_t i = 0; i < len; i++) blob[i] = (unsigned char)((i * 13 + len) % 256);
    printf("blob %u %d\n", len, bd_mark_blob(77, len ? blob : NULL, len));
  }
}

int main(int argc, char **argv) {
  const int system = argc > 1 && strcmp(argv[1], "system") == 0;
  if (argc > 1 && strcmp(argv[1], "blobs") == 0) {
    blobs();
    return 0;
  }
  char out[64];
  uint32_t n = 0;
  uint64_t r = 0;
  int rc = kv_call(7000, "color=blue", NULL, 0, &n, &r);
  printf("kv_put %d %llu\n", rc, (unsigned long long)r);
  rc = kv_call(7001, "color", out, sizeof out - 1, &n, &r);
  out[n < sizeof out ? n : sizeof out - 1] = '\0';
  printf("kv_get %d %s %llu\n", rc, out, (unsigned long long)r);
  rc = kv_call(7003, "", NULL, 0, &n, &r);
  printf("kv_count %d %llu\n", rc, (unsigned long long)r);
  facts(system);

  pthread_t threads[THREADS];
  for (int k = 0; k < THREADS; k++)
    if (pthread_create(&threads[k], NULL, thread_main, (void *)(intptr_t)k) != 0) return 1;
  int threads_ok = 0;
  for (int k = 0; k < THREADS; k++) {
    void *ok;
    pthread_join(threads[k], &ok);
    threads_ok += (int)(intptr_t)ok;
  }
  printf("threads_ok %d\n", threads_ok);
  printf("threads_calls %d\n", THREADS * ROUNDS * 2);

  const uint32_t lens[] = {0, 1, BD_CALL_CHUNK, BD_CALL_CHUNK + 1, 20000, BD_CALL_IO_MAX};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) echo(lens[i], lens[i]);
  echo(10000, 100);

  blobs();

  printf("unknown %d\n", bd_call(12345, NULL, 0, NULL, 0, NULL, NULL));
  static unsigned char big[BD_CALL_IO_MAX + 1];
  printf("too_long %d\n", bd_call(9500, big, sizeof big, NULL, 0, NULL, NULL));

  if (system) {
    /* The last data page: no thread of this test owns its slot. */
    struct bd_chan c;
    if (bd_chan_discover(&c) != 0) return 1;
    hostile(c.base + BD_CHANNEL_DATA_OFFSET + (size_t)(BD_CHANNEL_USER_SLOTS - 1) * BD_PAGE_SIZE);
    printf("expect_rejected 3\n");
    bd_chan_close(&c);
    return 0;
  }
  unsigned char *page =
      mmap(NULL, 2 * BD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  hostile(page);
  return 0;
}
