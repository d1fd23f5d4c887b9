// SPDX-License-Identifier: MIT
#include "handler_check.h"

#include <bdtrace/handlers/handler_set.h>

#include <filesystem>
#include <system_error>

namespace bdtrace::bdrun {

Expected<std::vector<std::string>> check_handlers(const std::vector<std::string>& specs) {
  std::vector<std::string> values;
  for (const std::string& spec : specs) {
    if (Status checked = handlers::HandlerSet::check(spec); !checked) return checked.take_error();
    const handlers::HandlerSpec hs = handlers::parse_handler_spec(spec);
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(hs.path, ec);
    values.push_back((ec ? hs.path : abs.string()) + (hs.args.empty() ? "" : ":" + hs.args));
  }
  return values;
}

}  // namespace bdtrace::bdrun
