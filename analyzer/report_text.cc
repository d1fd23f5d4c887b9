// The text report. Times are printed relative to the trace's first event.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "bdtrace/analyzer/report_format.h"
#include "text_table.h"

namespace bdtrace::analyzer {

namespace {

using Align = TextTable::Align;

// Per-thread counts shown in the events table before eliding the rest.
constexpr int kMaxThreadsPerEvent = 8;

std::string Num(uint64_t v) { return std::to_string(v); }

std::string Printf(const char *fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Milliseconds since the first event, e.g. "+1.234".
std::string Offset(int64_t ts_ns, int64_t begin_ns) {
  return Printf("+%.3f", static_cast<double>(ts_ns - begin_ns) / 1e6);
}

std::string NameOrDash(const std::string &name) { return name.empty() ? "-" : name; }

void Summary(const report::Report &r, std::string &out) {
  out += "bd-analyze report\n";
  for (const std::string &p : r.trace_paths()) out += "trace:      " + p + "\n";
  out += "            (" + Num(r.trace_dirs_size()) + " CTF trace director" +
         (r.trace_dirs_size() == 1 ? "y" : "ies") + ")\n";
  for (const report::SessionInfo &s : r.sessions()) {
    out += "session:    mode=" + s.mode() + " arch=" + s.arch() + " program=" + s.program() +
           " abi=" + Num(s.abi_version()) + " host_pid=" + Num(s.host_pid()) + " vm=" + s.vm() +
           "\n";
  }
  out += "duration:   " + FormatDuration(static_cast<uint64_t>(r.trace_duration_ns())) +
         " (first to last event)\n";
  const report::Totals &t = r.totals();
  out += "events:     " + Num(t.events()) + " total: " + Num(t.marks()) + " marks, " +
         Num(t.text_marks()) + " text marks, " + Num(t.region_begins()) + " region begins, " +
         Num(t.region_ends()) + " region ends, " + Num(t.event_names()) + " event names, " +
         Num(t.rejected()) + " rejected, " + Num(t.rejected_totals()) + " rejected totals, " +
         Num(t.sessions()) + " sessions, " + Num(t.other()) + " other\n";
  const report::DiscardedEvents &d = r.discarded_events();
  out += "discarded:  " + Num(d.count()) + " events lost by the tracer";
  if (d.messages_without_count() > 0) out += " (at least: some losses had no count)";
  out += "\n";
  const report::Rejected &rej = r.rejected();
  out += "rejected:   " + Num(rej.total()) + " malformed records";
  if (rej.reasons_size() > 0) {
    out += " (";
    for (int i = 0; i < rej.reasons_size(); ++i) {
      if (i > 0) out += ", ";
      out += rej.reasons(i).name() + "=" + Num(rej.reasons(i).count());
    }
    out += ")";
  }
  if (rej.source() == report::Rejected::REJECTED_TOTAL) {
    out += ", exact (bdtrace:rejected_total)";
  } else if (rej.source() == report::Rejected::COUNTED_EVENTS) {
    out += ", counted from rate-limited bdtrace:rejected events (may be low)";
  }
  out += "\n";
}

void Threads(const report::Report &r, std::string &out) {
  out += "\nthreads (first/last: ms after the first event)\n";
  if (r.threads_size() == 0) {
    out += "  none\n";
    return;
  }
  TextTable table({{"pid", Align::kRight},
                   {"tid", Align::kRight},
                   {"events", Align::kRight},
                   {"marks", Align::kRight},
                   {"text", Align::kRight},
                   {"begins", Align::kRight},
                   {"ends", Align::kRight},
                   {"first", Align::kRight},
                   {"last", Align::kRight}});
  for (const report::ThreadStats &t : r.threads()) {
    table.AddRow({Num(t.pid()), Num(t.tid()), Num(t.events()), Num(t.marks()),
                  Num(t.text_marks()), Num(t.region_begins()), Num(t.region_ends()),
                  Offset(t.first_timestamp_ns(), r.trace_begin_ns()),
                  Offset(t.last_timestamp_ns(), r.trace_begin_ns())});
  }
  out += table.Render();
}

void Events(const report::Report &r, std::string &out) {
  out += "\nevents (marks by event id)\n";
  if (r.events_size() == 0) {
    out += "  none\n";
    return;
  }
  TextTable table({{"id", Align::kRight},
                   {"name", Align::kLeft},
                   {"count", Align::kRight},
                   {"per thread (tid:count)", Align::kLeft}});
  for (const report::EventStats &e : r.events()) {
    std::string per;
    for (int i = 0; i < e.per_thread_size(); ++i) {
      if (i == kMaxThreadsPerEvent) {
        per += " +" + Num(e.per_thread_size() - i) + " more";
        break;
      }
      if (i > 0) per += ' ';
      per += Num(e.per_thread(i).tid()) + ":" + Num(e.per_thread(i).count());
    }
    table.AddRow({Num(e.event_id()), NameOrDash(e.name()), Num(e.count()), per});
  }
  out += table.Render();
}

void Regions(const report::Report &r, std::string &out) {
  out += "\nregions (durations per thread; open: begins never ended, stray: ends without "
         "a begin)\n";
  if (r.regions_size() == 0) {
    out += "  none\n";
    return;
  }
  TextTable table({{"id", Align::kRight},
                   {"name", Align::kLeft},
                   {"pid", Align::kRight},
                   {"tid", Align::kRight},
                   {"count", Align::kRight},
                   {"total", Align::kRight},
                   {"min", Align::kRight},
                   {"mean", Align::kRight},
                   {"max", Align::kRight},
                   {"open", Align::kRight},
                   {"stray", Align::kRight}});
  for (const report::RegionStats &g : r.regions()) {
    const bool any = g.count() > 0;
    table.AddRow({Num(g.region_id()), NameOrDash(g.name()), Num(g.pid()), Num(g.tid()),
                  Num(g.count()), any ? FormatDuration(g.total_ns()) : "-",
                  any ? FormatDuration(g.min_ns()) : "-", any ? FormatDuration(g.mean_ns()) : "-",
                  any ? FormatDuration(g.max_ns()) : "-", Num(g.unmatched_begins()),
                  Num(g.unmatched_ends())});
  }
  out += table.Render();
}

void Warnings(const report::Report &r, std::string &out) {
  if (r.warnings_size() == 0) return;
  out += "\nwarnings\n";
  for (const std::string &w : r.warnings()) out += "  - " + w + "\n";
}

}  // namespace

std::string FormatDuration(uint64_t ns) {
  if (ns < 1000) return Num(ns) + " ns";
  const double v = static_cast<double>(ns);
  if (ns < 1000000) return Printf("%.3f us", v / 1e3);
  if (ns < 1000000000) return Printf("%.3f ms", v / 1e6);
  return Printf("%.3f s", v / 1e9);
}

std::string FormatText(const report::Report &report) {
  std::string out;
  Summary(report, out);
  Threads(report, out);
  Events(report, out);
  Regions(report, out);
  Warnings(report, out);
  return out;
}

}  // namespace bdtrace::analyzer
