// bdtrace QEMU TCG plugin entry: build/lib/libbdtrace-qemu.so, one module for
//   linux-user:          qemu-x86_64 -plugin ...,[program=P][,vm=N][,filter=F][,verbose=on] ./guest
//                        (likewise qemu-aarch64, qemu-riscv64, qemu-s390x)
//   system emulation:    qemu-system-x86_64 ... -plugin ...,channel=PATH[,vm=N][,filter=F][,verbose=on]
//                        (likewise qemu-system-aarch64)
// Chooses the guest architecture's row of the target table once
// (guest_targets.h: refuses targets it does not know), parses the options,
// and hands over to the backend for QEMU's mode: usermode_backend.cc or
// device/device_backend.cc.
// Only the two symbols QEMU looks for are exported (exports.map).
#include <bdtrace/device/device_backend.h>
#include <bdtrace/qemu_plugin_api.h>

#include "guest_targets.h"
#include "options.h"
#include "usermode_backend.h"

#include <cstdio>
#include <exception>
#include <string>

#define BDTRACE_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// Declared (with C linkage) in qemu_plugin_api.h; QEMU reads it before install.
__attribute__((visibility("default"))) int qemu_plugin_version =
    BDTRACE_QEMU_PLUGIN_API_VERSION;

namespace bdtrace {
namespace {

bool install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv,
             std::string &error) {
    if (info == nullptr) {
        error = "QEMU passed no qemu_info_t";
        return false;
    }
    const usermode::GuestTarget *target =
        usermode::find_guest_target(info->target_name, info->system_emulation, error);
    if (target == nullptr) return false;
    usermode::Options opts;
    if (!usermode::parse_options(argc, argv, opts, error)) return false;
    if (!info->system_emulation) return usermode::install_user(id, *info, *target, opts, error);

    device::SystemConfig config;
    config.channel = opts.channel;
    config.vm = opts.vm;
    config.program = opts.program;
    config.verbose = opts.verbose;
    config.filter = opts.filter;
    config.qemu_version = opts.qemu_version;
    device::SystemTarget system_target;
    system_target.trap = target->trap;
    system_target.trap_len = target->trap_len;
    system_target.kernel_space_start = target->kernel_space_start;
    return device::install_system(id, *info, system_target, config, error);
}

}  // namespace
}  // namespace bdtrace

BDTRACE_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                              int argc, char **argv) {
    try {
        std::string error;
        if (bdtrace::install(id, info, argc, argv, error)) return 0;
        std::fprintf(stderr, "bdtrace: %s\n", error.c_str());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bdtrace: plugin start failed: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "bdtrace: plugin start failed\n");
    }
    return 1;
}
