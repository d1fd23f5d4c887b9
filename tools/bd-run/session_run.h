/* SPDX-License-Identifier: MIT */
// What user mode and system mode share: the LTTng session around the QEMU
// run (--trace), the end-of-run report, and bd-run's message format.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bdtrace/status.h"
#include "options.h"
#include "run_stats.h"

namespace bdtrace::bdrun {

// Exit status for configuration errors and QEMU that could not start.
inline constexpr int kConfigError = 2;
// Exit status when the guest succeeded (0) but the trace is incomplete
// because a part of tracing failed: the session daemon vanished, the
// trace's filesystem filled up, the ring consumer died, a process could
// not join the session. The warnings say which. (Events LTTng discarded
// for want of buffer space are counted in the trace: not this.)
inline constexpr int kTraceIncomplete = 3;

// Prints "bd-run: error: MESSAGE" and returns kConfigError.
int fail(const std::string& message);
// The same for an Error, with its causes (Error::ToString()).
int fail(const Error& error);
// Prints "bd-run: warning: MESSAGE".
void warn(const std::string& message);

// With --trace: the trace directory is usable; with --relayd: a relay daemon
// listens at its URL; and a session daemon answers.
// OK without a session of bd-run's own.
Status check_tracing(const RunOptions& o);

// What the end of a user-mode or native run checks about the guest: did any
// of its records arrive (run_stats.h)?
struct GuestReport {
  const StatsFile* stats = nullptr;
  std::string program;  // the program bd-run started
  std::string script;   // the script it runs, if any
};

// What every process bd-run starts gets in its environment besides its
// own: with --trace, BD_SESSION_JOIN (bdtrace/session_join.h), through
// which the processes that emit events join bd-run's session, so that the
// session records them and nothing else on the machine. Empty without.
using SessionEnv = std::vector<std::string>;

// What run_in_session hands the guest callback.
struct SessionContext {
  SessionEnv env;
  // A part of tracing failed while the guest ran: warns with `why`, and
  // bd-run exits with kTraceIncomplete if the guest succeeded.
  void trace_incomplete(const std::string& why);
  bool incomplete() const { return incomplete_; }

 private:
  bool incomplete_ = false;
};

// Runs `guest` (which starts QEMU and returns its exit status), inside a
// session of bd-run's own when o.trace_dir is set: create + start before,
// stop, discarded-event report and destroy after. The session records only
// the processes that join it (guest gets the SessionEnv to hand on). With `report`, then says
// when the guest failed to start (exit status 127 before any record: an
// error) or, with a trace, when no record of it arrived (a warning).
// Returns the guest's exit status, kConfigError when the session or the
// guest could not start, or kTraceIncomplete. The caller installs SignalForwarding first.
int run_in_session(const RunOptions& o, const std::function<Expected<int>(SessionContext&)>& guest,
                   const GuestReport* report = nullptr);

}  // namespace bdtrace::bdrun
