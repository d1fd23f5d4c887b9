/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generations 3 to 7 (QEMU 9.1 - 11.1): the declarations
 * that differ from generations 1 and 2. Included by
 * <bdtrace/qemu_plugin_api.h> only; see API GENERATIONS there.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_V3_H
#define BDTRACE_QEMU_PLUGIN_API_V3_H

#ifdef __cplusplus
extern "C" {
#endif

/* Copies the instruction's bytes as they lie in guest memory into `dest`
 * (at most `len` of them) and returns how many it copied: the smaller of
 * `len` and the instruction's size. Valid during the translation callback. */
size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest, size_t len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_V3_H */
