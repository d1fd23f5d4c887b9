/* SPDX-License-Identifier: MIT */
/*
 * bdtrace guest SDK: filling a struct bd_record (<bd/abi.h>) and the text
 * of a ring record (<bd/ring.h>).
 *
 * For code that hands records over itself (<bd/trap.h>): the bd_sched
 * kernel module, test programs, benchmarks. Programs normally mark through
 * <bd/bd.h>, which does all of this. This is the one place a record's
 * fields are filled: libbdguest, the kernel module, the tests and the
 * benchmarks all include it.
 *
 * Pure functions on a caller-provided record: no globals, no system calls,
 * async-signal-safe. Compiles as C (C99 and later) and C++, in user space
 * and in a Linux kernel module (__KERNEL__).
 */
#ifndef BD_RECORD_FILL_H
#define BD_RECORD_FILL_H

#include <bd/abi.h>

#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Everything except the text: magic, version, kind, event, args, pid, tid,
 * seq; text_len = 0, text = "", flags = reserved = 0, reply = NONE. */
static inline __attribute__((always_inline)) void bd_record_fill_header(struct bd_record *r, uint16_t kind,
                                                                        uint32_t event, uint64_t a0,
                                                                        uint64_t a1, uint64_t a2, uint64_t a3,
                                                                        uint32_t pid, uint32_t tid,
                                                                        uint64_t seq) {
  r->magic = BD_MAGIC;
  r->version = (uint16_t)BD_ABI_VERSION;
  r->kind = kind;
  r->event = event;
  r->text_len = 0;
  r->flags = 0;
  r->args[0] = a0;
  r->args[1] = a1;
  r->args[2] = a2;
  r->args[3] = a3;
  r->pid = pid;
  r->tid = tid;
  r->seq = seq;
  r->reply = BD_REPLY_NONE;
  r->reserved = 0;
  r->text[0] = '\0';
}

/* Copy at most BD_TEXT_MAX bytes of `text` into `dst` (BD_TEXT_MAX + 1
 * bytes: a record's text, or a ring's text slot) and NUL-terminate it.
 * Reads at most BD_TEXT_MAX bytes of `text` (it need not be NUL-terminated
 * past that). Returns the stored length. `text` must not be NULL. */
static inline __attribute__((always_inline)) size_t bd_text_copy(char *dst, const char *text) {
  /* memchr rather than strnlen: the same bounded read (memchr stops at
     * the first match), and standard C, so the header builds under
     * -std=c99 without POSIX feature macros. */
  const char *nul = (const char *)memchr(text, '\0', BD_TEXT_MAX);
  size_t n = nul != NULL ? (size_t)(nul - text) : (size_t)BD_TEXT_MAX;
  memcpy(dst, text, n);
  dst[n] = '\0';
  return n;
}

/* bd_text_copy into r->text (never past r->text[55]) and set r->text_len. */
static inline __attribute__((always_inline)) size_t bd_record_fill_text(struct bd_record *r,
                                                                        const char *text) {
  size_t n = bd_text_copy(r->text, text);
  r->text_len = (uint16_t)n;
  return n;
}

#ifdef __cplusplus
}
#endif

#endif /* BD_RECORD_FILL_H */
