// SPDX-License-Identifier: MIT
// The report kinds: which sections each shows (ForKind for JSON) and the
// text of the processes, regions and marks reports.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bdtrace/analyzer/report_format.h"
#include "report_sections.h"
#include "text_table.h"

namespace bdtrace::analyzer {

namespace {

using text::Num;
using Align = TextTable::Align;

// Rows of the per-thread tables before eliding (JSON has them all).
constexpr int kMaxRows = 100;
// Event columns of the rate table before eliding.
constexpr int kMaxRateColumns = 8;
constexpr int kBarWidth = 40;

void Elided(int total, int shown, const char *what, std::string &out) {
  if (total > shown) {
    out += "  +" + Num(total - shown) + " more " + what + " (all of them are in --format json)\n";
  }
}

std::string DurationOrDash(bool any, uint64_t ns) { return any ? FormatDuration(ns) : "-"; }

// The duration columns shared by the three region tables.
void AddDurationCells(const report::RegionStats &g, std::vector<std::string> &row) {
  const bool any = g.count() > 0;
  for (std::string cell :
       {Num(g.count()), DurationOrDash(any, g.total_ns()), DurationOrDash(any, g.min_ns()),
        DurationOrDash(any, g.p50_ns()), DurationOrDash(any, g.p90_ns()), DurationOrDash(any, g.p99_ns()),
        DurationOrDash(any, g.max_ns()), Num(g.unmatched_begins()), Num(g.unmatched_ends())}) {
    row.push_back(std::move(cell));
  }
}

void AddDurationColumns(std::vector<TextTable::Column> &columns) {
  for (const char *c : {"count", "total", "min", "p50", "p90", "p99", "max", "open", "stray"}) {
    columns.push_back({c, Align::kRight});
  }
}

enum class Scope { kId, kProcess, kThread };

template <typename Rows>
void RegionTable(const report::Report &r, const Rows &rows, Scope scope, std::string &out) {
  if (rows.empty()) {
    out += "  none\n";
    return;
  }
  const bool vm_column = scope != Scope::kId && text::ManyVms(r);
  std::vector<TextTable::Column> columns = {{"id", Align::kRight}, {"name", Align::kLeft}};
  if (vm_column) columns.push_back({"vm", Align::kLeft});
  if (scope != Scope::kId) columns.push_back({"pid", Align::kRight});
  if (scope == Scope::kThread) columns.push_back({"tid", Align::kRight});
  AddDurationColumns(columns);
  TextTable table(std::move(columns));
  int shown = 0;
  for (const report::RegionStats &g : rows) {
    if (shown == kMaxRows) break;
    ++shown;
    std::vector<std::string> row = {Num(g.region_id()), text::NameOrDash(g.name())};
    if (vm_column) row.push_back(text::NameOrDash(g.vm()));
    if (scope != Scope::kId) row.push_back(Num(g.pid()));
    if (scope == Scope::kThread) row.push_back(Num(g.tid()));
    AddDurationCells(g, row);
    table.AddRow(std::move(row));
  }
  out += table.Render();
  Elided(rows.size(), shown, "rows", out);
}

// One id's histogram, its buckets merged per power of two, as bars.
void Histogram(const report::RegionStats &g, std::string &out) {
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> octaves;  // lower -> (upper, count)
  for (const report::HistogramBucket &b : g.histogram()) {
    uint64_t lower = 1;
    while (lower <= b.lower_ns() / 2) lower *= 2;
    if (b.lower_ns() == 0) lower = 0;
    auto &[upper, count] = octaves[lower];
    upper = std::max(upper, b.upper_ns());
    count += b.count();
  }
  uint64_t most = 1;
  for (const auto &[lower, v] : octaves) most = std::max(most, v.second);
  out += "\n  " + Num(g.region_id()) + " " + text::NameOrDash(g.name()) + " (" + Num(g.count()) +
         " durations)\n";
  TextTable table(
      {{"from", Align::kRight}, {"to", Align::kRight}, {"count", Align::kRight}, {"", Align::kLeft}});
  for (const auto &[lower, v] : octaves) {
    const int bar = static_cast<int>((v.second * kBarWidth + most - 1) / most);
    table.AddRow({FormatDuration(lower), FormatDuration(v.first), Num(v.second),
                  std::string(static_cast<size_t>(bar), '#')});
  }
  out += table.Render();
}

std::string ProcessesText(const report::Report &r) {
  std::string out;
  text::Summary(r, out, "bd-analyze processes report");
  text::Vcpus(r, out);
  text::Processes(r, out);
  text::HotBlocks(r, out);
  const bool vm_column = text::ManyVms(r);

  if (r.vcpus_size() > 0) {
    out += "\nthreads per vCPU (CPU time in ms; share of the vCPU's observed time)\n";
    std::vector<TextTable::Column> columns;
    if (vm_column) columns.push_back({"vm", Align::kLeft});
    for (const char *c : {"vcpu", "pid", "tid"}) columns.push_back({c, Align::kRight});
    columns.push_back({"comm", Align::kLeft});
    for (const char *c : {"switches", "ms", "share"}) columns.push_back({c, Align::kRight});
    TextTable table(std::move(columns));
    int rows = 0, shown = 0;
    for (const report::VcpuStats &v : r.vcpus()) {
      for (const report::VcpuThread &t : v.threads()) {
        ++rows;
        if (shown == kMaxRows) continue;
        ++shown;
        std::vector<std::string> row;
        if (vm_column) row.push_back(text::NameOrDash(v.vm()));
        for (std::string cell : {Num(v.vcpu()), Num(t.pid()), Num(t.tid()), text::NameOrDash(t.comm()),
                                 Num(t.switches_in()), text::Ms(t.ns()), text::Percent(t.share())}) {
          row.push_back(std::move(cell));
        }
        table.AddRow(std::move(row));
      }
    }
    out += table.Render();
    Elided(rows, shown, "rows", out);
  }

  out += "\nmarks and regions per process (cpu: ms from sched_switch, - without)\n";
  if (r.process_activity_size() == 0) {
    out += "  none\n";
  } else {
    std::vector<TextTable::Column> columns;
    if (vm_column) columns.push_back({"vm", Align::kLeft});
    columns.push_back({"pid", Align::kRight});
    columns.push_back({"comm", Align::kLeft});
    for (const char *c : {"threads", "events", "marks", "text", "begins", "ends", "cpu"}) {
      columns.push_back({c, Align::kRight});
    }
    TextTable table(std::move(columns));
    int shown = 0;
    for (const report::ProcessActivity &p : r.process_activity()) {
      if (shown == kMaxRows) break;
      ++shown;
      std::vector<std::string> row;
      if (vm_column) row.push_back(text::NameOrDash(p.vm()));
      for (std::string cell :
           {Num(p.pid()), text::NameOrDash(p.comm()), Num(p.threads()), Num(p.events()), Num(p.marks()),
            Num(p.text_marks()), Num(p.region_begins()), Num(p.region_ends()),
            r.vcpus_size() > 0 ? text::Ms(p.cpu_ns()) : std::string("-")}) {
        row.push_back(std::move(cell));
      }
      table.AddRow(std::move(row));
    }
    out += table.Render();
    Elided(r.process_activity_size(), shown, "processes", out);
  }
  text::Threads(r, out);
  text::Warnings(r, out);
  return out;
}

std::string RegionsText(const report::Report &r) {
  std::string out;
  text::Summary(r, out, "bd-analyze regions report");
  out +=
      "\nregions by id, over all threads (percentiles from a log histogram: within 6.25%; "
      "open: begins never ended, stray: ends without a begin)\n";
  RegionTable(r, r.region_totals(), Scope::kId, out);
  out += "\nregions by process\n";
  RegionTable(r, r.region_processes(), Scope::kProcess, out);
  out += "\nregions by thread\n";
  RegionTable(r, r.regions(), Scope::kThread, out);
  bool header = false;
  for (const report::RegionStats &g : r.region_totals()) {
    if (g.count() == 0) continue;
    if (!header) {
      out += "\nduration histograms by id (per power of two)\n";
      header = true;
    }
    Histogram(g, out);
  }
  text::Warnings(r, out);
  return out;
}

std::string MarksText(const report::Report &r) {
  std::string out;
  text::Summary(r, out, "bd-analyze marks report");
  text::Events(r, out);
  text::Threads(r, out);
  const report::MarkRates &mr = r.mark_rates();
  out += "\nmark rates (buckets of " + FormatDuration(mr.bucket_ns()) + " from the first mark" +
         (mr.buckets() > 0 ? ", at " + text::Offset(mr.origin_ns(), r.trace_begin_ns()) + " ms"
                           : std::string()) +
         "; peak: the busiest bucket)\n";
  if (mr.events_size() == 0) {
    out += "  none\n";
    text::Warnings(r, out);
    return out;
  }
  TextTable peaks(
      {{"id", Align::kRight}, {"name", Align::kLeft}, {"peak", Align::kRight}, {"peak/s", Align::kRight}});
  for (const report::EventRate &e : mr.events()) {
    peaks.AddRow(
        {Num(e.event_id()), text::NameOrDash(e.name()), Num(e.peak()), text::Printf("%.0f", e.peak_per_s())});
  }
  out += peaks.Render();

  out += "\nmarks per bucket (start: ms after the first event)\n";
  std::vector<TextTable::Column> columns = {{"start", Align::kRight}, {"all", Align::kRight}};
  const int ids = std::min(mr.events_size(), kMaxRateColumns);
  for (int i = 0; i < ids; ++i) {
    const report::EventRate &e = mr.events(i);
    columns.push_back({e.name().empty() ? Num(e.event_id()) : e.name(), Align::kRight});
  }
  TextTable table(std::move(columns));
  const int64_t offset = mr.origin_ns() - r.trace_begin_ns();
  for (int b = 0; b < mr.total_size(); ++b) {
    const uint64_t start = static_cast<uint64_t>(b) * mr.bucket_ns();
    std::vector<std::string> row = {
        text::Printf("%.3f", (static_cast<double>(start) + static_cast<double>(offset)) / 1e6),
        Num(mr.total(b))};
    for (int i = 0; i < ids; ++i) {
      const report::EventRate &e = mr.events(i);
      row.push_back(b < e.counts_size() ? Num(e.counts(b)) : "0");
    }
    table.AddRow(std::move(row));
  }
  out += table.Render();
  if (mr.events_size() > ids) {
    out +=
        "  +" + Num(mr.events_size() - ids) + " more event ids (all of them are in --format json and csv)\n";
  }
  text::Warnings(r, out);
  return out;
}

}  // namespace

std::optional<ReportKind> ParseReportKind(std::string_view name) {
  for (ReportKind k : {ReportKind::kSummary, ReportKind::kProcesses, ReportKind::kRegions, ReportKind::kMarks,
                       ReportKind::kTimeline}) {
    if (name == ReportKindName(k)) return k;
  }
  return std::nullopt;
}

const char *ReportKindName(ReportKind kind) {
  switch (kind) {
    case ReportKind::kSummary:
      return "summary";
    case ReportKind::kProcesses:
      return "processes";
    case ReportKind::kRegions:
      return "regions";
    case ReportKind::kMarks:
      return "marks";
    case ReportKind::kTimeline:
      return "timeline";
  }
  return "summary";
}

report::Report ForKind(const report::Report &full, ReportKind kind) {
  report::Report r = full;
  r.set_report_kind(ReportKindName(kind));
  const bool processes = kind == ReportKind::kProcesses;
  const bool regions = kind == ReportKind::kRegions;
  const bool marks = kind == ReportKind::kMarks;
  if (kind == ReportKind::kSummary) return r;
  if (!processes) {
    r.clear_vcpus();
    r.clear_processes();
    r.clear_process_activity();
  }
  if (!regions) {
    r.clear_regions();
    r.clear_region_processes();
    r.clear_region_totals();
  }
  if (!marks) {
    r.clear_events();
    r.clear_mark_rates();
  }
  if (!processes && !marks) r.clear_threads();
  return r;
}

std::string FormatText(const report::Report &report, ReportKind kind) {
  switch (kind) {
    case ReportKind::kProcesses:
      return ProcessesText(report);
    case ReportKind::kRegions:
      return RegionsText(report);
    case ReportKind::kMarks:
      return MarksText(report);
    case ReportKind::kSummary:
    case ReportKind::kTimeline:
      break;
  }
  return FormatText(report);
}

}  // namespace bdtrace::analyzer
