// SPDX-License-Identifier: MIT
/*
 * libbdguest: the PCI scan for ivshmem devices (see ivshmem.h), shared by
 * the trap channel's discovery (channel.c) and the ring's (ring.c).
 */
#define _GNU_SOURCE

#include "ivshmem.h"

#include "arch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bd/channel.h>

#define BD_PCI_DEVICES "/sys/bus/pci/devices"

/* Read a sysfs file holding one hex number ("0x1af4\n"). */
static bool read_hex_attr(const char *dev, const char *attr, unsigned *out) {
  char path[512];
  if (snprintf(path, sizeof path, BD_PCI_DEVICES "/%s/%s", dev, attr) >= (int)sizeof path) return false;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  char *end;
  unsigned long v = strtoul(buf, &end, 16);
  if (end == buf) return false;
  *out = (unsigned)v;
  return true;
}

int bd_ivshmem_scan(bd_ivshmem_try_fn try_open, void *ctx) {
  DIR *d = opendir(BD_PCI_DEVICES);
  if (d == NULL) return -ENODEV; /* no PCI bus visible (e.g. a container) */
  int result = -ENODEV;
  const struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    unsigned vendor, device;
    if (!read_hex_attr(e->d_name, "vendor", &vendor) || vendor != BD_IVSHMEM_VENDOR ||
        !read_hex_attr(e->d_name, "device", &device) || device != BD_IVSHMEM_DEVICE)
      continue;
    char path[512];
    bool preferred = false;
#ifdef BD_ARCH_BAR_MAPPING
    /* The architecture's own mapping of BAR2 (arch.h) where its sysfs
         * file exists (a prefetchable BAR: ivshmem's is), else resource2;
         * never both (a device that is not the caller's would be read
         * through resource2 after all). */
    preferred = snprintf(path, sizeof path, BD_PCI_DEVICES "/%s/" BD_ARCH_BAR_MAPPING, e->d_name) <
                    (int)sizeof path &&
                access(path, F_OK) == 0;
#endif
    if (!preferred &&
        snprintf(path, sizeof path, BD_PCI_DEVICES "/%s/resource2", e->d_name) >= (int)sizeof path)
      continue;
    int rc = try_open(path, ctx);
    if (rc == 0) {
      result = 0;
      break;
    }
    /* A device we may not open might be the caller's: report it unless
         * a later device turns out to be. Devices that are not the
         * caller's (another header) are someone else's. */
    if (rc == -EACCES) result = -EACCES;
  }
  closedir(d);
  return result;
}
