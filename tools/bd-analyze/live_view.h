/* SPDX-License-Identifier: MIT */
// bd-analyze --live: the summary a person watches while a live session
// runs, on standard output: redrawn in place about once a second on a
// terminal, one plain line per interval otherwise.
#pragma once

#include <cstdio>
#include <string>

#include "bdtrace/analyzer/live.h"
#include "bdtrace/status.h"
#include "report.pb.h"

namespace bdtrace::analyze_cli {

// Follows the session at `url` (bdtrace::analyzer::LiveUrl's result) until
// it ends, drawing the summary on `screen` (redrawn in place when
// `terminal`), which it leaves clear of redraws; then the report of the
// whole session.
Expected<report::Report> FollowLive(const analyzer::LiveOptions &options, std::FILE *screen, bool terminal);

}  // namespace bdtrace::analyze_cli
