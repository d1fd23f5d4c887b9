// SPDX-License-Identifier: MIT
/*
 * bench-2011-trap ITERATIONS [REPETITIONS]
 *
 * The 2011 "backdoor" user-mode trap, rebuilt to measure what bdtrace's
 * magic-instruction trap replaces. Plain C: runs natively and under
 * qemu-x86_64.
 *
 * Two control pages, exactly one of them PROT_NONE at any time. A command:
 *   1. the program writes the command into page 0, which is PROT_NONE:
 *      fault #1; the SIGSEGV handler unprotects page 0 and protects page 1,
 *      the write is restarted and lands;
 *   2. the program writes the doorbell word into page 1, now PROT_NONE:
 *      fault #2; the handler handles the command it finds in page 0, then
 *      unprotects page 1 and protects page 0 again (the initial state).
 * Two faults and four mprotect calls per command, as the old design paid.
 *
 * Prints "ns_per_op V" (per command, best repetition) and "handled N".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"

struct command {
  uint64_t event;
  uint64_t args[4];
  uint64_t seq;
};

static unsigned char *g_pages; /* two pages: [0] command, [1] doorbell */
static size_t g_page_size;
static volatile uint64_t g_handled;
static volatile uint64_t g_checksum;

static void die_in_handler(const char *msg) {
  /* write(2) is async-signal-safe; stdio is not. */
  ssize_t ignored = write(STDERR_FILENO, msg, strlen(msg));
  (void)ignored;
  _exit(1);
}

static void on_segv(int sig, siginfo_t *info, void *uctx) {
  (void)uctx;
  unsigned char *addr = info->si_addr;
  unsigned char *p0 = g_pages;
  unsigned char *p1 = g_pages + g_page_size;
  if (addr >= p0 && addr < p0 + g_page_size) {
    /* Fault #1: let the command write land in page 0; arm page 1. */
    if (mprotect(p0, g_page_size, PROT_READ | PROT_WRITE) != 0 || mprotect(p1, g_page_size, PROT_NONE) != 0)
      die_in_handler("bench-2011-trap: mprotect failed in handler\n");
  } else if (addr >= p1 && addr < p1 + g_page_size) {
    /* Fault #2 (doorbell): handle the command, re-arm page 0. */
    const struct command *c = (const struct command *)p0;
    g_checksum = g_checksum + c->event + c->args[0] + c->seq;
    g_handled = g_handled + 1;
    if (mprotect(p1, g_page_size, PROT_READ | PROT_WRITE) != 0 || mprotect(p0, g_page_size, PROT_NONE) != 0)
      die_in_handler("bench-2011-trap: mprotect failed in handler\n");
  } else {
    /* A real crash elsewhere: die with the default action. */
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

static void command(uint64_t event, uint64_t a0, uint64_t seq) {
  volatile struct command *c = (volatile struct command *)g_pages;
  c->event = event; /* fault #1 */
  c->args[0] = a0;
  c->args[1] = 2;
  c->args[2] = 3;
  c->args[3] = 4;
  c->seq = seq;
  *(volatile uint64_t *)(g_pages + g_page_size) = seq; /* fault #2 */
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s ITERATIONS [REPETITIONS]\n", argv[0]);
    return 2;
  }
  const uint64_t n = bench_parse_u64("ITERATIONS", argv[1]);
  const uint64_t reps = argc > 2 ? bench_parse_u64("REPETITIONS", argv[2]) : 3;

  g_page_size = (size_t)sysconf(_SC_PAGESIZE);
  void *m = mmap(NULL, 2 * g_page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    perror("bench-2011-trap: mmap");
    return 1;
  }
  g_pages = m;
  if (mprotect(g_pages, g_page_size, PROT_NONE) != 0) {
    perror("bench-2011-trap: mprotect");
    return 1;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) != 0) {
    perror("bench-2011-trap: sigaction");
    return 1;
  }

  double best = 0.0;
  uint64_t seq = 0;
  for (uint64_t r = 0; r < reps; ++r) {
    const uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; ++i) command(42u, i, ++seq);
    const uint64_t t1 = bench_now_ns();
    const double per = (double)(t1 - t0) / (double)n;
    if (r == 0 || per < best) best = per;
  }
  if (g_handled != n * reps) {
    fprintf(stderr, "bench-2011-trap: handled %llu of %llu commands\n", (unsigned long long)g_handled,
            (unsigned long long)(n * reps));
    return 1;
  }
  printf("ns_per_op %.2f\n", best);
  printf("handled %llu\n", (unsigned long long)g_handled);
  munmap(m, 2 * g_page_size);
  return 0;
}
