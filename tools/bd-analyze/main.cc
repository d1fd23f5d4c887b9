// bd-analyze: summarize bdtrace CTF traces. The work is in bdanalyzer.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/report_format.h"

namespace {

constexpr int kExitTraceError = 1;
constexpr int kExitUsage = 2;

int Fail(int code, const std::string &message) {
  std::cerr << "bd-analyze: error: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{
      "Summarize bdtrace traces: per-thread, per-event and per-region statistics, events the "
      "tracer discarded and records the plugin rejected; for full-system runs (bdtrace:sched_switch "
      "events) also which guest process ran on which vCPU, and for how long.\n"
      "TRACE_DIR is the directory bd-run --trace wrote (or any directory holding LTTng CTF "
      "traces; it is searched for 'metadata' files). Several directories are read together, "
      "in time order.\n"
      "Exit status: 0 success, 1 unreadable/empty trace, 2 bad usage.",
      "bd-analyze"};
  std::vector<std::string> paths;
  std::string format = "text";
  std::string output;
  app.add_option("TRACE_DIR", paths, "trace directory (one or more)")->required();
  app.add_option("-f,--format", format, "report format: text (tables) or json (proto/report.proto)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("-o,--output", output, "write the report to FILE instead of standard output")
      ->option_text("FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return Fail(kExitUsage, std::string(e.what()) + " (see bd-analyze --help)");
  }

  auto report = bdtrace::analyzer::Analyze(paths);
  if (!report) return Fail(kExitTraceError, report.error().ToString());

  std::string text;
  if (format == "json") {
    auto json = bdtrace::analyzer::FormatJson(*report);
    if (!json) return Fail(kExitTraceError, json.error().ToString());
    text = std::move(*json);
  } else {
    text = bdtrace::analyzer::FormatText(*report);
  }

  if (output.empty()) {
    std::cout << text << std::flush;
    if (!std::cout) return Fail(kExitTraceError, "cannot write the report to standard output");
    return 0;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return Fail(kExitTraceError, "cannot write the report to " + output);
  return 0;
}
