// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace bdtrace::analyzer {

namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

// "1.23 M"
std::string Human(double v) {
  const char *unit = "";
  if (v >= 1e9) {
    v /= 1e9;
    unit = " G";
  } else if (v >= 1e6) {
    v /= 1e6;
    unit = " M";
  } else if (v >= 1e3) {
    v /= 1e3;
    unit = " k";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
  return buf;
}

void WriteAll(int fd, const std::string &s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;  // a progress bar is not worth an error
    done += static_cast<size_t>(n);
  }
}

}  // namespace

static_assert(ForwardsEveryEvent<ProgressVisitor>(),
              "ProgressVisitor is a decorator: it must pass every event on");

ProgressVisitor::ProgressVisitor(EventVisitor &next, int fd, std::optional<TimeRange> range,
                                 uint64_t total_bytes)
    : next_(next),
      fd_(fd),
      range_(range),
      total_bytes_(total_bytes),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressVisitor::MaybeDraw() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line = "\r";
  if (range_ && range_->end_ns > range_->begin_ns) {
    const double share = std::clamp(static_cast<double>(last_ts_ - range_->begin_ns) /
                                        static_cast<double>(range_->end_ns - range_->begin_ns),
                                    0.0, 1.0);
    const int filled = static_cast<int>(share * kBarWidth);
    line += "[" + std::string(static_cast<size_t>(filled), '#') +
            std::string(static_cast<size_t>(kBarWidth - filled), ' ') + "] ";
    char pct[16];
    std::snprintf(pct, sizeof pct, "%3.0f%%  ", share * 100.0);
    line += pct;
  }
  line += Human(static_cast<double>(events_)) + " events, " +
          Human(elapsed > 0 ? static_cast<double>(events_) / elapsed : 0.0) + " events/s, " +
          Human(static_cast<double>(total_bytes_)) + "B of streams\x1b[K";
  WriteAll(fd_, line);
  drawn_ = true;
}

void ProgressVisitor::Clear() {
  if (!drawn_) return;
  drawn_ = false;
  WriteAll(fd_, "\r\x1b[K");
}

}  // namespace bdtrace::analyzer
