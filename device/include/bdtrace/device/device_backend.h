// The plugin's full-system backend (qemu-system-x86_64, TCG): traps from a
// guest that talks to bdtrace through the ivshmem channel (<bd/channel.h>).
// The plugin entry (usermode/plugin.cc) calls install_system() when QEMU
// reports system emulation.
#ifndef BDTRACE_DEVICE_DEVICE_BACKEND_H
#define BDTRACE_DEVICE_DEVICE_BACKEND_H

#include <bdtrace/qemu_plugin_api.h>

#include <string>

namespace bdtrace::device {

struct SystemConfig {
    std::string channel;  // backing file of the ivshmem memory-backend-file
    std::string vm;       // VM name for bdtrace:session ("" = "system")
    std::string program;  // bdtrace:session program ("" = the VM name)
    std::string filter;   // filter config file (filter/README.md), "" = none
    std::string qemu_version;  // for bdtrace:session ("" = not known)
    bool verbose = false;
};

// Maps the channel, writes its header, emits bdtrace:session and registers
// the callbacks. On failure returns false with `error` saying what to fix;
// nothing is registered then. Call once, from qemu_plugin_install.
bool install_system(qemu_plugin_id_t id, const qemu_info_t &info, const SystemConfig &config,
                    std::string &error);

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_DEVICE_BACKEND_H
