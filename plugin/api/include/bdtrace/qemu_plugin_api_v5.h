/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generation 5 (QEMU 10.1 - 10.2) and later: writing guest memory
 * through QEMU, on top of generation 4's reads. Included by
 * <bdtrace/qemu_plugin_api.h> only; see API GENERATIONS there.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_V5_H
#define BDTRACE_QEMU_PLUGIN_API_V5_H

#include <bdtrace/qemu_plugin_api_v4.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes data->len (> 0) bytes of data to guest virtual address addr for
 * the vCPU of the running callback. False, with nothing written, when the
 * guest cannot write there. */
bool qemu_plugin_write_memory_vaddr(uint64_t addr, struct bdtrace_gbyte_array *data);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_V5_H */
