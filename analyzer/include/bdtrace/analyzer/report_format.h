/* SPDX-License-Identifier: MIT */
// Rendering a Report for people (text), programs (JSON) and spreadsheets
// (CSV), one report kind at a time.
#ifndef BDTRACE_ANALYZER_REPORT_FORMAT_H
#define BDTRACE_ANALYZER_REPORT_FORMAT_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bdtrace/status.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

// bd-analyze --report. The timeline is not made from a Report (it is
// streamed: see timeline.h).
enum class ReportKind { kSummary, kProcesses, kRegions, kMarks, kTimeline };
std::optional<ReportKind> ParseReportKind(std::string_view name);
const char *ReportKindName(ReportKind kind);

// The Report with only what `kind` shows, for JSON: the header (paths,
// dirs, sessions, vms, totals, times, discarded, ring drops, guest time,
// rejected, filter, warnings, selection) always; summary: everything; processes: vcpus, processes,
// process_activity, threads; regions: regions, region_processes,
// region_totals; marks: events, mark_rates, threads. Sets report_kind.
report::Report ForKind(const report::Report &full, ReportKind kind);

// Readable tables: summary, threads, events, regions, discarded/rejected
// (and, for ring-channel traces, ring drops and guest time), warnings. Times are relative to the trace's first event, so the text
// depends only on the trace, not on when it was read. With several VMs,
// rows carry a vm column.
std::string FormatText(const report::Report &report);
// The text of one report kind (not kTimeline); kSummary is FormatText.
std::string FormatText(const report::Report &report, ReportKind kind);

// One CSV table per kind (RFC 4180: CRLF line ends, fields with a comma,
// quote, CR or LF quoted, quotes doubled; a header row first):
//   summary    section,item,value,vm,pid,tid,comm,events,marks,text_marks,
//              region_begins,region_ends,first_s,last_s: "summary" rows
//              carry the text summary's header in item,value (trace,
//              session, duration_s, the totals, discarded, ring_dropped,
//              rejected, filter_*, warning; an item repeats for each of its
//              values), then one "thread" row per thread in the other columns
//   processes  per process: vm,pid,comm,threads,marks,text_marks,
//              region_begins,region_ends,events,cpu_ns,switches_in
//   regions    per scope (id, process, thread): scope,vm,pid,tid,region_id,
//              name,count,total_ns,min_ns,mean_ns,p50_ns,p90_ns,p99_ns,
//              max_ns,unmatched_begins,unmatched_ends
//   marks      per time bucket: bucket,start_s,end_s,all, then one column
//              per event id, headed "ID" or "ID name"
// Times in seconds are after the trace's first event.
std::string FormatCsv(const report::Report &report, ReportKind kind);

// One RFC 4180 field / a row of them ending in CRLF.
std::string CsvField(std::string_view value);
std::string CsvRow(const std::vector<std::string> &fields);

// The Report as JSON (proto field names, every primitive field printed).
Expected<std::string> FormatJson(const report::Report &report);

// Parses FormatJson's output back (tests, tools reading reports).
Expected<report::Report> ParseJson(const std::string &json);

// "950 ns", "12.345 us", "1.500 ms", "2.000 s".
std::string FormatDuration(uint64_t ns);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_REPORT_FORMAT_H
