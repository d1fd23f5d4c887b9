/* SPDX-License-Identifier: MIT */
// One call from trace directories to a Report: what bd-analyze does.
#ifndef BDTRACE_ANALYZER_ANALYZE_H
#define BDTRACE_ANALYZER_ANALYZE_H

#include <functional>
#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/model.h"
#include "bdtrace/analyzer/reader.h"
#include "bdtrace/analyzer/selection.h"
#include "bdtrace/status.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

struct AnalyzeOptions {
  ReaderOptions reader;
  Selection selection;
  ModelOptions model;
  // Draw a progress bar on this file descriptor while reading (-1: none).
  int progress_fd = -1;
  // Also hand the selected events to these (a timeline, an exporter), after
  // the model, in order.
  std::vector<EventVisitor *> also;
  // Called once before reading with the selecting visitor, e.g. to read
  // its origin_ns() (the trace start --since/--until count from) later.
  std::function<void(const SelectingVisitor &)> on_selector;
};

// Finds the traces under paths, reads them through the selection and
// builds the report (with the selection in it). Errors: a path that does
// not exist or holds no CTF trace, a trace that babeltrace2 cannot read to
// the end (truncated, corrupt), traces without any event, and a selection
// that keeps no mark, region, context switch or block (with --event: no mark
// or region; the error then says
// what the traces hold: time span, VM names, vCPUs, pids, tids, ids). Never returns a
// partial report. With --pid/--tid, CPU rows (processes, vCPU threads,
// process activity) are limited to the selected pids/tids.
Expected<report::Report> Analyze(const std::vector<std::string> &paths, const AnalyzeOptions &options);
Expected<report::Report> Analyze(const std::vector<std::string> &paths, const ReaderOptions &options = {});

// The SelectionInfo of a Selection (what the report says it kept).
report::SelectionInfo ToProto(const Selection &selection);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_ANALYZE_H
