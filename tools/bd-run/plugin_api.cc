// SPDX-License-Identifier: MIT
#include "plugin_api.h"

namespace bdtrace::bdrun {

int plugin_api_for(const QemuCapabilities& caps) {
  if (!caps.known) return 1;
  const int v = caps.major * 100 + caps.minor;  // 9.2 -> 902
  if (v < 900) return 1;
  if (v < 901) return 2;
  if (v < 902) return 3;
  if (v < 1001) return 4;
  if (v < 1100) return 5;
  if (v < 1101) return 6;
  return 7;
}

std::string plugin_file_name(int api) {
  return api <= 1 ? "libbdtrace-qemu.so" : "libbdtrace-qemu-v" + std::to_string(api) + ".so";
}

}  // namespace bdtrace::bdrun
