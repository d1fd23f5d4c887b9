// The plugin's full-system backend (qemu-system-x86_64 and
// qemu-system-aarch64, TCG): traps from a guest that talks to bdtrace
// through the ivshmem channel (<bd/channel.h>).
// The plugin entry (usermode/plugin.cc) calls install_system() when QEMU
// reports system emulation.
#ifndef BDTRACE_DEVICE_DEVICE_BACKEND_H
#define BDTRACE_DEVICE_DEVICE_BACKEND_H

#include <bdtrace/qemu_plugin_api.h>

#include <cstdint>
#include <cstddef>
#include <string>

namespace bdtrace::device {

// What the backend needs to know of the guest architecture (the plugin
// entry takes it from usermode/guest_targets.h, QEMU's target name).
struct SystemTarget {
    const unsigned char *trap = nullptr;  // the trap's exact bytes
    std::size_t trap_len = 0;
    uint64_t kernel_space_start = 0;      // a pc at or above it is the guest kernel's
};

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
bool install_system(qemu_plugin_id_t id, const qemu_info_t &info, const SystemTarget &target,
                    const SystemConfig &config, std::string &error);

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_DEVICE_BACKEND_H
