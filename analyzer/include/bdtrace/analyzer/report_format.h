// Rendering a Report for people (text) and programs (JSON).
#ifndef BDTRACE_ANALYZER_REPORT_FORMAT_H
#define BDTRACE_ANALYZER_REPORT_FORMAT_H

#include <string>

#include "bdtrace/analyzer/status.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

// Readable tables: summary, threads, events, regions, discarded/rejected,
// warnings. Times are relative to the trace's first event, so the text
// depends only on the trace, not on when it was read.
std::string FormatText(const report::Report &report);

// The Report as JSON (proto field names, every primitive field printed).
Expected<std::string> FormatJson(const report::Report &report);

// Parses FormatJson's output back (tests, tools reading reports).
Expected<report::Report> ParseJson(const std::string &json);

// "950 ns", "12.345 us", "1.500 ms", "2.000 s".
std::string FormatDuration(uint64_t ns);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_REPORT_FORMAT_H
