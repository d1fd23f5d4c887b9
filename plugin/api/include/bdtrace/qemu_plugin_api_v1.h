/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generations 1 and 2 (QEMU 7.2 - 9.0): the declarations
 * that differ from later generations. Included by <bdtrace/qemu_plugin_api.h>
 * only; see API GENERATIONS there.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_V1_H
#define BDTRACE_QEMU_PLUGIN_API_V1_H

#ifdef __cplusplus
extern "C" {
#endif

/* A pointer to the instruction's bytes as they lie in guest memory
 * (qemu_plugin_insn_size of them), valid during the translation callback. */
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_V1_H */
