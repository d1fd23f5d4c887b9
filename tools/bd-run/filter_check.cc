#include "filter_check.h"

#include <bdtrace/filter/config.h>
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>

namespace bdtrace::bdrun {

tools::Result<std::string> check_filter(const std::string& path) {
  filter::FilterConfig config;
  std::string error;
  if (!filter::load_config_file(path, config, error)) {
    return tools::make_error("--filter: " + error + " (see filter/README.md for the format)");
  }
  // The plugin runs in QEMU's working directory and watches the file for
  // as long as QEMU runs: give it a path that stays valid.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return tools::make_error("--filter: cannot resolve '" + path + "': " + std::strerror(errno));
  }
  return std::string(resolved);
}

}  // namespace bdtrace::bdrun
