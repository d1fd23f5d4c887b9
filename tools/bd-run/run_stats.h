/* SPDX-License-Identifier: MIT */
// Whether any guest record reached bdtrace in a user-mode or native run,
// and what bd-run tells the user at the end when none did. The plugin
// (stats=FILE, one line per QEMU process) and bd-ring-consumer (--stats
// FILE) append their counts to a file bd-run creates for the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// A fresh, empty file in the temporary directory, removed with the object.
class StatsFile {
 public:
  static Expected<StatsFile> create();
  StatsFile(StatsFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  StatsFile& operator=(StatsFile&&) = delete;
  StatsFile(const StatsFile&) = delete;
  ~StatsFile();
  const std::string& path() const { return path_; }

  // The sum of every line's "records N"; nullopt when nobody wrote a line.
  std::optional<uint64_t> records() const;

 private:
  explicit StatsFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The sum of "records N" over `text`'s lines (pure, for tests); nullopt
// when no line carries a count.
std::optional<uint64_t> sum_records(const std::string& text);

// What the end of a run says about the guest.
enum class GuestCheck {
  Ok,             // records arrived, or nothing to say
  NoRecords,      // the guest ran, but no record of it reached bdtrace
  FailedToStart,  // exit status 127 before any record: not found, or a library missing
};

GuestCheck check_guest(int exit_status, std::optional<uint64_t> records);

// The message for NoRecords / FailedToStart (no "bd-run:" prefix); `program`
// names the guest, `script` the script it runs ("" if none).
std::string explain_guest_check(GuestCheck check, const std::string& program, const std::string& script);

}  // namespace bdtrace::bdrun
