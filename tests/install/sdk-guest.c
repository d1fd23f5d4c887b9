// SPDX-License-Identifier: MIT
/*
 * A guest program built against an installed bdtrace SDK only
 * (install_e2e_test.cc): names event 7, marks it 50 times from a second
 * thread (a0 = 1, a1 = 0..49), then marks the text "sdk done" as event 8.
 */
#include <bd/bd.h>
#include <pthread.h>
#include <stdio.h>

static void *worker(void *arg) {
  for (int i = 0; i < 50; i++) bd_mark_args(7, (uint64_t)(long)arg, (uint64_t)i, 0, 0);
  return NULL;
}

int main(void) {
  bd_name_event(7, "sdk-tick");
  pthread_t t;
  if (pthread_create(&t, NULL, worker, (void *)1L) != 0) return 1;
  pthread_join(t, NULL);
  bd_mark_text(8, "sdk done");
  printf("bdtrace host: %s\n", bd_present() ? "yes" : "no");
  return 0;
}
