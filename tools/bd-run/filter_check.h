/* SPDX-License-Identifier: MIT */
// bd-run --filter FILE: the config is validated with the plugin's own
// parser (filter/, bdfilter) before anything starts, so a bad file fails
// with "FILE:LINE:COLUMN: ..." instead of a QEMU that refuses to start.
#pragma once

#include <string>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// The config's absolute path (what the plugin gets as filter=), or the
// file:line:column error of the first problem in it.
Expected<std::string> check_filter(const std::string& path);

}  // namespace bdtrace::bdrun
