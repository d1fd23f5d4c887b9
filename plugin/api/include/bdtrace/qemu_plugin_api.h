/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bdtrace's own declarations of the QEMU TCG plugin API: what every API
 * generation bdtrace is built for has in common, declaring only what bdtrace
 * uses. Debian's qemu-user / qemu-system packages export the symbols but
 * ship no header.
 *
 * Written from the API documentation (docs/devel/tcg-plugins.rst and the
 * per-function documentation of each release). The ABI must match QEMU
 * exactly or QEMU crashes: every enum value and struct member below is
 * spelled out explicitly and checked by static assertions where the
 * language allows it.
 *
 * API GENERATIONS. A plugin exports the version it was built for
 * (qemu_plugin_version); QEMU loads it only when that lies within its own
 * [version.min, version.cur], and then calls the functions with the
 * signatures of ITS current version: a function whose signature changed
 * must be declared as the generation a build targets has it. So the plugin
 * is built once per generation (BDTRACE_QEMU_PLUGIN_API = 1..7, set by the
 * build; bd-run picks the build from `qemu -version`):
 *
 *   API  QEMU        what changed (for bdtrace)            declared in
 *   1    7.2 - 8.2   (the first generation)                qemu_plugin_api_v1.h
 *   2    9.0         global inline ops and n_vcpus removed qemu_plugin_api_v1.h
 *                    (unused); minimum raised to 2: v1     + _scoreboard.h
 *                    plugins are refused from 9.0 on;
 *                    + scoreboards, per-vCPU inline ops
 *   3    9.1         qemu_plugin_insn_data copies into a   qemu_plugin_api_v3.h
 *                    buffer instead of returning a pointer;
 *                    + conditional callbacks (the closed
 *                    code-tracing gate, plugin/code_gate.h)
 *   4    9.2 - 10.0  + read_memory_vaddr                   qemu_plugin_api_v4.h
 *   5    10.1 - 10.2 + write_memory_vaddr (both used by    qemu_plugin_api_v5.h
 *                    the linux-user backend), register
 *                    writes, hwaddr access, translate_vaddr
 *   6    11.0        register read/write return bool       qemu_plugin_api_v5.h
 *                    instead of int, + set_pc (neither
 *                    used): the v5 declarations, built
 *                    with version 6 (QEMU raises its
 *                    minimum when an API changes)
 *   7    11.1        callbacks take no plugin id and end   qemu_plugin_api_v7.h
 *                    with a userdata pointer; registering
 *                    init, exit, tb_trans and the syscall
 *                    callbacks takes that userdata; the
 *                    atexit callback gets the userdata
 *                    only; minimum raised to 7
 * The callback types and registrations of generations 1 to 6 are in
 * qemu_plugin_api_callbacks_v1.h; the plugin registers them through
 * <bdtrace/qemu_plugin_callbacks.h>, which hides the difference. Everything
 * else declared in this file is the same in generations 1 to 7.
 *
 * Generation 7 is written from QEMU's documentation of 11.1 (the plugin
 * API reference and the patches that changed the callbacks) and checked
 * against Debian's qemu-system-x86 11.1.3 binary, the QEMU it is tested
 * with (tools/qemu/debian-qemu-system.sh: Debian's 11.1 source files
 * returned 404 here, so no 11.1 qemu-user with plugins could be built).
 *
 * Functions are resolved at load time against the QEMU executable, which
 * exports them; the plugin itself must export `qemu_plugin_version` and
 * `qemu_plugin_install`.
 */
#ifndef BDTRACE_QEMU_PLUGIN_API_H
#define BDTRACE_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API generation this build targets (see API GENERATIONS); also the
 * value of the exported qemu_plugin_version. */
#ifndef BDTRACE_QEMU_PLUGIN_API
#error "BDTRACE_QEMU_PLUGIN_API (1..7) must be set by the build: link a bdtrace_qemu_api_vN target"
#endif
#if BDTRACE_QEMU_PLUGIN_API < 1 || BDTRACE_QEMU_PLUGIN_API > 7
#error "BDTRACE_QEMU_PLUGIN_API must be 1..7"
#endif
#define BDTRACE_QEMU_PLUGIN_API_VERSION BDTRACE_QEMU_PLUGIN_API

/* Opaque identifier QEMU hands to the plugin at install time. */
typedef uint64_t qemu_plugin_id_t;

/* Information QEMU passes to qemu_plugin_install(). */
typedef struct {
  const char *target_name; /* guest architecture, e.g. "x86_64" */
  struct {
    int min; /* oldest API level this QEMU still supports */
    int cur; /* API level this QEMU implements */
  } version;
  bool system_emulation; /* true for qemu-system-*, false for linux-user */
  union {
    /* Only meaningful when system_emulation is true. */
    struct {
      int smp_vcpus;
      int max_vcpus;
    } system;
  };
} qemu_info_t;

/* Opaque handles valid only during the translation callback. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* Describes one memory access; decoded with qemu_plugin_mem_* helpers. */
typedef uint32_t qemu_plugin_meminfo_t;

/* Whether a callback may look at (or change) guest CPU registers. */
enum qemu_plugin_cb_flags {
  QEMU_PLUGIN_CB_NO_REGS = 0,
  QEMU_PLUGIN_CB_R_REGS = 1,
  QEMU_PLUGIN_CB_RW_REGS = 2,
};

/* Which accesses a memory callback fires for. On 7.2 a callback registered
 * with R alone never fires for loads: register RW and filter stores. */
enum qemu_plugin_mem_rw {
  QEMU_PLUGIN_MEM_R = 1,
  QEMU_PLUGIN_MEM_W = 2,
  QEMU_PLUGIN_MEM_RW = 3,
};

/* Callback types that every generation shares. */
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                                          void *userdata);
/* A block about to execute on vcpu_index; userdata as registered. */
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

/* Provided by the plugin. QEMU refuses a plugin without the version symbol.
 * qemu_plugin_install returns 0 on success; non-zero makes QEMU unload the
 * plugin and fail to start. argv holds the "name=value" options. */
extern int qemu_plugin_version;
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

/* Registration of the callbacks of translated code (the others: per
 * generation, qemu_plugin_api_callbacks_v1.h and qemu_plugin_api_v7.h). */
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
                                      void *userdata);
/* Calls cb every time this translation of the block executes (inside the
 * tb_trans callback only; blocks translated earlier are not affected). */
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);

/* Translation-time queries (only valid inside the tb_trans callback). */
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
/* Guest virtual address of the block's first instruction. */
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
/* qemu_plugin_insn_data: per generation (qemu_plugin_api_v1.h, _v3.h). */
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
/* Host address of the instruction's bytes (linux-user: guest_base + vaddr). */
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn);

/* Memory access queries (inside a memory callback). */
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);

/* System emulation only: what backs the guest address of a memory access.
 * The handle is opaque and valid only until the memory callback returns;
 * linux-user QEMU returns NULL. */
struct qemu_plugin_hwaddr;
struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info, uint64_t vaddr);
/* True when the access went to MMIO, false when it went to RAM (an ivshmem
 * BAR2 backed by a file is RAM). */
bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr);
/* The guest-physical address of the access (7.2: for RAM, computed from the
 * RAM block; consistent for one device, which is all the channel needs). */
uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr);

/* Writes to QEMU's log; visible only with -d plugin (or -D file). */
void qemu_plugin_outs(const char *string);

#ifdef __cplusplus
} /* extern "C" */
#endif

#if BDTRACE_QEMU_PLUGIN_API <= 6
#include <bdtrace/qemu_plugin_api_callbacks_v1.h>
#else
#include <bdtrace/qemu_plugin_api_v7.h>
#endif
#if BDTRACE_QEMU_PLUGIN_API <= 2
#include <bdtrace/qemu_plugin_api_v1.h>
#else
#include <bdtrace/qemu_plugin_api_v3.h>
#endif
#if BDTRACE_QEMU_PLUGIN_API >= 2
#include <bdtrace/qemu_plugin_api_scoreboard.h>
#endif
#if BDTRACE_QEMU_PLUGIN_API == 4
#include <bdtrace/qemu_plugin_api_v4.h>
#elif BDTRACE_QEMU_PLUGIN_API >= 5
#include <bdtrace/qemu_plugin_api_v5.h>
#endif

#ifdef __cplusplus
static_assert(sizeof(qemu_plugin_id_t) == 8, "qemu_plugin_id_t is 64-bit");
static_assert(sizeof(qemu_plugin_meminfo_t) == 4, "meminfo is 32-bit");
#if defined(__x86_64__) || defined(__aarch64__)
/* LP64 layout: pointer, two ints, bool (padded), union of two ints. */
static_assert(offsetof(qemu_info_t, version) == 8, "qemu_info_t layout");
static_assert(offsetof(qemu_info_t, system_emulation) == 16, "qemu_info_t layout");
static_assert(offsetof(qemu_info_t, system.smp_vcpus) == 20, "qemu_info_t layout");
static_assert(sizeof(qemu_info_t) == 32, "qemu_info_t layout");
#endif
#endif

#endif /* BDTRACE_QEMU_PLUGIN_API_H */
