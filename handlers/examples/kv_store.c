// SPDX-License-Identifier: MIT
/*
 * Example handler: a key-value store that the calling guest's threads
 * share (calls arrive on several vCPU threads at once: one lock). In user
 * mode a QEMU process runs one guest process: a forked child gets a copy.
 *
 *   event base+0  put: input "KEY=VALUE" (KEY up to 63 bytes, VALUE up to
 *                 1 KiB); result: 1 if the key was new, 0 if replaced.
 *   event base+1  get: input "KEY"; output: the value; result: its length,
 *                 or the call fails with -ENOENT.
 *   event base+2  delete: input "KEY"; result: 1 if it existed, else 0.
 *   event base+3  count: result: the number of keys.
 *
 * ARGS: "base=N" (default 7000), "slots=N" (keys at most, default 256).
 * Build: cc -shared -fPIC -I<bdtrace>/handlers/include kv_store.c -o libkv.so
 * Use:   bd-run --handler ./libkv.so:base=7000 -- ./my-program
 */
#include <bd/handler.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 63u
#define VALUE_MAX 1024u

struct entry {
  char key[KEY_MAX + 1];
  char value[VALUE_MAX];
  uint32_t value_len;
  int used;
};

struct kv {
  pthread_mutex_t lock; /* calls arrive on several vCPU threads at once */
  uint32_t base;
  uint32_t slots;
  uint32_t count;
  struct entry *entries;
};

static unsigned long arg_value(const char *args, const char *name, unsigned long fallback) {
  const size_t n = strlen(name);
  for (const char *p = args; p != NULL && *p != '\0';) {
    if (strncmp(p, name, n) == 0 && p[n] == '=') return strtoul(p + n + 1, NULL, 10);
    p = strchr(p, ',');
    if (p != NULL) p++;
  }
  return fallback;
}

BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void) { return BD_HANDLER_ABI_VERSION; }

BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state) {
  struct kv *kv = calloc(1, sizeof *kv);
  if (kv == NULL) return -ENOMEM;
  kv->base = (uint32_t)arg_value(args, "base", 7000);
  kv->slots = (uint32_t)arg_value(args, "slots", 256);
  if (kv->slots == 0 || kv->slots > 1u << 20 || kv->base > UINT32_MAX - 3) {
    free(kv);
    return -EINVAL;
  }
  kv->entries = calloc(kv->slots, sizeof *kv->entries);
  if (kv->entries == NULL) {
    free(kv);
    return -ENOMEM;
  }
  pthread_mutex_init(&kv->lock, NULL);
  int rc = services->register_events(host, kv->base, kv->base + 3);
  if (rc != 0) {
    free(kv->entries);
    free(kv);
    return rc;
  }
  *state = kv;
  return 0;
}

/* The entry of `key` (len bytes), or NULL. Called with the lock held. */
static struct entry *lookup(struct kv *kv, const char *key, size_t len) {
  for (uint32_t i = 0; i < kv->slots; i++) {
    struct entry *e = &kv->entries[i];
    if (e->used && strlen(e->key) == len && memcmp(e->key, key, len) == 0) return e;
  }
  return NULL;
}

static int put(struct kv *kv, struct bd_handler_request *call) {
  const char *in = call->in;
  const char *eq = in != NULL ? memchr(in, '=', call->in_len) : NULL;
  if (eq == NULL || eq == in) return -EINVAL;
  const size_t klen = (size_t)(eq - in), vlen = call->in_len - klen - 1;
  if (klen > KEY_MAX || vlen > VALUE_MAX || memchr(in, '\0', klen) != NULL) return -E2BIG;
  struct entry *e = lookup(kv, in, klen);
  call->result = e == NULL;
  if (e == NULL) {
    for (uint32_t i = 0; i < kv->slots && e == NULL; i++)
      if (!kv->entries[i].used) e = &kv->entries[i];
    if (e == NULL) return -ENOSPC;
    memcpy(e->key, in, klen);
    e->key[klen] = '\0';
    e->used = 1;
    kv->count++;
  }
  memcpy(e->value, eq + 1, vlen);
  e->value_len = (uint32_t)vlen;
  return 0;
}

BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call) {
  (void)caller;
  struct kv *kv = state;
  int rc = 0;
  pthread_mutex_lock(&kv->lock);
  switch (call->event - kv->base) {
    case 0:
      rc = put(kv, call);
      break;
    case 1: {
      struct entry *e = lookup(kv, call->in, call->in_len);
      if (e == NULL) {
        rc = -ENOENT;
        break;
      }
      call->result = e->value_len;
      call->out_len = e->value_len < call->out_cap ? e->value_len : call->out_cap;
      memcpy(call->out, e->value, call->out_len);
      break;
    }
    case 2: {
      struct entry *e = lookup(kv, call->in, call->in_len);
      call->result = e != NULL;
      if (e != NULL) {
        e->used = 0;
        kv->count--;
      }
      break;
    }
    case 3:
      call->result = kv->count;
      break;
    default:
      rc = -ENOSYS;
  }
  pthread_mutex_unlock(&kv->lock);
  return rc;
}

BD_HANDLER_EXPORT void bd_handler_fini(void *state) {
  struct kv *kv = state;
  pthread_mutex_destroy(&kv->lock);
  free(kv->entries);
  free(kv);
}
