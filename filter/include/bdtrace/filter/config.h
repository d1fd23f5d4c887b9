/* SPDX-License-Identifier: MIT */
// Reading a filter configuration (proto/filter.proto, protobuf text format):
// syntax errors and semantic errors alike come back as one message
// "FILE:LINE:COLUMN: what is wrong (field path)", 1-based line and column,
// so bd-run and the plugin can refuse a bad file before anything runs.
#ifndef BDTRACE_FILTER_CONFIG_H
#define BDTRACE_FILTER_CONFIG_H

#include <cstdint>
#include <string>

#include "bdtrace/status.h"
#include "filter.pb.h"

namespace bdtrace::filter {

// Limits the schema documents (checked by validation).
inline constexpr unsigned kMaxRules = 64;         // rules per config (a 64-bit mask each)
inline constexpr unsigned kMaxVcpus = 64;         // vCPU indexes 0..63 in selectors
inline constexpr uint64_t kMaxRate = 1000000000;  // events per second
inline constexpr size_t kMaxNameLen = 63;         // Rule.name
inline constexpr size_t kMaxGlobLen = 255;        // ProcessSelector.comm
inline constexpr size_t kMaxFileSize = 1 << 20;   // a config file

// Parses `text` (the contents of file `file_name`, used in messages only)
// and validates it, or an error "FILE:LINE:COLUMN: message".
Expected<FilterConfig> parse_config(const std::string &text, const std::string &file_name);

// Reads and parses the file at `path`. I/O errors name the file and the cause.
Expected<FilterConfig> load_config_file(const std::string &path);

// FNV-1a 64 of the deterministic binary serialization, as 16 lowercase hex
// digits. Equal configs (whatever their spacing, comments or field order in
// the text) have equal digests.
std::string config_digest(const FilterConfig &config);

}  // namespace bdtrace::filter

#endif  // BDTRACE_FILTER_CONFIG_H
