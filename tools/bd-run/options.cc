#include "options.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

namespace bdtrace::bdrun {
namespace {

constexpr const char* kDescription =
    "bd-run: run an x86_64 program under qemu-x86_64 with the bdtrace plugin and,\n"
    "with --trace, record its bd_mark events into an LTTng trace.\n"
    "\n"
    "With --trace DIR, bd-run creates its own LTTng session (through the running\n"
    "lttng-sessiond) writing to DIR, starts it, runs the program, stops and destroys\n"
    "the session, and reports events the tracer had to discard. Without --trace it\n"
    "only runs the program under QEMU with the plugin (events are recorded only if\n"
    "some other LTTng session enables bdtrace:*).\n"
    "\n"
    "The program's stdin/stdout/stderr are its own; bd-run's messages go to stderr.\n"
    "The exit status is the program's (128+N if it was killed by signal N), or 2\n"
    "when bd-run could not start it.\n"
    "\n"
    "Example:\n"
    "  bd-run --trace /tmp/trace -- ./my-program --its-flag\n"
    "  babeltrace2 /tmp/trace      # or: bd-analyze /tmp/trace\n";

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// CLI11 2.1 has no App::usage(); its default usage line omits PROGRAM.
class Formatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override {
    return "\nUsage: bd-run [OPTIONS] [--] PROGRAM [ARGS...]\n";
  }
};

}  // namespace

ParseOutcome parse_command_line(int argc, char** argv) {
  RunOptions o;
  std::vector<std::string> raw_plugin_args;

  CLI::App app(kDescription, "bd-run");
  app.formatter(std::make_shared<Formatter>());
  // Everything from PROGRAM on belongs to the guest, even words that look
  // like bd-run options.
  app.prefix_command();
  app.add_option("--trace", o.trace_dir, "Record a trace into DIR (created if missing; must be empty)")
      ->type_name("DIR");
  app.add_option("--session", o.session_name,
                 "LTTng session name (default: unique, bdtrace-<pid>-...); needs --trace")
      ->type_name("NAME");
  app.add_option("--qemu", o.qemu, "qemu-x86_64 to use (default: the one in PATH)")->type_name("PATH");
  app.add_option("--plugin", o.plugin,
                 "bdtrace QEMU plugin (default: <bd-run's dir>/../lib/libbdtrace-qemu.so)")
      ->type_name("PATH");
  app.add_option("--plugin-arg", raw_plugin_args, "Extra plugin argument, repeatable")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  app.add_option("--subbuf-size", o.subbuf_size, "LTTng sub-buffer size in bytes, a power of two (default 4 MiB)")
      ->type_name("BYTES");
  app.add_option("--subbuf-count", o.subbuf_count, "LTTng sub-buffers per buffer, a power of two (default 8)")
      ->type_name("N");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return ParseOutcome{std::nullopt, app.exit(e)};
  } catch (const CLI::CallForAllHelp& e) {
    return ParseOutcome{std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bd-run: %s\nRun 'bd-run --help' for usage.\n", e.what());
    return ParseOutcome{std::nullopt, 2};
  }

  auto usage_error = [](const std::string& msg) {
    std::fprintf(stderr, "bd-run: %s\nRun 'bd-run --help' for usage.\n", msg.c_str());
    return ParseOutcome{std::nullopt, 2};
  };

  // remaining() is the tail of argv from PROGRAM on; CLI11 keeps or drops a
  // "--" before it depending on what follows, so look at argv too.
  std::vector<std::string> rest = app.remaining();
  bool after_separator = false;
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
    after_separator = true;
  }
  if (rest.empty()) return usage_error("no PROGRAM given: bd-run [OPTIONS] [--] PROGRAM [ARGS...]");
  const size_t separator = static_cast<size_t>(argc) - rest.size() - 1;
  if (separator >= 1 && std::string(argv[separator]) == "--") after_separator = true;
  if (rest.front().size() > 1 && rest.front()[0] == '-' && !after_separator) {
    return usage_error("unknown option " + rest.front() + " (a PROGRAM starting with '-' goes after --)");
  }
  o.program = rest.front();
  o.program_args.assign(rest.begin() + 1, rest.end());

  for (const std::string& a : raw_plugin_args) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return usage_error("--plugin-arg '" + a + "' is not NAME=VALUE (e.g. --plugin-arg log=/tmp/plugin.log)");
    }
    o.plugin_args.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  if (!o.session_name.empty() && o.trace_dir.empty()) {
    return usage_error("--session needs --trace DIR (without --trace bd-run creates no session)");
  }
  if (!is_power_of_two(o.subbuf_size) || o.subbuf_size < 4096) {
    return usage_error("--subbuf-size must be a power of two of at least 4096, e.g. 4194304");
  }
  if (!is_power_of_two(o.subbuf_count) || o.subbuf_count < 2) {
    return usage_error("--subbuf-count must be a power of two of at least 2, e.g. 8");
  }
  return ParseOutcome{std::move(o), 0};
}

}  // namespace bdtrace::bdrun
