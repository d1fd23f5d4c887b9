/* SPDX-License-Identifier: GPL-2.0-or-later */
// The plugin's linux-user backend (qemu-x86_64, qemu-aarch64, qemu-riscv64,
// qemu-s390x): traps whose record is in the guest process's own memory. The
// plugin entry (plugin/entry.cc) calls install_user() when QEMU reports user-mode
// emulation.
#ifndef BDTRACE_USERMODE_USERMODE_BACKEND_H
#define BDTRACE_USERMODE_USERMODE_BACKEND_H

#include <bdtrace/qemu_plugin_api.h>

#include "bdtrace/plugin/guest_targets.h"
#include "bdtrace/plugin/options.h"
#include "bdtrace/status.h"

namespace bdtrace::usermode {

// Registers the callbacks for the guest architecture `target` (from
// find_guest_target; the table row outlives the plugin) and emits
// bdtrace:session, or an error saying what to fix. Call once, from
// qemu_plugin_install.
Status install_user(qemu_plugin_id_t id, const qemu_info_t &info, const plugin::GuestTarget &target,
                    const plugin::Options &options);

}  // namespace bdtrace::usermode

#endif  // BDTRACE_USERMODE_USERMODE_BACKEND_H
