/* SPDX-License-Identifier: MIT */
// One CTF trace directory opened for the fast reader: its parsed metadata
// and a StreamReader per stream file (every regular file but `metadata`,
// in name order, as babeltrace2's source.ctf.fs finds them).
#ifndef BDTRACE_ANALYZER_CTF_TRACE_H
#define BDTRACE_ANALYZER_CTF_TRACE_H

#include <memory>
#include <string>
#include <vector>

#include "ctf/metadata.h"
#include "ctf/stream_reader.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer::ctf {

struct Trace {
  std::string dir;
  // Owned here, at a fixed address: the readers point at it.
  std::unique_ptr<Metadata> metadata;
  std::vector<std::string> stream_names;  // file names, e.g. "ch_0"
  std::vector<StreamReader> streams;
};

// An error when the metadata is missing, corrupt or uses what the fast
// reader does not know (then read the trace with babeltrace2), or a stream
// file cannot be mapped.
Expected<Trace> OpenTrace(const std::string &dir);

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_TRACE_H
