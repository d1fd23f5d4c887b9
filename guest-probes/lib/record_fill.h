/*
 * Private to libbdguest (and its unit tests): filling a struct bd_record
 * (and the text of a ring record).
 *
 * Pure functions on a caller-provided record: no globals, no system calls,
 * async-signal-safe. Usable from C and C++.
 */
#ifndef BD_GUEST_RECORD_FILL_H
#define BD_GUEST_RECORD_FILL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bd/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything except the text: magic, version, kind, event, args, pid, tid,
 * seq; text_len = 0, text = "", flags = reserved = 0, reply = NONE. */
static inline __attribute__((always_inline)) void
bd_record_fill_header(struct bd_record *r, uint16_t kind, uint32_t event,
                      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint32_t pid, uint32_t tid, uint64_t seq)
{
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
static inline __attribute__((always_inline)) size_t
bd_text_copy(char *dst, const char *text)
{
    size_t n = strnlen(text, BD_TEXT_MAX);
    memcpy(dst, text, n);
    dst[n] = '\0';
    return n;
}

/* bd_text_copy into r->text (never past r->text[55]) and set r->text_len. */
static inline __attribute__((always_inline)) size_t
bd_record_fill_text(struct bd_record *r, const char *text)
{
    size_t n = bd_text_copy(r->text, text);
    r->text_len = (uint16_t)n;
    return n;
}

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_RECORD_FILL_H */
