// SPDX-License-Identifier: MIT
/*
 * guest-hostile: traps on records that a correct bdtrace plugin must reject,
 * to show it never crashes, never emits them, and counts them.
 *
 * Uses the raw trap (<bd/trap.h>, bd_trap_at: the guest
 * architecture's trap with its record-pointer register on any address;
 * libbdguest itself only builds valid records). Every trap below must be
 * rejected; none is valid. Deterministic: a fixed-seed PRNG.
 *
 *   random      1000 records of PRNG bytes (magic forced != BD_MAGIC)
 *   forged      14 otherwise valid records with one defect each:
 *               kind 0, kind 7 (sched_switch is for the guest kernel only),
 *               kind BD_KIND_MAX_, kind 0xffff, byte-swapped magic,
 *               version 0, version 2, flags 1, flags 0x8000, reserved 1,
 *               MARK_TEXT text_len 56, MARK_TEXT text_len 0xffff,
 *               MARK_TEXT without NUL (text_len 55, text[55] = 'A'),
 *               EVENT_NAME without NUL (same)
 *   readonly    1 valid record in a PROT_READ page (reply not writable)
 *   page_end    1 trap whose record pointer (rdi, x0, a0) is the last 8
 *               bytes of a page whose next page is unmapped (the record
 *               would cross the page)
 *   misaligned  2 valid records at a 128-aligned buffer + 8 and + 1
 *
 * Output (stdout), one line each:
 *   random 1000 / forged 14 / readonly 1 / page_end 1 / misaligned 2
 *   seen_ok <n>        traps whose reply read back BD_REPLY_OK (must be 0)
 *   seen_rejected <n>  traps whose reply read back BD_REPLY_REJECTED
 *                      (informational: the host may or may not write a
 *                      reply into a malformed record; page_end is never read)
 *   expect_rejected <total>   = 1018, the number of traps a correct plugin
 *                      rejects
 * Exit 0 (1 only if mmap/mprotect fails).
 */
#define _GNU_SOURCE

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bd/abi.h>
#include <bd/record_fill.h>
#include <bd/trap.h>

#include "prng.h"

enum { RANDOM_RECORDS = 1000 };

static unsigned long seen_ok, seen_rejected;
static uint64_t seq;

/* Trap, then read the reply back (only for fully mapped records). */
static void trap_and_read(const void *rec) {
  bd_trap_at(rec);
  int32_t reply;
  memcpy(&reply, (const char *)rec + offsetof(struct bd_record, reply), sizeof reply);
  __asm__ volatile("" ::: "memory");
  if (reply == BD_REPLY_OK)
    seen_ok++;
  else if (reply == BD_REPLY_REJECTED)
    seen_rejected++;
}

static void valid_record(struct bd_record *r, uint16_t kind) {
  memset(r, 0, sizeof *r);
  bd_record_fill_header(r, kind, 1, 0xbad, 0, 0, 0, (uint32_t)getpid(), (uint32_t)syscall(SYS_gettid), ++seq);
  if (kind == BD_KIND_MARK_TEXT || kind == BD_KIND_EVENT_NAME) {
    strcpy(r->text, "hostile");
    r->text_len = (uint16_t)strlen(r->text);
  }
}

static unsigned long send_random(void) {
  static struct bd_record r;
  uint64_t state = 0x5eedb0a7d15ea5e5ULL;
  for (unsigned n = 0; n < RANDOM_RECORDS; n++) {
    unsigned char *p = (unsigned char *)&r;
    for (size_t i = 0; i < sizeof r; i += 8) {
      uint64_t v = xorshift64(&state);
      memcpy(p + i, &v, 8);
    }
    if (r.magic == BD_MAGIC) r.magic ^= 1u;
    trap_and_read(&r);
  }
  return RANDOM_RECORDS;
}

static unsigned long send_forged(void) {
  static struct bd_record r;
  unsigned long sent = 0;
  static const uint16_t bad_kinds[] = {0, BD_KIND_SCHED_SWITCH, BD_KIND_MAX_, 0xffff};
  for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
    valid_record(&r, BD_KIND_MARK);
    r.kind = bad_kinds[i];
    trap_and_read(&r), sent++;
  }
  valid_record(&r, BD_KIND_MARK);
  r.magic = 0x72746462u; /* BD_MAGIC byte-swapped */
  trap_and_read(&r), sent++;
  static const uint16_t bad_versions[] = {0, BD_ABI_VERSION + 1};
  for (size_t i = 0; i < 2; i++) {
    valid_record(&r, BD_KIND_MARK);
    r.version = bad_versions[i];
    trap_and_read(&r), sent++;
  }
  static const uint16_t bad_flags[] = {1, 0x8000};
  for (size_t i = 0; i < 2; i++) {
    valid_record(&r, BD_KIND_MARK);
    r.flags = bad_flags[i];
    trap_and_read(&r), sent++;
  }
  valid_record(&r, BD_KIND_MARK);
  r.reserved = 1;
  trap_and_read(&r), sent++;
  static const uint16_t bad_lens[] = {BD_TEXT_MAX + 1, 0xffff};
  for (size_t i = 0; i < 2; i++) {
    valid_record(&r, BD_KIND_MARK_TEXT);
    memset(r.text, 'B', sizeof r.text - 1);
    r.text[sizeof r.text - 1] = '\0';
    r.text_len = bad_lens[i];
    trap_and_read(&r), sent++;
  }
  static const uint16_t text_kinds[] = {BD_KIND_MARK_TEXT, BD_KIND_EVENT_NAME};
  for (size_t i = 0; i < 2; i++) {
    valid_record(&r, text_kinds[i]);
    memset(r.text, 'A', sizeof r.text); /* no NUL anywhere */
    r.text_len = BD_TEXT_MAX;
    trap_and_read(&r), sent++;
  }
  return sent;
}

static long send_readonly(long page) {
  void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("guest-hostile: mmap");
    return -1;
  }
  valid_record((struct bd_record *)p, BD_KIND_MARK);
  if (mprotect(p, (size_t)page, PROT_READ) != 0) {
    perror("guest-hostile: mprotect");
    return -1;
  }
  trap_and_read(p);
  munmap(p, (size_t)page);
  return 1;
}

static long send_page_end(long page) {
  char *p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("guest-hostile: mmap");
    return -1;
  }
  if (munmap(p + page, (size_t)page) != 0) {
    perror("guest-hostile: munmap");
    return -1;
  }
  /* The first 8 bytes look right: magic, version, kind MARK. */
  char *rec = p + page - 8;
  uint32_t magic = BD_MAGIC;
  uint16_t version = BD_ABI_VERSION, kind = BD_KIND_MARK;
  memcpy(rec, &magic, 4);
  memcpy(rec + 4, &version, 2);
  memcpy(rec + 6, &kind, 2);
  bd_trap_at(rec); /* the 8-byte load itself is legal; never read past it */
  munmap(p, (size_t)page);
  return 1;
}

static unsigned long send_misaligned(void) {
  static unsigned char buf[3 * sizeof(struct bd_record)] __attribute__((aligned(128)));
  static struct bd_record r;
  static const size_t offsets[] = {8, 1};
  for (size_t i = 0; i < 2; i++) {
    valid_record(&r, BD_KIND_MARK);
    memcpy(buf + offsets[i], &r, sizeof r);
    trap_and_read(buf + offsets[i]);
  }
  return 2;
}

int main(void) {
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) page = BD_PAGE_SIZE;
  unsigned long total = 0;

  unsigned long n = send_random();
  printf("random %lu\n", n);
  total += n;
  n = send_forged();
  printf("forged %lu\n", n);
  total += n;
  long m = send_readonly(page);
  if (m < 0) return 1;
  printf("readonly %ld\n", m);
  total += (unsigned long)m;
  m = send_page_end(page);
  if (m < 0) return 1;
  printf("page_end %ld\n", m);
  total += (unsigned long)m;
  n = send_misaligned();
  printf("misaligned %lu\n", n);
  total += n;

  printf("seen_ok %lu\n", seen_ok);
  printf("seen_rejected %lu\n", seen_rejected);
  printf("expect_rejected %lu\n", total);
  return 0;
}
