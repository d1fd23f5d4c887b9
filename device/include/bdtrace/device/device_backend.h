// The plugin's full-system backend (qemu-system-x86_64 and
// qemu-system-aarch64, TCG): traps from a guest that talks to bdtrace
// through the ivshmem channel (<bd/channel.h>).
// The plugin entry (plugin/entry.cc) calls install_system() when QEMU
// reports system emulation.
#ifndef BDTRACE_DEVICE_DEVICE_BACKEND_H
#define BDTRACE_DEVICE_DEVICE_BACKEND_H

#include <bdtrace/qemu_plugin_api.h>

#include <string>

#include "bdtrace/plugin/guest_targets.h"
#include "bdtrace/plugin/options.h"

namespace bdtrace::device {

// Maps the channel (options.channel: the ivshmem memory-backend-file),
// writes its header, emits bdtrace:session and registers the callbacks for
// the guest architecture `target` (its trap and where its kernel space
// starts; the table row outlives the plugin). On failure returns false with
// `error` saying what to fix; nothing is registered then. Call once, from
// qemu_plugin_install.
bool install_system(qemu_plugin_id_t id, const qemu_info_t &info, const plugin::GuestTarget &target,
                    const plugin::Options &options, std::string &error);

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_DEVICE_BACKEND_H
