/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generation 4 (QEMU 9.2 - 10.0) and later: reading guest
 * memory through QEMU. Included by <bdtrace/qemu_plugin_api.h> only; see
 * API GENERATIONS there.
 *
 * The memory functions take glib byte arrays. QEMU's process already has
 * glib loaded (a QEMU with plugin support links it dynamically), so the
 * plugin calls glib's own allocation functions, resolved at load time like
 * the qemu_plugin_* ones; it declares only the two public members it uses
 * (glib's documented layout of a byte array: the bytes, then their count).
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_V4_H
#define BDTRACE_QEMU_PLUGIN_API_V4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* glib's GByteArray as its documentation describes it. */
struct bdtrace_gbyte_array {
  uint8_t *data;
  unsigned int len;
};

/* glib: a new array with room for reserved_size bytes (len 0); set its
 * length (growing it when needed); drop a reference (frees the array). */
struct bdtrace_gbyte_array *g_byte_array_sized_new(unsigned int reserved_size);
struct bdtrace_gbyte_array *g_byte_array_set_size(struct bdtrace_gbyte_array *array, unsigned int length);
void g_byte_array_unref(struct bdtrace_gbyte_array *array);

/* Reads len (> 0) bytes of guest memory at virtual address addr into data
 * (resized to len) for the vCPU of the running callback. False, with
 * nothing read, when the guest cannot read there. */
bool qemu_plugin_read_memory_vaddr(uint64_t addr, struct bdtrace_gbyte_array *data, size_t len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_V4_H */
