/* SPDX-License-Identifier: GPL-2.0-or-later */
// The plugin's full-system backend (qemu-system-x86_64 and
// qemu-system-aarch64, TCG): traps from a guest that talks to bdtrace
// through the ivshmem channel (<bd/channel.h>).
// The plugin entry (plugin/entry.cc) calls install_system() when QEMU
// reports system emulation.
#ifndef BDTRACE_DEVICE_DEVICE_BACKEND_H
#define BDTRACE_DEVICE_DEVICE_BACKEND_H

#include <bdtrace/qemu_plugin_api.h>

#include "bdtrace/plugin/guest_targets.h"
#include "bdtrace/plugin/options.h"
#include "bdtrace/status.h"

namespace bdtrace::device {

// Maps the channel (options.channel: the ivshmem memory-backend-file),
// writes its header, emits bdtrace:session and registers the callbacks for
// the guest architecture `target` (its trap and where its kernel space
// starts; the table row outlives the plugin), or an error saying what to
// fix; nothing is registered then. Call once, from qemu_plugin_install.
Status install_system(qemu_plugin_id_t id, const qemu_info_t &info, const plugin::GuestTarget &target,
                      const plugin::Options &options);

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_DEVICE_BACKEND_H
