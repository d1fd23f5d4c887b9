// SPDX-License-Identifier: MIT
/*
 * guest-remap: traps on valid records in a page that another thread unmaps,
 * maps again and write-protects in a loop, to show the plugin's reply never
 * crashes QEMU whatever the guest does to its mappings meanwhile (plugin
 * API 5 reads and writes records through QEMU; with API 1 to 4 this is the
 * race usermode/reply_writer.h documents, so the test runs on API 5 QEMUs).
 *
 *   guest-remap [TRAPS]   (default 200000)
 *
 * Thread "flipper" cycles the page through: unmapped, mapped read-write
 * (zeros), read-only, read-write, until the trapper is done. Thread
 * "trapper" writes a valid MARK record into the page and traps on it, TRAPS
 * times; when the page is not there (or read-only for the write) its own
 * access faults: a SIGSEGV handler jumps past that attempt.
 *
 * Output (stdout), one line each:
 *   traps <n>      attempts whose record fill, trap and reply read ran
 *   faulted <n>    attempts in which one of those faulted
 *   ok <n>         traps whose reply read back BD_REPLY_OK
 *   flips <n>      mapping changes the flipper made
 * Exit 0 when every attempt ended one way or the other.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bd/abi.h>
#include <bd/record_fill.h>
#include <bd/trap.h>

static unsigned char *page;
static volatile int done;
static unsigned long flips;
/* Where a fault of the trapper jumps: set only around its accesses to the
 * page (volatile and fenced from them, so the compiler keeps the order). */
static __thread sigjmp_buf *volatile fault_jump;

static void on_fault(int sig) {
  (void)sig;
  if (fault_jump != NULL) siglongjmp(*fault_jump, 1);
  abort();
}

static void *flipper(void *arg) {
  (void)arg;
  while (!done) {
    munmap(page, BD_PAGE_SIZE);
    if (mmap(page, BD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
        MAP_FAILED)
      abort();
    mprotect(page, BD_PAGE_SIZE, PROT_READ);
    mprotect(page, BD_PAGE_SIZE, PROT_READ | PROT_WRITE);
    flips += 4;
  }
  return NULL;
}

int main(int argc, char **argv) {
  const unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
  page = mmap(NULL, BD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);

  pthread_t t;
  if (pthread_create(&t, NULL, flipper, NULL) != 0) return 1;
  /* volatile: they change between sigsetjmp and a siglongjmp back. */
  volatile unsigned long traps = 0, faulted = 0, ok = 0, seq = 0;
  struct bd_record *r = (struct bd_record *)(void *)page;
  for (volatile unsigned long i = 0; i < n; ++i) {
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1) != 0) {
      fault_jump = NULL;
      faulted++;
      continue;
    }
    fault_jump = &jb;
    __asm__ volatile("" ::: "memory");
    memset(r, 0, sizeof *r);
    bd_record_fill_header(r, BD_KIND_MARK, 7, 0, 0, 0, 0, (uint32_t)getpid(), (uint32_t)gettid(), ++seq);
    bd_trap_at(r);
    int32_t reply;
    memcpy(&reply, (const char *)r + offsetof(struct bd_record, reply), sizeof reply);
    __asm__ volatile("" ::: "memory");
    fault_jump = NULL;
    traps++;
    if (reply == BD_REPLY_OK) ok++;
  }
  done = 1;
  pthread_join(t, NULL);
  printf("traps %lu\nfaulted %lu\nok %lu\nflips %lu\n", (unsigned long)traps, (unsigned long)faulted,
         (unsigned long)ok, flips);
  return traps + faulted == n ? 0 : 1;
}
