/* SPDX-License-Identifier: MIT */
// Which build of bdtrace's plugin a QEMU loads: one per QEMU plugin API
// generation (plugin/api/include/bdtrace/qemu_plugin_api.h, API
// GENERATIONS), chosen from the QEMU's version.
#pragma once

#include <string>

#include "channel_choice.h"

namespace bdtrace::bdrun {

// The API generation of a QEMU's plugins: 1 for QEMU up to 8.2, 2 for 9.0,
// 3 for 9.1, 4 for 9.2 to 10.0, 5 for 10.1 and 10.2, 6 for 11.0, 7 for
// 11.1 and later (a later QEMU that raises its minimum again refuses the v7
// build with its own message, which bd-run shows). 1 when the version is
// not known (a wrapper that does not answer -version like QEMU). Pure.
int plugin_api_for(const QemuCapabilities& caps);

// The plugin file of a generation: libbdtrace-qemu.so for 1,
// libbdtrace-qemu-vN.so otherwise. Pure.
std::string plugin_file_name(int api);

}  // namespace bdtrace::bdrun
