/* SPDX-License-Identifier: MIT */
// Turns babeltrace2's current-thread error into an analyzer Error.
#ifndef BDTRACE_ANALYZER_BT_ERROR_H
#define BDTRACE_ANALYZER_BT_ERROR_H

#include <string>

#include "bdtrace/status.h"

namespace bdtrace::analyzer {

// Error{message} with the causes of the current thread's babeltrace2 error
// (taken, so the thread's error is cleared), root cause first.
Error TakeBtError(std::string message);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_BT_ERROR_H
