// SPDX-License-Identifier: MIT
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

// The summary: one table, its first column the section. "summary" rows
// carry the text summary's header as item,value (repeated items, e.g.
// session or warning, once per value); "thread" rows the threads table.
const std::vector<std::string> kSummaryHeader = {
    "section", "item",       "value",         "vm",          "pid",     "tid",   "comm", "events",
    "marks",   "text_marks", "region_begins", "region_ends", "first_s", "last_s"};

void SummaryItems(const report::Report &r, std::string &out) {
  const auto item = [&out](const char *name, const std::string &value) {
    std::vector<std::string> row(kSummaryHeader.size());
    row[0] = "summary", row[1] = name, row[2] = value;
    out += CsvRow(row);
  };
  for (const std::string &p : r.trace_paths()) item("trace", p);
  item("trace_dirs", Num(static_cast<uint64_t>(r.trace_dirs_size())));
  for (const report::SessionInfo &s : r.sessions()) {
    item("session", "mode=" + s.mode() + " arch=" + s.arch() + " program=" + s.program() +
                        " abi=" + Num(s.abi_version()) + " host_pid=" + Num(s.host_pid()) + " vm=" + s.vm() +
                        (s.channel().empty() ? "" : " channel=" + s.channel()));
  }
  for (const report::VmInfo &v : r.vms()) item("vm", v.name());
  item("duration_s", Seconds(r.trace_end_ns(), r.trace_begin_ns()));
  const report::Totals &t = r.totals();
  item("events", Num(t.events()));
  item("marks", Num(t.marks()));
  item("text_marks", Num(t.text_marks()));
  item("region_begins", Num(t.region_begins()));
  item("region_ends", Num(t.region_ends()));
  item("event_names", Num(t.event_names()));
  item("sessions", Num(t.sessions()));
  item("sched_switches", Num(t.sched_switches()));
  item("tb_execs", Num(t.tb_execs()));
  item("tb_lost", Num(t.tb_lost()));
  item("filter_events", Num(t.filter_configs() + t.filter_dropped() + t.filter_stats()));
  item("other_events", Num(t.other()));
  item("discarded", Num(r.discarded_events().count()));
  for (const report::DiscardedStream &s : r.discarded_events().streams()) {
    item("discarded_stream", (s.vm().empty() ? "" : s.vm() + "/") + s.stream() + "=" + Num(s.count()));
  }
  item("ring_dropped", Num(r.ring_drops().total()));
  item("blobs", Num(r.totals().blobs()));
  item("blob_bytes", Num(r.totals().blob_bytes()));
  for (const report::BlobStats &b : r.blobs())
    item("blob_event", Num(b.event()) + "=" + Num(b.count()) + "x" + Num(b.bytes()));
  item("calls", Num(r.totals().calls()));
  for (const report::CallStats &c : r.calls())
    item("call_event",
         Num(c.event()) + "=" + Num(c.count()) + " failed " + Num(c.failed()) + " max_ns " + Num(c.max_ns()));
  item("rejected", Num(r.rejected().total()));
  for (const report::RejectReason &reason : r.rejected().reasons()) {
    item("rejected_reason", reason.name() + "=" + Num(reason.count()));
  }
  if (r.has_filter()) {
    const report::FilterSummary &f = r.filter();
    item("filter_recorded", Num(f.recorded()));
    item("filter_filtered", Num(f.filtered()));
    item("filter_rate_dropped", Num(f.rate_dropped()));
    for (const report::FilterVcpu &v : f.vcpus()) {
      item("filter_vcpu", (v.vm().empty() ? "" : v.vm() + "/") + Num(v.vcpu()) +
                              " recorded=" + Num(v.recorded()) + " filtered=" + Num(v.filtered()) +
                              " rate_dropped=" + Num(v.rate_dropped()));
    }
    for (const report::FilterRule &g : f.rules()) {
      item("filter_rule", (g.vm().empty() ? "" : g.vm() + "/") + "generation " + Num(g.generation()) +
                              " rule " + Num(g.rule()) + " " + g.name() +
                              " rate_dropped=" + Num(g.rate_dropped()));
    }
    for (const std::string &note : f.notes()) item("filter_note", note);
  }
  for (const std::string &w : r.warnings()) item("warning", w);
}

std::string SummaryCsv(const report::Report &r) {
  std::string out = CsvRow(kSummaryHeader);
  SummaryItems(r, out);
  for (const report::ThreadStats &t : r.threads()) {
    out += CsvRow({"thread", "", "", t.vm(), Num(t.pid()), Num(t.tid()), t.comm(), Num(t.events()),
                   Num(t.marks()), Num(t.text_marks()), Num(t.region_begins()), Num(t.region_ends()),
                   Seconds(t.first_timestamp_ns(), r.trace_begin_ns()),
                   Seconds(t.last_timestamp_ns(), r.trace_begin_ns())});
  }
  return out;
}

std::string ProcessesCsv(const report::Report &r) {
  std::string out = CsvRow({"vm", "pid", "comm", "threads", "marks", "text_marks", "region_begins",
                            "region_ends", "events", "cpu_ns", "switches_in"});
  for (const report::ProcessActivity &p : r.process_activity()) {
    out += CsvRow({p.vm(), Num(p.pid()), p.comm(), Num(p.threads()), Num(p.marks()), Num(p.text_marks()),
                   Num(p.region_begins()), Num(p.region_ends()), Num(p.events()), Num(p.cpu_ns()),
                   Num(p.switches_in())});
  }
  return out;
}

std::string RegionsCsv(const report::Report &r) {
  std::string out =
      CsvRow({"scope", "vm", "pid", "tid", "region_id", "name", "count", "total_ns", "min_ns", "mean_ns",
              "p50_ns", "p90_ns", "p99_ns", "max_ns", "unmatched_begins", "unmatched_ends"});
  const auto rows = [&](const char *scope, const auto &list) {
    for (const report::RegionStats &g : list) {
      out += CsvRow({scope, g.vm(), Num(g.pid()), Num(g.tid()), Num(g.region_id()), g.name(), Num(g.count()),
                     Num(g.total_ns()), Num(g.min_ns()), Num(g.mean_ns()), Num(g.p50_ns()), Num(g.p90_ns()),
                     Num(g.p99_ns()), Num(g.max_ns()), Num(g.unmatched_begins()), Num(g.unmatched_ends())});
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
    std::vector<std::string> row = {Num(static_cast<uint64_t>(b)), Seconds(start, r.trace_begin_ns()),
                                    Seconds(start + static_cast<int64_t>(mr.bucket_ns()), r.trace_begin_ns()),
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
