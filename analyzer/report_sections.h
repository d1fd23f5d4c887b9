/* SPDX-License-Identifier: MIT */
// The sections of the text reports (report_text.cc) shared by the report
// kinds (report_kinds_text.cc). Internal to bdanalyzer.
#ifndef BDTRACE_ANALYZER_REPORT_SECTIONS_H
#define BDTRACE_ANALYZER_REPORT_SECTIONS_H

#include <cstdint>
#include <string>

#include "report.pb.h"

namespace bdtrace::analyzer::text {

std::string Num(uint64_t v);
std::string Printf(const char *fmt, double v);
// "+1.234": milliseconds after begin_ns.
std::string Offset(int64_t ts_ns, int64_t begin_ns);
std::string NameOrDash(const std::string &name);
std::string Percent(double share);
std::string Ms(uint64_t ns);
std::string ProcessName(const std::string &comm, uint32_t pid);
// Several distinct VM names among the traces read: rows need a vm column.
bool ManyVms(const report::Report &r);

// The header: paths, sessions, selection, duration, totals, discarded,
// rejected.
void Summary(const report::Report &r, std::string &out, const char *title);
// Only when the trace has the filter's events: per-vCPU decisions, rules'
// rate-limit drops, config loads and notes.
void Filter(const report::Report &r, std::string &out);
void Vcpus(const report::Report &r, std::string &out);
void Processes(const report::Report &r, std::string &out);
// Only when the trace has bdtrace:tb_exec events.
void HotBlocks(const report::Report &r, std::string &out);
void Threads(const report::Report &r, std::string &out);
void Events(const report::Report &r, std::string &out);
void Regions(const report::Report &r, std::string &out);
void Warnings(const report::Report &r, std::string &out);

}  // namespace bdtrace::analyzer::text

#endif  // BDTRACE_ANALYZER_REPORT_SECTIONS_H
