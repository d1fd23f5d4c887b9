/* SPDX-License-Identifier: MIT */
// A pre-flight check of a CTF trace's packetized metadata file.
//
// babeltrace2 2.0.4 spins forever on a metadata file whose last packet is
// cut short (seen with the CLI too), so the reader checks packet framing
// itself before handing the directory to source.ctf.fs.
#ifndef BDTRACE_ANALYZER_METADATA_CHECK_H
#define BDTRACE_ANALYZER_METADATA_CHECK_H

#include <cstddef>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::analyzer {

// OK for plain-text metadata and for packetized metadata whose packets all
// fit in the file; an error naming the problem otherwise.
Status CheckMetadataFraming(const std::string &trace_dir);

// The same check on the file's bytes (`path` only names it in errors).
Status CheckMetadataBytes(const unsigned char *data, size_t size, const std::string &path);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_METADATA_CHECK_H
