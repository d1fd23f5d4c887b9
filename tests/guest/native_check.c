// SPDX-License-Identifier: MIT
/*
 * guest-native-check: libbdguest without a bdtrace host (native run or
 * qemu-x86_64 without the plugin): every call must return 0, bd_present()
 * must be 0, misuse must return a negative errno.
 *
 * Prints "ok" and exits 0, else prints each failed check and exits 1.
 */
#include <errno.h>
#include <stdio.h>

#include <bd/bd.h>

static int failures;

static void expect(const char *what, int got, int want) {
  if (got != want) {
    printf("FAIL %s: returned %d, expected %d\n", what, got, want);
    failures++;
  }
}

int main(void) {
  expect("bd_present()", bd_present(), 0);
  expect("bd_mark(1)", bd_mark(1), 0);
  expect("bd_mark_args(1, ...)", bd_mark_args(1, 1, 2, 3, 4), 0);
  expect("bd_mark_text(2, \"text\")", bd_mark_text(2, "text"), 0);
  expect("bd_mark_text(2, <200 bytes>)",
         bd_mark_text(2,
                      "0123456789012345678901234567890123456789"
                      "0123456789012345678901234567890123456789"
                      "0123456789012345678901234567890123456789"
                      "0123456789012345678901234567890123456789"
                      "0123456789012345678901234567890123456789"),
         0);
  expect("bd_region_begin(100)", bd_region_begin(100), 0);
  expect("bd_region_end(100)", bd_region_end(100), 0);
  expect("bd_name_event(1, \"tick\")", bd_name_event(1, "tick"), 0);
  expect("bd_mark_text(2, NULL)", bd_mark_text(2, NULL), -EINVAL);
  expect("bd_name_event(1, NULL)", bd_name_event(1, NULL), -EINVAL);
  expect("bd_name_event(1, \"\")", bd_name_event(1, ""), -EINVAL);
  if (failures != 0) return 1;
  printf("ok\n");
  return 0;
}
