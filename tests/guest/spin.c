// SPDX-License-Identifier: MIT
/*
 * guest-spin CPU MS: pins itself to guest CPU `CPU`, then burns MS
 * milliseconds of its own CPU time (CLOCK_PROCESS_CPUTIME_ID), the ground
 * truth for the analyzer's CPU time per process and vCPU. Prints
 * "spin pid <pid> cpu <CPU> cpu_ns <spun> total_ns <all>" when done: the
 * pinned spin's CPU time, and the process's whole (start-up included).
 * Exit 0; 1 if pinning fails; 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <bd/bd.h>

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: guest-spin CPU MS\n");
    return 2;
  }
  const int cpu = atoi(argv[1]);
  const long ms = atol(argv[2]);
  if (cpu < 0 || ms <= 0) {
    fprintf(stderr, "guest-spin: bad CPU or MS\n");
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("guest-spin: sched_setaffinity");
    return 1;
  }
  const uint64_t start = cpu_ns(), goal = (uint64_t)ms * 1000000u;
  volatile uint64_t x = 1;
  while (cpu_ns() - start < goal) {
    for (int i = 0; i < 10000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  }
  bd_mark_args(60, (uint64_t)cpu, cpu_ns() - start, 0, 0);
  /* total_ns: all the process's CPU time, from its fork on (exec keeps
     * it), so start-up before the spin is included. */
  const uint64_t spun = cpu_ns() - start;
  printf("spin pid %d cpu %d cpu_ns %llu total_ns %llu\n", (int)getpid(), cpu, (unsigned long long)spun,
         (unsigned long long)cpu_ns());
  return 0;
}
