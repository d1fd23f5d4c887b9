// SPDX-License-Identifier: MIT
/*
 * guest-roi: a region of interest for code tracing (handlers/examples/roi.c
 * at base 7020), for tests/e2e/handlers_e2e_test.cc. Runs outside_roi()
 * 1000 times, calls roi begin (7020), runs inside_roi() 1000 times, calls
 * roi end (7021), runs outside_roi() 1000 times more. Prints "inside PC"
 * and "outside PC" (the functions' entry addresses, where their blocks
 * start), "begin RC RESULT", "end RC RESULT" and "sum S" (the loops'
 * result, so they cannot be optimised away). Sleeps 1 ms first (see main).
 * Exit 0.
 */
#include <bd/bd.h>

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static volatile uint64_t g_sink;

__attribute__((noinline)) static uint64_t inside_roi(uint64_t x) {
  __asm__ volatile("" : "+r"(x));
  return x * 3 + 1;
}

__attribute__((noinline)) static uint64_t outside_roi(uint64_t x) {
  __asm__ volatile("" : "+r"(x));
  return x * 5 + 2;
}

int main(void) {
  /* In full-system mode a comm selector matches the name the kernel gave
     * the task at its last context switch, and exec does not switch: sleep
     * once, so that the trace_code rule for "guest-roi" can see this
     * program (else it may run its whole slice as the shell that forked
     * it). */
  usleep(1000);
  printf("inside %#llx\n", (unsigned long long)(uintptr_t)&inside_roi);
  printf("outside %#llx\n", (unsigned long long)(uintptr_t)&outside_roi);
  uint64_t sum = 0;
  for (int i = 0; i < 1000; i++) sum += outside_roi((uint64_t)i);
  uint64_t result = 0;
  int rc = bd_call(7020, NULL, 0, NULL, 0, NULL, &result);
  printf("begin %d %llu\n", rc, (unsigned long long)result);
  for (int i = 0; i < 1000; i++) sum += inside_roi((uint64_t)i);
  rc = bd_call(7021, NULL, 0, NULL, 0, NULL, &result);
  printf("end %d %llu\n", rc, (unsigned long long)result);
  for (int i = 0; i < 1000; i++) sum += outside_roi((uint64_t)i);
  g_sink = sum;
  printf("sum %llu\n", (unsigned long long)sum);
  return 0;
}
