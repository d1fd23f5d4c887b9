// SPDX-License-Identifier: GPL-2.0-or-later
// bdtrace QEMU TCG plugin entry: build/lib/libbdtrace-qemu.so, one module for
//   linux-user:          qemu-x86_64 -plugin ...,[program=P][,vm=N][,filter=F][,verbose=on] ./guest
//                        (likewise qemu-aarch64, qemu-riscv64, qemu-s390x)
//   system emulation:    qemu-system-x86_64 ... -plugin ...,channel=PATH[,vm=N][,filter=F][,verbose=on]
//                        (likewise qemu-system-aarch64)
// Chooses the guest architecture's row of the target table once
// (bdtrace/plugin/guest_targets.h: refuses targets it does not know), parses the
// options (one Options for both backends),
// and hands over to the backend for QEMU's mode: usermode/usermode_backend.cc or
// device/device_backend.cc.
// Only the two symbols QEMU looks for are exported (exports.map).
#include <bdtrace/device/device_backend.h>
#include <bdtrace/qemu_plugin_api.h>

#include "bdtrace/plugin/guest_targets.h"
#include "bdtrace/session_join.h"
#include "bdtrace/plugin/options.h"
#include "usermode_backend.h"

#include <cstdio>
#include <exception>
#include <string>

#define BDTRACE_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// Declared (with C linkage) in qemu_plugin_api.h; QEMU reads it before install.
__attribute__((visibility("default"))) int qemu_plugin_version = BDTRACE_QEMU_PLUGIN_API_VERSION;

namespace bdtrace {
namespace {

Status install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  if (info == nullptr) return make_error("QEMU passed no qemu_info_t");
  const Expected<const plugin::GuestTarget *> target =
      plugin::find_guest_target(info->target_name, info->system_emulation);
  if (!target) return target.error();
  const Expected<plugin::Options> opts = plugin::parse_options(argc, argv);
  if (!opts) return opts.error();
  // Before the first event: a tracing bd-run records only the processes
  // that joined its session. Not fatal: the guest runs, untraced, and the
  // warning says so.
  (void)tracepoints::join_session_or_warn("QEMU");
  return info->system_emulation ? device::install_system(id, *info, **target, *opts)
                                : usermode::install_user(id, *info, **target, *opts);
}

}  // namespace
}  // namespace bdtrace

BDTRACE_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                              char **argv) {
  try {
    const bdtrace::Status installed = bdtrace::install(id, info, argc, argv);
    if (installed) return 0;
    std::fprintf(stderr, "bdtrace: %s\n", installed.error().ToString().c_str());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "bdtrace: plugin start failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "bdtrace: plugin start failed\n");
  }
  return 1;
}
