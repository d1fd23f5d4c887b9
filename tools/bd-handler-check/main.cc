// SPDX-License-Identifier: MIT
// bd-handler-check PATH[:ARGS]...: loads host handlers the way the bdtrace
// plugin does at start (dlopen, symbols, ABI version, bd_handler_init),
// prints the event ids each registered, and unloads them (bd_handler_fini).
// Exit 0 when all loaded, 1 when one was refused (the message says why),
// 2 on bad usage.
#include <bdtrace/handlers/handler_set.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  CLI::App app{
      "Load bdtrace host handlers as the plugin would (dlopen, the four symbols of bd/handler.h, the ABI "
      "version, bd_handler_init with ARGS), list the event ids each registered, then unload them "
      "(bd_handler_fini). Several handlers are loaded together, so overlapping registrations show.",
      "bd-handler-check"};
  std::vector<std::string> specs;
  app.add_option("handler", specs, "PATH[:ARGS]: a handler shared object and its argument string")
      ->required();
  CLI11_PARSE(app, argc, argv);

  bdtrace::handlers::HandlerSet set;
  for (const std::string &spec : specs) {
    if (const bdtrace::Status loaded = set.load(spec); !loaded) {
      std::fprintf(stderr, "bd-handler-check: %s\n", loaded.error().ToString().c_str());
      return 1;
    }
  }
  std::printf("bd_handler_abi_version %u\n", BD_HANDLER_ABI_VERSION);
  for (const auto &r : set.registrations())
    std::printf("events %u-%u %s\n", r.first, r.last, r.handler.c_str());
  set.finish();
  return 0;
}
