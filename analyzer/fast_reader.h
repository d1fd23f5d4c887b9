/* SPDX-License-Identifier: MIT */
// The fast reader: bdtrace's LTTng-UST CTF traces decoded without
// babeltrace2 (analyzer/ctf/), merged in the order babeltrace2's
// filter.utils.muxer gives (time, then trace UUID and name, stream class
// id and stream id), and delivered like EventDecoder does
// (event_delivery.h): the same events, fields, times, warnings and order.
//
// Two steps, so that a trace the fast reader does not know costs nothing
// but the opening: OpenFastTraces reads the metadata and every packet's
// header and context; an Error there means "read it with babeltrace2",
// and no event was delivered yet. ReadFastTraces then reads the events; an
// Error there is a corrupt event (events already delivered stay
// delivered, as with babeltrace2).
#ifndef BDTRACE_ANALYZER_FAST_READER_H
#define BDTRACE_ANALYZER_FAST_READER_H

#include <memory>
#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/reorder.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer {

class FastTraces;  // fast_reader.cc

struct FastTracesDeleter {
  void operator()(FastTraces *traces) const;
};
using FastTracesPtr = std::unique_ptr<FastTraces, FastTracesDeleter>;

// Opens trace_dirs (trace i is trace_dirs[i]). An Error when one of them
// uses what the fast reader does not know or has a corrupt packet header
// or context.
Expected<FastTracesPtr> OpenFastTraces(const std::vector<std::string> &trace_dirs);

// Reads every event of traces into visitor, in babeltrace2's order. An
// Error: a corrupt event ("cannot read the trace in ...", as babeltrace2's
// path says it), or what a visitor threw.
// read_ahead: each stream decoded on a thread of its own (ctf/prefetch.h)
// while this thread merges and reports; the same result either way.
Status ReadFastTraces(FastTraces &traces, EventVisitor &visitor, const ReorderOptions &reorder,
                      ReorderStats *order, bool read_ahead);

// Whether reading ahead pays for this many streams: kMinCpusReadAhead CPUs
// or more that this process may use (its affinity), and from 2 to
// kMaxStreamsReadAhead streams (one thread each).
//
// Measured 2026-11-27 on 2 CPUs, 10 M events (the README's Performance >
// Analyzer): one thread 0.61 s; each stream read ahead 0.66 s (two busy
// streams) and 0.62 s (one). The merge and the report stay on one thread
// and are a third of the work once decoding is fast, and handing every
// event's values to another core costs more than two cores save. With 4
// CPUs or more the decoding of several streams spreads out while the
// report runs: not measured here (this machine has 2).
inline constexpr unsigned kMinCpusReadAhead = 4;
inline constexpr size_t kMaxStreamsReadAhead = 64;
bool ReadAheadPays(size_t streams);
size_t StreamCount(const FastTraces &traces);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_FAST_READER_H
