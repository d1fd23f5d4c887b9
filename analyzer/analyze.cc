#include "bdtrace/analyzer/analyze.h"

#include "bdtrace/analyzer/model.h"

namespace bdtrace::analyzer {

namespace {

std::string Join(const std::vector<std::string> &v) {
  std::string out;
  for (const std::string &s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace

Expected<report::Report> Analyze(const std::vector<std::string> &paths,
                                 const ReaderOptions &options) {
  Expected<std::vector<std::string>> dirs = FindTraceDirs(paths);
  if (!dirs) return dirs.take_error();

  Model model;
  Status read = ReadTraces(*dirs, model, options);
  if (!read) return read.take_error();
  if (model.events() == 0) {
    return Error{"trace has no events: " + Join(*dirs) +
                     " — was tracing started before the guest ran, and were bdtrace:* events "
                     "enabled?",
                 {}};
  }

  report::Report report;
  for (const std::string &p : paths) report.add_trace_paths(p);
  for (const std::string &d : *dirs) report.add_trace_dirs(d);
  model.Finish(report);
  return report;
}

}  // namespace bdtrace::analyzer
