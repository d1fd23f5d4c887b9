/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generations 1 to 6 (QEMU 7.2 - 11.0): the callbacks that
 * generation 7 changed, as these generations have them (the first
 * argument is the plugin's id). Included by <bdtrace/qemu_plugin_api.h>
 * only; see API GENERATIONS there. The plugin registers them through
 * <bdtrace/qemu_plugin_callbacks.h>.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_CALLBACKS_V1_H
#define BDTRACE_QEMU_PLUGIN_API_CALLBACKS_V1_H

#ifdef __cplusplus
extern "C" {
#endif

/* QEMU exits; userdata as registered. */
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
/* A vCPU (linux-user: a guest thread) starts or ends. */
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
/* A block was translated; register its execution callbacks from here. */
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
/* Called before the guest syscall runs, with its number and 8 arguments. */
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                                              uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                                              uint64_t a6, uint64_t a7, uint64_t a8);
/* Called after the guest syscall returned. */
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                                                  int64_t ret);

void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);
void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_ret_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_CALLBACKS_V1_H */
