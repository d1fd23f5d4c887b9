// SPDX-License-Identifier: MIT
#include "event_delivery.h"

#include <climits>
#include <cstring>

namespace bdtrace::analyzer {

namespace {
// LTTng-UST's default clock: CLOCK_MONOTONIC, the clock guest_ts counts.
constexpr const char *kMonotonicClockName = "monotonic";
}  // namespace

void EventDelivery::CheckGuestClock(const std::string &class_name, const char *clock_name) {
  if ((clock_name != nullptr && std::strcmp(clock_name, kMonotonicClockName) == 0) || warned_guest_clock_)
    return;
  warned_guest_clock_ = true;
  visitor_.OnWarning("the trace clock of " + class_name + " is '" +
                     (clock_name != nullptr ? clock_name : "") +
                     "', not LTTng's monotonic clock: its guest_ts times (CLOCK_MONOTONIC) "
                     "may be placed wrongly");
}

int64_t EventDelivery::GuestTime(uint64_t guest_ts, const ClassInfo &info, int64_t ts) {
  int64_t placed = 0;
  if (guest_ts <= static_cast<uint64_t>(INT64_MAX) &&
      !__builtin_add_overflow(info.guest_offset_ns, static_cast<int64_t>(guest_ts), &placed)) {
    return placed;
  }
  if (!warned_bad_guest_ts_) {
    warned_bad_guest_ts_ = true;
    visitor_.OnWarning(
        "a guest_ts overflows 64-bit nanoseconds; such events are placed at their "
        "emission time");
  }
  return ts;
}

void EventDelivery::WarnBadBatch(const char *what) {
  if (warned_bad_batch_) return;
  warned_bad_batch_ = true;
  visitor_.OnWarning(what);
}

}  // namespace bdtrace::analyzer
