/* SPDX-License-Identifier: MIT */
// Reads bdtrace CTF traces (as written by LTTng): with the fast reader
// (fast_reader.h) when it knows them, else with libbabeltrace2: one
// source.ctf.fs component per trace directory, all into one
// filter.utils.muxer (time order), consumed by a simple sink that hands
// every event to an EventVisitor.
//
// Guest time. Ring-channel events (bd-ring-consumer) carry guest_ts, when
// the guest made the call, in host CLOCK_MONOTONIC ns; their LTTng time is
// the consumer's emission, typically < 1 ms later. The reader places such
// an event at its guest time: guest_ts plus its clock class's offset (the
// same conversion babeltrace2 applies to event times, computed once per
// event class), and puts the events back into time order with a
// Reorderer (reorder.h) before the visitor sees them. guest_ts 0 (trap
// events) or absent (traces older than the ring) leaves the LTTng time.
#ifndef BDTRACE_ANALYZER_READER_H
#define BDTRACE_ANALYZER_READER_H

#include <babeltrace2/babeltrace.h>

#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/reorder.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer {

// The CTF trace directories (those holding a file named `metadata`) under
// each path, searched recursively; sorted, without duplicates. LTTng writes
// them as DIR/ust/uid/<uid>/64-bit/ (per-UID buffers) or
// DIR/ust/pid/<proc>/ (per-PID buffers). Errors if a path does not exist or
// holds no trace.
Expected<std::vector<std::string>> FindTraceDirs(const std::vector<std::string> &paths);

// Which decoder reads the traces.
//   kAuto: the fast reader (fast_reader.h: bdtrace's own decoding of the
//          LTTng-UST layouts, several times babeltrace2's speed) when it
//          knows the traces, else babeltrace2;
//   kFast: the fast reader only (an error when it does not know a trace);
//   kBabeltrace2: libbabeltrace2's source.ctf.fs and filter.utils.muxer.
// Both give the same events, fields, times, warnings and order.
enum class ReaderKind { kAuto, kFast, kBabeltrace2 };

// "DIR, DIR, ...": how the readers' errors name the traces.
std::string JoinTraceDirs(const std::vector<std::string> &dirs);

// Whether the fast reader decodes streams on threads of their own (see
// ReaderOptions::read_ahead).
enum class ReadAhead { kWhenCoresAllow, kAlways, kNever };

struct ReaderOptions {
  // babeltrace2 components' own logging (to stderr), a bt_logging_level.
  // Errors reach the caller as Error causes whatever this says.
  bt_logging_level bt_log_level = BT_LOGGING_LEVEL_NONE;
  // How ring events are put back into time order (window, memory bound).
  ReorderOptions reorder;
  ReaderKind kind = ReaderKind::kAuto;
  // Whether the fast reader decodes each stream on a thread of its own
  // while the caller's thread merges and reports (the same events in the
  // same order either way). kWhenCoresAllow: with 4 CPUs or more (on 2 it
  // was measured slower than one thread: see fast_reader.h).
  ReadAhead read_ahead = ReadAhead::kWhenCoresAllow;
};

// What ReadTraces did, for a caller that wants to know (the tests).
struct ReadInfo {
  ReaderKind used = ReaderKind::kBabeltrace2;  // kFast or kBabeltrace2
  std::string fallback_reason;                 // kAuto fell back: why
};

// Reads every event of trace_dirs (directories holding `metadata`) into
// visitor, in time order (guest time for ring events, see above). Each
// event's `trace` is the index of its directory in trace_dirs (runs.h maps
// it to its run). A corrupt or truncated trace is an error carrying the
// reader's causes; events already visited stay visited. order (if given)
// receives how events were placed and reordered, info (if given) which
// reader read them.
Status ReadTraces(const std::vector<std::string> &trace_dirs, EventVisitor &visitor,
                  const ReaderOptions &options = {}, ReorderStats *order = nullptr, ReadInfo *info = nullptr);

// The time span of trace_dirs' streams (first packet begin to last packet
// end) from source.ctf.fs's babeltrace.trace-infos query, without reading
// the events: what a progress bar compares event times with.
struct TimeRange {
  int64_t begin_ns = 0, end_ns = 0;
};
Expected<TimeRange> QueryTimeRange(const std::vector<std::string> &trace_dirs);

// Total size of the stream files (everything but `metadata`) in trace_dirs.
uint64_t StreamBytes(const std::vector<std::string> &trace_dirs);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_READER_H
