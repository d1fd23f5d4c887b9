// SPDX-License-Identifier: MIT
/*
 * trap-guest-<arch>: a tiny static guest that executes the bdtrace trap of
 * its architecture (<bd/abi.h>, THE TRAP, as <bd/trap.h> emits it) on
 * records it fills itself (<bd/record_fill.h>), without libbdguest, and
 * checks every reply. Built for x86_64 with the host compiler and for
 * aarch64 / riscv64 / s390x with Debian's cross compilers; run under
 * qemu-<arch> by plugin_arch_test. On s390x (big-endian) the replies it
 * reads also check that the plugin wrote them in the guest's byte order:
 * OK stored in the host's order would read as 0x01000000.
 *
 *   trap-guest plugin   the bdtrace plugin is loaded: expect its replies
 *   trap-guest plain    no plugin (plain QEMU or native): every reply stays
 *                       BD_REPLY_NONE and nothing crashes
 *
 * What it traps on, in order (the plugin's exit counts follow from it):
 *   1 HELLO, kMarks MARKs with arguments, 1 MARK_TEXT, 1 EVENT_NAME,
 *   1 MARK in an mmap'ed page                       -> accepted: kMarks + 4
 *   1 record with a bad magic (reply REJECTED),
 *   1 trap at a misaligned address (reply untouched),
 *   1 MARK in the same page after mprotect(PROT_READ) (reply untouched:
 *     the page cannot take it; the plugin must notice the mprotect through
 *     this architecture's syscall number and not store into it)
 *                                                   -> rejected: 3
 * Prints one line "trap-guest: ARCH ok=N rejected=R none=K bad=B" and
 * exits 0 when every reply was the expected one, 1 otherwise.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bd/abi.h>
#include <bd/record_fill.h>
#include <bd/trap.h>

#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__aarch64__)
#define ARCH "aarch64"
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH "riscv64"
#elif defined(__s390x__)
#define ARCH "s390x"
#else
#error "trap-guest: no bdtrace trap for this architecture"
#endif

enum { kMarks = 100 };

static int expect_plugin;
static unsigned n_ok, n_rejected, n_none, n_bad;

/* Reads the reply with a load of its own (the plugin writes it after the
 * trap's load) and compares it with what this mode expects. */
static void check(const char *what, const struct bd_record *r, int32_t with_plugin) {
  const int32_t got = *(const volatile int32_t *)&r->reply;
  const int32_t want = expect_plugin ? with_plugin : BD_REPLY_NONE;
  if (got == BD_REPLY_OK)
    ++n_ok;
  else if (got == BD_REPLY_REJECTED)
    ++n_rejected;
  else if (got == BD_REPLY_NONE)
    ++n_none;
  if (got != want) {
    ++n_bad;
    fprintf(stderr, "trap-guest: %s: reply %d, expected %d\n", what, (int)got, (int)want);
  }
}

static struct bd_record rec;
static struct bd_record spare[2];

int main(int argc, char **argv) {
  if (argc != 2 || (strcmp(argv[1], "plugin") != 0 && strcmp(argv[1], "plain") != 0)) {
    fprintf(stderr, "usage: %s plugin|plain\n", argv[0]);
    return 2;
  }
  expect_plugin = strcmp(argv[1], "plugin") == 0;
  const uint32_t pid = (uint32_t)getpid();
  const uint32_t tid = (uint32_t)syscall(SYS_gettid);
  uint64_t seq = 0;

  bd_record_fill_header(&rec, BD_KIND_HELLO, 0, 0, 0, 0, 0, pid, tid, ++seq);
  bd_trap_at(&rec);
  check("hello", &rec, BD_REPLY_OK);

  for (unsigned i = 0; i < kMarks; ++i) {
    bd_record_fill_header(&rec, BD_KIND_MARK, 7, i, i * 2u, ~(uint64_t)i, 0x0123456789abcdefull, pid, tid,
                          ++seq);
    bd_trap_at(&rec);
    check("mark", &rec, BD_REPLY_OK);
  }

  bd_record_fill_header(&rec, BD_KIND_MARK_TEXT, 8, 1, 2, 3, 4, pid, tid, ++seq);
  bd_record_fill_text(&rec, "hello from " ARCH);
  bd_trap_at(&rec);
  check("text mark", &rec, BD_REPLY_OK);

  bd_record_fill_header(&rec, BD_KIND_EVENT_NAME, 7, 0, 0, 0, 0, pid, tid, ++seq);
  bd_record_fill_text(&rec, "trap-guest." ARCH);
  bd_trap_at(&rec);
  check("event name", &rec, BD_REPLY_OK);

  bd_record_fill_header(&rec, BD_KIND_MARK, 9, 0, 0, 0, 0, pid, tid, ++seq);
  rec.magic = 0x12345678u;
  bd_trap_at(&rec);
  check("bad magic", &rec, BD_REPLY_REJECTED);

  /* Misaligned: the plugin must not read it, let alone write a reply into
     * what lies around it. */
  bd_record_fill_header(&spare[0], BD_KIND_MARK, 9, 0, 0, 0, 0, pid, tid, ++seq);
  bd_record_fill_header(&spare[1], BD_KIND_MARK, 9, 0, 0, 0, 0, pid, tid, ++seq);
  bd_trap_at((const char *)&spare[0] + 8);
  check("misaligned (record before)", &spare[0], BD_REPLY_NONE);
  if (*(const volatile char *)&spare[0].text[0] != '\0') { /* a reply at +8+64 */
    ++n_bad;
    fprintf(stderr, "trap-guest: misaligned: something was written into the record\n");
  }
  check("misaligned (record after)", &spare[1], BD_REPLY_NONE);

  /* A page that first takes a reply, then is made read-only. */
  struct bd_record *page =
      mmap(NULL, BD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    perror("trap-guest: mmap");
    return 1;
  }
  bd_record_fill_header(page, BD_KIND_MARK, 10, 1, 0, 0, 0, pid, tid, ++seq);
  bd_trap_at(page);
  check("mark in a writable page", page, BD_REPLY_OK);
  bd_record_fill_header(page, BD_KIND_MARK, 10, 2, 0, 0, 0, pid, tid, ++seq);
  if (mprotect(page, BD_PAGE_SIZE, PROT_READ) != 0) {
    perror("trap-guest: mprotect");
    return 1;
  }
  bd_trap_at(page);
  check("mark in a page made read-only", page, BD_REPLY_NONE);

  printf("trap-guest: %s ok=%u rejected=%u none=%u bad=%u\n", ARCH, n_ok, n_rejected, n_none, n_bad);
  return n_bad == 0 ? 0 : 1;
}
