/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generation 7 (QEMU 11.1): the callbacks as this
 * generation has them. No callback receives the plugin's id any more;
 * every one receives, last, the userdata pointer given when it was
 * registered, so registering the vCPU init/exit, translation and syscall
 * callbacks takes one too. The callbacks of translated code (memory,
 * block execution, conditional) were (vcpu_index, ..., userdata) already
 * and are unchanged (<bdtrace/qemu_plugin_api.h>). Included by
 * <bdtrace/qemu_plugin_api.h> only; see API GENERATIONS there. The plugin
 * registers them through <bdtrace/qemu_plugin_callbacks.h>.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_V7_H
#define BDTRACE_QEMU_PLUGIN_API_V7_H

#ifdef __cplusplus
extern "C" {
#endif

/* QEMU exits; only the userdata (the id is gone). */
typedef void (*qemu_plugin_udata_cb_t)(void *userdata);
/* A block was translated; register its execution callbacks from here. */
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(struct qemu_plugin_tb *tb, void *userdata);
/* Called before the guest syscall runs: its number, 8 arguments, then the
 * userdata. */
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                                              uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                                              uint64_t a8, void *userdata);
/* Called after the guest syscall returned. */
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(unsigned int vcpu_index, int64_t num, int64_t ret,
                                                  void *userdata);

/* A vCPU (linux-user: a guest thread) starts or ends: cb(vcpu_index,
 * userdata), the type of the block execution callbacks. */
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_udata_cb_t cb, void *userdata);
void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_udata_cb_t cb, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb,
                                           void *userdata);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb,
                                          void *userdata);
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_ret_cb_t cb,
                                              void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_V7_H */
