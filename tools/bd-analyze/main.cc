// bd-analyze: reports on bdtrace CTF traces. The work is in bdanalyzer;
// this file parses the command line and routes the output.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/report_format.h"
#include "bdtrace/analyzer/selection.h"
#include "bdtrace/analyzer/timeline.h"

#if __has_include("bdtrace/analyzer/export.h")
#include "bdtrace/analyzer/export.h"
#define BD_HAVE_EXPORTERS 1
#else
#define BD_HAVE_EXPORTERS 0
#endif

namespace ba = bdtrace::analyzer;

namespace {

constexpr int kExitTraceError = 1;
constexpr int kExitUsage = 2;
// As the model: larger vCPU indexes are not a real VM's.
constexpr uint32_t kMaxVcpu = 4095;
// Text timeline lines by default (--limit).
constexpr uint64_t kDefaultTextLimit = 1000;

int Fail(int code, const std::string &message) {
  std::cerr << "bd-analyze: error: " << message << "\n";
  return code;
}

// Where the report goes: standard output or -o FILE, opened on first use
// (so a trace that cannot be read leaves no empty report file behind,
// except for the streamed outputs).
class Output {
 public:
  explicit Output(const std::string &path) : path_(path) {}
  std::ostream &stream() {
    if (path_.empty()) return std::cout;
    if (!file_.is_open()) file_.open(path_, std::ios::binary | std::ios::trunc);
    return file_;
  }
  // Flushes; an error message when writing failed.
  std::optional<std::string> Close() {
    std::ostream &s = stream();
    s.flush();
    if (!path_.empty()) file_.close();
    if (!s) return "cannot write the report to " + (path_.empty() ? "standard output" : path_);
    return std::nullopt;
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
  std::ofstream file_;
};

// Losses a CSV/SVG/Chrome file cannot carry: said on stderr instead.
void NoteLosses(const bdtrace::report::Report &r) {
  if (r.discarded_events().count() > 0) {
    std::cerr << "bd-analyze: note: the tracer discarded " << r.discarded_events().count()
              << " events (ring buffer full)\n";
  }
  if (r.ring_drops().total() > 0) {
    std::cerr << "bd-analyze: note: the guest's rings dropped " << r.ring_drops().total()
              << " records (ring full or nested call)\n";
  }
  if (r.rejected().total() > 0) {
    std::cerr << "bd-analyze: note: the plugin rejected " << r.rejected().total()
              << " malformed records\n";
  }
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{
      "Reports on bdtrace traces: per-thread, per-event and per-region statistics (durations "
      "with percentiles and histograms, mark rates over time), events the tracer discarded, "
      "records the plugin rejected and records the guest's rings dropped; for full-system runs (bdtrace:sched_switch events) "
      "also which guest process ran on which vCPU, and for how long.\n"
      "TRACE_DIR is the directory bd-run --trace wrote (or any directory holding LTTng CTF "
      "traces; it is searched for 'metadata' files). Several directories (several VMs, "
      "several captures) are read together, in time order on the host clock; each trace is "
      "one VM, named by its bdtrace:session event (vm, or in user mode the program). Ring-"
      "channel events are placed at their guest_ts (when the guest made the call), not at "
      "their LTTng time (when the consumer emitted them).\n"
      "Reports: summary (default), processes (CPU time per process/thread and vCPU, marks "
      "and regions per process), regions (durations per id, process and thread: count, "
      "total, min, p50, p90, p99, max, histogram), marks (counts per id and thread, rates "
      "over time), timeline (per vCPU run intervals, streamed).\n"
      "Formats: text (tables), json (proto/report.proto; the timeline as a Timeline "
      "message), csv (one table per report, RFC 4180), chrome (Chrome trace JSON for "
      "ui.perfetto.dev) and svg (a timeline picture); chrome and svg ignore --report.\n"
      "Selection (options combine with AND, repeated values with OR): marks and regions "
      "of the given VMs/vCPUs/pids/tids/ids, sched_switch events on the given VMs/vCPUs or "
      "whose prev or next task has the given pid/tid; session, event-name and rejected "
      "events and discarded counts always pass. --since/--until count seconds from the "
      "first event of all traces and keep since <= t < until.\n"
      "Exit status: 0 success, 1 unreadable/empty trace, 2 bad usage.",
      "bd-analyze"};
  std::vector<std::string> paths;
  std::string report_name = "summary";
  std::string format = "text";
  std::string output;
  ba::Selection sel;
  double since = 0, until = 0, bucket = 0;
  int64_t limit = 0;
  bool no_progress = false;

  app.add_option("TRACE_DIR", paths, "trace directory (one or more)")->required();
  app.add_option("-r,--report", report_name,
                 "report: summary, processes, regions, marks or timeline")
      ->check(CLI::IsMember({"summary", "processes", "regions", "marks", "timeline"}))
      ->capture_default_str();
  app.add_option("-f,--format", format,
                 "output format: text, json (proto/report.proto), csv, chrome (Chrome trace "
                 "JSON) or svg (timeline picture)")
      ->check(CLI::IsMember({"text", "json", "csv", "chrome", "svg"}))
      ->capture_default_str();
  app.add_option("-o,--output", output, "write the report to FILE instead of standard output")
      ->option_text("FILE");
  app.add_option("--vm", sel.vms, "keep the events of this VM (repeatable, or NAME,NAME)")
      ->option_text("NAME")
      ->delimiter(',')
      ->expected(1)
      ->take_all();
  app.add_option("--vcpu", sel.vcpus, "keep the events on this vCPU index (repeatable)")
      ->option_text("N")
      ->delimiter(',')
      ->expected(1)
      ->take_all();
  app.add_option("--pid", sel.pids, "keep the events of this guest pid (repeatable)")
      ->option_text("PID")
      ->delimiter(',')
      ->expected(1)
      ->take_all();
  app.add_option("--tid", sel.tids, "keep the events of this guest tid (repeatable)")
      ->option_text("TID")
      ->delimiter(',')
      ->expected(1)
      ->take_all();
  app.add_option("--event", sel.events,
                 "keep the marks with this event id and regions with this region id "
                 "(repeatable)")
      ->option_text("ID")
      ->delimiter(',')
      ->expected(1)
      ->take_all();
  CLI::Option *since_opt =
      app.add_option("--since", since, "keep events from SECONDS after the trace start")
          ->option_text("SECONDS");
  CLI::Option *until_opt =
      app.add_option("--until", until, "keep events before SECONDS after the trace start")
          ->option_text("SECONDS");
  CLI::Option *bucket_opt =
      app.add_option("--bucket", bucket,
                     "mark-rate bucket width (default: at most 128 buckets over the trace)")
          ->option_text("SECONDS");
  CLI::Option *limit_opt =
      app.add_option("--limit", limit,
                     "timeline: write at most N intervals (default: 1000 in text, all in json "
                     "and csv; 0: all)")
          ->option_text("N");
  app.add_flag("--no-progress", no_progress,
               "no progress bar (it is only ever drawn when stderr is a terminal)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return Fail(kExitUsage, std::string(e.what()) + " (see bd-analyze --help)");
  }

  if (*since_opt) sel.since_s = since;
  if (*until_opt) sel.until_s = until;
  if (ba::Status valid = sel.Validate(); !valid) {
    return Fail(kExitUsage, valid.error().message + " (see bd-analyze --help)");
  }
  for (uint32_t v : sel.vcpus) {
    if (v > kMaxVcpu) {
      return Fail(kExitUsage, "--vcpu " + std::to_string(v) + " is not a vCPU index (0 to " +
                                  std::to_string(kMaxVcpu) + ")");
    }
  }
  if (*limit_opt && limit < 0) return Fail(kExitUsage, "--limit must be 0 (all) or more");
  ba::AnalyzeOptions options;
  options.selection = sel;
  if (*bucket_opt) {
    if (!std::isfinite(bucket) || bucket < 1e-9 || bucket > 1e6) {
      return Fail(kExitUsage, "--bucket must be a number of seconds from 1e-9 to 1e6");
    }
    options.model.rate_bucket_ns = static_cast<uint64_t>(std::llround(bucket * 1e9));
  }
  const ba::ReportKind kind = *ba::ParseReportKind(report_name);
  // Streamed reports written to the same terminal would mix with the bar.
  const bool streamed = kind == ba::ReportKind::kTimeline || format == "chrome" || format == "svg";
  if (!no_progress && isatty(STDERR_FILENO) && !(streamed && output.empty() && isatty(STDOUT_FILENO))) {
    options.progress_fd = STDERR_FILENO;
  }

  Output out(output);

  // Streamed outputs: the timeline and the exporters write as they read.
  if (format == "chrome" || format == "svg") {
#if BD_HAVE_EXPORTERS
    std::unique_ptr<ba::ChromeExporter> chrome;
    std::unique_ptr<ba::SvgExporter> svg;
    ba::EventVisitor *exporter = nullptr;
    if (format == "chrome") {
      // A first, cheap pass for the names: marks are then named even when
      // their bdtrace:event_name comes later in the trace.
      auto dirs = ba::FindTraceDirs(paths);
      if (!dirs) return Fail(kExitTraceError, dirs.error().ToString());
      ba::NameCollector names;
      if (ba::Status st = ba::ReadTraces(*dirs, names); !st) {
        return Fail(kExitTraceError, st.error().ToString());
      }
      chrome = std::make_unique<ba::ChromeExporter>(out.stream(), names.take_names());
      exporter = chrome.get();
    } else {
      svg = std::make_unique<ba::SvgExporter>(out.stream(), ba::SvgOptions{});
      exporter = svg.get();
    }
    options.also = {exporter};
    auto report = ba::Analyze(paths, options);
    if (!report) return Fail(kExitTraceError, report.error().ToString());
    ba::Status done = chrome ? chrome->Finish() : svg->Finish();
    if (!done) return Fail(kExitTraceError, done.error().ToString());
    NoteLosses(*report);
    if (auto err = out.Close()) return Fail(kExitTraceError, *err);
    return 0;
#else
    return Fail(kExitUsage, "this bd-analyze was built without the chrome and svg exporters");
#endif
  }

  if (kind == ba::ReportKind::kTimeline) {
    ba::TimelineOptions t;
    t.format = format == "json"  ? ba::TimelineFormat::kJson
               : format == "csv" ? ba::TimelineFormat::kCsv
                                 : ba::TimelineFormat::kText;
    t.limit = *limit_opt ? static_cast<uint64_t>(limit)
                         : (t.format == ba::TimelineFormat::kText ? kDefaultTextLimit : 0);
    const ba::SelectingVisitor *selector = nullptr;
    options.on_selector = [&](const ba::SelectingVisitor &s) { selector = &s; };
    t.origin = [&]() { return selector ? selector->origin_ns() : std::nullopt; };
    auto dirs = ba::FindTraceDirs(paths);
    if (!dirs) return Fail(kExitTraceError, dirs.error().ToString());
    t.vm_column = dirs->size() > 1;
    ba::TimelineWriter timeline(out.stream(), std::move(t));
    options.also = {&timeline};
    auto report = ba::Analyze(paths, options);
    if (!report) return Fail(kExitTraceError, report.error().ToString());
    if (ba::Status st = timeline.Finish(*report); !st) {
      return Fail(kExitTraceError, st.error().ToString());
    }
    if (format == "csv") NoteLosses(*report);
    if (auto err = out.Close()) return Fail(kExitTraceError, *err);
    return 0;
  }

  auto report = ba::Analyze(paths, options);
  if (!report) return Fail(kExitTraceError, report.error().ToString());
  if (format == "json") {
    auto json = ba::FormatJson(ba::ForKind(*report, kind));
    if (!json) return Fail(kExitTraceError, json.error().ToString());
    out.stream() << *json;
  } else if (format == "csv") {
    out.stream() << ba::FormatCsv(*report, kind);
    NoteLosses(*report);
  } else {
    out.stream() << ba::FormatText(*report, kind);
  }
  if (auto err = out.Close()) return Fail(kExitTraceError, *err);
  return 0;
}
