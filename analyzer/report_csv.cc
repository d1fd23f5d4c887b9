// CSV: one table per report kind (see report_format.h for the columns).
#include <cstdio>
#include <string>
#include <vector>

#include "bdtrace/analyzer/report_format.h"

namespace bdtrace::analyzer {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

// Seconds after the trace's first event, to the nanosecond.
std::string Seconds(int64_t ts_ns, int64_t begin_ns) {
  const int64_t d = ts_ns - begin_ns;
  char buf[48];
  const uint64_t a = static_cast<uint64_t>(d < 0 ? -d : d);
  std::snprintf(buf, sizeof buf, "%s%llu.%09llu", d < 0 ? "-" : "",
                static_cast<unsigned long long>(a / 1000000000),
                static_cast<unsigned long long>(a % 1000000000));
  return buf;
}

std::string SummaryCsv(const report::Report &r) {
  std::string out = CsvRow({"vm", "pid", "tid", "comm", "events", "marks", "text_marks",
                            "region_begins", "region_ends", "first_s", "last_s"});
  for (const report::ThreadStats &t : r.threads()) {
    out += CsvRow({t.vm(), Num(t.pid()), Num(t.tid()), t.comm(), Num(t.events()), Num(t.marks()),
                   Num(t.text_marks()), Num(t.region_begins()), Num(t.region_ends()),
                   Seconds(t.first_timestamp_ns(), r.trace_begin_ns()),
                   Seconds(t.last_timestamp_ns(), r.trace_begin_ns())});
  }
  return out;
}

std::string ProcessesCsv(const report::Report &r) {
  std::string out = CsvRow({"vm", "pid", "comm", "threads", "marks", "text_marks",
                            "region_begins", "region_ends", "events", "cpu_ns", "switches_in"});
  for (const report::ProcessActivity &p : r.process_activity()) {
    out += CsvRow({p.vm(), Num(p.pid()), p.comm(), Num(p.threads()), Num(p.marks()),
                   Num(p.text_marks()), Num(p.region_begins()), Num(p.region_ends()),
                   Num(p.events()), Num(p.cpu_ns()), Num(p.switches_in())});
  }
  return out;
}

std::string RegionsCsv(const report::Report &r) {
  std::string out = CsvRow({"scope", "vm", "pid", "tid", "region_id", "name", "count", "total_ns",
                            "min_ns", "mean_ns", "p50_ns", "p90_ns", "p99_ns", "max_ns",
                            "unmatched_begins", "unmatched_ends"});
  const auto rows = [&](const char *scope, const auto &list) {
    for (const report::RegionStats &g : list) {
      out += CsvRow({scope, g.vm(), Num(g.pid()), Num(g.tid()), Num(g.region_id()), g.name(),
                     Num(g.count()), Num(g.total_ns()), Num(g.min_ns()), Num(g.mean_ns()),
                     Num(g.p50_ns()), Num(g.p90_ns()), Num(g.p99_ns()), Num(g.max_ns()),
                     Num(g.unmatched_begins()), Num(g.unmatched_ends())});
    }
  };
  rows("id", r.region_totals());
  rows("process", r.region_processes());
  rows("thread", r.regions());
  return out;
}

std::string MarksCsv(const report::Report &r) {
  const report::MarkRates &mr = r.mark_rates();
  std::vector<std::string> header = {"bucket", "start_s", "end_s", "all"};
  for (const report::EventRate &e : mr.events()) {
    header.push_back(e.name().empty() ? Num(e.event_id()) : Num(e.event_id()) + " " + e.name());
  }
  std::string out = CsvRow(header);
  for (int b = 0; b < mr.total_size(); ++b) {
    const int64_t start = mr.origin_ns() + static_cast<int64_t>(b * mr.bucket_ns());
    std::vector<std::string> row = {Num(static_cast<uint64_t>(b)),
                                    Seconds(start, r.trace_begin_ns()),
                                    Seconds(start + static_cast<int64_t>(mr.bucket_ns()),
                                            r.trace_begin_ns()),
                                    Num(mr.total(b))};
    for (const report::EventRate &e : mr.events()) {
      row.push_back(b < e.counts_size() ? Num(e.counts(b)) : "0");
    }
    out += CsvRow(row);
  }
  return out;
}

}  // namespace

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvRow(const std::vector<std::string> &fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvField(fields[i]);
  }
  out += "\r\n";
  return out;
}

std::string FormatCsv(const report::Report &report, ReportKind kind) {
  switch (kind) {
    case ReportKind::kProcesses:
      return ProcessesCsv(report);
    case ReportKind::kRegions:
      return RegionsCsv(report);
    case ReportKind::kMarks:
      return MarksCsv(report);
    case ReportKind::kSummary:
    case ReportKind::kTimeline:
      break;
  }
  return SummaryCsv(report);
}

}  // namespace bdtrace::analyzer
