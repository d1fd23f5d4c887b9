/* SPDX-License-Identifier: MIT */
// bd-run --handler PATH[:ARGS]: each handler is loaded and checked
// (<bd/handler.h>: symbols, ABI version, init and fini) before QEMU starts,
// so a bad one fails here with the reason instead of in QEMU.
#pragma once

#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// The plugin's handler= values (absolute paths: QEMU's working directory
// is ours, but the message should say exactly which file), or the first
// handler's error.
Expected<std::vector<std::string>> check_handlers(const std::vector<std::string>& specs);

}  // namespace bdtrace::bdrun
