/* SPDX-License-Identifier: MIT */
// bd-run's whole job, given parsed options: check, (trace,) run, report.
#pragma once

#include "options.h"

namespace bdtrace::bdrun {

// Exit status for bd-run: the guest's (QEMU's with --system), or 2 when
// bd-run could not start it.
int run(const RunOptions& options);

}  // namespace bdtrace::bdrun
