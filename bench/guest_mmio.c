// SPDX-License-Identifier: MIT
/*
 * bench-guest-mmio: the cost of a hypertrace-style trap, for comparison with
 * a bdtrace mark. Runs inside the test VM (qemu-system-x86_64), as root.
 *
 *   bench-guest-mmio ITERATIONS [REPETITIONS]
 *
 * Finds the ivshmem device (PCI 1af4:1110), maps its BAR0 registers
 * (sysfs resource0, 256 bytes) and times 32-bit writes of 0 to IntrMask
 * (offset 0). BAR0 is an I/O region in QEMU, so every write leaves the
 * translated code for QEMU's MMIO dispatch, as a hypercall-through-a-register
 * design does. Writing 0 to IntrMask is harmless (ivshmem-plain raises no
 * interrupts). Prints "ns_per_op V" (wall time, best repetition) and "ops N".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"

#define IVSHMEM_VENDOR 0x1af4u
#define IVSHMEM_DEVICE 0x1110u
#define BAR0_SIZE 256u
#define REG_INTR_MASK 0u

/* The hex value in a sysfs file such as .../vendor, or -1. */
static long read_hex(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  unsigned long v = 0;
  const int got = fscanf(f, "%lx", &v);
  fclose(f);
  return got == 1 ? (long)v : -1;
}

/* Writes the first ivshmem device's sysfs directory into dir. 0 on success. */
static int find_ivshmem(char *dir, size_t size) {
  const char *root = "/sys/bus/pci/devices";
  DIR *d = opendir(root);
  if (d == NULL) {
    fprintf(stderr, "bench-guest-mmio: cannot list %s: %s (is sysfs mounted?)\n", root, strerror(errno));
    return -1;
  }
  int found = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(dir, size, "%s/%s", root, e->d_name);
    if (read_hex(dir, "vendor") == IVSHMEM_VENDOR && read_hex(dir, "device") == IVSHMEM_DEVICE) {
      found = 0;
      break;
    }
  }
  closedir(d);
  if (found != 0)
    fprintf(stderr,
            "bench-guest-mmio: no ivshmem device (%04x:%04x) in %s; "
            "start QEMU with -device ivshmem-plain (bd-run --system adds it)\n",
            IVSHMEM_VENDOR, IVSHMEM_DEVICE, root);
  return found;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s ITERATIONS [REPETITIONS]\n", argv[0]);
    return 2;
  }
  const uint64_t n = bench_parse_u64("ITERATIONS", argv[1]);
  const uint64_t reps = argc > 2 ? bench_parse_u64("REPETITIONS", argv[2]) : 5;

  char dir[512];
  if (find_ivshmem(dir, sizeof dir) != 0) return 1;
  char path[600];
  snprintf(path, sizeof path, "%s/resource0", dir);
  const int fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "bench-guest-mmio: cannot open %s: %s (run as root)\n", path, strerror(errno));
    return 1;
  }
  void *map = mmap(NULL, BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd); /* the mapping keeps the device file referenced */
  if (map == MAP_FAILED) {
    fprintf(stderr, "bench-guest-mmio: cannot mmap %s: %s\n", path, strerror(errno));
    return 1;
  }
  volatile uint32_t *intr_mask = (volatile uint32_t *)((char *)map + REG_INTR_MASK);

  double best = 0.0;
  for (uint64_t r = 0; r < reps; ++r) {
    const uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; ++i) *intr_mask = 0;
    const uint64_t t1 = bench_now_ns();
    const double per = (double)(t1 - t0) / (double)n;
    if (r == 0 || per < best) best = per;
  }
  munmap(map, BAR0_SIZE);
  printf("ns_per_op %.2f\n", best);
  printf("ops %llu\n", (unsigned long long)(n * reps));
  return 0;
}
