// One call from trace directories to a Report: what bd-analyze does.
#ifndef BDTRACE_ANALYZER_ANALYZE_H
#define BDTRACE_ANALYZER_ANALYZE_H

#include <string>
#include <vector>

#include "bdtrace/analyzer/reader.h"
#include "bdtrace/analyzer/status.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

// Finds the traces under paths, reads them and builds the report. Errors:
// a path that does not exist or holds no CTF trace, a trace that babeltrace2
// cannot read to the end (truncated, corrupt), a trace without events.
// Never returns a partial report.
Expected<report::Report> Analyze(const std::vector<std::string> &paths,
                                 const ReaderOptions &options = {});

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_ANALYZE_H
