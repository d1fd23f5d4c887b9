/* SPDX-License-Identifier: MIT */
/*
 * Private to libbdguest: finding ivshmem PCI devices (vendor 0x1af4,
 * device 0x1110) in the guest's sysfs. Both full-system channels sit behind
 * one: the trap channel (<bd/channel.h>) and the ring channel (<bd/ring.h>,
 * system mode). What is in BAR2 tells them apart; the caller's `try_open`
 * looks.
 *
 * Slow path only (the first call of a process); allocates nothing.
 */
#ifndef BD_GUEST_IVSHMEM_H
#define BD_GUEST_IVSHMEM_H

#ifdef __cplusplus
extern "C" {
#endif

/* Called with the path of a device's BAR2 file
 * (/sys/bus/pci/devices/<addr>/resource2). Returns 0 when it took the
 * device (the scan stops), -EACCES when it may be the caller's but could not
 * be opened, any other negative errno when it is not the caller's. */
typedef int (*bd_ivshmem_try_fn)(const char *resource2, void *ctx);

/* Offer every ivshmem device to try_open, in directory order. Returns 0
 * when one was taken; -EACCES when none was but one could not be opened
 * (in the guest, mapping a BAR needs root); -ENODEV otherwise (also when
 * no PCI bus is visible, e.g. a container). */
int bd_ivshmem_scan(bd_ivshmem_try_fn try_open, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_IVSHMEM_H */
