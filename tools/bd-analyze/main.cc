// SPDX-License-Identifier: MIT
// bd-analyze: reports on bdtrace CTF traces. The work is in bdanalyzer;
// this file parses the command line and routes the output.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/report_format.h"
#include "bdtrace/analyzer/runs.h"
#include "bdtrace/analyzer/selection.h"
#include "bdtrace/analyzer/timeline.h"
#include "bdtrace/status.h"
#include "live_view.h"

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
    if (!file_.is_open() && open_errno_ == 0) {
      errno = 0;
      file_.open(path_, std::ios::binary | std::ios::trunc);
      if (!file_.is_open()) open_errno_ = errno != 0 ? errno : EIO;
    }
    return file_;
  }
  // Flushes; an error (with the reason) when writing failed.
  bdtrace::Status Close() {
    std::ostream &s = stream();
    errno = 0;
    s.flush();
    const int flush_errno = errno;
    if (!path_.empty() && file_.is_open()) file_.close();
    if (s) return bdtrace::Status::Ok();
    const int cause = open_errno_ != 0 ? open_errno_ : flush_errno;
    const std::string what = path_.empty() ? "standard output" : path_;
    const std::string why = cause != 0 ? std::strerror(cause) : "write error";
    return bdtrace::make_error("cannot write the report to " + what + ": " + why);
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
  std::ofstream file_;
  int open_errno_ = 0;
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
    std::cerr << "bd-analyze: note: the plugin rejected " << r.rejected().total() << " malformed records\n";
  }
  for (const std::string &note : r.filter().notes()) {
    std::cerr << "bd-analyze: note: " << note << "\n";
  }
}

// --help: the usage line first, then what the tool does, the options by
// group, and the footer (reports, formats, examples, exit status).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App *app, std::string name, CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::string out = make_usage(app, name) + "\n" + make_description(app);
    out += make_positionals(app) + make_groups(app, mode);
    out += "\n" + make_footer(app);
    return out;
  }
  std::string make_usage(const CLI::App *, std::string) const override {
    return "Usage: bd-analyze [OPTIONS] TRACE_DIR...\n       bd-analyze [OPTIONS] --live [URL|SESSION]\n";
  }
};

constexpr const char *kDescription =
    "Reads bdtrace traces (what bd-run --trace wrote) and reports what the guest did:\n"
    "counts per thread, event id and region, region durations with percentiles, mark\n"
    "rates over time and, for full-system runs, which guest process ran on which vCPU\n"
    "and for how long. Every report also says what is missing: events the tracer\n"
    "discarded, records the plugin rejected, records the guest's rings dropped and\n"
    "what a filter (bd-run --filter) recorded and dropped, per vCPU and rule.\n"
    "\n"
    "TRACE_DIR is a directory bd-run --trace wrote, or any directory holding LTTng\n"
    "CTF traces (searched for 'metadata' files). Several directories (several VMs,\n"
    "several captures) are read together in host-clock order; each trace is one VM,\n"
    "named by its bdtrace:session event (vm, or in user mode the program). Several\n"
    "runs (bd-run --trace directories, or the session directories lttng-relayd\n"
    "wrote) are one VM each, named by their directory when their sessions' names\n"
    "are the same (--vm takes those too).\n"
    "Ring-channel events are placed at their guest time (guest_ts).\n"
    "\n"
    "--live follows a session while it runs (bd-run --live prints its URL): marks/s\n"
    "per event, open regions, what runs on each vCPU and what was lost, redrawn about\n"
    "once a second on a terminal (one line per second otherwise); when the session\n"
    "ends, the report of all of it. SESSION alone means the lttng-relayd on this\n"
    "host: net://localhost/host/HOSTNAME/SESSION; --live alone, its only session.\n";

constexpr const char *kFooter =
    "Reports (-r):\n"
    "  summary    totals, losses, filter decisions, vCPUs, processes, threads, events\n"
    "             and regions (the default)\n"
    "  processes  CPU time per process/thread and vCPU; marks and regions per process\n"
    "  regions    durations per id, process and thread: count, total, min, p50, p90,\n"
    "             p99, max, histogram\n"
    "  marks      counts per id and thread; rates over time, from the first mark on\n"
    "  timeline   per-vCPU run intervals, streamed\n"
    "\n"
    "Formats (-f):\n"
    "  text       tables (the default)\n"
    "  json       the message in proto/report.proto (the timeline: a Timeline message)\n"
    "  csv        one table per report (RFC 4180); the summary's rows are its header\n"
    "             items (section \"summary\") and its threads (section \"thread\")\n"
    "  chrome     Chrome trace JSON for ui.perfetto.dev (-r does not apply)\n"
    "  svg        a timeline picture (-r does not apply)\n"
    "\n"
    "Selection: keeps the marks and regions of the given VMs, vCPUs, pids, tids and\n"
    "ids, and the context switches on the given VMs/vCPUs whose previous or next\n"
    "task has the given pid/tid. Each option is repeatable (or takes VALUE,VALUE);\n"
    "options combine with AND, values with OR. Sessions, event names, losses and\n"
    "the filter's counts always pass. A selection that matches no mark, region or\n"
    "context switch is an error that says what the trace holds (its time span,\n"
    "VM names, vCPUs, pids, tids and ids).\n"
    "\n"
    "Readers (--reader): auto decodes the trace with bdtrace's own fast reader when it\n"
    "knows the trace (bdtrace's LTTng-UST layouts), else with babeltrace2; fast: only\n"
    "the fast reader (an error when it does not know the trace); babeltrace2: only\n"
    "libbabeltrace2. All give the same report; --live always reads with babeltrace2.\n"
    "\n"
    "Examples:\n"
    "  bd-analyze /tmp/t                                  the summary, as text\n"
    "  bd-analyze /tmp/t -f json -o report.json           the same as JSON, in a file\n"
    "  bd-analyze /tmp/vm -r processes --vcpu 0 --since 2 --until 5\n"
    "  bd-analyze /tmp/vm -f svg -o timeline.svg          a picture of the vCPUs\n"
    "  bd-analyze vm-a vm-b --vm vm-a -r marks -f csv     one VM's mark rates\n"
    "\n"
    "Exit status: 0 success; 1 an unreadable or empty trace, a selection that\n"
    "matches nothing, or a report that cannot be written; 2 bad usage.\n";

// The command line, as parsed.
struct Args {
  std::vector<std::string> paths;
  std::string report_name = "summary";
  std::string format = "text";
  std::string output;
  ba::Selection sel;
  double since = 0, until = 0, bucket = 0;
  int64_t limit = 0;
  bool no_progress = false;
  std::string reader = "auto";
  std::string live;  // --live URL|SESSION; empty with --live alone: the local relay daemon's one session
  CLI::Option *live_opt = nullptr;
  CLI::Option *since_opt = nullptr, *until_opt = nullptr, *bucket_opt = nullptr, *limit_opt = nullptr;
};

// One repeatable selection option taking comma-separated values.
template <typename T>
void AddSelector(CLI::App &app, const char *name, std::vector<T> &values, const char *value_name,
                 const char *help) {
  app.add_option(name, values, help)
      ->option_text(value_name)
      ->delimiter(',')
      ->expected(1)
      ->take_all()
      ->group("Selection");
}

// live: the command line has --live (then TRACE_DIR is not required; when
// it is, CLI11 also keeps the selectors' take_all from swallowing it).
void DefineOptions(CLI::App &app, Args &a, bool live) {
  app.formatter(std::make_shared<HelpFormatter>());
  app.footer(kFooter);
  app.get_formatter()->column_width(24);
  app.set_help_flag("-h,--help", "print this help and exit");
  auto *dirs = app.add_option("TRACE_DIR", a.paths, "a trace directory (one or more)")->option_text("...");
  if (!live) dirs->required();
  a.live_opt = app.add_option("--live", a.live,
                              "follow a live session (bd-run --live), then report on all of it; alone: the "
                              "one session of the lttng-relayd on this host")
                   ->expected(0, 1)
                   ->option_text("[URL|SESSION]")
                   ->excludes(dirs);
  const char *kOutput = "Output";
  app.add_option("-r,--report", a.report_name, "summary (default), processes, regions, marks, timeline")
      ->check(CLI::IsMember({"summary", "processes", "regions", "marks", "timeline"}))
      ->option_text("REPORT")
      ->group(kOutput);
  app.add_option("-f,--format", a.format, "text (default), json, csv, chrome, svg")
      ->check(CLI::IsMember({"text", "json", "csv", "chrome", "svg"}))
      ->option_text("FORMAT")
      ->group(kOutput);
  app.add_option("-o,--output", a.output, "write the report to FILE instead of standard output")
      ->option_text("FILE")
      ->group(kOutput);
  a.bucket_opt = app.add_option("--bucket", a.bucket, "mark-rate bucket width (default: 128 buckets at most)")
                     ->option_text("SECONDS")
                     ->group(kOutput);
  a.limit_opt = app.add_option("--limit", a.limit, "timeline: at most N intervals (text: 1000; 0: all)")
                    ->option_text("N")
                    ->group(kOutput);
  app.add_flag("--no-progress", a.no_progress, "no progress bar (drawn only on a terminal)")->group(kOutput);
  app.add_option("--reader", a.reader, "how the trace is decoded: auto (default), fast, babeltrace2")
      ->check(CLI::IsMember({"auto", "fast", "babeltrace2"}))
      ->option_text("READER")
      ->group("Input");
  AddSelector(app, "--vm", a.sel.vms, "NAME", "keep the events of this VM");
  AddSelector(app, "--vcpu", a.sel.vcpus, "N", "keep the events on this vCPU index");
  AddSelector(app, "--pid", a.sel.pids, "PID", "keep the events of this guest pid");
  AddSelector(app, "--tid", a.sel.tids, "TID", "keep the events of this guest tid");
  AddSelector(app, "--event", a.sel.events, "ID", "keep the marks and regions with this id");
  a.since_opt = app.add_option("--since", a.since, "keep events from SECONDS after the first event")
                    ->option_text("SECONDS")
                    ->group("Selection");
  a.until_opt = app.add_option("--until", a.until, "keep events before SECONDS after the first one")
                    ->option_text("SECONDS")
                    ->group("Selection");
}

// Checks what CLI11 cannot and fills options; an exit code on error.
std::optional<int> CheckArgs(Args &a, ba::AnalyzeOptions &options) {
  if (a.paths.empty() && !*a.live_opt) {
    return Fail(kExitUsage, "give a trace directory, or --live URL|SESSION (see bd-analyze --help)");
  }
  if (*a.live_opt && (!a.sel.empty() || *a.since_opt || *a.until_opt || a.report_name == "timeline" ||
                      a.format == "chrome" || a.format == "svg")) {
    return Fail(kExitUsage,
                "--live makes the summary, processes, regions and marks reports as text, json or csv, "
                "without a selection; for the others, analyze the trace the relay daemon wrote");
  }
  if (*a.since_opt) a.sel.since_s = a.since;
  if (*a.until_opt) a.sel.until_s = a.until;
  if (bdtrace::Status valid = a.sel.Validate(); !valid) {
    return Fail(kExitUsage, valid.error().message + " (see bd-analyze --help)");
  }
  for (uint32_t v : a.sel.vcpus) {
    if (v > kMaxVcpu) {
      return Fail(kExitUsage, "--vcpu " + std::to_string(v) + " is not a vCPU index (0 to " +
                                  std::to_string(kMaxVcpu) + ")");
    }
  }
  if (*a.limit_opt && a.limit < 0) return Fail(kExitUsage, "--limit must be 0 (all) or more");
  options.selection = a.sel;
  options.reader.kind = a.reader == "fast"          ? ba::ReaderKind::kFast
                        : a.reader == "babeltrace2" ? ba::ReaderKind::kBabeltrace2
                                                    : ba::ReaderKind::kAuto;
  if (*a.bucket_opt) {
    if (!std::isfinite(a.bucket) || a.bucket < 1e-9 || a.bucket > 1e6) {
      return Fail(kExitUsage, "--bucket must be a number of seconds from 1e-9 to 1e6");
    }
    options.model.rate_bucket_ns = static_cast<uint64_t>(std::llround(a.bucket * 1e9));
  }
  return std::nullopt;
}

// With several runs, each trace's VM name (runs.h), from the sessions a
// first pass (names) saw; empty for one run. Streamed outputs need the
// names before the first row.
std::vector<std::string> RunVmNames(const std::vector<std::string> &dirs, const ba::SessionNames &sessions) {
  const ba::Runs runs = ba::GroupRuns(dirs);
  return runs.several() ? ba::ResolveVmNames(runs, sessions.names()) : std::vector<std::string>{};
}

// --format chrome|svg: the exporters write when the trace is read.
int RunExport(const Args &a, ba::AnalyzeOptions &options, Output &out) {
#if BD_HAVE_EXPORTERS
  std::unique_ptr<ba::ChromeExporter> chrome;
  std::unique_ptr<ba::SvgExporter> svg;
  ba::EventVisitor *exporter = nullptr;
  if (a.format == "chrome") {
    // A first, cheap pass for the names: marks are then named even when
    // their bdtrace:event_name comes later in the trace.
    auto dirs = ba::FindTraceDirs(a.paths);
    if (!dirs) return Fail(kExitTraceError, dirs.error().ToString());
    ba::NameCollector names;
    ba::SessionNames sessions;
    ba::TeeVisitor both({&names, &sessions});
    if (bdtrace::Status st = ba::ReadTraces(*dirs, both, options.reader); !st) {
      return Fail(kExitTraceError, st.error().ToString());
    }
    const std::vector<std::string> vm_names = RunVmNames(*dirs, sessions);
    chrome = std::make_unique<ba::ChromeExporter>(out.stream(), names.take_names());
    if (!vm_names.empty()) chrome->SetVmNames(vm_names);
    exporter = chrome.get();
  } else {
    auto dirs = ba::FindTraceDirs(a.paths);
    if (!dirs) return Fail(kExitTraceError, dirs.error().ToString());
    ba::SvgOptions svg_options;
    svg_options.runs = ba::GroupRuns(*dirs);
    svg = std::make_unique<ba::SvgExporter>(out.stream(), std::move(svg_options));
    exporter = svg.get();
  }
  options.also = {exporter};
  auto report = ba::Analyze(a.paths, options);
  if (!report) return Fail(kExitTraceError, report.error().ToString());
  bdtrace::Status done = chrome ? chrome->Finish() : svg->Finish();
  if (bdtrace::Status closed = out.Close(); !closed) return Fail(kExitTraceError, closed.error().ToString());
  if (!done) return Fail(kExitTraceError, done.error().ToString());
  NoteLosses(*report);
  return 0;
#else
  (void)a, (void)options, (void)out;
  return Fail(kExitUsage, "this bd-analyze was built without the chrome and svg exporters");
#endif
}

// --report timeline: intervals are written as the trace is read.
int RunTimeline(const Args &a, ba::AnalyzeOptions &options, Output &out) {
  ba::TimelineOptions t;
  t.format = a.format == "json"  ? ba::TimelineFormat::kJson
             : a.format == "csv" ? ba::TimelineFormat::kCsv
                                 : ba::TimelineFormat::kText;
  t.limit = *a.limit_opt ? static_cast<uint64_t>(a.limit)
                         : (t.format == ba::TimelineFormat::kText ? kDefaultTextLimit : 0);
  const ba::SelectingVisitor *selector = nullptr;
  options.on_selector = [&](const ba::SelectingVisitor &s) { selector = &s; };
  t.origin = [&]() { return selector ? selector->origin_ns() : std::nullopt; };
  auto dirs = ba::FindTraceDirs(a.paths);
  if (!dirs) return Fail(kExitTraceError, dirs.error().ToString());
  t.vm_column = dirs->size() > 1;
  if (ba::GroupRuns(*dirs).several()) {
    ba::SessionNames sessions;  // a first pass: the names each run's VM can take
    if (bdtrace::Status st = ba::ReadTraces(*dirs, sessions, options.reader); !st) {
      return Fail(kExitTraceError, st.error().ToString());
    }
    t.vm_names = RunVmNames(*dirs, sessions);
  }
  ba::TimelineWriter timeline(out.stream(), std::move(t));
  options.also = {&timeline};
  auto report = ba::Analyze(a.paths, options);
  if (!report) return Fail(kExitTraceError, report.error().ToString());
  if (bdtrace::Status st = timeline.Finish(*report); !st) {
    return Fail(kExitTraceError, st.error().ToString());
  }
  if (a.format == "csv") NoteLosses(*report);
  if (bdtrace::Status closed = out.Close(); !closed) return Fail(kExitTraceError, closed.error().ToString());
  return 0;
}

// The other reports: read the whole trace (or follow it live), then
// format the Report.
int RunReport(Args &a, ba::ReportKind kind, const ba::AnalyzeOptions &options, Output &out) {
  bdtrace::Expected<bdtrace::report::Report> report = bdtrace::report::Report();
  if (*a.live_opt) {
    ba::LiveOptions live;
    if (a.live.empty()) {
      bdtrace::Expected<std::string> only = ba::OnlyLocalLiveSession();
      if (!only) return Fail(kExitTraceError, only.error().ToString());
      a.live = *only;
    }
    live.url = ba::LiveUrl(a.live);
    live.reader = options.reader;
    live.model = options.model;
    report = bdtrace::analyze_cli::FollowLive(live, stdout, isatty(STDOUT_FILENO) == 1);
  } else {
    report = ba::Analyze(a.paths, options);
  }
  if (!report) return Fail(kExitTraceError, report.error().ToString());
  if (a.format == "json") {
    auto json = ba::FormatJson(ba::ForKind(*report, kind));
    if (!json) return Fail(kExitTraceError, json.error().ToString());
    out.stream() << *json;
  } else if (a.format == "csv") {
    out.stream() << ba::FormatCsv(*report, kind);
    NoteLosses(*report);
  } else {
    out.stream() << ba::FormatText(*report, kind);
  }
  if (bdtrace::Status closed = out.Close(); !closed) return Fail(kExitTraceError, closed.error().ToString());
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{kDescription, "bd-analyze"};
  Args a;
  bool live = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    live = live || arg == "--live" || arg.rfind("--live=", 0) == 0;
  }
  DefineOptions(app, a, live);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return Fail(kExitUsage, std::string(e.what()) + " (see bd-analyze --help)");
  }
  ba::AnalyzeOptions options;
  if (std::optional<int> code = CheckArgs(a, options)) return *code;
  const ba::ReportKind kind = *ba::ParseReportKind(a.report_name);
  // Streamed reports written to the same terminal would mix with the bar.
  const bool streamed = kind == ba::ReportKind::kTimeline || a.format == "chrome" || a.format == "svg";
  if (!a.no_progress && isatty(STDERR_FILENO) && !(streamed && a.output.empty() && isatty(STDOUT_FILENO))) {
    options.progress_fd = STDERR_FILENO;
  }
  Output out(a.output);
  if (a.format == "chrome" || a.format == "svg") return RunExport(a, options, out);
  if (kind == ba::ReportKind::kTimeline) return RunTimeline(a, options, out);
  return RunReport(a, kind, options, out);
}
