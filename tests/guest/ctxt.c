// SPDX-License-Identifier: MIT
/*
 * guest-ctxt: print the guest kernel's context-switch count, the `ctxt`
 * line of /proc/stat, as "ctxt <n>". Run before and after a workload to
 * compare with the number of switches the host recorded in between.
 *
 * Exit 0; 1 when /proc/stat cannot be read or has no ctxt line.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL) {
    perror("guest-ctxt: /proc/stat (is /proc mounted?)");
    return 1;
  }
  char line[4096];
  int found = 0;
  uint64_t ctxt = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "ctxt ", 5) == 0 && sscanf(line + 5, "%" SCNu64, &ctxt) == 1) {
      found = 1;
      break;
    }
  }
  fclose(f);
  if (!found) {
    fprintf(stderr, "guest-ctxt: no ctxt line in /proc/stat\n");
    return 1;
  }
  printf("ctxt %" PRIu64 "\n", ctxt);
  return 0;
}
