/* SPDX-License-Identifier: MIT */
// Small helpers shared by the exporters (export_chrome.cc, export_svg.cc):
// text escaping for JSON and XML, time formatting, a monotonic clock.
#ifndef BDTRACE_ANALYZER_EXPORT_UTIL_H
#define BDTRACE_ANALYZER_EXPORT_UTIL_H

#include <cstdint>
#include <string>
#include <string_view>

namespace bdtrace::analyzer::export_util {

// Appends s as a JSON string, quotes included: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
void AppendJsonString(std::string &out, std::string_view s);

// Appends s escaped for XML text and attribute values (&, <, >, ", '),
// invalid UTF-8 and characters XML 1.0 forbids (controls other than tab,
// newline, carriage return; U+FFFE, U+FFFF) replaced by U+FFFD.
void AppendXmlText(std::string &out, std::string_view s);

// ns as microseconds with exactly 3 decimals ("12.345"; "-0.001").
void AppendMicros(std::string &out, int64_t ns);

// A short duration for people: "950 ns", "12.3 us", "1.50 ms", "2.00 s"
// (3 significant digits).
std::string ShortDuration(int64_t ns);

// Keeps event timestamps non-decreasing and relative to the first one:
// the reader delivers events in time order, but events without a clock
// have ts 0.
class Clock {
 public:
  // ns since the first event seen.
  int64_t Rel(int64_t ts_ns) {
    if (!started_) {
      started_ = true;
      first_ = last_ = ts_ns;
    }
    if (ts_ns > last_) last_ = ts_ns;
    return last_ - first_;
  }
  bool started() const { return started_; }
  int64_t first() const { return first_; }
  int64_t last_rel() const { return last_ - first_; }

 private:
  bool started_ = false;
  int64_t first_ = 0, last_ = 0;
};

}  // namespace bdtrace::analyzer::export_util

#endif  // BDTRACE_ANALYZER_EXPORT_UTIL_H
