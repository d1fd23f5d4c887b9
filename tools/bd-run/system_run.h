/* SPDX-License-Identifier: MIT */
// bd-run --system: check, create the channel file, (trace,) boot the VM
// under qemu-system-x86_64, remove the channel file.
#pragma once

#include "options.h"

namespace bdtrace::bdrun {

// Exit status for bd-run: QEMU's, or 2 when bd-run could not start it.
// Needs o.system.
int run_system(const RunOptions& o);

}  // namespace bdtrace::bdrun
