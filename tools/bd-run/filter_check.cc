// SPDX-License-Identifier: MIT
#include "filter_check.h"

#include <bdtrace/filter/config.h>
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>

namespace bdtrace::bdrun {

Expected<std::string> check_filter(const std::string& path) {
  if (const Expected<filter::FilterConfig> config = filter::load_config_file(path); !config) {
    return make_error("--filter: " + config.error().message + " (see filter/README.md for the format)");
  }
  // The plugin runs in QEMU's working directory and watches the file for
  // as long as QEMU runs: give it a path that stays valid.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return make_error("--filter: cannot resolve '" + path + "': " + std::strerror(errno));
  }
  return std::string(resolved);
}

}  // namespace bdtrace::bdrun
