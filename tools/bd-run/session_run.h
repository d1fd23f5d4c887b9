// What user mode and system mode share: the LTTng session around the QEMU
// run (--trace), the end-of-run report, and bd-run's message format.
#pragma once

#include <functional>
#include <string>

#include "bdtrace/tools/result.h"
#include "options.h"

namespace bdtrace::bdrun {

// Exit status for configuration errors and QEMU that could not start.
inline constexpr int kConfigError = 2;

// Prints "bd-run: error: MESSAGE" and returns kConfigError.
int fail(const std::string& message);
// Prints "bd-run: warning: MESSAGE".
void warn(const std::string& message);

// With --trace: the trace directory is usable and a session daemon answers.
// OK without --trace.
tools::Status check_tracing(const RunOptions& o);

// Runs `guest` (which starts QEMU and returns its exit status), inside a
// session of bd-run's own when o.trace_dir is set: create + start before,
// stop, discarded-event report and destroy after. Returns the guest's exit
// status, or kConfigError when the session or the guest could not start.
// The caller installs SignalForwarding first.
int run_in_session(const RunOptions& o, const std::function<tools::Result<int>()>& guest);

}  // namespace bdtrace::bdrun
