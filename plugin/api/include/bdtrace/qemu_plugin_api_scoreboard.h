/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU plugin API generation 2 (QEMU 9.0) and later: scoreboards, per-vCPU
 * inline operations, and from generation 3 (QEMU 9.1) on conditional
 * callbacks. Included by <bdtrace/qemu_plugin_api.h> only; see API
 * GENERATIONS there. Only what bdtrace uses is declared.
 *
 * A scoreboard is QEMU-owned memory holding one fixed-size element per
 * vCPU index. QEMU grows it (reallocating it, inside an exclusive section
 * that stops the vCPUs running translated code, then flushing every
 * translation) when a vCPU whose index is beyond its capacity is
 * initialized; element addresses are therefore valid only until the next
 * such growth. Code running inside a callback of translated code is safe
 * from a concurrent growth; any other thread is not (plugin/code_gate.h
 * says how bdtrace copes).
 *
 * A conditional callback is decided by code QEMU generates into the
 * translation: it compares one 64-bit member of the executing vCPU's
 * element with a constant and calls only when the comparison holds, so a
 * false condition costs a load, a compare and a branch, not a call.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_SCOREBOARD_H
#define BDTRACE_QEMU_PLUGIN_API_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct qemu_plugin_scoreboard;

/* One 64-bit member of every element of a scoreboard: the board and the
 * member's byte offset inside an element. Passed by value. */
typedef struct {
  struct qemu_plugin_scoreboard *score;
  size_t offset;
} qemu_plugin_u64;

/* Comparison of a conditional callback: entry <cond> imm, unsigned. */
enum qemu_plugin_cond {
  QEMU_PLUGIN_COND_NEVER = 0,
  QEMU_PLUGIN_COND_ALWAYS = 1,
  QEMU_PLUGIN_COND_EQ = 2,
  QEMU_PLUGIN_COND_NE = 3,
  QEMU_PLUGIN_COND_LT = 4,
  QEMU_PLUGIN_COND_LE = 5,
  QEMU_PLUGIN_COND_GT = 6,
  QEMU_PLUGIN_COND_GE = 7,
};

/* Inline operations on the executing vCPU's member. */
enum qemu_plugin_op {
  QEMU_PLUGIN_INLINE_ADD_U64 = 0,
  QEMU_PLUGIN_INLINE_STORE_U64 = 1,
};

/* A new zero-filled scoreboard of element_size bytes per vCPU index;
 * released with qemu_plugin_scoreboard_free. */
struct qemu_plugin_scoreboard *qemu_plugin_scoreboard_new(size_t element_size);
void qemu_plugin_scoreboard_free(struct qemu_plugin_scoreboard *score);

/* The number of vCPU indexes initialized so far (the highest + 1); element
 * accesses below must use a smaller index. */
int qemu_plugin_num_vcpus(void);

/* Store / load a member of vCPU vcpu_index's element (plain accesses; see
 * the growth rule above for who may call them when). */
void qemu_plugin_u64_set(qemu_plugin_u64 entry, unsigned int vcpu_index, uint64_t val);
uint64_t qemu_plugin_u64_get(qemu_plugin_u64 entry, unsigned int vcpu_index);
/* The member summed over every initialized vCPU. */
uint64_t qemu_plugin_u64_sum(qemu_plugin_u64 entry);

/* Every execution of the block applies op with imm to the executing vCPU's
 * member, in generated code. */
void qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                                       qemu_plugin_u64 entry, uint64_t imm);

#if BDTRACE_QEMU_PLUGIN_API >= 3
/* Every execution of the block calls cb(vcpu, userdata) when the executing
 * vCPU's member <cond> imm holds (generation 3, QEMU 9.1, and later). */
void qemu_plugin_register_vcpu_tb_exec_cond_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                               enum qemu_plugin_cb_flags flags, enum qemu_plugin_cond cond,
                                               qemu_plugin_u64 entry, uint64_t imm, void *userdata);
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_SCOREBOARD_H */
