/* SPDX-License-Identifier: MIT */
// bd-analyze --live: follows a live LTTng session (bd-run --live) through
// babeltrace2's src.ctf.lttng-live source, keeps a running summary for a
// person watching (LiveSummary), and when the session ends builds the same
// report a finished trace gets.
#ifndef BDTRACE_ANALYZER_LIVE_H
#define BDTRACE_ANALYZER_LIVE_H

#include <chrono>
#include <functional>
#include <string>

#include "bdtrace/analyzer/live_summary.h"
#include "bdtrace/analyzer/model.h"
#include "bdtrace/analyzer/reader.h"
#include "bdtrace/status.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

// What --live accepts: a full lttng-live URL (net://HOST[:PORT]/host/
// TRACING_HOST/SESSION) as is, or a session name alone, which means the
// relay daemon on this host: net://localhost/host/<this host's name>/SESSION.
std::string LiveUrl(const std::string &url_or_session);

// The URL of the one live session the relay daemon on this host
// (net://localhost) lists; an error that lists them when there are none or
// several.
Expected<std::string> OnlyLocalLiveSession();

struct LiveOptions {
  std::string url;  // a full lttng-live URL (see LiveUrl)
  ReaderOptions reader;
  ModelOptions model;
  // How often on_tick sees the summary (and its interval counts restart).
  std::chrono::milliseconds interval{1000};
  // Called from the reading thread about every interval while the session
  // runs, and once more at its end.
  std::function<void(const LiveSummary &)> on_tick;
};

// Reads the live session at options.url until it ends (the relay daemon
// says it was destroyed), handing every event to visitor and calling
// tick(seconds since the previous call) about every options.interval, and
// once more at the end. An error when the relay daemon cannot be reached or
// the session is not there.
Status ReadLive(const LiveOptions &options, EventVisitor &visitor, const std::function<void(double)> &tick);

// ReadLive into the model and a LiveSummary; the report once the session
// ended (as Analyze builds for a finished trace, for the whole session).
Expected<report::Report> AnalyzeLive(const LiveOptions &options);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_LIVE_H
